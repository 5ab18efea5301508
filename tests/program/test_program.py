"""The real __main__.py under the real Pulumi SDK with mocks, per stack of the fixture project (tests/fixtures/project,
never the operator's config): resources, parents, names, documents, outputs, and every bad setting refused before a
single resource is registered."""

from __future__ import annotations

import json

import pytest

from components.documents import partner_policy_document, switch_role_url, trust_policy_document
from components.grant_model import parse_grants
from support.program_runner import UNKNOWN, is_secret, reveal, run_program

HOST = "111111111111"
PARTNER = "222222222222"
OTHER_PARTNER = "333333333333"
EXTERNAL_ID = "partner-b-ext-2026"
ROLE = "aws:iam/role:Role"
COMPONENT = "partner-access:index:PartnerAccessGrant"


def grant_config(**settings: object) -> dict[str, object]:
    return {"roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER, "partnerUsers": ["alice"],
            **settings}


def run_with_grants(stack: str, grants: list[dict[str, object]], **kwargs: object):
    return run_program(stack, config_overrides={"grants": grants, **kwargs.pop("config_overrides", {})}, **kwargs)


def by_name(run):
    return {resource.name: resource for resource in run.resources}


def find_plain(value: object, needle: str) -> bool:
    """Whether `needle` occurs anywhere outside a secret wrapper."""
    if is_secret(value):
        return False
    if isinstance(value, dict):
        return any(find_plain(item, needle) for item in value.values())
    if isinstance(value, list):
        return any(find_plain(item, needle) for item in value)
    return isinstance(value, str) and needle in value


@pytest.fixture(scope="module")
def host_run():
    return run_program("host")


@pytest.fixture(scope="module")
def host_deploy():
    return run_program("host", preview=False)


@pytest.fixture(scope="module")
def partner_run():
    return run_program("partner")


@pytest.fixture(scope="module")
def partner_deploy():
    return run_program("partner", preview=False)


def test_host_stack_creates_the_role_its_trust_and_attachment_under_the_component(host_run):
    assert host_run.error is None
    resources = by_name(host_run)
    assert {(r.type, r.name) for r in host_run.resources} == {
        (COMPONENT, "ex-for-aws-b"),
        (ROLE, "ex-for-aws-b-role"),
        ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ex-for-aws-b-managed/ReadOnlyAccess"),
    }
    component = resources["ex-for-aws-b"]
    assert component.parent_urn.endswith("pulumi:pulumi:Stack::partner-access-host")
    for child in ("ex-for-aws-b-role", "ex-for-aws-b-managed/ReadOnlyAccess"):
        assert resources[child].parent_urn == component.urn
        assert resources[child].custom
    role = resources["ex-for-aws-b-role"].inputs
    (grant,) = parse_grants(host_run.config["partner-access:grants"])
    assert json.loads(role["assumeRolePolicy"]) == trust_policy_document(grant)
    assert (role["name"], role["path"], role["maxSessionDuration"]) == ("ex-for-aws-b", "/", 3600)
    attachment = resources["ex-for-aws-b-managed/ReadOnlyAccess"].inputs
    assert attachment == {"role": "ex-for-aws-b", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}


def test_host_stack_outputs_hand_the_partner_everything_to_switch(host_run, host_deploy):
    assert host_run.outputs["grants"]["ex-for-aws-b"]["roleArn"] == UNKNOWN, "AWS assigns it at creation"
    (grant,) = parse_grants(host_deploy.config["partner-access:grants"])
    assert host_deploy.outputs["side"] == "host"
    assert host_deploy.outputs["accountId"] == HOST
    outputs = host_deploy.outputs["grants"]["ex-for-aws-b"]
    assert outputs["roleArn"] == f"arn:aws:iam::{HOST}:role/ex-for-aws-b"
    assert outputs["switchRoleUrl"] == switch_role_url(grant)
    assert set(outputs["cliProfiles"]) == {"alice", "bob"}
    assert "role_session_name = alice" in outputs["cliProfiles"]["alice"]
    assert outputs["partnerPolicyArn"] is None
    assert outputs["consoleNote"] is None


def test_partner_stack_lets_exactly_the_listed_users_and_group_assume_the_role(partner_run):
    assert partner_run.error is None
    resources = by_name(partner_run)
    assert {(r.type, r.name) for r in partner_run.resources} == {
        (COMPONENT, "ex-for-aws-b"),
        ("aws:iam/policy:Policy", "ex-for-aws-b-assume-policy"),
        ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "ex-for-aws-b-user/alice"),
        ("aws:iam/group:Group", "ex-for-aws-b-group"),
        ("aws:iam/groupMembership:GroupMembership", "ex-for-aws-b-group-members"),
        ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "ex-for-aws-b-group-policy"),
    }
    assert not partner_run.of_type(ROLE), "the partner stack must never create the host's role"
    component_urn = resources["ex-for-aws-b"].urn
    assert all(r.parent_urn == component_urn for r in partner_run.resources if r.type != COMPONENT)
    (grant,) = parse_grants(partner_run.config["partner-access:grants"])
    policy = resources["ex-for-aws-b-assume-policy"].inputs
    assert policy["name"] == "get-access-aws-a"
    assert json.loads(policy["policy"]) == partner_policy_document(grant)
    # During a preview the new policy's ARN is not known yet; the attachments wait for it.
    assert resources["ex-for-aws-b-user/alice"].inputs == {"user": "alice", "policyArn": UNKNOWN}
    assert resources["ex-for-aws-b-group-members"].inputs == {"group": "aws-a-operators", "users": ["bob"]}
    assert resources["ex-for-aws-b-group-policy"].inputs == {"group": "aws-a-operators", "policyArn": UNKNOWN}
    outputs = partner_run.outputs["grants"]["ex-for-aws-b"]
    assert outputs["roleArn"] == grant.role_arn, "computed, so known even before the host deploys"
    assert outputs["partnerPolicyArn"] == UNKNOWN


def test_partner_deploy_attaches_the_created_policy(partner_deploy):
    policy_arn = f"arn:aws:iam::{PARTNER}:policy/get-access-aws-a"
    resources = by_name(partner_deploy)
    assert resources["ex-for-aws-b-user/alice"].inputs == {"user": "alice", "policyArn": policy_arn}
    assert resources["ex-for-aws-b-group-policy"].inputs == {"group": "aws-a-operators", "policyArn": policy_arn}
    assert partner_deploy.outputs["grants"]["ex-for-aws-b"]["partnerPolicyArn"] == policy_arn


def test_external_id_is_required_in_the_trust_and_never_leaves_a_secret():
    grants = [grant_config(externalIdSecret="partnerBExternalId", partnerUsers=["alice"])]
    for stack in ("host", "partner"):
        run = run_with_grants(stack, grants, secrets={"partnerBExternalId": EXTERNAL_ID}, preview=False)
        assert run.error is None
        assert not find_plain([r.inputs for r in run.resources], EXTERNAL_ID)
        assert not find_plain(run.outputs, EXTERNAL_ID)
        profiles = run.outputs["grants"]["ex-for-aws-b"]["cliProfiles"]
        assert is_secret(profiles)
        assert f"external_id = {EXTERNAL_ID}" in reveal(profiles)["alice"]
        outputs = run.outputs["grants"]["ex-for-aws-b"]
        assert outputs["switchRoleUrl"] is None
        assert "console cannot send" in outputs["consoleNote"]
    role_inputs = run_with_grants("host", grants, secrets={"partnerBExternalId": EXTERNAL_ID}).one(ROLE).inputs
    assert is_secret(role_inputs["assumeRolePolicy"])
    trust = json.loads(reveal(role_inputs["assumeRolePolicy"]))
    assert trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == EXTERNAL_ID


def test_several_grants_each_stack_takes_only_its_accounts_side():
    grants = [
        grant_config(partnerPolicyName="get-access-a-from-b"),
        grant_config(roleName="deployer-for-c", partnerAccountId=OTHER_PARTNER, partnerUsers=["carol"],
                     managedPolicyArns=[], maxSessionDurationSeconds=7200),
    ]
    host = run_with_grants("host", grants)
    assert sorted(r.name for r in host.of_type(ROLE)) == ["deployer-for-c-role", "ex-for-aws-b-role"]
    assert set(host.outputs["grants"]) == {"ex-for-aws-b", "deployer-for-c"}
    partner_c = run_with_grants("partner", grants, config_overrides={"aws:allowedAccountIds": [OTHER_PARTNER]})
    assert [r.name for r in partner_c.of_type("aws:iam/policy:Policy")] == ["deployer-for-c-assume-policy"]
    assert set(partner_c.outputs["grants"]) == {"deployer-for-c"}


def test_role_options_reach_the_role():
    boundary = f"arn:aws:iam::{HOST}:policy/partner-boundary"
    inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    run = run_with_grants("host", preview=False, grants=[grant_config(
        rolePath="/partners/", description="B reads S3", maxSessionDurationSeconds=14400,
        permissionsBoundaryArn=boundary, tags={"owner": "platform"}, inlinePolicy=inline, maxMfaAgeSeconds=3600,
        requireSourceIdentity=True,
    )])
    resources = by_name(run)
    role = resources["ex-for-aws-b-role"].inputs
    assert role["path"] == "/partners/"
    assert role["permissionsBoundary"] == boundary
    assert role["tags"] == {"owner": "platform"}
    assert role["maxSessionDuration"] == 14400
    assert json.loads(resources["ex-for-aws-b-inline-policy"].inputs["policy"]) == inline
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["NumericLessThan"] == {"aws:MultiFactorAuthAge": "3600"}
    assert run.outputs["grants"]["ex-for-aws-b"]["roleArn"] == f"arn:aws:iam::{HOST}:role/partners/ex-for-aws-b"


def test_an_existing_partner_group_is_attached_not_created():
    run = run_with_grants("partner", [grant_config(partnerGroup={"name": "existing-ops", "create": False})])
    assert not run.of_type("aws:iam/group:Group")
    assert not run.of_type("aws:iam/groupMembership:GroupMembership")
    attachment = run.one("aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
    assert attachment.inputs["group"] == "existing-ops"


def test_one_role_name_from_two_host_accounts_for_one_partner_under_distinct_grant_names():
    grants = [grant_config(name="ex-for-aws-b-prod"),
              grant_config(name="ex-for-aws-b-dev", hostAccountId="444444444444")]
    run = run_with_grants("partner", grants, preview=False)
    assert run.error is None
    policies = {r.name: reveal(r.inputs) for r in run.of_type("aws:iam/policy:Policy")}
    assert sorted(policies) == ["ex-for-aws-b-dev-assume-policy", "ex-for-aws-b-prod-assume-policy"]
    assert {json.loads(p["policy"])["Statement"][0]["Resource"] for p in policies.values()} == {
        f"arn:aws:iam::{HOST}:role/ex-for-aws-b", "arn:aws:iam::444444444444:role/ex-for-aws-b"}
    assert "[profile ex-for-aws-b-dev]" in run.outputs["grants"]["ex-for-aws-b-dev"]["cliProfiles"]["alice"]


def test_grants_whose_names_run_together_still_get_distinct_children():
    # "a" + "-b-X" and "a-b" + "-X" would collide if children were joined with a character IAM names allow.
    grants = [
        grant_config(roleName="a", partnerUsers=["user-xy"], partnerPolicyName="p1",
                     managedPolicyArns=[f"arn:aws:iam::{HOST}:policy/b-X"]),
        grant_config(roleName="a-user", partnerUsers=["xy"], partnerPolicyName="p2",
                     managedPolicyArns=[f"arn:aws:iam::{HOST}:policy/X"]),
    ]
    for stack in ("host", "partner"):
        run = run_with_grants(stack, grants)
        assert run.error is None
        assert len({r.urn for r in run.resources}) == len(run.resources)


BAD_CONFIG = [
    pytest.param("host", {"grants": [grant_config(hostAccountId="11111111111")]},
                 "partner-access:grants[0].hostAccountId: '11111111111' is not a 12-digit AWS account ID",
                 id="account-id"),
    pytest.param("host", {"grants": [grant_config(partnerAccountId=HOST)]},
                 f"partner-access:grants[0].partnerAccountId: equals hostAccountId {HOST}", id="host-is-partner"),
    pytest.param("host", {"grants": [grant_config(roleName="ex/for/b")]},
                 "partner-access:grants[0].roleName: 'ex/for/b' is not an IAM role name", id="role-name"),
    pytest.param("host", {"grants": [grant_config(rolePath="/no-trailing-slash")]},
                 "partner-access:grants[0].rolePath: '/no-trailing-slash' is not an IAM path", id="role-path"),
    pytest.param("host", {"grants": [grant_config(maxSessionDurationSeconds=60)]},
                 "partner-access:grants[0].maxSessionDurationSeconds: 60 must be a whole number of seconds from 3600 "
                 "to 43200", id="session-duration"),
    pytest.param("host", {"grants": [grant_config(maxMfaAgeSeconds=0)]},
                 "partner-access:grants[0].maxMfaAgeSeconds: 0 must be a whole number of seconds greater than 0",
                 id="mfa-age"),
    pytest.param("host", {"grants": [grant_config(), grant_config(partnerAccountId=OTHER_PARTNER,
                                                                   roleName="EX-for-aws-b")]},
                 "partner-access:grants[1]: role name 'EX-for-aws-b' in account 111111111111 is already used by "
                 "partner-access:grants[0] (IAM names ignore case)", id="duplicate-role"),
    pytest.param("partner", {"grants": [grant_config(partnerUsers=[], partnerGroup=None)]},
                 "partner-access:grants[0].partnerUsers: or partnerGroup must be set", id="nobody-to-attach-to"),
    pytest.param("host", {"grants": [grant_config(partnerPrincipalArns=[
        f"arn:aws:iam::{PARTNER}:user/{'u' * 60}-{index:02d}" for index in range(40)])]},
                 "partner-access:grants grant 'ex-for-aws-b': its trust policy is", id="trust-too-large"),
    pytest.param("host", {"grants": [grant_config(partnerPrincipalArns=["*"])]},
                 "partner-access:grants[0].partnerPrincipalArns[0]: '*' is not an IAM root, user or role ARN without "
                 "wildcards", id="wildcard-principal"),
    pytest.param("host", {"grants": [grant_config(managedPolicyArns=["arn:aws:iam::aws:policy"])]},
                 "partner-access:grants[0].managedPolicyArns[0]: 'arn:aws:iam::aws:policy' is not an IAM managed "
                 "policy ARN", id="policy-arn"),
    pytest.param("host", {"side": "hots"},
                 "partner-access:side: 'hots' is not a side; set it to one of: host, partner", id="unknown-side"),
    pytest.param("host", {"aws:allowedAccountIds": None},
                 "aws:allowedAccountIds: None must list exactly one account", id="unpinned-account"),
    pytest.param("host", {"aws:allowedAccountIds": ["999999999999"]},
                 "partner-access:grants: no grant has hostAccountId 999999999999", id="no-grant-for-account"),
    pytest.param("host", {"grants": [grant_config(externalIdSecret="partnerBExternalId")]},
                 "partner-access:partnerBExternalId: is not set, and grant 'ex-for-aws-b' requires it",
                 id="external-id-missing"),
]


@pytest.mark.parametrize(("stack", "overrides", "message"), BAD_CONFIG)
def test_bad_config_fails_before_any_resource_is_registered(stack, overrides, message):
    run = run_program(stack, config_overrides=overrides)
    assert run.error is not None and message in run.error
    assert run.resources == []


@pytest.mark.parametrize(("value", "as_secret", "message"), [
    ("x", True, "is not a valid External ID: 2-1224 of letters, digits and +=,.@:/_-"),
    ("partner b", True, "is not a valid External ID"),
    ("valid-id", False, "must be set with `pulumi config set --secret partnerBExternalId ...`"),
])
def test_bad_external_id_fails_before_any_resource_is_registered(value, as_secret, message):
    grants = [grant_config(externalIdSecret="partnerBExternalId")]
    if as_secret:
        run = run_with_grants("host", grants, secrets={"partnerBExternalId": value})
    else:
        run = run_with_grants("host", grants, config_overrides={"partnerBExternalId": value})
    assert run.error is not None and f"partner-access:partnerBExternalId: {message}" in run.error
    assert run.resources == []
