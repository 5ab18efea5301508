"""The workflows read as the runner reads them, for the invariants tests/ci checks (GitHub Actions cannot run here).

YAML as check-jsonschema loads it (YAML 1.2: `on:` stays a key), the `pulumi` invocations in `run:` scripts split
into their flags, and the small facts the invariants are about: which jobs a job waits for, where its matrix comes
from, which environment and permissions it has.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from check_jsonschema.parsers.yaml import construct_yaml_implementation, impl2loader

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
STACK_LISTING_SCRIPT = "scripts/ci_stacks.py"
REPORT_SCRIPT = "scripts/preview_report.py"
_MATRIX_FROM_JOB = re.compile(r"^\$\{\{\s*fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)\s*\}\}$")
_PULUMI_COMMAND = re.compile(r"(?:^|\n|&&|;)\s*(pulumi\s+(?:preview|up)\b[^\n;&]*)")

_load_yaml_stream = impl2loader(construct_yaml_implementation())


def load_yaml(text: str) -> Any:
    return _load_yaml_stream(io.BytesIO(text.encode()))


def load_workflow(path: Path) -> dict[str, Any]:
    return load_yaml(path.read_text())


def action_name(step: dict[str, Any]) -> str | None:
    uses = step.get("uses")
    return str(uses).split("@", 1)[0] if uses else None


def needed_jobs(workflow: dict[str, Any], job_id: str) -> set[str]:
    """Every job `job_id` waits for, directly or through other jobs."""
    needs = workflow["jobs"][job_id].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(needed_jobs(workflow, needed) for needed in direct)) if direct else set()


@dataclass(frozen=True)
class PulumiCall:
    """One `pulumi preview` or `pulumi up` in a job's script, with its flags."""

    job_id: str
    step_index: int
    command: str
    flags: dict[str, str | bool]


def _flags(arguments: list[str]) -> dict[str, str | bool]:
    flags: dict[str, str | bool] = {}
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument.startswith("--"):
            name, equals, value = argument[2:].partition("=")
            if equals:
                flags[name] = value
            elif index + 1 < len(arguments) and not arguments[index + 1].startswith("-"):
                flags[name] = arguments[index + 1]
                index += 1
            else:
                flags[name] = True
        index += 1
    return flags


def pulumi_calls(workflow: dict[str, Any]) -> list[PulumiCall]:
    calls = []
    for job_id, job in workflow.get("jobs", {}).items():
        for index, step in enumerate(job.get("steps", [])):
            for match in _PULUMI_COMMAND.finditer(str(step.get("run", ""))):
                words = shlex.split(match.group(1).replace("\\\n", " "))
                calls.append(PulumiCall(job_id, index, words[1], _flags(words[2:])))
    return calls


def matrix_source(job: dict[str, Any]) -> tuple[str, str] | None:
    """(job, output) when the job's matrix is `include: ${{ fromJSON(needs.<job>.outputs.<output>) }}`."""
    include = job.get("strategy", {}).get("matrix", {}).get("include")
    match = _MATRIX_FROM_JOB.match(include) if isinstance(include, str) else None
    return (match[1], match[2]) if match else None


def runs_script(job: dict[str, Any], script: str) -> bool:
    return any(script in str(step.get("run", "")) for step in job.get("steps", []))


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def effective_permissions(workflow: dict[str, Any], job: dict[str, Any]) -> Any:
    return job["permissions"] if "permissions" in job else workflow.get("permissions")


def doc_yaml_blocks(markdown: str) -> list[Any]:
    return [load_yaml(block) for block in re.findall(r"```ya?ml\n(.*?)```", markdown, re.DOTALL)]
