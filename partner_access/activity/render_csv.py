"""CSV: one row per person and action, which is what spreadsheets and scripts join on."""

from __future__ import annotations

import csv
import io

from partner_access.activity.report import Report

CSV_COLUMNS = ("account", "name", "roles", "sessions", "eventSource", "eventName", "count", "denied")


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for person in report.people:
        for action in person.actions:
            writer.writerow([person.account, person.name, " ".join(person.roles), len(person.sessions),
                             action.event_source, action.event_name, action.count, action.denied])
    return buffer.getvalue()
