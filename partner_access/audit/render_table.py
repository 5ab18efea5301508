"""The terminal table: one block per account, a row per finding (level, code, policy, entity) with its message
under it, the roles without findings counted, errors last; a summary line at the end."""

from __future__ import annotations

import textwrap

from .report import MANDATORY, AuditReport

# Messages wrap to fit a 100-column terminal, at spaces only, so ARNs and policy names stay whole to copy.
_MESSAGE_WIDTH = 100
_MESSAGE_INDENT = " " * 6


def render_table(report: AuditReport) -> str:
    lines: list[str] = []
    total_findings = total_mandatory = total_errors = 0
    for account in report.accounts:
        roles = [s for s in account.subjects if s.subject is not None and s.subject.kind == "role"]
        flagged = [s for s in account.subjects if s.findings]
        source = f"from {account.source_file}" if account.source_file else "live"
        lines.append(f"Account {account.account or '(unknown)'} ({source}): {_count(len(roles), 'role')}, "
                     f"{sum(1 for s in roles if s.findings)} with findings")
        rows = [
            (finding.level, finding.code or "-", finding.policy,
             f"{entry.subject.kind} {entry.subject.name}" if entry.subject else "(account)", finding.message)
            for entry in flagged
            for finding in entry.findings
        ]
        if rows:
            widths = [max(len(row[column]) for row in rows) for column in range(4)]
            header = ("LEVEL", "CODE", "POLICY", "ENTITY")
            widths = [max(width, len(title)) for width, title in zip(widths, header, strict=True)]
            lines.append(("  " + "  ".join(t.ljust(w) for t, w in zip(header, widths, strict=True))).rstrip())
            for *columns, message in rows:
                lines.append(("  " + "  ".join(v.ljust(w) for v, w in zip(columns, widths, strict=True))).rstrip())
                lines.extend(textwrap.wrap(message, _MESSAGE_WIDTH, initial_indent=_MESSAGE_INDENT,
                                           subsequent_indent=_MESSAGE_INDENT, break_on_hyphens=False))
        for error in account.errors:
            lines.append(f"  error: {error}")
        lines.append("")
        total_findings += len(rows)
        total_mandatory += sum(1 for row in rows if row[0] == MANDATORY)
        total_errors += len(account.errors)
    lines.append(f"{_count(len(report.accounts), 'account')} audited; {_count(total_findings, 'finding')}, "
                 f"{total_mandatory} mandatory; {_count(total_errors, 'error')}")
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
