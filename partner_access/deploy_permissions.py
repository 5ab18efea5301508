"""What the CI roles may do in AWS: the provider's IAM calls per resource type, and the role policies built from them.

`pulumi up` and `pulumi preview --refresh` act through the AWS provider, which bridges terraform-provider-aws; what
it calls for each resource type the component registers (read from that provider's resources `aws_iam_role`,
`aws_iam_role_policy`, `aws_iam_role_policy_attachment`, `aws_iam_policy`, `aws_iam_user_policy_attachment`,
`aws_iam_group`, `aws_iam_group_membership` and `aws_iam_group_policy_attachment`: their create, read, update and
delete functions) is the one table below, PROVIDER_CALLS. The deploy role's policy for a stack is built from it and
the stack's grants: every action scoped to the ARNs those grants name, attachments limited by `iam:PolicyARN` to the
grants' own policies, a role's permissions boundary pinned by `iam:PermissionsBoundary`. The preview role gets the
read calls only, on the same ARNs. docs/pipeline.md and the README list the same table; a test checks the policies
against the resources the program really registers.

Pure: grants in, policy documents out (no Pulumi, no AWS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from components.grant_model import Grant
from components.stack_model import Side

Lifecycle = Literal["create", "read", "update", "delete"]
LIFECYCLES: tuple[Lifecycle, ...] = ("create", "read", "update", "delete")
POLICY_VERSION = "2012-10-17"
# IAM quotas: a customer managed policy holds at most 6,144 characters, white space not counted.
MANAGED_POLICY_MAX_CHARACTERS = 6144


@dataclass(frozen=True)
class ProviderCalls:
    """The IAM actions the AWS provider calls for one resource type, per lifecycle step."""

    resource_type: str
    terraform_type: str
    create: tuple[str, ...]
    read: tuple[str, ...]
    update: tuple[str, ...]
    delete: tuple[str, ...]

    def actions(self, lifecycles: Iterable[Lifecycle] = LIFECYCLES) -> tuple[str, ...]:
        return tuple(dict.fromkeys(action for lifecycle in lifecycles for action in getattr(self, lifecycle)))


# Create includes the read that follows it; update and delete list only what they add. Tagging: creating a role or
# policy with tags needs the Tag* action too, and default tags (aws:defaultTags) reach every taggable resource.
PROVIDER_CALLS: tuple[ProviderCalls, ...] = (
    ProviderCalls(
        resource_type="aws:iam/role:Role",
        terraform_type="aws_iam_role",
        create=("iam:CreateRole", "iam:TagRole"),
        read=("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
              "iam:ListRoleTags"),
        update=("iam:UpdateAssumeRolePolicy", "iam:UpdateRoleDescription", "iam:UpdateRole",
                "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:TagRole",
                "iam:UntagRole"),
        # Deleting a role first lists (and would remove it from) instance profiles; a grant's role is never in one.
        delete=("iam:ListInstanceProfilesForRole", "iam:DeleteRole"),
    ),
    ProviderCalls(
        resource_type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        terraform_type="aws_iam_role_policy_attachment",
        create=("iam:AttachRolePolicy",),
        read=("iam:ListAttachedRolePolicies",),
        update=(),  # every argument forces a replacement
        delete=("iam:DetachRolePolicy",),
    ),
    ProviderCalls(
        resource_type="aws:iam/rolePolicy:RolePolicy",
        terraform_type="aws_iam_role_policy",
        create=("iam:PutRolePolicy",),
        read=("iam:GetRolePolicy",),
        update=("iam:PutRolePolicy",),
        delete=("iam:DeleteRolePolicy",),
    ),
    ProviderCalls(
        resource_type="aws:iam/policy:Policy",
        terraform_type="aws_iam_policy",
        create=("iam:CreatePolicy", "iam:TagPolicy"),
        read=("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"),
        # A new document is a new version: the oldest non-default one is pruned first (IAM keeps five).
        update=("iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"),
        delete=("iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:DeletePolicy"),
    ),
    ProviderCalls(
        resource_type="aws:iam/userPolicyAttachment:UserPolicyAttachment",
        terraform_type="aws_iam_user_policy_attachment",
        create=("iam:AttachUserPolicy",),
        read=("iam:ListAttachedUserPolicies",),
        update=(),
        delete=("iam:DetachUserPolicy",),
    ),
    ProviderCalls(
        resource_type="aws:iam/group:Group",
        terraform_type="aws_iam_group",
        create=("iam:CreateGroup", "iam:GetGroup"),
        read=("iam:GetGroup",),
        update=("iam:UpdateGroup",),
        delete=("iam:DeleteGroup",),
    ),
    ProviderCalls(
        resource_type="aws:iam/groupMembership:GroupMembership",
        terraform_type="aws_iam_group_membership",
        create=("iam:AddUserToGroup",),
        read=("iam:GetGroup",),
        update=("iam:RemoveUserFromGroup", "iam:AddUserToGroup"),
        delete=("iam:RemoveUserFromGroup",),
    ),
    ProviderCalls(
        resource_type="aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        terraform_type="aws_iam_group_policy_attachment",
        create=("iam:AttachGroupPolicy",),
        read=("iam:ListAttachedGroupPolicies",),
        update=(),
        delete=("iam:DetachGroupPolicy",),
    ),
)
CALLS_BY_TYPE: dict[str, ProviderCalls] = {calls.resource_type: calls for calls in PROVIDER_CALLS}

ROLE, ROLE_POLICY_ATTACHMENT, ROLE_POLICY, POLICY, USER_POLICY_ATTACHMENT, GROUP, GROUP_MEMBERSHIP, \
    GROUP_POLICY_ATTACHMENT = (calls.resource_type for calls in PROVIDER_CALLS)

# The resource types each side's component can register.
SIDE_RESOURCE_TYPES: dict[Side, tuple[str, ...]] = {
    "host": (ROLE, ROLE_POLICY_ATTACHMENT, ROLE_POLICY),
    "partner": (POLICY, USER_POLICY_ATTACHMENT, GROUP, GROUP_MEMBERSHIP, GROUP_POLICY_ATTACHMENT),
}

# Attaching a policy is what could grant anything: these calls are allowed only for the grant's own policies.
POLICY_ARN_CONDITIONED = frozenset({"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:DetachUserPolicy",
                                    "iam:AttachGroupPolicy", "iam:DetachGroupPolicy"})
# With a boundary set on a grant, its role can only be created or re-bounded with that boundary, never unbounded.
BOUNDARY_CONDITIONED = frozenset({"iam:CreateRole", "iam:PutRolePermissionsBoundary"})


@dataclass(frozen=True)
class Scope:
    """Where one resource type's calls may act for one grant, and the ARNs an attachment may attach."""

    resource_type: str
    resources: tuple[str, ...]
    attachable_policy_arns: tuple[str, ...] = ()


def iam_arn(grant: Grant, account_id: str, resource: str) -> str:
    return f"arn:{grant.partition}:iam::{account_id}:{resource}"


def partner_policy_arn(grant: Grant) -> str:
    """The partner policy's ARN: the component creates it at path `/` under the grant's partner policy name."""
    return iam_arn(grant, grant.partner_account_id, f"policy/{grant.partner_policy_name}")


def _named(grant: Grant, kind: str, name: str, created: bool) -> tuple[str, ...]:
    """A user or group by name: created ones sit at path `/`; existing ones may have any path."""
    exact = iam_arn(grant, grant.partner_account_id, f"{kind}/{name}")
    return (exact,) if created else (exact, iam_arn(grant, grant.partner_account_id, f"{kind}/*/{name}"))


def host_scopes(grant: Grant) -> list[Scope]:
    """The resource types the component registers for a grant's host side, and where each acts."""
    role = (grant.role_arn,)
    scopes = [Scope(ROLE, role)]
    if grant.managed_policy_arns:
        scopes.append(Scope(ROLE_POLICY_ATTACHMENT, role, grant.managed_policy_arns))
    if grant.inline_policy is not None:
        scopes.append(Scope(ROLE_POLICY, role))
    return scopes


def partner_scopes(grant: Grant) -> list[Scope]:
    """The resource types the component registers for a grant's partner side, and where each acts."""
    policy = partner_policy_arn(grant)
    scopes = [Scope(POLICY, (policy,))]
    if grant.partner_users:
        users = tuple(arn for user in grant.partner_users for arn in _named(grant, "user", user, created=False))
        scopes.append(Scope(USER_POLICY_ATTACHMENT, users, (policy,)))
    group = grant.partner_group
    if group is not None:
        if group.create:
            created = _named(grant, "group", group.name, created=True)
            scopes.append(Scope(GROUP, created))
            if group.members:
                scopes.append(Scope(GROUP_MEMBERSHIP, created))
        scopes.append(Scope(GROUP_POLICY_ATTACHMENT, _named(grant, "group", group.name, group.create), (policy,)))
    return scopes


SCOPES_BY_SIDE: dict[Side, Callable[[Grant], list[Scope]]] = {"host": host_scopes, "partner": partner_scopes}


def _statements_for(grant: Grant, scope: Scope, lifecycles: Sequence[Lifecycle]) -> list[tuple[str, dict, str]]:
    """(action, condition, resource) triples for one scope."""
    triples = []
    for action in CALLS_BY_TYPE[scope.resource_type].actions(lifecycles):
        condition: dict[str, Any] = {}
        if action in POLICY_ARN_CONDITIONED:
            condition = {"ArnEquals": {"iam:PolicyARN": sorted(scope.attachable_policy_arns)}}
        elif action in BOUNDARY_CONDITIONED and grant.permissions_boundary_arn is not None:
            condition = {"StringEquals": {"iam:PermissionsBoundary": grant.permissions_boundary_arn}}
        elif action == "iam:PutRolePermissionsBoundary":
            continue  # no boundary on this grant: the provider never sets one
        elif action == "iam:DeleteRolePermissionsBoundary" and grant.permissions_boundary_arn is not None:
            continue  # a grant's boundary stays
        triples += [(action, condition, resource) for resource in scope.resources]
    return triples


def role_policy(side: Side, grants: Sequence[Grant], lifecycles: Sequence[Lifecycle] = LIFECYCLES) -> dict[str, Any]:
    """The identity policy for a stack's CI role: `lifecycles` of every resource type the grants register, scoped.

    Statements with the same condition and resources are merged, so the document grows with the grants' names, not
    with their resources."""
    by_action: dict[tuple[str, str], set[str]] = {}
    conditions: dict[str, dict] = {}
    for grant in grants:
        for scope in SCOPES_BY_SIDE[side](grant):
            for action, condition, resource in _statements_for(grant, scope, lifecycles):
                key = repr(sorted(condition.items()))
                conditions[key] = condition
                by_action.setdefault((action, key), set()).add(resource)
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (action, key), resources in by_action.items():
        grouped.setdefault((key, tuple(sorted(resources))), []).append(action)
    statements = []
    for index, ((key, resources), actions) in enumerate(sorted(grouped.items(), key=lambda item: item[0]), start=1):
        statement: dict[str, Any] = {
            "Sid": f"PartnerAccess{side.capitalize()}{index}",
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": list(resources),
        }
        if conditions[key]:
            statement["Condition"] = conditions[key]
        statements.append(statement)
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_size(document: dict[str, Any]) -> int:
    """The size IAM counts against a managed policy's quota: the document without white space."""
    return len(json.dumps(document, separators=(",", ":")))


def deploy_role_policy(side: Side, grants: Sequence[Grant]) -> dict[str, Any]:
    """What the deploy role needs to create, read, update and delete everything the grants register."""
    return role_policy(side, grants, LIFECYCLES)


def preview_role_policy(side: Side, grants: Sequence[Grant]) -> dict[str, Any]:
    """What the preview role needs: the provider's reads of the same resources (for `preview --refresh`)."""
    return role_policy(side, grants, ("read",))


def side_actions(side: Side) -> set[str]:
    """Every action the deploy role of a side's stack can need, whatever its grants."""
    return {action for resource_type in SIDE_RESOURCE_TYPES[side] for action in CALLS_BY_TYPE[resource_type].actions()}


def actions_table(side: Side) -> list[tuple[str, str, str]]:
    """(terraform resource, lifecycle, actions) rows for the resource types a side can register, for the docs."""
    return [(CALLS_BY_TYPE[resource_type].terraform_type, lifecycle,
             ", ".join(f"`{action}`" for action in getattr(CALLS_BY_TYPE[resource_type], lifecycle)) or "none")
            for resource_type in SIDE_RESOURCE_TYPES[side] for lifecycle in LIFECYCLES]
