"""The grant and stack models on their own: every setting's rule, in both directions, with messages naming setting
and rule; the account's quotas; the README's settings tables against the settings the models declare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config_checks import Setting
from components.documents import trust_policy_document, trust_policy_size
from components.grant_model import (
    GRANT_SETTINGS,
    PARTNER_GROUP_SETTINGS,
    Grant,
    GrantConfigError,
    PartnerGroup,
    parse_grants,
)
from components.namespace import NAMESPACE
from components.stack_model import (
    QUOTA_RANGES,
    QUOTA_SETTINGS,
    STACK_SETTINGS,
    Quotas,
    grants_for_stack,
    load_stack,
    parse_quotas,
    parse_stack_side,
    validate_external_id,
)

HOST = "111111111111"
PARTNER = "222222222222"
README = Path(__file__).resolve().parents[2] / "README.md"


def grant_config(**settings: object) -> dict[str, object]:
    return {"roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER, "partnerUsers": ["alice"],
            **settings}


def problems_of(raw: object) -> str:
    with pytest.raises(GrantConfigError) as raised:
        parse_grants(raw)
    return str(raised.value)


def test_unset_settings_take_the_models_defaults():
    (grant,) = parse_grants([{"roleName": "ex-for-aws-b", "hostAccountId": HOST, "partnerAccountId": PARTNER,
                              "partnerGroup": {"name": "aws-a-operators", "members": ["bob"]}}])
    assert grant.role_arn == f"arn:aws:iam::{HOST}:role/ex-for-aws-b"
    assert grant.trusted_principals == (f"arn:aws:iam::{PARTNER}:root",)
    assert grant.max_session_duration_seconds == 3600
    assert grant.require_session_name_is_username is True
    assert grant.require_source_identity is False
    assert grant.external_id_secret is None
    assert grant.grant_name == "ex-for-aws-b"
    assert grant.partner_policy_name == "assume-ex-for-aws-b"
    assert grant.display_name == f"ex-for-aws-b@{HOST}"
    assert grant.partner_group == PartnerGroup(name="aws-a-operators", create=True, members=("bob",))
    assert grant.known_partner_users == ("bob",)


def test_a_grant_built_in_code_resolves_its_derived_defaults_too():
    grant = Grant(role_name="r" * 64, host_account_id=HOST, partner_account_id=PARTNER, grant_name="short")
    assert grant.partner_policy_name == "assume-short"
    assert grant.display_name == f"{'r' * 64}@{HOST}"[:64]


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
    pytest.param({"managedPolicyArns": [f"arn:aws:iam::aws:policy/P{i}" for i in range(26)]},
                 "managedPolicyArns: lists 26 policies; IAM attaches at most 25 to a role", id="too-many-policies"),
    pytest.param({"managedPolicyArns": ["arn:aws:iam::aws:policy/a/Same", "arn:aws:iam::aws:policy/b/Same"]},
                 "the policy name (which names its attachment) 'Same' is listed twice", id="policy-name-twice"),
    pytest.param({"partnerGroup": {"create": True}}, "partnerGroup.name: is required", id="group-without-name"),
    pytest.param({"partnerGroup": ["g"]}, "partnerGroup: must be an object", id="group-not-an-object"),
    pytest.param({"partnerUsers": "alice"}, "partnerUsers: must be a list, got str", id="users-not-a-list"),
    pytest.param({"displayName": "d" * 65}, "displayName: 'ddd", id="display-name-length"),
    pytest.param({"cliSourceProfile": "a b"}, "cliSourceProfile: 'a b' is not an AWS CLI profile name",
                 id="cli-profile"),
    pytest.param({"description": "tab\tok but not \u0100"}, "description: must be text of at most 1000",
                 id="description-chars"),
    pytest.param({"externalIdSecret": "quotas"}, "externalIdSecret: 'quotas' is one of the program's own settings",
                 id="external-id-key-quotas"),
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
    assert [(g.grant_name, g.partner_policy_name) for g in grants] == [("prod", "assume-prod"),
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


# --- Federated partners -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arn", "kind"), [
    (f"arn:aws:iam::{PARTNER}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef",
     "an IAM Identity Center role"),
    (f"arn:aws:iam::{PARTNER}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef",
     "an IAM Identity Center role"),
    (f"arn:aws:iam::{PARTNER}:role/AWSReservedSSO_Admin_0123456789abcdef", "an IAM Identity Center role"),
    (f"arn:aws:iam::{PARTNER}:saml-provider/PartnerOkta", "a SAML or OIDC identity provider"),
    (f"arn:aws:iam::{PARTNER}:oidc-provider/token.actions.githubusercontent.com", "a SAML or OIDC identity provider"),
    (f"arn:aws:sts::{PARTNER}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@partner.example",
     "a role session"),
    (f"arn:aws:sts::{PARTNER}:federated-user/alice", "a federated user session"),
])
@pytest.mark.parametrize("session_name_rule", [True, False])
def test_a_federated_partner_principal_is_refused_saying_why(arn, kind, session_name_rule):
    text = problems_of([grant_config(partnerPrincipalArns=[arn], requireSessionNameIsUsername=session_name_rule)])
    assert f"partner-access:grants[0].partnerPrincipalArns[0]: {arn!r} is {kind}" in text
    assert "its sessions have no aws:username" in text
    assert "not visible to this trust as aws:MultiFactorAuthPresent" in text
    assert "AWS cannot determine whether the provider required MFA" in text


def test_a_partner_role_that_only_resembles_identity_center_is_not_refused_as_federated():
    (grant,) = parse_grants([grant_config(partnerPrincipalArns=[f"arn:aws:iam::{PARTNER}:role/ci-AWSReservedSSO"],
                                          requireSessionNameIsUsername=False)])
    assert grant.partner_principal_arns == (f"arn:aws:iam::{PARTNER}:role/ci-AWSReservedSSO",)


# --- The stack model: side, quotas, External IDs, all problems at once --------------------------------------------


class DictConfig:
    """A ConfigSource as the engine fills it: structured values JSON-encoded, plain values as text."""

    def __init__(self, values: dict[str, object], secret_keys: tuple[str, ...] = ()) -> None:
        self.values = {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
        self.secret_keys = secret_keys

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def is_secret(self, key: str) -> bool:
        return key in self.secret_keys


def stack_config(side: str, grants: list[dict[str, object]], quotas: object = None,
                 secrets: dict[str, str] | None = None) -> DictConfig:
    values: dict[str, object] = {
        f"{NAMESPACE}:side": side,
        "aws:allowedAccountIds": [HOST if side == "host" else PARTNER],
        f"{NAMESPACE}:grants": grants,
    }
    if quotas is not None:
        values[f"{NAMESPACE}:quotas"] = quotas
    keys = tuple(f"{NAMESPACE}:{key}" for key in (secrets or {}))
    values.update({f"{NAMESPACE}:{key}": value for key, value in (secrets or {}).items()})
    return DictConfig(values, keys)


def stack_problems(config: DictConfig) -> str:
    with pytest.raises(GrantConfigError) as raised:
        load_stack(config)
    return str(raised.value)


def test_a_stack_model_carries_side_grants_quotas_and_its_external_ids():
    grants = [grant_config(externalIdSecret="partnerBExternalId")]
    model = load_stack(stack_config("host", grants, quotas={"managedPoliciesPerRole": 20},
                                    secrets={"partnerBExternalId": "ext-id-1"}))
    assert (model.stack.side, model.stack.account_id) == ("host", HOST)
    assert [g.grant_name for g in model.grants] == ["ex-for-aws-b"]
    assert model.quotas == Quotas(managed_policies_per_role=20)
    assert model.external_ids == {"ex-for-aws-b": "ext-id-1"}


def test_unset_quotas_are_awss_defaults():
    assert Quotas() == parse_quotas(None) == parse_quotas({})
    assert (Quotas().managed_policies_per_role, Quotas().managed_policies_per_user,
            Quotas().trust_policy_max_characters) == (10, 10, 2048)


@pytest.mark.parametrize(("quotas", "message"), [
    ({"managedPoliciesPerRole": 26}, "partner-access:quotas.managedPoliciesPerRole: 26 must be a whole number from "
                                     "10 (AWS's default) to 25 (the most AWS raises it to)"),
    ({"managedPoliciesPerRole": 9}, "managedPoliciesPerRole: 9 must be a whole number from 10"),
    ({"managedPoliciesPerUser": 21}, "managedPoliciesPerUser: 21 must be a whole number from 10 (AWS's default) to "
                                     "20"),
    ({"trustPolicyMaxCharacters": 4097}, "trustPolicyMaxCharacters: 4097 must be a whole number from 2048 (AWS's "
                                         "default) to 4096"),
    ({"trustPolicyMaxCharacters": True}, "trustPolicyMaxCharacters: True must be a whole number"),
    ({"managedPoliciesPerGroup": 20}, "partner-access:quotas.managedPoliciesPerGroup: is not a quota setting; known: "
                                      "managedPoliciesPerRole, managedPoliciesPerUser, trustPolicyMaxCharacters"),
    ([10], "partner-access:quotas: must be an object of quota settings, got list"),
])
def test_bad_quota_settings_are_refused(quotas, message):
    with pytest.raises(GrantConfigError) as raised:
        parse_quotas(quotas)
    assert message in str(raised.value)


@pytest.mark.parametrize("name", ["managedPoliciesPerRole", "managedPoliciesPerUser", "trustPolicyMaxCharacters"])
def test_each_quota_accepts_its_whole_range(name):
    declared = next(q for q in QUOTA_SETTINGS if q.name == name)
    for value in (declared.default, QUOTA_RANGES[name].maximum):
        assert getattr(parse_quotas({name: value}), declared.attribute) == value


def test_every_stack_problem_is_reported_at_once():
    config = stack_config("host", [grant_config(hostAccountId="1")], quotas={"managedPoliciesPerRole": 99})
    config.values[f"{NAMESPACE}:side"] = "guest"
    text = stack_problems(config)
    assert "partner-access:side: 'guest' is not a side" in text
    assert "partner-access:grants[0].hostAccountId" in text
    assert "partner-access:quotas.managedPoliciesPerRole: 99" in text


def test_malformed_structured_config_is_a_problem_not_a_crash():
    config = stack_config("host", [grant_config()])
    config.values[f"{NAMESPACE}:grants"] = "[{not json"
    assert "partner-access:grants: must be a non-empty list of grants" in stack_problems(config)


def policies(count: int) -> list[str]:
    return [f"arn:aws:iam::aws:policy/P{i}" for i in range(count)]


def test_the_host_stack_refuses_more_role_policies_than_its_accounts_quota():
    grants = [grant_config(managedPolicyArns=policies(11))]
    text = stack_problems(stack_config("host", grants))
    assert ("partner-access:grants grant 'ex-for-aws-b': managedPolicyArns lists 11 policies, over this account's "
            "quota of 10 per role (partner-access:quotas.managedPoliciesPerRole, AWS's default 10, raisable to 25; "
            "policies attached outside this program come on top)") in text
    assert load_stack(stack_config("host", grants, quotas={"managedPoliciesPerRole": 11})).grants
    # The role is the host account's: the partner stack does not hold it to the partner account's quota.
    assert load_stack(stack_config("partner", grants)).grants


def many_principals_grant(count: int) -> dict[str, object]:
    return grant_config(partnerPrincipalArns=[f"arn:aws:iam::{PARTNER}:user/partner-user-{i:03d}"
                                              for i in range(count)])


def test_the_trust_length_is_held_to_the_accounts_quota_exactly():
    config = many_principals_grant(60)
    (grant,) = parse_grants([config])
    size = trust_policy_size(trust_policy_document(grant))
    assert 2048 < size <= 4096, "the case must fall between AWS's default and its maximum"
    assert f"its trust policy is {size} characters (whitespace not counted), over this account's quota of 2048" \
        in stack_problems(stack_config("host", [config]))
    assert load_stack(stack_config("host", [config], quotas={"trustPolicyMaxCharacters": size})).grants
    assert f"over this account's quota of {size - 1}" in stack_problems(
        stack_config("host", [config], quotas={"trustPolicyMaxCharacters": size - 1}))


def test_the_trust_length_counts_the_external_id():
    config = grant_config(externalIdSecret="partnerBExternalId")
    (grant,) = parse_grants([config])
    short, long = "ab", "e" * 1224
    assert trust_policy_size(trust_policy_document(grant, long)) - trust_policy_size(
        trust_policy_document(grant, short)) == len(long) - len(short)
    over = trust_policy_size(trust_policy_document(grant, long)) > 2048
    secrets = {"partnerBExternalId": long}
    if over:
        assert "its trust policy is" in stack_problems(stack_config("host", [config], secrets=secrets))
    else:
        assert load_stack(stack_config("host", [config], secrets=secrets)).external_ids


def test_the_partner_stack_refuses_more_grants_per_user_than_its_accounts_quota():
    grants = [grant_config(roleName=f"role-{i}") for i in range(11)]
    text = stack_problems(stack_config("partner", grants))
    assert (f"partner-access:grants: 11 grants attach their partner policy to user 'alice' in account {PARTNER}, over "
            "this account's quota of 10 per user (partner-access:quotas.managedPoliciesPerUser") in text
    assert len(load_stack(stack_config("partner", grants, quotas={"managedPoliciesPerUser": 11})).grants) == 11
    assert len(load_stack(stack_config("host", grants)).grants) == 11, "the host account attaches nothing to alice"


def test_a_group_takes_at_most_ten_grants_whatever_the_quotas():
    def grants(count: int) -> list[dict[str, object]]:
        return [grant_config(roleName=f"role-{i}", partnerUsers=None, partnerGroup={"name": "ops", "create": False})
                for i in range(count)]

    assert len(parse_grants(grants(10))) == 10
    assert (f"11 grants attach their partner policy to group 'ops' in account {PARTNER}; IAM attaches at most 10 "
            "managed policies to a group, a quota AWS does not raise") in problems_of(grants(11))


def test_a_user_is_a_member_of_at_most_ten_groups_the_grants_create():
    def grants(count: int) -> list[dict[str, object]]:
        return [grant_config(roleName=f"role-{i}", partnerGroup={"name": f"group-{i}", "members": ["bob"]})
                for i in range(count)]

    assert len(parse_grants(grants(10))) == 10
    assert (f"user 'bob' in account {PARTNER} is a member of 11 groups the grants create; IAM puts a user in at most "
            "10 groups") in problems_of(grants(11))


# --- The README's settings tables list exactly what the models declare, with the same defaults ----------------------


def documented_default(declared: Setting) -> str:
    """How the README shows what an unset setting means."""
    if declared.required:
        return "required"
    if declared.default_text is not None:
        return declared.default_text
    if declared.default in (None, (), {}):
        return "none"
    if declared.default == "":
        return "empty"
    if isinstance(declared.default, bool):
        return f"`{json.dumps(declared.default)}`"
    return f"`{declared.default}`"


def readme_table(heading: str) -> dict[str, list[str]]:
    """The rows of the first table under the README heading that starts with `heading`: first cell -> cells."""
    text = README.read_text()
    section = text[text.index(f"\n{heading}"):]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    rows.pop("setting", None)
    rows.pop("key", None)
    return rows


def test_readme_grant_settings_table_matches_the_model():
    rows = readme_table("### Grant settings")
    assert list(rows) == [declared.name for declared in GRANT_SETTINGS]
    for declared in GRANT_SETTINGS:
        assert rows[declared.name][-1] == documented_default(declared), declared.name


def test_readme_names_the_partner_group_settings_with_their_defaults():
    shape = ", ".join(declared.name if declared.required else f"{declared.name}: {json.dumps(declared.default)}"
                      for declared in PARTNER_GROUP_SETTINGS)
    assert f"`{{{shape}}}`" in readme_table("### Grant settings")["partnerGroup"][1]


# Settings the AWS provider reads, not the program; the README lists them for the operator.
PROVIDER_SETTINGS = {"aws:region"}


def test_readme_stack_settings_table_matches_the_model():
    rows = readme_table("### Stack settings")
    assert set(rows) - PROVIDER_SETTINGS == {declared.name for declared in STACK_SETTINGS}
    for declared in STACK_SETTINGS:
        assert rows[declared.name][-1] == documented_default(declared), declared.name
