"""What a reviewer sees of a `pulumi preview` (or `up`) with the policy pack, whether it passed or failed.

The Pulumi CLI writes its engine events, one JSON object a line, to the file named by `--event-log` (a flag it offers
when PULUMI_DEBUG_COMMANDS is set, the way the Automation API runs it). Those events carry every policy violation
(`policyEvent`: policy, pack, enforcement level, resource URN, message) and the run's outcome (`summaryEvent`), also
when a mandatory violation fails the run; `pulumi preview --json` leaves policy events out, and pulumi/actions comments
only after a successful run. This script turns one stack's event log into a result, and the results of all stacks
into one Markdown report for the job summary and the pull request comment.

    python scripts/preview_report.py stack --stack host --outcome failure --events events.jsonl --result host.json
        writes host.json, appends the stack's Markdown section to --summary (the job's $GITHUB_STEP_SUMMARY; printed
        when not given) and prints one workflow annotation per violation (error for mandatory, warning for
        advisory), which GitHub reads from the step's standard output.
    python scripts/preview_report.py comment --results DIR --stacks '[{"stack": "host", ...}]' --output body.md
        writes the pull request comment: a marker line (to find and edit the same comment on every push), then
        every expected stack's section, "no result" for a stack whose preview did not run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COMMENT_MARKER = "<!-- partner-access: preview report -->"
# GitHub refuses a comment body over 65,536 characters; stay below it with room for the truncation note.
MAX_COMMENT_CHARACTERS = 60_000
# The CLI's colour directives (`<{%reset%}>`, `<{%fg 1%}>`), left in event messages unless it runs with --color never.
_COLOR_DIRECTIVE = re.compile(r"<\{%[^%]*%\}>")
MANDATORY = "mandatory"
ADVISORY = "advisory"
# How GitHub reports a step's outcome (steps.<id>.outcome), worded for a reviewer.
OUTCOME_WORDS = {
    "success": "passed",
    "failure": "failed",
    "cancelled": "was cancelled",
    "skipped": "did not run",
}


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: str
    level: str  # "mandatory", "advisory" ("remediate" and "disabled" are reported as the engine names them)
    resource_urn: str
    message: str

    @property
    def resource(self) -> str:
        """`type::name` from the URN (urn:pulumi:<stack>::<project>::<parent types $ type>::<name>), or the stack."""
        if not self.resource_urn:
            return "(the stack)"
        parts = self.resource_urn.split("::")
        if len(parts) < 4:
            return self.resource_urn
        return f"{parts[2].rsplit('$', 1)[-1]}::{'::'.join(parts[3:])}"


@dataclass(frozen=True)
class StackResult:
    stack: str
    outcome: str
    violations: tuple[Violation, ...] = ()
    changes: dict[str, int] = field(default_factory=dict)
    engine_result: str | None = None
    errors: tuple[str, ...] = ()
    events_found: bool = True

    @property
    def mandatory(self) -> tuple[Violation, ...]:
        return tuple(violation for violation in self.violations if violation.level == MANDATORY)

    @property
    def advisory(self) -> tuple[Violation, ...]:
        return tuple(violation for violation in self.violations if violation.level != MANDATORY)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackResult:
        return cls(
            stack=data["stack"],
            outcome=data["outcome"],
            violations=tuple(Violation(**violation) for violation in data["violations"]),
            changes=dict(data["changes"]),
            engine_result=data["engine_result"],
            errors=tuple(data["errors"]),
            events_found=data["events_found"],
        )


def plain(text: str) -> str:
    return _COLOR_DIRECTIVE.sub("", text).strip()


def parse_events(lines: Iterable[str]) -> tuple[list[Violation], dict[str, int], str | None, list[str]]:
    """Violations (each once, in order), resource changes, the engine's result and error diagnostics."""
    violations: dict[Violation, None] = {}
    changes: dict[str, int] = {}
    engine_result = None
    errors: dict[str, None] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            # A run killed mid-write leaves a partial last line; everything before it still counts.
            errors["the event log ends in an incomplete event (the run was interrupted)"] = None
            continue
        if not isinstance(event, dict):
            continue
        if isinstance(policy := event.get("policyEvent"), dict):
            violations[Violation(
                policy=str(policy.get("policyName", "")),
                pack=str(policy.get("policyPackName", "")),
                level=str(policy.get("enforcementLevel", "")),
                resource_urn=str(policy.get("resourceUrn", "")),
                message=plain(str(policy.get("message", ""))),
            )] = None
        elif isinstance(summary := event.get("summaryEvent"), dict):
            changes = {str(op): int(count) for op, count in (summary.get("resourceChanges") or {}).items()}
            engine_result = summary.get("result")
        elif isinstance(diagnostic := event.get("diagnosticEvent"), dict) and diagnostic.get("severity") == "error":
            errors[plain(str(diagnostic.get("prefix", "")) + str(diagnostic.get("message", "")))] = None
    return list(violations), changes, engine_result, list(errors)


def stack_result(stack: str, outcome: str, events: Path) -> StackResult:
    """The stack's result from its event log; a missing log means the CLI stopped before the engine ran."""
    if not events.is_file():
        return StackResult(stack=stack, outcome=outcome, events_found=False)
    violations, changes, engine_result, errors = parse_events(events.read_text(errors="replace").splitlines())
    return StackResult(stack=stack, outcome=outcome, violations=tuple(violations), changes=changes,
                       engine_result=engine_result, errors=tuple(errors))


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def stack_markdown(result: StackResult, command: str = "preview") -> str:
    outcome = OUTCOME_WORDS.get(result.outcome, result.outcome)
    headline = (f"#### `{result.stack}`: {command} {outcome}: {_count(len(result.mandatory), 'mandatory violation')}, "
                f"{_count(len(result.advisory), 'advisory finding')}")
    lines = [headline, ""]
    if result.violations:
        lines += ["| level | policy | resource | message |", "| --- | --- | --- | --- |"]
        ordered = sorted(result.violations, key=lambda violation: violation.level != MANDATORY)
        lines += [f"| {_cell(v.level)} | `{_cell(v.policy)}` | `{_cell(v.resource)}` | {_cell(v.message)} |"
                  for v in ordered]
        lines.append("")
    if result.changes:
        lines.append("Resources: " + ", ".join(f"{op} {count}" for op, count in sorted(result.changes.items())))
        lines.append("")
    if not result.events_found:
        lines.append(f"No engine events: the {command} stopped before the engine ran (set-up, login, credentials or "
                     "program start); the step's log says why.")
        lines.append("")
    elif result.outcome == "failure" and not result.mandatory:
        lines.append(f"The {command} failed without a mandatory violation:")
        lines += [f"- {_cell(error)}" for error in result.errors] or ["- see the step's log"]
        lines.append("")
    return "\n".join(lines)


def _escape_command_value(text: str) -> str:
    # GitHub workflow commands: %, CR and LF must be escaped, or a message could end the command and start another.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_command_property(text: str) -> str:
    return _escape_command_value(text).replace(":", "%3A").replace(",", "%2C")


def annotations(result: StackResult) -> list[str]:
    """One workflow command per violation: `::error` for mandatory ones, `::warning` for the others."""
    return [
        f"::{'error' if violation.level == MANDATORY else 'warning'} "
        f"title={_escape_command_property(f'{result.stack}: {violation.policy} ({violation.level})')}::"
        f"{_escape_command_value(f'{violation.resource}: {violation.message}')}"
        for violation in result.violations
    ]


def comment_markdown(results: dict[str, StackResult], expected: list[str], heading: str, note: str = "") -> str:
    """The pull request comment: marker, heading, then one section per expected stack, then any others."""
    parts = [COMMENT_MARKER, f"### {heading}", ""]
    if note:
        parts += [note, ""]
    for stack in [*expected, *sorted(set(results) - set(expected))]:
        if stack in results:
            parts.append(stack_markdown(results[stack]))
        else:
            parts += [f"#### `{stack}`: no result", "",
                      "Its preview did not run or did not report (the tests failed, or the run was cancelled).", ""]
    body = "\n".join(parts).rstrip() + "\n"
    if len(body) > MAX_COMMENT_CHARACTERS:
        body = body[:MAX_COMMENT_CHARACTERS] + "\n\n(truncated: the full report is in the workflow run's summary)\n"
    return body


def _expected_stacks(stacks_json: str) -> list[str]:
    if not stacks_json.strip():
        return []
    return [str(entry["stack"]) for entry in json.loads(stacks_json)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("stack", help="one stack's result from its event log")
    one.add_argument("--stack", required=True)
    one.add_argument("--outcome", required=True, help="the step's outcome: success, failure, cancelled, skipped")
    one.add_argument("--events", type=Path, required=True)
    one.add_argument("--result", type=Path, help="write the result as JSON here (for the comment job)")
    one.add_argument("--summary", type=Path, help="append the Markdown section here ($GITHUB_STEP_SUMMARY)")
    one.add_argument("--command-name", default="preview", help="the pulumi command that ran, for the wording")
    combined = commands.add_parser("comment", help="the pull request comment from every stack's result")
    combined.add_argument("--results", type=Path, required=True, help="a directory of result JSON files")
    combined.add_argument("--stacks", default="", help="the expected stacks, as ci_stacks.py lists them")
    combined.add_argument("--heading", default="Pulumi preview with the partner-access policy pack")
    combined.add_argument("--note", default="")
    combined.add_argument("--output", type=Path, required=True)
    options = parser.parse_args(argv)

    if options.command == "stack":
        result = stack_result(options.stack, options.outcome, options.events)
        if options.result is not None:
            options.result.parent.mkdir(parents=True, exist_ok=True)
            options.result.write_text(json.dumps(result.to_json(), indent=2))
        for line in annotations(result):
            print(line)
        section = stack_markdown(result, options.command_name)
        if options.summary is None:
            print(section)
        else:
            with options.summary.open("a") as summary:
                summary.write(section + "\n")
        return 0

    results = {}
    for path in sorted(options.results.glob("**/*.json")) if options.results.is_dir() else []:
        result = StackResult.from_json(json.loads(path.read_text()))
        results[result.stack] = result
    body = comment_markdown(results, _expected_stacks(options.stacks), options.heading, options.note)
    options.output.write_text(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
