"""The stacks the workflows preview, deploy and check for drift: one per `Pulumi.<stack>.yaml` in the project.

Each stack file says which side it deploys (`partner-access:side`) and where its provider connects (`aws:region`).
The workflows build their job matrices from this listing, so a new account's stack file is previewed, deployed and
checked for drift without editing a workflow; hosts are listed apart from partners because a partner's policies name
roles the host stacks create, so every host deploys first.

    python scripts/ci_stacks.py [--project-dir DIR] [--github-output FILE]

prints (or appends to FILE, the job's $GITHUB_OUTPUT) three lines, `stacks=`, `hosts=` and `partners=`, each a JSON
list of {"stack", "side", "region"} objects for a matrix's `include`. A stack file without a valid side or region is
an error that names the file and the setting, and nothing is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from components.stack_model import SIDE_KEY, SIDES

REGION_KEY = "aws:region"
STACK_FILE = re.compile(r"Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.yaml")


class StackFileError(ValueError):
    """A stack file CI cannot run, with the file and the setting named."""


@dataclass(frozen=True)
class StackEntry:
    stack: str
    side: str
    region: str


def _entry(path: Path, stack: str) -> StackEntry:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: is not valid YAML ({error})") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name}: has no `config:` mapping")
    side = config.get(SIDE_KEY)
    if side not in SIDES:
        raise StackFileError(f"{path.name}: {SIDE_KEY} is {side!r}; set it to one of: {', '.join(SIDES)}")
    region = config.get(REGION_KEY)
    if not isinstance(region, str) or not region:
        raise StackFileError(f"{path.name}: {REGION_KEY} is not set; the AWS provider needs a region")
    return StackEntry(stack=stack, side=side, region=region)


def stack_entries(project_dir: Path) -> list[StackEntry]:
    """Every stack file of the project, by stack name; StackFileError if one cannot be run."""
    entries = []
    for path in project_dir.glob("Pulumi.*.yaml"):
        match = STACK_FILE.fullmatch(path.name)
        if match is None:
            raise StackFileError(f"{path.name}: is not a stack file name Pulumi accepts (Pulumi.<stack>.yaml)")
        entries.append(_entry(path, match["stack"]))
    if not entries:
        raise StackFileError(f"{project_dir}: no Pulumi.<stack>.yaml stack files")
    return sorted(entries, key=lambda entry: entry.stack)


def matrix_outputs(entries: list[StackEntry]) -> dict[str, str]:
    """The job outputs the workflows read: every stack, the hosts, the partners."""
    def as_json(selected: list[StackEntry]) -> str:
        return json.dumps([asdict(entry) for entry in selected], separators=(",", ":"))

    return {
        "stacks": as_json(entries),
        "hosts": as_json([entry for entry in entries if entry.side == "host"]),
        "partners": as_json([entry for entry in entries if entry.side == "partner"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    parser.add_argument("--github-output", type=Path, help="append the outputs to this file ($GITHUB_OUTPUT)")
    options = parser.parse_args(argv)
    try:
        outputs = matrix_outputs(stack_entries(options.project_dir))
    except (StackFileError, OSError) as error:
        print(f"ci_stacks: {error}", file=sys.stderr)
        return 1
    lines = "".join(f"{name}={value}\n" for name, value in outputs.items())
    if options.github_output is None:
        sys.stdout.write(lines)
    else:
        with options.github_output.open("a") as output:
            output.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
