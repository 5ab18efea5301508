"""SARIF 2.1.0 for GitHub code scanning: one rule per pack policy, one result per finding, errors as tool
notifications.

GitHub code scanning needs each rule's help text, and each result a physical location (an artifact URI, relative to
the repository or a file: URI, and a region from startLine) and partialFingerprints, of which it uses only
primaryLocationLineHash ("SARIF support for code scanning", GitHub Docs). An audited account has no file, so a
result's artifact is the authorization-details file it came from, with the region of the entity's `"Arn"` in it, or
`aws-iam/<account>` (line 1) for a live account; its logical location is the entity's ARN. The fingerprint hashes
the ARN, policy and code, not the message or the line, so a finding stays one alert while the file around it
changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .report import MANDATORY, AuditReport

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "partner-access audit"
# SARIF levels for the pack's enforcement levels; GitHub ranks security alerts by `security-severity`.
_LEVEL_TO_SARIF = {MANDATORY: "error", "advisory": "warning", "disabled": "none"}
_SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}
# An entity's own ARN in the CLI's output: `"Arn": "arn:..."` (PolicyArn, PermissionsBoundaryArn are other keys).
_ARN_FIELD = re.compile(r'"Arn"\s*:\s*"(?P<arn>[^"\\]+)"')
_LIVE_REGION = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
HELP_TEXT = ("Found by partner-access audit with the policy pack's own policy of this name. The result's message "
             "names the statement and what to change; docs/audit.md describes the audit.")


def artifact_uri(source_file: str) -> str:
    """A file as given on the command line, as SARIF wants it: relative stays relative, absolute becomes file:."""
    path = Path(source_file)
    return path.resolve().as_uri() if path.is_absolute() else quote(path.as_posix())


def arn_regions(source_file: str) -> dict[str, dict[str, int]]:
    """Each entity ARN's first `"Arn"` field in the file, as a SARIF region (1-based lines and columns)."""
    try:
        text = Path(source_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    regions: dict[str, dict[str, int]] = {}
    line_starts = [0] + [index + 1 for index, character in enumerate(text) if character == "\n"]
    line = 0
    for match in _ARN_FIELD.finditer(text):
        while line + 1 < len(line_starts) and line_starts[line + 1] <= match.start():
            line += 1
        column = match.start() - line_starts[line] + 1
        regions.setdefault(match["arn"], {"startLine": line + 1, "startColumn": column, "endLine": line + 1,
                                          "endColumn": column + match.end() - match.start()})
    return regions


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


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
                "help": {"text": f"{policy.description} {HELP_TEXT}"},
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
    occurrences: Counter[str] = Counter()
    for account in report.accounts:
        if account.source_file:
            artifact, regions = artifact_uri(account.source_file), arn_regions(account.source_file)
        else:
            artifact, regions = f"aws-iam/{account.account or 'unknown'}", {}
        for entry in account.subjects:
            for finding in entry.findings:
                arn = entry.subject.arn if entry.subject else f"account {account.account}"
                identity = _fingerprint(arn, finding.policy, finding.code or "")[:16]
                occurrences[identity] += 1
                result: dict[str, Any] = {
                    "ruleId": finding.policy,
                    "level": _LEVEL_TO_SARIF.get(finding.level, "warning"),
                    "message": {"text": finding.message or finding.policy},
                    "locations": [
                        {
                            "physicalLocation": {"artifactLocation": {"uri": artifact},
                                                 "region": regions.get(arn, _LIVE_REGION)},
                            "logicalLocations": [
                                {"fullyQualifiedName": arn, "name": entry.subject.name if entry.subject else arn,
                                 "kind": "resource"}
                            ],
                        }
                    ],
                    "partialFingerprints": {
                        "primaryLocationLineHash": f"{identity}:{occurrences[identity]}",
                        "partnerAccessFinding/v1": _fingerprint(arn, finding.policy, finding.code or "",
                                                                finding.message),
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
