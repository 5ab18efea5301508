"""`partner-access`: one console entry, one subcommand per concern.

Each subcommand lives in its own module, which provides `configure(parser)` to declare its arguments and
`run(options) -> int` to do the work and return the exit code (0 fine, 1 findings that fail the run, 2 usage or
access errors).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Modules are imported when their subcommand is declared; each keeps its heavy
# imports (boto3, grpc, duckdb) inside `run`, so `partner-access --help` stays fast.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "partner_access.check.command",
        "run a stack's program under mocks through the policy pack, as a CI preview does",
    ),
    "activity": ("partner_access.activity.command", "who did what in the host account, from CloudTrail"),
    "audit": (
        "partner_access.audit.command",
        "check every existing IAM role in an account or organization with the pack's analysis",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="partner-access", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, summary) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        subparser = subparsers.add_parser(name, help=summary, description=module.__doc__)
        module.configure(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return options.run(options)


if __name__ == "__main__":
    sys.exit(main())
