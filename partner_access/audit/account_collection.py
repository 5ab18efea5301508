"""One live account's IAM configuration: `GetAccountAuthorizationDetails` and `ListRoles`, both paginated.

`ListRoles` is read only for each role's MaxSessionDuration, which the authorization details do not carry. AWS
managed policies are not requested (`Filter` without `AWSManagedPolicy`): the pack recognises AdministratorAccess by
its ARN, and the account cannot change the others. botocore's handler that turns IAM's URL-encoded documents into
objects is switched off for this client, so each document reaches the pack as the text IAM holds.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.handlers import json_decode_policies

from .authorization_details import AccountSnapshot, AuthorizationDetailsError, build_snapshot, merge_pages
from .aws_access import AWS_ERRORS, AwsAccessError, client, describe_failure

ENTITY_FILTER = ["User", "Role", "Group", "LocalManagedPolicy"]


def caller_account(session: boto3.Session) -> tuple[str, str]:
    """(account ID, partition) of the session's credentials."""
    try:
        identity = client(session, "sts").get_caller_identity()
    except AWS_ERRORS as error:
        raise AwsAccessError(describe_failure("sts:GetCallerIdentity", error)) from error
    return identity["Account"], identity["Arn"].split(":")[1]


def collect_account(session: boto3.Session, account_id: str) -> AccountSnapshot:
    iam = client(session, "iam")
    iam.meta.events.unregister("after-call.iam", json_decode_policies)
    pages = _pages(iam, "get_account_authorization_details", "iam:GetAccountAuthorizationDetails",
                   Filter=ENTITY_FILTER)
    durations = {
        role["Arn"]: role["MaxSessionDuration"]
        for page in _pages(iam, "list_roles", "iam:ListRoles")
        for role in page.get("Roles", [])
        if "MaxSessionDuration" in role
    }
    try:
        return build_snapshot(merge_pages(pages), account_id=account_id, max_session_durations=durations)
    except AuthorizationDetailsError as error:
        raise AwsAccessError(f"iam:GetAccountAuthorizationDetails returned an unexpected shape: {error}") from error


def _pages(iam: Any, operation: str, action: str, **parameters: Any) -> list[dict[str, Any]]:
    try:
        return list(iam.get_paginator(operation).paginate(**parameters))
    except AWS_ERRORS as error:
        raise AwsAccessError(describe_failure(action, error)) from error
