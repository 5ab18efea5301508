"""The one component both stacks use: a grant's host side (the role) or its partner side (who may assume it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.access_summary import access_sentence
from components.documents import (
    INLINE_POLICY_NAME,
    cli_profile,
    console_switch_blocker,
    partner_policy_document,
    policy_json,
    switch_role_url,
    trust_policy_document,
)
from components.grant_model import Grant, managed_policy_name
from components.namespace import NAMESPACE
from components.stack_model import Side

COMPONENT_TYPE = f"{NAMESPACE}:index:PartnerAccessGrant"


@dataclass(frozen=True)
class PartnerAccessGrantArgs:
    """What one PartnerAccessGrant deploys.

    grant: the validated grant (components.grant_model.Grant); required.
    side: "host" creates the role, its trust and its permissions in the host account; "partner" creates the policy
        that lets the partner's users (and group) assume it, in the partner account. Required.
    external_id: the grant's External ID as a secret Output, required exactly when grant.external_id_secret is set;
        default None.
    """

    grant: Grant
    side: Side
    external_id: pulumi.Output[str] | None = None


class PartnerAccessGrant(pulumi.ComponentResource):
    """One grant's side in one account; its outputs are the same on both sides so either stack can hand them out.

    Outputs: role_arn, switch_role_url (None where the console cannot switch, with console_note saying why),
    cli_profiles (user name -> profile text; secret when an External ID is in it), partner_policy_arn (partner side
    only, else None), access (one sentence: who may switch into the role, with what, under which conditions).
    `grant_outputs` holds them by their output names, as the component registers them and the stack exports them.

    Children are named after the component: f"{name}-role", and f"{name}-managed/<policy>" or f"{name}-user/<user>"
    for the per-item ones, where "/" (which IAM names never contain) keeps two grants' children from colliding.
    """

    role_arn: pulumi.Output[str]
    switch_role_url: pulumi.Output[str | None]
    console_note: str | None
    cli_profiles: pulumi.Output[dict[str, str]]
    partner_policy_arn: pulumi.Output[str] | None
    access: str
    grant_outputs: dict[str, Any]

    def __init__(self, name: str, args: PartnerAccessGrantArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        grant = args.grant
        if (grant.external_id_secret is None) != (args.external_id is None):
            raise ValueError(
                f"grant {grant.grant_name!r}: external_id must be given exactly when externalIdSecret is set"
            )
        child = pulumi.ResourceOptions(parent=self)

        if args.side == "host":
            self.role_arn = self._create_role(name, grant, args.external_id, child)
            self.partner_policy_arn = None
        else:
            # The ARN is computed, not looked up: the partner stack needs no access to the host's state or account.
            self.role_arn = pulumi.Output.from_input(grant.role_arn)
            self.partner_policy_arn = self._create_partner_access(name, grant, child)

        self.switch_role_url = pulumi.Output.from_input(switch_role_url(grant))
        self.console_note = console_switch_blocker(grant)
        self.cli_profiles = self._cli_profiles(grant, args.external_id)
        self.access = access_sentence(grant)
        self.grant_outputs = {
            "roleArn": self.role_arn,
            "switchRoleUrl": self.switch_role_url,
            "consoleNote": self.console_note,
            "cliProfiles": self.cli_profiles,
            "partnerPolicyArn": self.partner_policy_arn,
            "access": self.access,
        }
        self.register_outputs(self.grant_outputs)

    @staticmethod
    def _trust_policy_json(grant: Grant, external_id: pulumi.Output[str] | None) -> pulumi.Input[str]:
        if external_id is None:
            return policy_json(trust_policy_document(grant))
        # Built inside apply so the document, which holds the External ID, stays secret in state and in previews.
        return external_id.apply(lambda value: policy_json(trust_policy_document(grant, value)))

    def _create_role(self, name: str, grant: Grant, external_id: pulumi.Output[str] | None,
                     child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        role = aws.iam.Role(
            f"{name}-role",
            name=grant.role_name,
            path=grant.role_path,
            description=grant.description or None,
            assume_role_policy=self._trust_policy_json(grant, external_id),
            max_session_duration=grant.max_session_duration_seconds,
            permissions_boundary=grant.permissions_boundary_arn,
            tags=dict(grant.tags) or None,
            opts=child,
        )
        for policy_arn in grant.managed_policy_arns:
            aws.iam.RolePolicyAttachment(
                f"{name}-managed/{managed_policy_name(policy_arn)}",
                role=role.name,
                policy_arn=policy_arn,
                opts=child,
            )
        if grant.inline_policy is not None:
            aws.iam.RolePolicy(
                f"{name}-inline-policy",
                role=role.name,
                name=INLINE_POLICY_NAME,
                policy=policy_json(grant.inline_policy),
                opts=child,
            )
        return role.arn

    def _create_partner_access(self, name: str, grant: Grant, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        policy = aws.iam.Policy(
            f"{name}-assume-policy",
            name=grant.partner_policy_name,
            description=f"Switch into {grant.role_arn} (MFA required by its trust policy).",
            policy=policy_json(partner_policy_document(grant)),
            opts=child,
        )
        for user in grant.partner_users:
            aws.iam.UserPolicyAttachment(f"{name}-user/{user}", user=user, policy_arn=policy.arn, opts=child)
        group = grant.partner_group
        if group is not None:
            group_name: pulumi.Input[str] = group.name
            if group.create:
                created = aws.iam.Group(f"{name}-group", name=group.name, opts=child)
                group_name = created.name
                if group.members:
                    # Exclusive membership is right here: the component owns this group.
                    aws.iam.GroupMembership(
                        f"{name}-group-members",
                        group=created.name,
                        users=list(group.members),
                        opts=child,
                    )
            aws.iam.GroupPolicyAttachment(
                f"{name}-group-policy",
                group=group_name,
                policy_arn=policy.arn,
                opts=child,
            )
        return policy.arn

    @staticmethod
    def _cli_profiles(grant: Grant, external_id: pulumi.Output[str] | None) -> pulumi.Output[dict[str, str]]:
        users = grant.known_partner_users
        if external_id is None:
            return pulumi.Output.from_input({user: cli_profile(grant, user) for user in users})
        return pulumi.Output.secret(
            external_id.apply(lambda value: {user: cli_profile(grant, user, value) for user in users})
        )
