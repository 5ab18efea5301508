"""A one-line progress bar on stderr while accounts are collected; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._total = total
        self._label = label
        self._done = 0
        self._lock = threading.Lock()

    def advance(self) -> None:
        with self._lock:
            self._done += 1
            if not self._enabled:
                return
            filled = _WIDTH * self._done // max(self._total, 1)
            self._stream.write(f"\r[{'#' * filled}{'.' * (_WIDTH - filled)}] {self._done}/{self._total} {self._label}")
            if self._done >= self._total:
                self._stream.write("\n")
            self._stream.flush()
