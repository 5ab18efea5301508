"""`--format json`: {"accounts": [{"account", "roles": [{"arn", "name", "findings": [{"policy", "level", "code",
"message"}]}], "errors": [...]}]}. `roles` lists every role audited, then any user, group or customer managed policy
that has a finding (its ARN says which kind it is)."""

from __future__ import annotations

import json
from typing import Any

from .report import AuditReport


def report_document(report: AuditReport) -> dict[str, Any]:
    return {
        "accounts": [
            {
                "account": account.account,
                "roles": [
                    {
                        "arn": entry.subject.arn if entry.subject else None,
                        "name": entry.subject.name if entry.subject else None,
                        "findings": [
                            {"policy": f.policy, "level": f.level, "code": f.code, "message": f.message}
                            for f in entry.findings
                        ],
                    }
                    for entry in account.subjects
                ],
                "errors": list(account.errors),
            }
            for account in report.accounts
        ]
    }


def render_json(report: AuditReport) -> str:
    return json.dumps(report_document(report), indent=2) + "\n"
