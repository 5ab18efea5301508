"""An account's IAM configuration in the shape of IAM's `GetAccountAuthorizationDetails` output, as plain records.

The same shape arrives from the live API (boto3, paginated) and from the JSON `aws iam
get-account-authorization-details` writes (the CLI merges the pages into one object). Field names follow botocore's
IAM service model (`RoleDetail`, `UserDetail`, `GroupDetail`, `ManagedPolicyDetail`). IAM returns every policy
document as URL-encoded JSON text (RFC 3986); the CLI prints the documents it could decode as JSON objects and
leaves any other as the string IAM returned. Documents are kept as text here, exactly as IAM stored them where the
source allows, so the pack sees what IAM holds (its own loading decides what is malformed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from iam_trust_policies.model import account_of_arn

# The entity lists of the output, in botocore's order; pages are merged by concatenating them.
RESULT_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
# AWS managed policies have this in place of an account ID in their ARN.
AWS_MANAGED_POLICY_OWNER = "aws"


class AuthorizationDetailsError(ValueError):
    """The data is not in the output's shape; the message names where (e.g. `RoleDetailList[3].Arn`)."""


@dataclass(frozen=True)
class InlinePolicy:
    name: str
    document: str


@dataclass(frozen=True)
class RoleRecord:
    arn: str
    name: str
    path: str
    role_id: str
    trust_document: str
    inline_policies: tuple[InlinePolicy, ...]
    attached_policy_arns: tuple[str, ...]
    permissions_boundary_arn: str | None
    # None when the source does not say (the authorization details have no MaxSessionDuration; ListRoles has it).
    max_session_duration: int | None


@dataclass(frozen=True)
class PrincipalRecord:
    """An IAM user or group: only its inline policies matter to the pack."""

    arn: str
    name: str
    inline_policies: tuple[InlinePolicy, ...]


@dataclass(frozen=True)
class ManagedPolicyRecord:
    arn: str
    name: str
    path: str
    policy_id: str
    document: str


@dataclass(frozen=True)
class AccountSnapshot:
    account_id: str
    roles: tuple[RoleRecord, ...]
    users: tuple[PrincipalRecord, ...]
    groups: tuple[PrincipalRecord, ...]
    managed_policies: tuple[ManagedPolicyRecord, ...]


def merge_pages(pages: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """One output from its pages (the API's pages, or several page objects saved in one file)."""
    merged: dict[str, list[Any]] = {key: [] for key in RESULT_KEYS}
    for number, page in enumerate(pages):
        if not isinstance(page, Mapping):
            raise AuthorizationDetailsError(f"page {number} is {_kind(page)}, not an object")
        for key in RESULT_KEYS:
            entries = page.get(key, [])
            if not isinstance(entries, list):
                raise AuthorizationDetailsError(f"{key} is {_kind(entries)}, not a list")
            merged[key].extend(entries)
    return merged


def policy_text(document: object) -> str:
    """A policy document as text: IAM's URL-encoded string decoded (as botocore decodes it), an object as JSON."""
    if isinstance(document, str):
        return unquote(document)
    return json.dumps(document)


def build_snapshot(
    details: Mapping[str, Any],
    *,
    account_id: str | None = None,
    max_session_durations: Mapping[str, int] | None = None,
) -> AccountSnapshot:
    """The records of one account's output. `account_id` None: the account its entities' ARNs name (all one).

    `max_session_durations` maps role ARN -> MaxSessionDuration (from ListRoles); roles not in it have None.
    AWS managed policies are left out of the managed policies: the account cannot change them, and the pack
    recognises AdministratorAccess by its ARN wherever it is attached.
    """
    durations = max_session_durations or {}
    roles = tuple(
        _role(entry, f"RoleDetailList[{i}]", durations) for i, entry in enumerate(_list(details, "RoleDetailList"))
    )
    users = tuple(
        _principal(entry, f"UserDetailList[{i}]", "UserName", "UserPolicyList")
        for i, entry in enumerate(_list(details, "UserDetailList"))
    )
    groups = tuple(
        _principal(entry, f"GroupDetailList[{i}]", "GroupName", "GroupPolicyList")
        for i, entry in enumerate(_list(details, "GroupDetailList"))
    )
    policies = tuple(
        _managed_policy(entry, f"Policies[{i}]")
        for i, entry in enumerate(_list(details, "Policies"))
        if not (isinstance(entry, Mapping) and _is_aws_managed(entry.get("Arn")))
    )
    account = account_id if account_id is not None else _single_account([*roles, *users, *groups, *policies])
    return AccountSnapshot(account, roles, users, groups, policies)


def _is_aws_managed(arn: object) -> bool:
    return isinstance(arn, str) and arn.split(":")[4:5] == [AWS_MANAGED_POLICY_OWNER]


def _single_account(records: Sequence[RoleRecord | PrincipalRecord | ManagedPolicyRecord]) -> str:
    accounts = {account_of_arn(record.arn) for record in records}
    accounts.discard(None)
    if len(accounts) > 1:
        raise AuthorizationDetailsError(
            f"the entities belong to several accounts ({', '.join(sorted(a for a in accounts if a))}); "
            "give one account's output per file"
        )
    if not accounts:
        raise AuthorizationDetailsError(f"no user, group, role or customer managed policy names its account (in "
                                        f"{', '.join(RESULT_KEYS)})")
    (account,) = accounts
    assert account is not None
    return account


def _role(entry: object, where: str, durations: Mapping[str, int]) -> RoleRecord:
    fields = _object(entry, where)
    arn = _string(fields, "Arn", where)
    boundary = fields.get("PermissionsBoundary")
    boundary_arn = boundary.get("PermissionsBoundaryArn") if isinstance(boundary, Mapping) else None
    return RoleRecord(
        arn=arn,
        name=_string(fields, "RoleName", where),
        path=_optional_string(fields, "Path", where) or "/",
        role_id=_optional_string(fields, "RoleId", where) or "",
        trust_document=policy_text(_present(fields, "AssumeRolePolicyDocument", where)),
        inline_policies=_inline_policies(fields, "RolePolicyList", where),
        attached_policy_arns=tuple(
            _string(_object(attached, f"{where}.AttachedManagedPolicies[{i}]"), "PolicyArn",
                    f"{where}.AttachedManagedPolicies[{i}]")
            for i, attached in enumerate(_list(fields, "AttachedManagedPolicies", where))
        ),
        permissions_boundary_arn=boundary_arn if isinstance(boundary_arn, str) else None,
        max_session_duration=durations.get(arn),
    )


def _principal(entry: object, where: str, name_key: str, policies_key: str) -> PrincipalRecord:
    fields = _object(entry, where)
    return PrincipalRecord(
        arn=_string(fields, "Arn", where),
        name=_string(fields, name_key, where),
        inline_policies=_inline_policies(fields, policies_key, where),
    )


def _managed_policy(entry: object, where: str) -> ManagedPolicyRecord:
    fields = _object(entry, where)
    versions = _list(fields, "PolicyVersionList", where)
    default_version = fields.get("DefaultVersionId")
    default_documents = [
        _present(_object(version, f"{where}.PolicyVersionList[{i}]"), "Document", f"{where}.PolicyVersionList[{i}]")
        for i, version in enumerate(versions)
        if isinstance(version, Mapping)
        and (version.get("IsDefaultVersion") is True or version.get("VersionId") == default_version)
    ]
    if not default_documents:
        raise AuthorizationDetailsError(f"{where}.PolicyVersionList: no default version (IsDefaultVersion true)")
    arn = _string(fields, "Arn", where)
    return ManagedPolicyRecord(
        arn=arn,
        # A policy's name is the last part of its ARN; some emulators leave PolicyName out.
        name=_optional_string(fields, "PolicyName", where) or arn.rsplit("/", 1)[-1],
        path=_optional_string(fields, "Path", where) or "/",
        policy_id=_optional_string(fields, "PolicyId", where) or "",
        document=policy_text(default_documents[0]),
    )


def _inline_policies(fields: Mapping[str, Any], key: str, where: str) -> tuple[InlinePolicy, ...]:
    policies: list[InlinePolicy] = []
    for i, entry in enumerate(_list(fields, key, where)):
        inline_where = f"{where}.{key}[{i}]"
        inline = _object(entry, inline_where)
        policies.append(
            InlinePolicy(
                name=_string(inline, "PolicyName", inline_where),
                document=policy_text(_present(inline, "PolicyDocument", inline_where)),
            )
        )
    return tuple(policies)


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AuthorizationDetailsError(f"{where} is {_kind(value)}, not an object")
    return value


def _list(fields: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = fields.get(key, [])
    if not isinstance(value, list):
        raise AuthorizationDetailsError(f"{where + '.' if where else ''}{key} is {_kind(value)}, not a list")
    return value


def _present(fields: Mapping[str, Any], key: str, where: str) -> object:
    if key not in fields:
        raise AuthorizationDetailsError(f"{where}.{key} is missing")
    return fields[key]


def _string(fields: Mapping[str, Any], key: str, where: str) -> str:
    value = _present(fields, key, where)
    if not isinstance(value, str) or not value:
        raise AuthorizationDetailsError(f"{where}.{key} is {_kind(value)}, not a non-empty string")
    return value


def _optional_string(fields: Mapping[str, Any], key: str, where: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise AuthorizationDetailsError(f"{where}.{key} is {_kind(value)}, not a string")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")
