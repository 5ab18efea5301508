"""The terminal table (the default) and Markdown: the same sections, two notations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from partner_access.activity.findings import FINDING_CODES
from partner_access.activity.report import Report

TableRenderer = Callable[[Sequence[str], Sequence[Sequence[object]]], list[str]]
HeadingRenderer = Callable[[int, str], list[str]]


def _mfa(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [[str(cell if cell is not None else "-") for cell in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    line = "  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True))
    lines = [line, "  ".join("-" * width for width in widths)]
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells)
    return lines


def _markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    def cell(value: object) -> str:
        return str(value if value is not None else "-").replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(cell(value) for value in row) + " |" for row in rows)
    return lines


def _sections(report: Report, table: TableRenderer, heading: HeadingRenderer) -> list[str]:
    lines: list[str] = []
    lines += heading(1, f"Partner activity: {len(report.people)} people, {report.records} records read")
    for person in report.people:
        lines += heading(2, f"{person.name} (account {person.account})")
        lines += table(["start", "role", "session name", "source identity", "MFA", "source IP"],
                       [[s.start, s.role_arn, s.session_name, s.source_identity, _mfa(s.mfa), s.source_ip]
                        for s in person.sessions]) if person.sessions else ["(no session in the logs read)"]
        lines.append("")
        lines += table(["eventSource", "eventName", "count", "denied"],
                       [[a.event_source, a.event_name, a.count, a.denied] for a in person.actions])
    lines += heading(2, f"Findings ({len(report.findings)})")
    # One line each: the messages are sentences, too long for a table column.
    lines += [f"- {f.code} {f.account or '-'} {f.name or '-'}: {f.message}" for f in report.findings] or ["none"]
    if report.other_records:
        lines += heading(2, "Not people (left out)")
        lines += table(["principal", "records"], sorted(report.other_records.items()))
    for policy in report.proposed_policies:
        lines += heading(2, f"Least privilege for {policy.role_arn}")
        lines.append(f"Used: {', '.join(policy.used_actions) or 'nothing'}")
        if policy.granted_unused:
            lines.append(f"Granted inline but unused: {', '.join(policy.granted_unused[:30])}"
                         f"{' ...' if len(policy.granted_unused) > 30 else ''}")
        if policy.used_actions:
            lines.append("Proposed inlinePolicy (paste under the grant in Pulumi.yaml):")
            lines += ["    " + line for line in inline_policy_yaml(policy.document).splitlines()]
        else:
            lines.append("Nothing was used in the logs read, so there is no inlinePolicy to propose.")
        lines.append("Blind spots:")
        lines += [f"  - {spot}" for spot in policy.blind_spots]
    return lines


def inline_policy_yaml(document: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump({"inlinePolicy": document}, sort_keys=False, default_flow_style=False)


def render_table(report: Report) -> str:
    def heading(level: int, text: str) -> list[str]:
        return ["", text, ("=" if level == 1 else "-") * len(text)]

    return "\n".join(_sections(report, _table, heading)).lstrip("\n") + "\n"


def render_markdown(report: Report) -> str:
    def heading(level: int, text: str) -> list[str]:
        return ["", "#" * level + " " + text, ""]

    lines = _sections(report, _markdown_table, heading)
    lines += ["", "## Finding codes", ""] + [f"- `{code}`: {meaning}" for code, meaning in FINDING_CODES.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
