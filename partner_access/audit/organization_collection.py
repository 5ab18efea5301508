"""Every active account of an AWS Organization: `ListAccounts`, then `AssumeRole` into the named audit role in each
member and one account collection there, on a bounded thread pool. An account that fails (access denied, no such
role, throttled past the retries) is reported and the others go on.

The caller's own account (usually the management account) is read with the caller's credentials, without assuming a
role, before the others. A boto3 Session is not safe to share between threads, but a client is: the caller's session
makes one STS client up front, and each member gets a session of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import boto3

from .account_collection import caller_account, collect_account
from .authorization_details import AccountSnapshot
from .aws_access import AWS_ERRORS, AwsAccessError, client, describe_failure, new_session

SESSION_NAME = "partner-access-audit"
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class AccountOutcome:
    account_id: str
    snapshot: AccountSnapshot | None
    error: str | None


@dataclass(frozen=True)
class OrganizationAccounts:
    # Every account of the organization, in ListAccounts order; only the active ones can be audited.
    all_ids: tuple[str, ...]
    active_ids: tuple[str, ...]


def organization_accounts(session: boto3.Session) -> OrganizationAccounts:
    organizations = client(session, "organizations")
    try:
        accounts = [
            account
            for page in organizations.get_paginator("list_accounts").paginate()
            for account in page.get("Accounts", [])
        ]
    except AWS_ERRORS as error:
        raise AwsAccessError(describe_failure("organizations:ListAccounts", error)) from error
    if not accounts:
        # An organization always holds its management account; an empty list audits nothing and must not pass.
        raise AwsAccessError("organizations:ListAccounts listed no account: the caller's account is not in an "
                             "AWS Organization (audit it without --organization)")
    return OrganizationAccounts(
        all_ids=tuple(account["Id"] for account in accounts),
        active_ids=tuple(account["Id"] for account in accounts
                         if account.get("State", account.get("Status")) == ACTIVE),
    )


def collect_organization(
    session: boto3.Session,
    account_ids: Sequence[str],
    *,
    audit_role_name: str,
    max_workers: int,
    on_done: Callable[[AccountOutcome], None] = lambda outcome: None,
) -> list[AccountOutcome]:
    own_account, partition = caller_account(session)
    outcomes: dict[str, AccountOutcome] = {}
    if own_account in account_ids:
        outcomes[own_account] = _outcome(own_account, lambda: session)
        on_done(outcomes[own_account])
    sts = client(session, "sts")
    members = [account for account in account_ids if account != own_account]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [
            pool.submit(_outcome, account,
                        lambda account=account: _assume(sts, session.region_name, account, partition, audit_role_name))
            for account in members
        ]
        for future in as_completed(futures):
            outcome = future.result()
            outcomes[outcome.account_id] = outcome
            on_done(outcome)
    return [outcomes[account] for account in account_ids]


def _outcome(account_id: str, session_for: Callable[[], boto3.Session]) -> AccountOutcome:
    try:
        return AccountOutcome(account_id, collect_account(session_for(), account_id), None)
    except AwsAccessError as error:
        return AccountOutcome(account_id, None, str(error))


def _assume(sts: Any, region: str | None, account_id: str, partition: str, audit_role_name: str) -> boto3.Session:
    role_arn = f"arn:{partition}:iam::{account_id}:role/{audit_role_name}"
    try:
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    except AWS_ERRORS as error:
        raise AwsAccessError(describe_failure(f"sts:AssumeRole {role_arn}", error)) from error
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
