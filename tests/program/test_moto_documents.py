"""The rendered documents accepted by AWS's IAM API, as emulated by moto, with host and partner in their own accounts.

moto validates trust policies on UpdateAssumeRolePolicy (CreateRole validates nothing, so the trust is also set
there) and identity policies on CreatePolicy and PutRolePolicy; the last tests show it really rejects malformed ones.
What IAM then holds is compared with each grant's `access` sentence, and the quota defaults of the stack model with
the ones IAM reports (GetAccountSummary).
"""

from __future__ import annotations

import copy
import json

import pytest
from botocore.exceptions import ClientError

from components.access_summary import access_sentence, duration
from components.documents import INLINE_POLICY_NAME, partner_policy_document, policy_json, trust_policy_document
from components.grant_model import MANAGED_POLICIES_PER_GROUP, Grant, PartnerGroup
from components.stack_model import GROUP_QUOTA, QUOTA_RANGES, QUOTA_SETTINGS
from support.moto_accounts import emulated_iam, in_account

HOST = "111111111111"
PARTNER = "222222222222"
HOST_POLICY_PATH = "/partner-access/"
HOST_POLICY_NAME = "partner-read"
HOST_POLICY_ARN = f"arn:aws:iam::{HOST}:policy{HOST_POLICY_PATH}{HOST_POLICY_NAME}"
READ_LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["logs:Get*", "logs:Describe*"], "Resource": "*"}],
}
EXTERNAL_ID = "Shared-Secret_42"


def grant(**fields: object) -> Grant:
    return Grant(role_name="ex-for-aws-b", host_account_id=HOST, partner_account_id=PARTNER,
                 managed_policy_arns=(HOST_POLICY_ARN,), partner_users=("alice",),
                 partner_group=PartnerGroup(name="aws-a-operators", members=("bob",)), **fields)


GRANTS = {
    "default": (grant(), None),
    "path-principals-mfa-age": (grant(
        role_path="/partners/b/",
        partner_principal_arns=(f"arn:aws:iam::{PARTNER}:user/alice", f"arn:aws:iam::{PARTNER}:user/ops/bob"),
        max_mfa_age_seconds=3600,
        partner_policy_name="get-access-aws-a",
    ), None),
    "external-id-source-identity-inline": (grant(
        external_id_secret="partnerExternalId",
        require_source_identity=True,
        inline_policy=READ_LOGS,
        max_session_duration_seconds=43200,
        permissions_boundary_arn=HOST_POLICY_ARN,
        tags={"owner": "platform"},
    ), EXTERNAL_ID),
    "no-session-name-rule": (grant(require_session_name_is_username=False), None),
}
grants = pytest.mark.parametrize(("the_grant", "external_id"), list(GRANTS.values()), ids=list(GRANTS))


def create_host_side(iam, the_grant: Grant, trust_policy: dict) -> dict:
    """The host account's part, the way the component declares it; returns the role as IAM reports it."""
    iam.create_policy(PolicyName=HOST_POLICY_NAME, Path=HOST_POLICY_PATH, PolicyDocument=json.dumps(READ_LOGS))
    role_arguments = {
        "RoleName": the_grant.role_name,
        "Path": the_grant.role_path,
        "AssumeRolePolicyDocument": policy_json(trust_policy),
        "Description": the_grant.description,
        "MaxSessionDuration": the_grant.max_session_duration_seconds,
        "Tags": [{"Key": key, "Value": value} for key, value in the_grant.tags.items()],
    }
    if the_grant.permissions_boundary_arn:
        role_arguments["PermissionsBoundary"] = the_grant.permissions_boundary_arn
    role = iam.create_role(**role_arguments)["Role"]
    iam.update_assume_role_policy(RoleName=the_grant.role_name, PolicyDocument=policy_json(trust_policy))
    for policy_arn in the_grant.managed_policy_arns:
        iam.attach_role_policy(RoleName=the_grant.role_name, PolicyArn=policy_arn)
    if the_grant.inline_policy is not None:
        iam.put_role_policy(RoleName=the_grant.role_name, PolicyName=INLINE_POLICY_NAME,
                            PolicyDocument=policy_json(the_grant.inline_policy))
    return role


def create_partner_side(iam, the_grant: Grant) -> str:
    """The partner account's part: the policy, attached to the listed users and the group; returns the policy ARN."""
    policy_arn = iam.create_policy(
        PolicyName=the_grant.partner_policy_name,
        PolicyDocument=policy_json(partner_policy_document(the_grant)),
    )["Policy"]["Arn"]
    for user in the_grant.known_partner_users:
        iam.create_user(UserName=user)
    for user in the_grant.partner_users:
        iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)
    group = the_grant.partner_group
    iam.create_group(GroupName=group.name)
    for member in group.members:
        iam.add_user_to_group(GroupName=group.name, UserName=member)
    iam.attach_group_policy(GroupName=group.name, PolicyArn=policy_arn)
    return policy_arn


def error_code(failure: pytest.ExceptionInfo[ClientError]) -> str:
    return failure.value.response["Error"]["Code"]


@grants
def test_host_account_accepts_the_role_and_its_trust(the_grant, external_id):
    trust_policy = trust_policy_document(the_grant, external_id)
    with emulated_iam() as iam, in_account(HOST):
        created = create_host_side(iam, the_grant, trust_policy)
        assert created["Arn"] == the_grant.role_arn
        role = iam.get_role(RoleName=the_grant.role_name)["Role"]
        assert role["Arn"] == the_grant.role_arn
        assert role["Path"] == the_grant.role_path
        assert role["AssumeRolePolicyDocument"] == trust_policy
        assert role["MaxSessionDuration"] == the_grant.max_session_duration_seconds
        attached = iam.list_attached_role_policies(RoleName=the_grant.role_name)["AttachedPolicies"]
        assert [policy["PolicyArn"] for policy in attached] == list(the_grant.managed_policy_arns)
        inline_names = iam.list_role_policies(RoleName=the_grant.role_name)["PolicyNames"]
        assert inline_names == ([] if the_grant.inline_policy is None else [INLINE_POLICY_NAME])


@grants
def test_partner_account_accepts_the_policy_for_its_users_and_group(the_grant, external_id):
    with emulated_iam() as iam, in_account(PARTNER):
        policy_arn = create_partner_side(iam, the_grant)
        assert policy_arn == f"arn:aws:iam::{PARTNER}:policy/{the_grant.partner_policy_name}"
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        stored = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
        assert stored == partner_policy_document(the_grant)
        assert stored["Statement"][0]["Resource"] == the_grant.role_arn
        for user in the_grant.partner_users:
            attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
            assert [policy["PolicyArn"] for policy in attached] == [policy_arn]
        group_name = the_grant.partner_group.name
        members = [user["UserName"] for user in iam.get_group(GroupName=group_name)["Users"]]
        assert members == list(the_grant.partner_group.members)
        attached = iam.list_attached_group_policies(GroupName=group_name)["AttachedPolicies"]
        assert [policy["PolicyArn"] for policy in attached] == [policy_arn]


@grants
def test_the_access_sentence_says_what_iam_holds(the_grant, external_id):
    sentence = access_sentence(the_grant)
    with emulated_iam() as iam:
        with in_account(HOST):
            create_host_side(iam, the_grant, trust_policy_document(the_grant, external_id))
            role = iam.get_role(RoleName=the_grant.role_name)["Role"]
            assert f"into role {role['Arn']} " in sentence
            assert f"each session lasts at most {duration(role['MaxSessionDuration'])}." in sentence
            for attached in iam.list_attached_role_policies(RoleName=the_grant.role_name)["AttachedPolicies"]:
                assert f"policy {attached['PolicyName']}" in sentence
            for inline_name in iam.list_role_policies(RoleName=the_grant.role_name)["PolicyNames"]:
                assert f"inline policy {inline_name}" in sentence
            if "PermissionsBoundary" in role:
                boundary = role["PermissionsBoundary"]["PermissionsBoundaryArn"].rsplit("/", 1)[-1]
                assert f"bounded by permissions boundary {boundary}" in sentence
        with in_account(PARTNER):
            policy_arn = create_partner_side(iam, the_grant)
            holders = [user["UserName"] for user in iam.list_entities_for_policy(PolicyArn=policy_arn)["PolicyUsers"]]
            assert holders and all(user in sentence for user in holders)
            for group in iam.list_entities_for_policy(PolicyArn=policy_arn)["PolicyGroups"]:
                members = [user["UserName"] for user in iam.get_group(GroupName=group["GroupName"])["Users"]]
                assert f"group {group['GroupName']} (created here with {' and '.join(members)})" in sentence
            assert f"of partner account {PARTNER}" in sentence


def test_the_quota_defaults_are_the_ones_iam_reports():
    with emulated_iam() as iam, in_account(HOST):
        summary = iam.get_account_summary()["SummaryMap"]
    for declared in QUOTA_SETTINGS:
        assert summary[QUOTA_RANGES[declared.name].account_summary_key] == declared.default, declared.name
    assert summary[GROUP_QUOTA.account_summary_key] == MANAGED_POLICIES_PER_GROUP


def test_each_side_lives_in_its_own_account():
    the_grant, _ = GRANTS["default"]
    with emulated_iam() as iam:
        with in_account(HOST):
            create_host_side(iam, the_grant, trust_policy_document(the_grant))
        with in_account(PARTNER):
            create_partner_side(iam, the_grant)
            with pytest.raises(ClientError) as missing_role:
                iam.get_role(RoleName=the_grant.role_name)
            assert error_code(missing_role) == "NoSuchEntity"
        with in_account(HOST):
            assert iam.get_role(RoleName=the_grant.role_name)["Role"]["Arn"] == the_grant.role_arn
            assert [user["UserName"] for user in iam.list_users()["Users"]] == []


def _with_resource(document: dict) -> dict:
    document["Statement"][0]["Resource"] = "*"
    return document


def _with_unknown_operator(document: dict) -> dict:
    conditions = document["Statement"][0]["Condition"]
    conditions["BoolIsh"] = conditions.pop("Bool")
    return document


def _with_foreign_action(document: dict) -> dict:
    document["Statement"][0]["Action"] = "iam:PassRole"
    return document


def _with_bad_effect(document: dict) -> dict:
    document["Statement"][0]["Effect"] = "Permit"
    return document


def _without_resource(document: dict) -> dict:
    del document["Statement"][0]["Resource"]
    return document


def _with_regional_iam_resource(document: dict) -> dict:
    document["Statement"][0]["Resource"] = document["Statement"][0]["Resource"].replace(":iam::", ":iam:us-east-1:")
    return document


def _with_bad_version(document: dict) -> dict:
    document["Version"] = "2024-01-01"
    return document


@pytest.mark.parametrize("break_it", [_with_resource, _with_unknown_operator, _with_foreign_action, _with_bad_effect,
                                      _with_bad_version])
def test_moto_rejects_a_malformed_trust_policy(break_it):
    the_grant, _ = GRANTS["default"]
    trust_policy = trust_policy_document(the_grant)
    with emulated_iam() as iam, in_account(HOST):
        iam.create_role(RoleName=the_grant.role_name, AssumeRolePolicyDocument=json.dumps(trust_policy))
        with pytest.raises(ClientError) as refused:
            iam.update_assume_role_policy(RoleName=the_grant.role_name,
                                          PolicyDocument=json.dumps(break_it(copy.deepcopy(trust_policy))))
        assert error_code(refused) == "MalformedPolicyDocument"
        iam.update_assume_role_policy(RoleName=the_grant.role_name, PolicyDocument=json.dumps(trust_policy))


@pytest.mark.parametrize("break_it", [_without_resource, _with_regional_iam_resource, _with_bad_effect,
                                      _with_bad_version])
def test_moto_rejects_a_malformed_partner_policy(break_it):
    the_grant, _ = GRANTS["default"]
    partner_policy = partner_policy_document(the_grant)
    with emulated_iam() as iam, in_account(PARTNER):
        with pytest.raises(ClientError) as refused:
            iam.create_policy(PolicyName="broken", PolicyDocument=json.dumps(break_it(copy.deepcopy(partner_policy))))
        assert error_code(refused) == "MalformedPolicyDocument"
        iam.create_policy(PolicyName="intact", PolicyDocument=json.dumps(partner_policy))
