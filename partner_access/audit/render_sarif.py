"""SARIF 2.1.0 for GitHub code scanning: one rule per pack policy, one result per finding, errors as tool
notifications.

GitHub code scanning needs each result to have a physical location with a relative artifact URI; an audited account
has no file, so a result's artifact is the authorization-details file it came from, or `aws-iam/<account>` for a
live account, and its logical location is the entity's ARN. partialFingerprints keep a finding one alert across runs.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from typing import Any

from .report import MANDATORY, AuditReport

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "partner-access audit"
# SARIF levels for the pack's enforcement levels; GitHub ranks security alerts by `security-severity`.
_LEVEL_TO_SARIF = {MANDATORY: "error", "advisory": "warning", "disabled": "none"}
_SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


def _tool_version() -> str | None:
    try:
        return metadata.version("partner-access")
    except metadata.PackageNotFoundError:
        return None


def sarif_document(report: AuditReport) -> dict[str, Any]:
    rule_index = {policy.name: index for index, policy in enumerate(report.policies)}
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "rules": [
            {
                "id": policy.name,
                "shortDescription": {"text": policy.description},
                "fullDescription": {"text": policy.description},
                "defaultConfiguration": {"level": _LEVEL_TO_SARIF.get(policy.level, "warning")},
                "properties": {
                    "tags": ["security", "iam"],
                    **({"security-severity": _SECURITY_SEVERITY[policy.severity]}
                       if policy.severity in _SECURITY_SEVERITY else {}),
                },
            }
            for policy in report.policies
        ],
    }
    version = _tool_version()
    if version:
        driver["version"] = version
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for account in report.accounts:
        artifact = account.source_file or f"aws-iam/{account.account or 'unknown'}"
        for entry in account.subjects:
            for finding in entry.findings:
                arn = entry.subject.arn if entry.subject else f"account {account.account}"
                result: dict[str, Any] = {
                    "ruleId": finding.policy,
                    "level": _LEVEL_TO_SARIF.get(finding.level, "warning"),
                    "message": {"text": finding.message or finding.policy},
                    "locations": [
                        {
                            "physicalLocation": {"artifactLocation": {"uri": artifact}},
                            "logicalLocations": [
                                {"fullyQualifiedName": arn, "name": entry.subject.name if entry.subject else arn,
                                 "kind": "resource"}
                            ],
                        }
                    ],
                    "partialFingerprints": {
                        "partnerAccessFinding/v1": hashlib.sha256(
                            "\n".join((arn, finding.policy, finding.code or "", finding.message)).encode()
                        ).hexdigest()
                    },
                }
                if finding.policy in rule_index:
                    result["ruleIndex"] = rule_index[finding.policy]
                if finding.code:
                    result["properties"] = {"code": finding.code}
                results.append(result)
        for error in account.errors:
            where = account.account or account.source_file
            notifications.append({"level": "error", "message": {"text": f"{where}: {error}"}})
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [
                    {"executionSuccessful": not report.has_errors(), "toolExecutionNotifications": notifications}
                ],
                "results": results,
            }
        ],
    }


def render_sarif(report: AuditReport) -> str:
    return json.dumps(sarif_document(report), indent=2) + "\n"
