"""partner-access check: what a CI preview's policy check decides for a stack, without the Pulumi CLI.

Runs the stack's program under mocks with the project's config (Pulumi.yaml and Pulumi.<stack>.yaml), then sends
every registered resource through the real policy pack over gRPC, launched as the engine launches it (with the
pack's own virtualenv), as `pulumi preview --policy-pack PACK [--policy-pack-config FILE]` does (`--up`: as
`pulumi up`). With `--analyze-file`, replays `pulumi policy analyze --file EXPORT.json` on a `pulumi stack export`
instead. Lists each violation with its policy, level and resource; exits 1 on a mandatory violation, 2 when the
project, stack, config file or pack cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_MANDATORY = 1
EXIT_UNUSABLE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="the stack whose preview to check (needs Pulumi.<stack>.yaml)")
    target.add_argument("--analyze-file", type=Path, metavar="EXPORT.json",
                        help="check a `pulumi stack export` file as `pulumi policy analyze --file` does")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="the Pulumi project directory (default: the current directory)")
    parser.add_argument("--policy-pack", type=Path, metavar="DIR",
                        help="the policy pack directory (default: DIR/policypack)")
    parser.add_argument("--policy-pack-config", type=Path, metavar="FILE",
                        help="the pack's config file, as given to `pulumi preview --policy-pack-config`")
    parser.add_argument("--up", action="store_true", help="check as `pulumi up` (resources' outputs known)")
    parser.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE",
                        help="a secret config value the stack file holds encrypted (repeatable)")


class _Unusable(Exception):
    """The check cannot run; the message says which file, stack or setting and why."""


def _secrets(pairs: Iterable[str]) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise _Unusable(f"--secret {pair!r}: expected KEY=VALUE")
        secrets[key] = value
    return secrets


def _policy_config(path: Path | None) -> Mapping[str, Any] | None:
    if path is None:
        return None
    from partner_access.pack_config import PolicyConfigError, load_policy_pack_config

    try:
        return load_policy_pack_config(path)
    except PolicyConfigError as error:
        raise _Unusable(str(error)) from None


def _print_findings(diagnostics: Iterable[Any], root_urn: str) -> None:
    for diagnostic in diagnostics:
        urn = diagnostic.urn or root_urn
        level = diagnostic.enforcement_level + (f", {diagnostic.severity}" if diagnostic.severity else "")
        print(f"[{level}] {diagnostic.policy_name}: {urn.rsplit('::', 1)[-1]}\n"
              f"    resource: {urn}")
        for line in diagnostic.message.splitlines():
            print(f"    {line}")


def _check(options: argparse.Namespace) -> int:
    # The gRPC driver and the SDK load here, so `partner-access --help` stays fast.
    from partner_access.check import engine, program, snapshot, stack
    from partner_access.pack_config import PolicyConfigError

    project_dir = options.project.resolve()
    pack_dir = (options.policy_pack or project_dir / "policypack").resolve()
    config = _policy_config(options.policy_pack_config)
    try:
        if options.analyze_file is not None:
            state = snapshot.read_export(options.analyze_file)
            launched = engine.launch_for_analyze(pack_dir)
            what = f"{options.analyze_file} (as `pulumi policy analyze --file`)"
        else:
            run = program.run_program(program.load_project(project_dir), options.stack,
                                      secrets=_secrets(options.secret), preview=not options.up)
            if run.error is not None:
                print(f"stack {options.stack}: the program fails before the pack runs:\n{run.error}",
                      file=sys.stderr)
                return EXIT_MANDATORY
            preview = stack.preview_from_program_run(run)
            launched = engine.launch_for_preview(pack_dir, preview)
            what = f"stack {options.stack} (as `pulumi {'up' if options.up else 'preview'}`)"
        with launched as pack:
            try:
                pack.configure_like_engine(config)
            except PolicyConfigError as error:
                raise _Unusable(f"{options.policy_pack_config or pack_dir}: {error}") from None
            if options.analyze_file is not None:
                result = pack.run_snapshot(state)
                analyzed, root_urn = len(state.resources), state.root_urn
            else:
                result = pack.run_preview(preview)
                analyzed, root_urn = len(preview.resources), preview.resources[0].urn
            errors = pack.logged_errors()
    except (program.ProjectError, snapshot.ExportError, engine.PolicyPackError) as error:
        raise _Unusable(str(error)) from None

    _print_findings(result.all_diagnostics(), root_urn)
    for error in errors:
        print(f"the pack logged an error: {error}", file=sys.stderr)
    mandatory = result.mandatory()
    print(f"{what}: {analyzed} resources analyzed; {len(result.all_diagnostics())} violations, "
          f"{len(mandatory)} mandatory")
    return EXIT_MANDATORY if mandatory or errors else EXIT_OK


def run(options: argparse.Namespace) -> int:
    try:
        return _check(options)
    except _Unusable as error:
        print(f"partner-access check: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
