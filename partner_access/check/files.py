"""Reading the files the check is given, with errors that name the file and what is wrong (never a traceback)."""

from __future__ import annotations

from pathlib import Path


class UnreadableFileError(ValueError):
    """A file the check needs is missing or cannot be read; the message names it."""


def read_text(path: Path, what: str = "file") -> str:
    """The file's text; UnreadableFileError saying `<path>: no such <what>` or why it cannot be read."""
    try:
        return path.read_text()
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: no such {what}") from None
    except OSError as error:
        raise UnreadableFileError(f"{path}: cannot be read ({error.strerror})") from None
