"""The grant model on its own: every setting's rule, in both directions, with messages naming setting and rule."""

from __future__ import annotations

import pytest

from components.grant_model import (
    GrantConfigError,
    PartnerGroup,
    grants_for_stack,
    parse_grants,
    parse_stack_side,
    validate_external_id,
)
from support.program_runner import stack_config

HOST = "111111111111"
PARTNER = "222222222222"


def grant_config(**settings: object) -> dict[str, object]:
    return {"roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER, "partnerUsers": ["alice"],
            **settings}


def problems_of(raw: object) -> str:
    with pytest.raises(GrantConfigError) as raised:
        parse_grants(raw)
    return str(raised.value)


def test_checked_in_grants_parse_with_documented_defaults():
    (grant,) = parse_grants(stack_config("host")["partner-access:grants"])
    assert grant.role_arn == f"arn:aws:iam::{HOST}:role/ex-for-aws-b"
    assert grant.trusted_principals == (f"arn:aws:iam::{PARTNER}:root",)
    assert grant.max_session_duration_seconds == 3600
    assert grant.require_session_name_is_username is True
    assert grant.require_source_identity is False
    assert grant.external_id_secret is None
    assert grant.effective_partner_policy_name == "get-access-aws-a"
    assert grant.partner_group == PartnerGroup(name="aws-a-operators", create=True, members=("bob",))
    assert grant.known_partner_users == ("alice", "bob")


def test_every_optional_setting_is_carried_into_the_grant():
    (grant,) = parse_grants([grant_config(
        rolePath="/partners/b/",
        description="read only",
        maxSessionDurationSeconds=43200,
        permissionsBoundaryArn=f"arn:aws:iam::{HOST}:policy/boundaries/partner-boundary",
        tags={"owner": "platform"},
        managedPolicyArns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        inlinePolicy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": "*"}]},
        partnerPrincipalArns=[f"arn:aws:iam::{PARTNER}:user/alice", f"arn:aws:iam::{PARTNER}:user/ops/deployer"],
        maxMfaAgeSeconds=900,
        externalIdSecret="partnerBExternalId",
        requireSourceIdentity=True,
        partnerPolicyName="assume-ex",
        partnerUsers=["alice"],
        partnerGroup={"name": "existing-ops", "create": False},
        displayName="Partner B read-only",
        cliSourceProfile="partner-b",
    )])
    assert grant.role_arn == f"arn:aws:iam::{HOST}:role/partners/b/ex-for-aws-b"
    assert grant.trusted_principals == (
        f"arn:aws:iam::{PARTNER}:user/alice",
        f"arn:aws:iam::{PARTNER}:user/ops/deployer",
    )
    assert grant.max_mfa_age_seconds == 900
    assert grant.partner_group == PartnerGroup(name="existing-ops", create=False, members=())
    assert grant.require_source_identity is True
    assert grant.cli_source_profile == "partner-b"


def test_a_partner_role_may_be_trusted_once_the_user_name_rules_are_off():
    (grant,) = parse_grants([grant_config(partnerPrincipalArns=[f"arn:aws:iam::{PARTNER}:role/ci"],
                                          requireSessionNameIsUsername=False)])
    assert grant.trusted_principals == (f"arn:aws:iam::{PARTNER}:role/ci",)


def test_gov_cloud_partition_shapes_every_arn():
    (grant,) = parse_grants([grant_config(partition="aws-us-gov")])
    assert grant.role_arn.startswith("arn:aws-us-gov:iam::")
    assert grant.trusted_principals == (f"arn:aws-us-gov:iam::{PARTNER}:root",)


BAD_SETTINGS = [
    pytest.param({"hostAccountId": "12345"}, "hostAccountId: '12345' is not a 12-digit AWS account ID",
                 id="short-host"),
    pytest.param({"partnerAccountId": 222222222222}, "partnerAccountId: 222222222222 is not a 12-digit",
                 id="unquoted-account"),
    pytest.param({"partnerAccountId": HOST}, f"equals hostAccountId {HOST}", id="host-equals-partner"),
    pytest.param({"roleName": "has space"}, "roleName: 'has space' is not an IAM role name", id="role-name-chars"),
    pytest.param({"roleName": "r" * 65}, "is not an IAM role name (1-64", id="role-name-length"),
    pytest.param({"rolePath": "partners"}, "rolePath: 'partners' is not an IAM path", id="path-no-slashes"),
    pytest.param({"rolePath": "/a b/"}, "is not an IAM path", id="path-space"),
    pytest.param({"rolePath": "/" + "p" * 511 + "/"}, "at most 512 characters", id="path-length"),
    pytest.param({"maxSessionDurationSeconds": 3599}, "maxSessionDurationSeconds: 3599 must be a whole number of "
                 "seconds from 3600 to 43200", id="session-too-short"),
    pytest.param({"maxSessionDurationSeconds": 43201}, "from 3600 to 43200", id="session-too-long"),
    pytest.param({"maxSessionDurationSeconds": True}, "from 3600 to 43200", id="session-bool"),
    pytest.param({"maxMfaAgeSeconds": 0}, "maxMfaAgeSeconds: 0 must be a whole number of seconds greater than 0",
                 id="mfa-age-zero"),
    pytest.param({"maxMfaAgeSeconds": -5}, "greater than 0", id="mfa-age-negative"),
    pytest.param({"partnerPrincipalArns": ["*"]}, "wildcard principals would let anyone in", id="wildcard-principal"),
    pytest.param({"partnerPrincipalArns": [f"arn:aws:iam::{PARTNER}:user/*"]}, "without wildcards",
                 id="wildcard-user-arn"),
    pytest.param({"partnerPrincipalArns": ["arn:aws:iam::333333333333:root"]},
                 "is in account 333333333333, not partnerAccountId", id="principal-other-account"),
    pytest.param({"partnerPrincipalArns": [f"arn:aws:iam::{PARTNER}:role/ci"]},
                 "is a role, whose sessions have no aws:username, so requireSessionNameIsUsername would refuse it",
                 id="role-principal-with-session-name-rule"),
    pytest.param({"partnerPrincipalArns": [f"arn:aws:iam::{PARTNER}:role/ci"], "requireSessionNameIsUsername": False,
                  "requireSourceIdentity": True}, "so requireSourceIdentity would refuse it",
                 id="role-principal-with-source-identity-rule"),
    pytest.param({"managedPolicyArns": ["ReadOnlyAccess"]}, "managedPolicyArns[0]: 'ReadOnlyAccess' is not an IAM "
                 "managed policy ARN", id="policy-arn-bare-name"),
    pytest.param({"managedPolicyArns": ["arn:aws:iam::aws:role/ReadOnlyAccess"]}, "is not an IAM managed policy ARN",
                 id="policy-arn-wrong-kind"),
    pytest.param({"permissionsBoundaryArn": "arn:aws:iam::12:policy/b"}, "permissionsBoundaryArn", id="boundary-arn"),
    pytest.param({"managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"] * 2}, "is listed twice",
                 id="policy-arn-twice"),
    pytest.param({"externalIdSecret": "1bad key"}, "externalIdSecret: '1bad key' must name a config key",
                 id="external-id-key"),
    pytest.param({"partnerUsers": ["ok", "not ok"]}, "partnerUsers[1]: 'not ok' is not an IAM user name",
                 id="user-name"),
    pytest.param({"partnerGroup": {"name": "g", "create": False, "members": ["bob"]}},
                 "can only be set when the component creates the group", id="members-of-existing-group"),
    pytest.param({"partnerGroup": {"name": "g", "member": ["bob"]}}, "partnerGroup.member: is not a setting",
                 id="group-typo"),
    pytest.param({"partition": "aws-moon"}, "partition: 'aws-moon' is not one of aws, aws-cn, aws-us-gov",
                 id="partition"),
    pytest.param({"inlinePolicy": {"Effect": "Allow"}}, "inlinePolicy: must be an IAM policy document",
                 id="inline-policy-shape"),
    pytest.param({"partnerUser": ["alice"]}, "partnerUser: is not a grant setting; known: roleName", id="typo"),
    pytest.param({"tags": {"aws:owner": "x"}}, "tags: key 'aws:owner' must be 1-128 letters, digits, spaces or "
                 "_.:/=+-@ and not start with 'aws:'", id="tag-key"),
    pytest.param({"tags": {"owner": "v\x01"}}, "tags.owner: must be at most 256 letters", id="tag-value-chars"),
    pytest.param({"rolePath": "//"}, "rolePath: '//' is not an IAM path", id="path-empty-segment"),
    pytest.param({"partnerUsers": ["alice", "Alice"]}, "partnerUsers: user 'Alice' is listed twice (IAM names ignore "
                 "case)", id="user-twice-by-case"),
    pytest.param({"partnerUsers": ["a"]}, "partnerUsers: user 'a' is shorter than the 2 characters STS requires",
                 id="one-letter-user"),
    pytest.param({"managedPolicyArns": ["arn:aws:iam::333333333333:policy/x"]},
                 "managedPolicyArns[0]: 'arn:aws:iam::333333333333:policy/x' is in account 333333333333; a role can "
                 "use only AWS managed policies or policies of its own account", id="policy-of-another-account"),
    pytest.param({"permissionsBoundaryArn": "arn:aws-cn:iam::aws:policy/B"}, "permissionsBoundaryArn: "
                 "'arn:aws-cn:iam::aws:policy/B' is not in partition 'aws'", id="boundary-partition"),
    pytest.param({"managedPolicyArns": [f"arn:aws:iam::aws:policy/P{i}" for i in range(21)]},
                 "managedPolicyArns: lists 21 policies; IAM attaches at most 20", id="too-many-policies"),
    pytest.param({"externalIdSecret": "side"}, "externalIdSecret: 'side' is one of the program's own settings",
                 id="external-id-key-reserved"),
    pytest.param({"name": "a b"}, "name: 'a b' is not a grant name", id="grant-name"),
    pytest.param({"requireSourceIdentity": "yes"}, "requireSourceIdentity: 'yes' must be true or false",
                 id="bool-setting"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS)
def test_bad_setting_is_refused_naming_setting_and_rule(settings, message):
    text = problems_of([grant_config(**settings)])
    assert "nothing was created" in text
    assert f"partner-access:grants[0].{message}" in text or message in text
    assert "partner-access:grants[0]" in text


def test_required_settings_are_named():
    text = problems_of([{"roleName": "x"}])
    assert "partner-access:grants[0].hostAccountId: is required" in text
    assert "partner-access:grants[0].partnerAccountId: is required" in text


@pytest.mark.parametrize("raw", [None, [], "grants", {"roleName": "x"}])
def test_grants_must_be_a_non_empty_list(raw):
    assert "partner-access:grants: must be a non-empty list" in problems_of(raw)


def test_all_problems_are_reported_at_once():
    text = problems_of([grant_config(hostAccountId="1", maxMfaAgeSeconds=0), grant_config(roleName="bad name")])
    assert "grants[0].hostAccountId" in text
    assert "grants[0].maxMfaAgeSeconds" in text
    assert "grants[1].roleName" in text


def test_duplicate_role_names_in_one_host_account_are_refused_even_on_other_paths():
    text = problems_of([grant_config(partnerPolicyName="a"),
                        grant_config(rolePath="/other/", partnerAccountId="333333333333", partnerPolicyName="b")])
    assert f"partner-access:grants[1]: role name 'ex-for-aws-b' in account {HOST} is already used by " \
           "partner-access:grants[0]" in text


def test_same_role_name_in_two_host_accounts_for_one_partner_needs_distinct_grant_names():
    text = problems_of([grant_config(partnerPolicyName="a"),
                        grant_config(hostAccountId="333333333333", partnerPolicyName="b")])
    assert (f"grant name 'ex-for-aws-b' in account {PARTNER} is already used by partner-access:grants[0] (IAM names "
            "ignore case); give one of them its own name setting") in text
    grants = parse_grants([grant_config(name="prod"), grant_config(name="dev", hostAccountId="333333333333")])
    assert [(g.grant_name, g.effective_partner_policy_name) for g in grants] == [("prod", "assume-prod"),
                                                                                  ("dev", "assume-dev")]


def test_same_role_name_in_two_host_accounts_for_different_partners_is_fine():
    grants = parse_grants([grant_config(), grant_config(hostAccountId="333333333333", partnerAccountId="444444444444")])
    assert len(grants) == 2


def test_duplicate_partner_policy_and_created_group_names_are_refused():
    text = problems_of([
        grant_config(partnerPolicyName="p", partnerGroup={"name": "g"}),
        grant_config(roleName="second", partnerPolicyName="p", partnerGroup={"name": "g"}),
    ])
    assert "partner policy name 'p'" in text
    assert "partner group name 'g'" in text


def test_a_user_in_more_grants_than_iam_attaches_policies_is_refused():
    def grants(count: int) -> list[dict[str, object]]:
        return [grant_config(roleName=f"role-{i}", partnerUsers=["alice"]) for i in range(count)]

    assert len(parse_grants(grants(20))) == 20
    assert (f"21 grants attach their partner policy to user 'alice' in account {PARTNER}; IAM attaches at most 20"
            in problems_of(grants(21)))


def test_several_grants_share_an_existing_group():
    grants = parse_grants([grant_config(partnerGroup={"name": "g", "create": False}),
                           grant_config(roleName="second", partnerGroup={"name": "g", "create": False})])
    assert {g.partner_group.name for g in grants} == {"g"}


@pytest.mark.parametrize(("side", "allowed", "message"), [
    ("guest", [HOST], "partner-access:side: 'guest' is not a side; set it to one of: host, partner"),
    (None, [HOST], "partner-access:side: None is not a side"),
    ("host", None, "aws:allowedAccountIds: None must list exactly one account"),
    ("host", [HOST, PARTNER], "must list exactly one account"),
    ("host", ["1111"], "aws:allowedAccountIds[0]: '1111' is not a 12-digit AWS account ID"),
])
def test_stack_side_and_pinned_account_are_required(side, allowed, message):
    with pytest.raises(GrantConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        parse_stack_side(side, allowed)


def test_each_side_selects_the_grants_of_its_account():
    grants = parse_grants([grant_config(), grant_config(roleName="other", hostAccountId="333333333333",
                                                        partnerPolicyName="other")])
    assert [g.role_name for g in grants_for_stack(parse_stack_side("host", [HOST]), grants)] == ["ex-for-aws-b"]
    assert [g.role_name for g in grants_for_stack(parse_stack_side("partner", [PARTNER]), grants)] == [
        "ex-for-aws-b", "other"]
    with pytest.raises(GrantConfigError, match=f"no grant has hostAccountId {PARTNER}"):
        grants_for_stack(parse_stack_side("host", [PARTNER]), grants)


@pytest.mark.parametrize(("value", "is_secret", "message"), [
    (None, False, "is not set, and grant 'ex-for-aws-b' requires it"),
    ("valid-external-id", False, "must be set with `pulumi config set --secret partnerBExternalId ...`"),
    ("7", True, "is not a valid External ID: 2-1224"),
    ("has space", True, "is not a valid External ID"),
    ("e" * 1225, True, "is not a valid External ID"),
])
def test_external_id_rules(value, is_secret, message):
    (grant,) = parse_grants([grant_config(externalIdSecret="partnerBExternalId")])
    with pytest.raises(GrantConfigError) as raised:
        validate_external_id(grant, value, is_secret)
    assert f"partner-access:partnerBExternalId: {message}" in str(raised.value)
    if value:
        assert value not in str(raised.value), "a secret must never appear in an error message"


@pytest.mark.parametrize("value", ["ab", "Partner-B:2026/ext=1,x@y.z+_", "e" * 1224])
def test_external_id_accepted(value):
    (grant,) = parse_grants([grant_config(externalIdSecret="partnerBExternalId")])
    assert validate_external_id(grant, value, True) == value
