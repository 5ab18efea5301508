"""The IAM rules the MFA analysis follows beyond the condition operators, each in both directions: keys every caller
carries, principals, policy variables and Version, set operators with Null, facts of the caller's kind, contradictory
conditions and companion permissions. Verdicts follow the IAM User Guide; the SMT oracle (test_pack_vs_oracle.py)
checks the same rules over random documents."""

import pytest

from iam_trust_policies.trust_analysis import cross_account_principals, mfa_violations, open_trust_violations

OWN = "111111111111"
PARTNER = "222222222222"
OTHER = "333333333333"
OWN_ACCOUNTS = frozenset({OWN})
MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
NO_MFA = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
PARTNER_ROOT = f"arn:aws:iam::{PARTNER}:root"
CI_ROLE = f"arn:aws:iam::{PARTNER}:role/ci"


def trust(*statements, version="2012-10-17"):
    document = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def allow(principal, condition=None, action="sts:AssumeRole"):
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(principal, condition=None, action="sts:AssumeRole"):
    statement = {"Effect": "Deny", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def opens(document):
    return bool(mfa_violations(document, OWN_ACCOUNTS))


# --- keys every caller carries ---------------------------------------------------------------------------------------

SELF_ASSUME = allow({"AWS": "*"}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/deployer"}})


@pytest.mark.parametrize(
    ("document", "is_open"),
    [
        # terraform-aws-iam allow_self_assume_role: only the role itself, in the own account, matches.
        (trust(SELF_ASSUME), False),
        (trust(allow({"AWS": PARTNER_ROOT}, MFA_TRUE), SELF_ASSUME), False),
        (trust(allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:*"}})), False),
        (trust(allow("*", {"StringEquals": {"aws:PrincipalAccount": [OWN]}})), False),
        (trust(allow("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/*"}})), True),
        (trust(allow("*", {"StringEquals": {"aws:PrincipalAccount": [OWN, PARTNER]}})), True),
        # A Deny on every foreign caller, whatever the principal: certain for each of them.
        (trust(allow("*"), deny("*", {"StringNotEquals": {"aws:PrincipalAccount": OWN}})), False),
        (
            trust(allow({"AWS": PARTNER}), deny("*", {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:*"}})),
            False,
        ),
        (trust(allow("*"), deny("*", {"Null": {"aws:PrincipalArn": "false"}})), False),
        (trust(allow("*"), deny("*", {"StringLike": {"aws:PrincipalAccount": "*"}})), False),
        (trust(allow("*"), deny("*", {"StringNotEquals": {"aws:PrincipalAccount": PARTNER}})), True),
        (trust(allow("*"), deny("*", {"Null": {"aws:PrincipalArn": "true"}})), True),
    ],
)
def test_keys_every_caller_carries_decide_for_every_foreign_caller(document, is_open):
    assert opens(document) is is_open


def test_a_self_assume_statement_is_not_open_to_any_principal():
    assert open_trust_violations(trust(SELF_ASSUME)) == []
    assert cross_account_principals(trust(SELF_ASSUME), OWN_ACCOUNTS) == ()


# --- principals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "is_open"),
    [
        # A Deny naming a role ARN covers that role's sessions.
        (trust(allow({"AWS": CI_ROLE}), deny({"AWS": CI_ROLE}, NO_MFA)), False),
        (trust(allow({"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/ci/build"}), deny({"AWS": CI_ROLE}, NO_MFA)), False),
        # A Deny naming one session does not cover the role's other sessions.
        (trust(allow({"AWS": CI_ROLE}), deny({"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/ci/build"}, NO_MFA)), True),
        # A Deny naming one role of the partner leaves its other identities in.
        (trust(allow({"AWS": PARTNER_ROOT}), deny({"AWS": CI_ROLE}, NO_MFA)), True),
        (trust(allow({"AWS": PARTNER_ROOT}), deny({"AWS": PARTNER}, NO_MFA)), False),
        # The root user cannot assume a role: a grant only it could satisfy admits nobody.
        (trust(allow("*", {"ArnEquals": {"aws:PrincipalArn": PARTNER_ROOT}})), False),
        (trust(allow({"AWS": PARTNER}, {"StringEquals": {"aws:PrincipalType": "Account"}})), False),
        (trust(allow({"AWS": PARTNER}, {"StringEquals": {"aws:PrincipalType": ["Account", "User"]}})), True),
        (trust(allow({"AWS": f"arn:aws:sts::{PARTNER}:federated-user/bob"})), True),
    ],
)
def test_principals_admit_the_callers_iam_matches_them_with(document, is_open):
    assert opens(document) is is_open


# --- policy variables and Version ------------------------------------------------------------------------------------

SELF_EQUAL_DENY = deny("*", {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}})


@pytest.mark.parametrize(
    ("version", "is_open"),
    [("2012-10-17", False), ("2008-10-17", True), (None, True)],
)
def test_variables_resolve_in_the_current_version_and_are_literal_text_otherwise(version, is_open):
    # In 2012-10-17 the Deny compares the caller's account with itself: always true. Before, "${...}" is text.
    assert opens(trust(allow({"AWS": PARTNER}), SELF_EQUAL_DENY, version=version)) is is_open


def test_a_literal_dollar_brace_value_matches_itself_only_without_the_current_version():
    literal = {"StringEquals": {"aws:MultiFactorAuthPresent": "${aws:MultiFactorAuthPresent}"}}
    # 2012-10-17: "false" equals the substituted "false" without MFA; 2008-10-17: the value "false" is not the text.
    assert opens(trust(allow({"AWS": PARTNER}, literal)))
    assert not opens(trust(allow({"AWS": PARTNER}, literal), version="2008-10-17"))


def test_a_variable_with_a_default_resolves_to_the_default_when_the_key_is_absent():
    # A role session has no aws:username, so the default is substituted.
    condition = {"StringEquals": {"aws:MultiFactorAuthPresent": "${aws:username, 'false'}"}}
    assert opens(trust(allow({"AWS": CI_ROLE}, condition)))
    denied = deny("*", {"StringEquals": {"aws:PrincipalType": "${aws:username, 'AssumedRole'}"}})
    assert not opens(trust(allow({"AWS": CI_ROLE}), denied))


# --- set operators with Null -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "is_open"),
    [
        # ForAllValues holds on an absent key: "every value is present" is vacuously true without MFA.
        ({"ForAllValues:Null": {"aws:MultiFactorAuthAge": "false"}}, True),
        # ForAnyValue fails on an absent key: some value must exist.
        ({"ForAnyValue:Null": {"aws:MultiFactorAuthAge": "false"}}, False),
        ({"Null": {"aws:MultiFactorAuthAge": "false"}}, False),
        ({"ForAnyValue:Null": {"aws:MultiFactorAuthPresent": "true"}}, False),
        ({"ForAllValues:Null": {"aws:MultiFactorAuthPresent": "true"}}, True),
    ],
)
def test_set_qualified_null_follows_its_own_rule(condition, is_open):
    assert opens(trust(allow({"AWS": PARTNER}, condition))) is is_open


# --- facts of the caller's kind and contradictions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "condition", "is_open"),
    [
        # aws:username is present for IAM users only.
        ({"AWS": CI_ROLE}, {"Null": {"aws:username": "false"}}, False),
        ({"AWS": PARTNER}, {"Null": {"aws:username": "false"}}, True),
        ({"AWS": f"arn:aws:iam::{PARTNER}:user/alice"}, {"StringEquals": {"aws:username": "bob"}}, False),
        ({"AWS": f"arn:aws:iam::{PARTNER}:user/alice"}, {"StringEquals": {"aws:username": "alice"}}, True),
        ({"AWS": PARTNER}, {"StringEquals": {"aws:username": "alice"}}, True),
        # aws:PrincipalType of a role's callers is AssumedRole.
        ({"AWS": CI_ROLE}, {"StringEquals": {"aws:PrincipalType": "User"}}, False),
        ({"AWS": CI_ROLE}, {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, True),
        # aws:SourceIdentity is present only when a source identity was set: a session without one cannot match.
        ({"AWS": PARTNER}, {"StringLike": {"aws:SourceIdentity": "*"}}, False),
        # Two clauses on one key that no value satisfies together.
        ({"AWS": PARTNER}, {"StringEquals": {"sts:ExternalId": "a"}, "StringNotLike": {"sts:ExternalId": "a*"}}, False),
        ({"AWS": PARTNER}, {"StringEquals": {"sts:ExternalId": "ab"}, "StringLike": {"sts:ExternalId": "a*"}}, True),
        (
            "*",
            {"StringEquals": {"aws:PrincipalAccount": PARTNER}, "StringNotEquals": {"aws:PrincipalAccount": PARTNER}},
            False,
        ),
    ],
)
def test_conditions_no_caller_of_the_principal_can_meet_admit_nobody(principal, condition, is_open):
    assert opens(trust(allow(principal, condition))) is is_open


def test_a_deny_that_covers_exactly_what_the_allow_requires_closes_the_role():
    document = trust(
        allow({"AWS": PARTNER}, {"StringEquals": {"sts:ExternalId": "a"}}),
        deny("*", {"StringEquals": {"sts:ExternalId": "a"}}),
    )
    assert not opens(document)
    document["Statement"][1]["Condition"] = {"StringEquals": {"sts:ExternalId": "b"}}
    assert opens(document)


# --- companion permissions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statements", "is_open"),
    [
        # A request that sets a source identity also needs sts:SetSourceIdentity.
        ([allow({"AWS": PARTNER}, {"Null": {"sts:SourceIdentity": "false"}})], False),
        (
            [
                allow(
                    {"AWS": PARTNER},
                    {"Null": {"sts:SourceIdentity": "false"}},
                    ["sts:AssumeRole", "sts:SetSourceIdentity"],
                )
            ],
            True,
        ),
        (
            [
                allow({"AWS": PARTNER}, {"Null": {"sts:SourceIdentity": "false"}}),
                allow({"AWS": PARTNER}, MFA_TRUE, "sts:SetSourceIdentity"),
            ],
            False,
        ),
        # A request that passes session tags also needs sts:TagSession.
        ([allow({"AWS": PARTNER}, {"StringEquals": {"aws:RequestTag/team": "data"}})], False),
        ([allow({"AWS": PARTNER}, {"Null": {"aws:TagKeys": "false"}}, "sts:*")], True),
        (
            [
                allow({"AWS": PARTNER}, {"StringEquals": {"aws:RequestTag/team": "data"}}),
                allow({"AWS": PARTNER}, None, "sts:TagSession"),
                deny("*", None, "sts:TagSession"),
            ],
            False,
        ),
    ],
)
def test_a_grant_only_a_request_with_a_companion_action_meets_needs_that_action(statements, is_open):
    assert opens(trust(*statements)) is is_open
