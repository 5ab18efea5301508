"""An account's IAM entities as the Pulumi resources that would declare them, so the pack's policies see them as
they see a stack: what `pulumi up` of a program owning these roles would send the pack.

- a role -> `aws:iam/role:Role` (`name`, `path`, `assumeRolePolicy`, `maxSessionDuration`, `permissionsBoundary`;
  outputs add `arn`, `id`, `uniqueId`), each attached managed policy -> `aws:iam/rolePolicyAttachment:
  RolePolicyAttachment`, each inline policy -> `aws:iam/rolePolicy:RolePolicy`;
- a user's or group's inline policy -> `aws:iam/userPolicy:UserPolicy` / `aws:iam/groupPolicy:GroupPolicy`;
- a customer managed policy (its default version) -> `aws:iam/policy:Policy`;
- every resource's provider is the AWS provider pinned (`allowedAccountIds`) to the audited account, so the audited
  account is "own", as it is for a stack deployed into it.

A role's maxSessionDuration the source does not give is the engine's unknown number, as during a preview: the
session-length policy then waits, as it does for an unknown value, instead of assuming AWS's default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from .authorization_details import AccountSnapshot, InlinePolicy, RoleRecord

PROJECT = "partner-access-audit"
AWS_PROVIDER_TYPE = "pulumi:providers:aws"
ROLE_TYPE = "aws:iam/role:Role"
ROLE_POLICY_TYPE = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT_TYPE = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_TYPE = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY_TYPE = "aws:iam/groupPolicy:GroupPolicy"
POLICY_TYPE = "aws:iam/policy:Policy"


@dataclass(frozen=True)
class Subject:
    """The IAM entity a finding is about: a role, user, group or customer managed policy."""

    kind: str
    arn: str
    name: str


@dataclass(frozen=True)
class PackResource:
    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    subject: Subject


@dataclass(frozen=True)
class PackProvider:
    type: str
    name: str
    urn: str
    # As the engine passes provider inputs: every value a string, lists JSON-encoded.
    properties: Mapping[str, str]


@dataclass(frozen=True)
class PackStack:
    """One account as a stack: its provider and its resources in the order a program would register them."""

    account_id: str
    provider: PackProvider
    resources: tuple[PackResource, ...]
    subjects: tuple[Subject, ...] = field(default_factory=tuple)


def make_urn(account_id: str, resource_type: str, name: str) -> str:
    return f"urn:pulumi:{account_id}::{PROJECT}::{resource_type}::{name}"


def account_provider(account_id: str) -> PackProvider:
    name = "default"
    return PackProvider(
        type=AWS_PROVIDER_TYPE,
        name=name,
        urn=make_urn(account_id, AWS_PROVIDER_TYPE, name),
        properties={"allowedAccountIds": json.dumps([account_id])},
    )


def stack_of(snapshot: AccountSnapshot) -> PackStack:
    account = snapshot.account_id
    resources: list[PackResource] = []
    names: set[tuple[str, str]] = set()

    def add(resource_type: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any], subject: Subject) -> None:
        unique = name
        counter = 1
        while (resource_type, unique) in names:
            counter += 1
            unique = f"{name}-{counter}"
        names.add((resource_type, unique))
        resources.append(
            PackResource(resource_type, unique, make_urn(account, resource_type, unique), inputs,
                         {**inputs, **outputs}, subject)
        )

    subjects: list[Subject] = []
    for policy in snapshot.managed_policies:
        subject = Subject("policy", policy.arn, policy.name)
        subjects.append(subject)
        add(POLICY_TYPE, policy.name, {"name": policy.name, "path": policy.path, "policy": policy.document},
            {"arn": policy.arn, "id": policy.arn, "policyId": policy.policy_id}, subject)
    for role in snapshot.roles:
        subject = Subject("role", role.arn, role.name)
        subjects.append(subject)
        add(ROLE_TYPE, role.name, _role_inputs(role), {"arn": role.arn, "id": role.name, "uniqueId": role.role_id},
            subject)
        for policy_arn in role.attached_policy_arns:
            add(ROLE_POLICY_ATTACHMENT_TYPE, f"{role.name}-{policy_arn.rsplit('/', 1)[-1]}",
                {"role": role.name, "policyArn": policy_arn}, {"id": f"{role.name}-{policy_arn}"}, subject)
        _add_inline(add, ROLE_POLICY_TYPE, "role", role.name, role.inline_policies, subject)
    for kind, principals, resource_type in (
        ("user", snapshot.users, USER_POLICY_TYPE),
        ("group", snapshot.groups, GROUP_POLICY_TYPE),
    ):
        for principal in principals:
            subject = Subject(kind, principal.arn, principal.name)
            subjects.append(subject)
            _add_inline(add, resource_type, kind, principal.name, principal.inline_policies, subject)
    return PackStack(account, account_provider(account), tuple(resources), tuple(subjects))


def _role_inputs(role: RoleRecord) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "name": role.name,
        "path": role.path,
        "assumeRolePolicy": role.trust_document,
        "maxSessionDuration": UNKNOWN_NUMBER_VALUE if role.max_session_duration is None else role.max_session_duration,
    }
    if role.permissions_boundary_arn is not None:
        inputs["permissionsBoundary"] = role.permissions_boundary_arn
    return inputs


def _add_inline(
    add: Any, resource_type: str, owner_key: str, owner: str, policies: tuple[InlinePolicy, ...], subject: Subject
) -> None:
    for policy in policies:
        add(resource_type, f"{owner}-{policy.name}", {owner_key: owner, "name": policy.name, "policy": policy.document},
            {"id": f"{owner}:{policy.name}"}, subject)
