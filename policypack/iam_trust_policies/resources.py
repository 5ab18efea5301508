"""Where IAM documents live in Pulumi resources, whose accounts count as "own", and the checks that span resources.

Pure: the wiring hands in plain values (dicts, lists, strings, numbers, and UNKNOWN for values not known yet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, finding
from .identity_analysis import grants_full_admin
from .model import account_of_arn, contains_unknown, is_account_id
from .trust_analysis import cross_account_principals

# Role resource type -> the input holding its trust policy.
ROLE_TRUST_PROPERTIES: Mapping[str, str] = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws-native:iam:Role": "assumeRolePolicyDocument",
}
# Role resource type -> the input holding its role name.
ROLE_NAME_PROPERTIES: Mapping[str, str] = {"aws:iam/role:Role": "name", "aws-native:iam:Role": "roleName"}
# Identity policy resource type -> the input holding its document.
IDENTITY_POLICY_PROPERTIES: Mapping[str, str] = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws-native:iam:ManagedPolicy": "policyDocument",
    "aws-native:iam:RolePolicy": "policyDocument",
    "aws-native:iam:UserPolicy": "policyDocument",
    "aws-native:iam:GroupPolicy": "policyDocument",
}
# Resource type -> (list input of embedded inline policies, the document field of each entry).
EMBEDDED_POLICY_PROPERTIES: Mapping[str, tuple[str, str]] = {
    "aws:iam/role:Role": ("inlinePolicies", "policy"),
    "aws-native:iam:Role": ("policies", "policyDocument"),
    "aws-native:iam:User": ("policies", "policyDocument"),
    "aws-native:iam:Group": ("policies", "policyDocument"),
}
# AWS applies this when a role sets no maximum.
DEFAULT_MAX_SESSION_DURATION_SECONDS = 3600
_ADMINISTRATOR_ACCESS_ARN_RE = re.compile(r"^arn:[^:]+:iam::aws:policy/AdministratorAccess$")
# Everything the administrator check reads; stack validation converts only these resources.
ADMIN_CHECK_RESOURCE_TYPES = frozenset(
    {
        *ROLE_TRUST_PROPERTIES,
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws-native:iam:ManagedPolicy",
        "aws-native:iam:RolePolicy",
    }
)


def pinned_account_id(allowed_account_ids: object) -> str | None:
    """The account a provider is pinned to when its allowedAccountIds names exactly one.

    Provider config arrives as a list or, from the engine, as a JSON-encoded list string.
    """
    if isinstance(allowed_account_ids, str):
        if is_account_id(allowed_account_ids):
            return allowed_account_ids
        try:
            allowed_account_ids = json.loads(allowed_account_ids)
        except (ValueError, RecursionError):
            return None
    if isinstance(allowed_account_ids, list | tuple) and len(allowed_account_ids) == 1:
        only = allowed_account_ids[0]
        return only if is_account_id(only) else None
    return None


def own_account_ids(
    exempt_account_ids: Iterable[object], provider_allowed_account_ids: object = None, role_arn: object = None
) -> frozenset[str]:
    """Exempt accounts, plus the provider's pinned account, plus the account in the role's ARN when known."""
    accounts = {account for account in exempt_account_ids if isinstance(account, str)}
    pinned = pinned_account_id(provider_allowed_account_ids)
    if pinned is not None:
        accounts.add(pinned)
    role_account = account_of_arn(role_arn)
    if role_account is not None:
        accounts.add(role_account)
    return frozenset(accounts)


def effective_max_session_seconds(value: object) -> float | None:
    """The role's maximum session length in seconds (AWS's default when unset); None when not known or not a number."""
    if value is None:
        return DEFAULT_MAX_SESSION_DURATION_SECONDS
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def max_session_finding(
    trust_document: object, max_session_duration: object, own_accounts: frozenset[str], limit_seconds: float
) -> Finding | None:
    """A finding when a role trusted from another account allows sessions longer than limit_seconds."""
    seconds = effective_max_session_seconds(max_session_duration)
    if seconds is None or seconds <= limit_seconds:
        return None
    principals = cross_account_principals(trust_document, own_accounts)
    if not principals:
        return None
    return finding(
        "SESSION-001",
        f"The role is trusted by {', '.join(principals)} outside its own account and allows sessions of "
        f"{seconds:g} seconds, above the limit of {limit_seconds:g}; set maxSessionDuration to {limit_seconds:g} "
        "or less so a stolen partner session expires sooner.",
        {"maxSessionDuration": limit_seconds},
        principals=principals,
    )


def carries_identity_documents(resource_type: str) -> bool:
    """Whether embedded_documents can find anything in a resource of this type (checked before converting its
    properties)."""
    return resource_type in IDENTITY_POLICY_PROPERTIES or resource_type in EMBEDDED_POLICY_PROPERTIES


def embedded_documents(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, object]]:
    """(where, document) for each policy document a resource carries as an input."""
    documents: list[tuple[str, object]] = []
    direct = IDENTITY_POLICY_PROPERTIES.get(resource_type)
    if direct is not None and direct in props:
        documents.append((direct, props[direct]))
    embedded = EMBEDDED_POLICY_PROPERTIES.get(resource_type)
    if embedded is not None:
        list_property, document_field = embedded
        entries = props.get(list_property)
        if isinstance(entries, list):
            for position, entry in enumerate(entries):
                if isinstance(entry, dict) and document_field in entry:
                    documents.append((f"{list_property}[{position}]", entry[document_field]))
    return documents


@dataclass(frozen=True)
class StackResource:
    """A resource as stack validation sees it, reduced to plain values."""

    urn: str
    resource_type: str
    name: str
    props: Mapping[str, Any]
    provider_allowed_account_ids: object = None
    # Input name -> URNs of the resources that input was computed from (links roles to attachments in preview).
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StackFinding:
    urn: str
    finding: Finding

    @property
    def message(self) -> str:
        return self.finding.message


def admin_role_findings(resources: list[StackResource], exempt_account_ids: Iterable[str]) -> list[StackFinding]:
    """Roles trusted from another account that hold AdministratorAccess or an inline "*" on "*" policy."""
    exempt = list(exempt_account_ids)
    admin_policy_urns, admin_policy_arns = _stack_admin_policies(resources)
    findings: list[StackFinding] = []
    for role in resources:
        trust_property = ROLE_TRUST_PROPERTIES.get(role.resource_type)
        if trust_property is None:
            continue
        trust_document = role.props.get(trust_property)
        if trust_document is None or contains_unknown(trust_document):
            continue
        own = own_account_ids(exempt, role.provider_allowed_account_ids, role.props.get("arn"))
        principals = cross_account_principals(trust_document, own)
        if not principals:
            continue
        reasons = _admin_reasons(role, resources, admin_policy_urns, admin_policy_arns)
        if reasons:
            findings.append(
                StackFinding(
                    urn=role.urn,
                    finding=finding(
                        "ADMIN-001",
                        f"Role {role.name} is trusted by {', '.join(principals)} outside its own account and has "
                        f"administrator access: {'; '.join(reasons)}. Give cross-account roles only the permissions "
                        "the partner needs (for example ReadOnlyAccess or a task-specific policy).",
                        None,
                        principals=principals,
                    ),
                )
            )
    return findings


def _stack_admin_policies(resources: list[StackResource]) -> tuple[set[str], set[str]]:
    """URNs and known ARNs of customer managed policies in the stack that grant "*" on "*"."""
    urns: set[str] = set()
    arns: set[str] = set()
    for resource in resources:
        if resource.resource_type not in ("aws:iam/policy:Policy", "aws-native:iam:ManagedPolicy"):
            continue
        document = resource.props.get(IDENTITY_POLICY_PROPERTIES[resource.resource_type])
        if contains_unknown(document) or not grants_full_admin(document):
            continue
        urns.add(resource.urn)
        for arn_property in ("arn", "policyArn"):
            arn = resource.props.get(arn_property)
            if isinstance(arn, str):
                arns.add(arn)
    return urns, arns


def _admin_reasons(
    role: StackResource, resources: list[StackResource], admin_policy_urns: set[str], admin_policy_arns: set[str]
) -> list[str]:
    reasons: list[str] = []
    for arn in _strings(role.props.get("managedPolicyArns")):
        if _ADMINISTRATOR_ACCESS_ARN_RE.match(arn) or arn in admin_policy_arns:
            reasons.append(f"managedPolicyArns includes {arn}")
    for where, document in embedded_documents(role.resource_type, role.props):
        if not contains_unknown(document) and grants_full_admin(document):
            reasons.append(f'its inline policy {where} grants "*" on "*"')
    role_name = role.props.get(ROLE_NAME_PROPERTIES[role.resource_type])
    for other in resources:
        reason = _attachment_reason(other, role, role_name, admin_policy_urns, admin_policy_arns)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _attachment_reason(
    resource: StackResource,
    role: StackResource,
    role_name: object,
    admin_policy_urns: set[str],
    admin_policy_arns: set[str],
) -> str | None:
    kind = resource.resource_type
    if kind == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and _references(resource, "role", role, role_name):
        return _admin_policy_arn_reason(resource, "policyArn", admin_policy_urns, admin_policy_arns)
    if kind == "aws:iam/policyAttachment:PolicyAttachment" and _references(resource, "roles", role, role_name):
        return _admin_policy_arn_reason(resource, "policyArn", admin_policy_urns, admin_policy_arns)
    if kind == "aws:iam/rolePolicy:RolePolicy" and _references(resource, "role", role, role_name):
        return _inline_admin_reason(resource, "policy")
    if kind == "aws-native:iam:RolePolicy" and _references(resource, "roleName", role, role_name):
        return _inline_admin_reason(resource, "policyDocument")
    if (
        kind == "aws-native:iam:ManagedPolicy"
        and resource.urn in admin_policy_urns
        and _references(resource, "roles", role, role_name)
    ):
        return f'managed policy {resource.name} grants "*" on "*" and names the role in its roles'
    return None


def _references(resource: StackResource, property_name: str, role: StackResource, role_name: object) -> bool:
    """Whether the input names the role, by its name when both are known, else by the engine's dependency record."""
    if role.urn in resource.property_dependencies.get(property_name, frozenset()):
        return True
    value = resource.props.get(property_name)
    return isinstance(role_name, str) and role_name in _strings(value)


def _admin_policy_arn_reason(
    resource: StackResource, property_name: str, admin_policy_urns: set[str], admin_policy_arns: set[str]
) -> str | None:
    arn = resource.props.get(property_name)
    if isinstance(arn, str) and (_ADMINISTRATOR_ACCESS_ARN_RE.match(arn) or arn in admin_policy_arns):
        return f"{resource.name} attaches {arn}"
    if resource.property_dependencies.get(property_name, frozenset()) & admin_policy_urns:
        return f'{resource.name} attaches a managed policy from this stack that grants "*" on "*"'
    return None


def _inline_admin_reason(resource: StackResource, property_name: str) -> str | None:
    document = resource.props.get(property_name)
    if document is None or contains_unknown(document) or not grants_full_admin(document):
        return None
    return f'inline policy {resource.name} grants "*" on "*"'


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []
