"""Roles, users, groups and policies in three accounts, created through IAM's API, with the pack's verdict on each.

The accounts are (host, partner, vendor): the host's roles trust the partner and the vendor in every way the policies
tell apart; the partner and the vendor have a few of their own. `EXPECTED` names, per account position and entity
name, the policies that must report it with `AUDIT_CONFIG` (the vendor is a listed third party).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import boto3

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

MFA_POLICY = "cross-account-trust-requires-mfa"
EXTERNAL_ID_POLICY = "third-party-trust-requires-external-id"
OPEN_TRUST_POLICY = "trust-open-to-any-principal"
WILDCARD_POLICY = "assume-role-on-wildcard-resource"
SESSION_POLICY = "cross-account-role-max-session-duration"
ADMIN_POLICY = "cross-account-role-not-admin"

HOST, PARTNER, VENDOR = 0, 1, 2


def audit_config(vendor_account: str) -> dict[str, Any]:
    """The pack config the fixture's verdicts assume: the vendor is a third party."""
    return {
        MFA_POLICY: {"enforcementLevel": "mandatory"},
        EXTERNAL_ID_POLICY: {"enforcementLevel": "advisory", "thirdPartyAccountIds": [vendor_account]},
        SESSION_POLICY: {"maxSessionDurationSeconds": 3600},
    }


def trust(principal: object, condition: Mapping[str, Any] | None = None, effect: str = "Allow") -> str:
    statement: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = dict(condition)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def identity(action: object, resource: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                               "Resource": resource}]})


def root(account: str) -> dict[str, str]:
    return {"AWS": f"arn:aws:iam::{account}:root"}


# (position, entity name) -> (policy, finding code) of each finding. Every role is listed (an empty set: no finding);
# a user, group or managed policy is listed only with a finding (the partner's group, allowed one exact role ARN, has
# none).
EXPECTED: dict[tuple[int, str], set[tuple[str, str]]] = {
    (HOST, "partner-no-mfa"): {(MFA_POLICY, "MFA-001"), (SESSION_POLICY, "SESSION-001"), (ADMIN_POLICY, "ADMIN-001")},
    (HOST, "partner-bool-if-exists"): {(MFA_POLICY, "MFA-002")},
    (HOST, "partner-mfa"): set(),
    (HOST, "partner-mfa-inline-admin"): {(ADMIN_POLICY, "ADMIN-001"), (WILDCARD_POLICY, "WILDCARD-001")},
    (HOST, "anyone"): {(MFA_POLICY, "MFA-001"), (OPEN_TRUST_POLICY, "OPEN-001")},
    (HOST, "vendor-mfa-no-external-id"): {(EXTERNAL_ID_POLICY, "EXTID-001")},
    (HOST, "vendor-external-id"): set(),
    (HOST, "lambda-service"): set(),
    (HOST, "own-account-only"): set(),
    (HOST, "assume-any-role"): {(WILDCARD_POLICY, "WILDCARD-001")},
    (HOST, "deployer"): {(WILDCARD_POLICY, "WILDCARD-001")},
    (PARTNER, "back-to-host"): {(MFA_POLICY, "MFA-001")},
    (VENDOR, "vendor-ci"): set(),
    (VENDOR, "vendor-to-partner-aged-mfa"): set(),
}


def populate(accounts: tuple[str, str, str], session_for: Callable[[str], boto3.Session]) -> None:
    host, partner, vendor = accounts
    iam = session_for(host).client("iam")

    def role(name: str, document: str, *, max_session: int = 3600, attach: tuple[str, ...] = (),
             inline: Mapping[str, str] | None = None, client: Any = iam) -> None:
        client.create_role(RoleName=name, AssumeRolePolicyDocument=document, MaxSessionDuration=max_session)
        for arn in attach:
            client.attach_role_policy(RoleName=name, PolicyArn=arn)
        for policy_name, policy in (inline or {}).items():
            client.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=policy)

    role("partner-no-mfa", trust(root(partner)), max_session=7200, attach=(ADMINISTRATOR_ACCESS,))
    role("partner-bool-if-exists", trust(root(partner), {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}))
    role("partner-mfa", trust(root(partner), MFA), max_session=3600, attach=(READ_ONLY_ACCESS,))
    role("partner-mfa-inline-admin", trust(root(partner), MFA), inline={"everything": identity("*", "*")})
    role("anyone", trust("*"))
    role("vendor-mfa-no-external-id", trust(root(vendor), MFA))
    role("vendor-external-id", trust(root(vendor), {**MFA, "StringEquals": {"sts:ExternalId": "vendor-secret"}}))
    role("lambda-service", trust({"Service": "lambda.amazonaws.com"}), max_session=43200)
    role("own-account-only", trust(root(host)), max_session=43200, attach=(ADMINISTRATOR_ACCESS,))
    iam.create_policy(PolicyName="assume-any-role", PolicyDocument=identity("sts:AssumeRole", "*"))
    iam.create_user(UserName="deployer")
    iam.put_user_policy(UserName="deployer", PolicyName="assume-roles",
                        PolicyDocument=identity("sts:AssumeRole", "arn:aws:iam::*:role/*"))

    partner_iam = session_for(partner).client("iam")
    role("back-to-host", trust(root(host)), client=partner_iam)
    partner_iam.create_group(GroupName="partner-admins")
    partner_iam.put_group_policy(GroupName="partner-admins", PolicyName="assume-partner-mfa",
                                 PolicyDocument=identity("sts:AssumeRole", f"arn:aws:iam::{host}:role/partner-mfa"))

    vendor_iam = session_for(vendor).client("iam")
    role("vendor-ci", trust(root(vendor)), client=vendor_iam)
    role("vendor-to-partner-aged-mfa",
         trust(root(partner), {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}), client=vendor_iam)


def verdicts(report: Mapping[str, Any], accounts: tuple[str, ...]) -> dict[tuple[int, str], set[tuple[str, str]]]:
    """(position, entity name) -> (policy, code) of each finding the JSON report gives it."""
    found: dict[tuple[int, str], set[tuple[str, str]]] = {}
    for account in report["accounts"]:
        position = accounts.index(account["account"])
        for entry in account["roles"]:
            found[(position, entry["name"])] = {(f["policy"], f["code"]) for f in entry["findings"]}
    return found
