"""A self-contained HTML page (no scripts, styles or fonts from elsewhere), with a timeline of sessions per person."""

from __future__ import annotations

from datetime import datetime
from html import escape

from partner_access.activity.render_text import inline_policy_yaml
from partner_access.activity.report import Person, Report

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #f0f0f0; }
.denied { color: #b00020; font-weight: bold; }
.timeline { border: 1px solid #ccc; background: #fafafa; }
.finding { color: #b00020; }
pre { background: #f6f6f6; padding: 0.8em; }
"""
TIMELINE_WIDTH = 900
ROW_HEIGHT = 26
LABEL_WIDTH = 170
SESSION_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def timeline_svg(people: tuple[Person, ...]) -> str:
    """One row per person; each session a mark at its start, coloured by role, titled with its details."""
    starts = [_time(session.start) for person in people for session in person.sessions]
    if not starts:
        return "<p>No sessions in the logs read.</p>"
    first, last = min(starts), max(starts)
    span = max((last - first).total_seconds(), 1.0)
    roles = list(dict.fromkeys(session.role_arn for person in people for session in person.sessions))
    plot = TIMELINE_WIDTH - LABEL_WIDTH - 20
    height = ROW_HEIGHT * len(people) + 40
    parts = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{TIMELINE_WIDTH}" height="{height}" '
             f'role="img" aria-label="sessions per person over time">']
    for row, person in enumerate(people):
        y = 20 + row * ROW_HEIGHT
        parts.append(f'<text x="6" y="{y + 15}" font-size="12">{escape(person.name)} ({person.account})</text>')
        parts.append(f'<line x1="{LABEL_WIDTH}" y1="{y + 11}" x2="{LABEL_WIDTH + plot}" y2="{y + 11}" '
                     'stroke="#ddd"/>')
        for session in person.sessions:
            x = LABEL_WIDTH + plot * (_time(session.start) - first).total_seconds() / span
            colour = SESSION_COLOURS[roles.index(session.role_arn) % len(SESSION_COLOURS)]
            title = (f"{session.start} {session.role_arn} as {session.session_name}"
                     f"{' (chained)' if session.chained_from else ''}, MFA {session.mfa}, from {session.source_ip}")
            stroke = ' stroke="#b00020" stroke-width="2"' if session.mfa is False else ""
            parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="8" height="16" fill="{colour}"{stroke}>'
                         f"<title>{escape(title)}</title></rect>")
    parts.append(f'<text x="{LABEL_WIDTH}" y="{height - 6}" font-size="11">{first:%Y-%m-%d %H:%M}Z</text>')
    parts.append(f'<text x="{LABEL_WIDTH + plot}" y="{height - 6}" font-size="11" text-anchor="end">'
                 f"{last:%Y-%m-%d %H:%M}Z</text>")
    legend = " ".join(f'<span style="color:{SESSION_COLOURS[i % len(SESSION_COLOURS)]}">&#9632;</span> '
                      f"{escape(role)}" for i, role in enumerate(roles))
    parts.append("</svg>")
    return "".join(parts) + f"<p>{legend}</p>"


def _cell(value: object) -> str:
    return f"<td>{escape(str(value)) if value is not None else '-'}</td>"


def render_html(report: Report) -> str:
    body = [f"<h1>Partner activity</h1><p>{len(report.people)} people, {report.records} records read.</p>",
            "<h2>Sessions over time</h2>", timeline_svg(report.people)]
    body.append(f"<h2>Findings ({len(report.findings)})</h2>")
    if report.findings:
        body.append("<table><tr><th>code</th><th>account</th><th>name</th><th>message</th></tr>")
        body += [f'<tr class="finding">{_cell(f.code)}{_cell(f.account)}{_cell(f.name)}{_cell(f.message)}</tr>'
                 for f in report.findings]
        body.append("</table>")
    for person in report.people:
        body.append(f"<h2>{escape(person.name)} <small>account {person.account}</small></h2>")
        body.append("<table><tr><th>start</th><th>role</th><th>session name</th><th>source identity</th>"
                    "<th>MFA</th><th>source IP</th></tr>")
        body += [f"<tr>{_cell(s.start)}{_cell(s.role_arn)}{_cell(s.session_name)}{_cell(s.source_identity)}"
                 f"{_cell(s.mfa)}{_cell(s.source_ip)}</tr>" for s in person.sessions]
        body.append("</table><table><tr><th>eventSource</th><th>eventName</th><th>count</th><th>denied</th></tr>")
        body += [f"<tr>{_cell(a.event_source)}{_cell(a.event_name)}{_cell(a.count)}"
                 f"<td{' class=denied' if a.denied else ''}>{a.denied}</td></tr>" for a in person.actions]
        body.append("</table>")
    for policy in report.proposed_policies:
        body.append(f"<h2>Least privilege for {escape(policy.role_arn)}</h2>")
        body.append(f"<pre>{escape(inline_policy_yaml(policy.document))}</pre><ul>" if policy.used_actions else
                    "<p>Nothing was used in the logs read, so there is no inlinePolicy to propose.</p><ul>")
        body += [f"<li>{escape(spot)}</li>" for spot in policy.blind_spots]
        body.append("</ul>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Partner activity</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
