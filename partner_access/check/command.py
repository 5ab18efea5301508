"""partner-access check: placeholder until the command lands (replace this module)."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    del parser


def run(options: argparse.Namespace) -> int:
    del options
    raise SystemExit("partner-access check: not implemented yet")
