"""Pure builders for everything a grant renders: IAM policy documents, the console link and the CLI profile.

No Pulumi imports: each function maps a validated grant (and, where needed, the External ID value) to plain data, so
the same documents are checked by moto and an independent IAM evaluator in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from components.grant_model import Grant

POLICY_VERSION = "2012-10-17"

# The policy variable IAM replaces with the calling IAM user's name: tying the session name (and source identity) to
# it is what makes CloudTrail's assumed-role/<role>/<session> name the person who switched.
USERNAME_VARIABLE = "${aws:username}"

# The console switches only to roles whose path and name together fit in 64 characters.
CONSOLE_MAX_ROLE_PATH_AND_NAME = 64

# The name of the role's inline policy (grant setting inlinePolicy).
INLINE_POLICY_NAME = "partner-permissions"

SIGNIN_HOSTS = {
    "aws": "signin.aws.amazon.com",
    "aws-cn": "signin.amazonaws.cn",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
}


def mfa_conditions(grant: Grant) -> dict[str, dict[str, str]]:
    """The MFA requirement, always present: `Bool` (never `BoolIfExists`, which lets long-term keys in without MFA)."""
    conditions: dict[str, dict[str, str]] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    if grant.max_mfa_age_seconds is not None:
        conditions["NumericLessThan"] = {"aws:MultiFactorAuthAge": str(grant.max_mfa_age_seconds)}
    return conditions


def trust_policy_document(grant: Grant, external_id: str | None = None) -> dict[str, Any]:
    """The role's trust policy: only the partner's principals, only with MFA, only as themselves."""
    if grant.external_id_secret is not None and external_id is None:
        raise ValueError(f"grant {grant.grant_name!r} requires an External ID (externalIdSecret) and none was given")
    conditions = mfa_conditions(grant)
    string_equals: dict[str, str] = {}
    if grant.require_session_name_is_username:
        string_equals["sts:RoleSessionName"] = USERNAME_VARIABLE
    if grant.require_source_identity:
        string_equals["sts:SourceIdentity"] = USERNAME_VARIABLE
    if external_id is not None:
        string_equals["sts:ExternalId"] = external_id
    if string_equals:
        conditions["StringEquals"] = string_equals
    # Setting a source identity is its own permission in the trust; granting it under the same conditions means a
    # partner can only ever stamp its own user name.
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"] if grant.require_source_identity else "sts:AssumeRole"
    principals: str | list[str] = list(grant.trusted_principals)
    if len(principals) == 1:
        principals = principals[0]
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "PartnerAssumeRoleWithMfa",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": actions,
                "Condition": conditions,
            }
        ],
    }


def partner_policy_document(grant: Grant) -> dict[str, Any]:
    """The partner-side identity policy: `sts:AssumeRole` on exactly this grant's role ARN, nothing else."""
    statements: list[dict[str, Any]] = [
        {"Sid": "AssumePartnerRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": grant.role_arn}
    ]
    if grant.require_source_identity:
        statements.append({
            "Sid": "SetOwnNameAsSourceIdentity",
            "Effect": "Allow",
            "Action": "sts:SetSourceIdentity",
            "Resource": grant.role_arn,
            "Condition": {"StringEquals": {"sts:SourceIdentity": USERNAME_VARIABLE}},
        })
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_json(document: Mapping[str, Any]) -> str:
    """A policy document as the component hands it to the AWS provider."""
    return json.dumps(dict(document))


def trust_policy_size(document: dict[str, Any]) -> int:
    """The size IAM counts against its trust policy quota: the characters of the document as sent, whitespace not
    counted (GetAccountSummary reports the quota "in non-whitespace characters")."""
    return sum(1 for character in policy_json(document) if not character.isspace())


def console_switch_blocker(grant: Grant) -> str | None:
    """Why the console cannot switch into this grant's role, if it cannot; None when it can."""
    if grant.external_id_secret is not None:
        return "the trust requires an External ID, which the console cannot send; use the CLI profile"
    if grant.require_source_identity:
        return "the trust requires a source identity, which the console cannot set; use the CLI"
    if len(grant.role_path.lstrip("/") + grant.role_name) > CONSOLE_MAX_ROLE_PATH_AND_NAME:
        return (f"the console switches only to roles whose path and name fit in {CONSOLE_MAX_ROLE_PATH_AND_NAME} "
                "characters; use the CLI profile")
    return None


def switch_role_url(grant: Grant) -> str | None:
    """The console's switch-role link, or None where the console cannot switch (see console_switch_blocker). The
    console wants the role's path (without its leading '/') before its name."""
    if console_switch_blocker(grant) is not None:
        return None
    role = f"{grant.role_path.lstrip('/')}{grant.role_name}"
    query = urlencode({"account": grant.host_account_id, "roleName": role, "displayName": grant.display_name})
    return f"https://{SIGNIN_HOSTS[grant.partition]}/switchrole?{query}"


def mfa_device_arn(grant: Grant, user_name: str) -> str:
    """The MFA device ARN the CLI asks a code for, assuming the partner named the device after the user."""
    return f"arn:{grant.partition}:iam::{grant.partner_account_id}:mfa/{user_name}"


def cli_profile(grant: Grant, user_name: str, external_id: str | None = None) -> str:
    """A ready `~/.aws/config` profile for one partner user: MFA prompt, their own session name, the grant's role."""
    lines = [
        f"[profile {grant.grant_name}]",
        f"role_arn = {grant.role_arn}",
        f"source_profile = {grant.cli_source_profile}",
        f"mfa_serial = {mfa_device_arn(grant, user_name)}",
        f"role_session_name = {user_name}",
        f"duration_seconds = {grant.max_session_duration_seconds}",
    ]
    if external_id is not None:
        lines.append(f"external_id = {external_id}")
    if grant.require_source_identity:
        # The AWS CLI has no profile setting for a source identity, so such a role is reached with an explicit call.
        lines.insert(0, f"# This role requires a source identity; the CLI profile alone cannot set one. Use: aws sts "
                        f"assume-role --role-arn {grant.role_arn} --role-session-name {user_name} --source-identity "
                        f"{user_name} --serial-number {mfa_device_arn(grant, user_name)} --token-code <code>")
    return "\n".join(lines) + "\n"
