"""The pack's pure analysis: every policy rule in both directions, over the tricky document shapes."""

import json
from pathlib import Path

import pytest

from iam_trust_policies.access import exposed_grants
from iam_trust_policies.findings import FINDING_CODES, REDACTED, code_of
from iam_trust_policies.globs import glob_patterns_intersect, glob_regex
from iam_trust_policies.identity_analysis import grants_full_admin, wildcard_assume_role_findings
from iam_trust_policies.model import UNKNOWN, PolicyKind, contains_unknown
from iam_trust_policies.parsing import parse_policy
from iam_trust_policies.resources import (
    StackResource,
    admin_role_findings,
    max_session_finding,
    own_account_ids,
    pinned_account_id,
)
from iam_trust_policies.trust_analysis import (
    NO_MFA_SCENARIOS,
    cross_account_principals,
    external_id_violations,
    mfa_violations,
    open_trust_violations,
)

HOST = "111111111111"
PARTNER = "222222222222"
OTHER = "333333333333"
OWN = frozenset({HOST})
PARTNER_ROOT = f"arn:aws:iam::{PARTNER}:root"
MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def trust(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal=None, condition=None, action="sts:AssumeRole", sid="Partner", key="Action"):
    statement = {"Sid": sid, "Effect": "Allow", "Principal": principal or {"AWS": PARTNER_ROOT}, key: action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def deny(condition=None, principal="*", action="sts:AssumeRole", key="Action"):
    statement = {"Effect": "Deny", "Principal": principal, key: action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def flagged(document, own=OWN):
    return bool(mfa_violations(document, own))


# --- what counts as requiring MFA, and what does not -------------------------------------------------------------

REQUIRES_MFA = {
    "Bool true string": MFA_TRUE,
    "Bool true JSON boolean": {"Bool": {"aws:MultiFactorAuthPresent": True}},
    "Bool true one-value list": {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}},
    "Bool True capitalised": {"Bool": {"aws:MultiFactorAuthPresent": "True"}},
    "key name in other case": {"Bool": {"AWS:multifactorauthpresent": "true"}},
    "operator name in other case": {"bool": {"aws:MultiFactorAuthPresent": "true"}},
    "NumericLessThan on age": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    "NumericGreaterThanEquals on age": {"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": 0}},
    "Null false on age": {"Null": {"aws:MultiFactorAuthAge": "false"}},
    "Null false on age as boolean": {"Null": {"aws:MultiFactorAuthAge": False}},
    "MFA together with External ID": {**MFA_TRUE, "StringEquals": {"sts:ExternalId": "x"}},
}
DOES_NOT_REQUIRE_MFA = {
    "no condition": None,
    "BoolIfExists true": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    "Bool false": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
    "value list holding false": {"Bool": {"aws:MultiFactorAuthPresent": ["true", "false"]}},
    "value list holding JSON false": {"Bool": {"aws:MultiFactorAuthPresent": [True, False]}},
    "NumericLessThanIfExists on age": {"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}},
    # Negated operators pass when the key is absent (IAM reference, condition operators).
    "NumericNotEquals on age": {"NumericNotEquals": {"aws:MultiFactorAuthAge": "0"}},
    "Null true on age": {"Null": {"aws:MultiFactorAuthAge": "true"}},
    "Null false on MFA present": {"Null": {"aws:MultiFactorAuthPresent": "false"}},
    "StringNotEquals false on MFA present": {"StringNotEquals": {"aws:MultiFactorAuthPresent": "false"}},
    "External ID alone": {"StringEquals": {"sts:ExternalId": "x"}},
    "session name rule alone": {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
    "principal account narrowing alone": {"StringEquals": {"aws:PrincipalAccount": PARTNER}},
}


@pytest.mark.parametrize("condition", REQUIRES_MFA.values(), ids=REQUIRES_MFA.keys())
def test_conditions_that_require_mfa_pass(condition):
    assert mfa_violations(trust(allow(condition=condition)), OWN) == []


@pytest.mark.parametrize("condition", DOES_NOT_REQUIRE_MFA.values(), ids=DOES_NOT_REQUIRE_MFA.keys())
def test_conditions_that_do_not_require_mfa_are_flagged(condition):
    assert flagged(trust(allow(condition=condition)))


# --- Deny statements -----------------------------------------------------------------------------------------------


def test_deny_bool_if_exists_false_covering_the_request_protects_the_role():
    document = trust(allow(), deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))
    assert mfa_violations(document, OWN) == []


def test_deny_plain_bool_false_misses_long_term_keys():
    document = trust(allow(), deny({"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    [violation] = mfa_violations(document, OWN)
    assert violation.code == "MFA-001"
    [grant] = exposed_grants(parse_policy(document, PolicyKind.TRUST), OWN, NO_MFA_SCENARIOS)
    assert grant.scenarios == (NO_MFA_SCENARIOS[0],)  # long-term keys: the key is absent, so Bool is false
    assert [deny.index for deny in grant.uncovering_denies] == [1]


def test_two_denies_that_together_cover_every_request_without_mfa_protect_the_role():
    long_term_keys = deny({"Null": {"aws:MultiFactorAuthPresent": "true"}})
    without_mfa = deny({"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    assert mfa_violations(trust(allow(), long_term_keys, without_mfa), OWN) == []


@pytest.mark.parametrize(
    ("deny_statement", "protects"),
    [
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, principal={"AWS": PARTNER}), True),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, principal={"AWS": "*"}), True),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, principal={"AWS": OTHER}), False),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, action="sts:TagSession"), False),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, action="STS:Assume*"), True),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, action="s3:*", key="NotAction"), True),
        (deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, action="sts:*", key="NotAction"), False),
        # Another condition on the Deny may not hold, so it does not certainly cover the request.
        (
            deny(
                {
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "StringEquals": {"aws:PrincipalType": "User"},
                }
            ),
            False,
        ),
        # A caller the partner's root trust lets in always has aws:PrincipalAccount = the partner's account.
        (
            deny(
                {
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "StringEquals": {"aws:PrincipalAccount": PARTNER},
                }
            ),
            True,
        ),
        (deny(), True),
        (deny({"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}), True),
        (deny({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}), False),
    ],
)
def test_deny_protects_only_when_its_principal_action_and_conditions_cover_the_request(deny_statement, protects):
    assert flagged(trust(allow(), deny_statement)) is not protects


def test_deny_with_not_principal_covers_only_principals_it_does_not_exempt():
    condition = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    sparing_other = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": OTHER},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    sparing_partner = {**sparing_other, "NotPrincipal": {"AWS": PARTNER_ROOT}}
    assert not flagged(trust(allow(), sparing_other))
    assert flagged(trust(allow(), sparing_partner))


def test_deny_naming_one_user_does_not_cover_the_whole_partner_account():
    condition = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    user = f"arn:aws:iam::{PARTNER}:user/alice"
    assert flagged(trust(allow(), deny(condition, principal={"AWS": user})))
    assert not flagged(trust(allow({"AWS": user}), deny(condition, principal={"AWS": user})))


def test_mfa_on_another_statement_does_not_count():
    document = trust(allow(sid="WithMfa", condition=MFA_TRUE), allow(sid="WithoutMfa"))
    [violation] = mfa_violations(document, OWN)
    assert violation.sid == "WithoutMfa"


def test_mfa_required_only_for_another_action_does_not_count():
    tag_with_mfa = allow(sid="Tag", action="sts:TagSession", condition=MFA_TRUE)
    assert flagged(trust(tag_with_mfa, allow(sid="Assume")))
    assert not flagged(trust(tag_with_mfa, allow(sid="Assume", condition=MFA_TRUE)))


# --- actions -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "key", "assumes"),
    [
        ("sts:AssumeRole", "Action", True),
        ("STS:ASSUMEROLE", "Action", True),
        ("sts:*", "Action", True),
        ("*", "Action", True),
        ("sts:Assume*", "Action", True),
        ("sts:Assume????", "Action", True),
        (["s3:GetObject", "sts:assumerole"], "Action", True),
        ("sts:TagSession", "Action", False),
        ("sts:SetSourceIdentity", "Action", False),
        (["sts:TagSession", "sts:SetSourceIdentity"], "Action", False),
        ("sts:AssumeRoleWithSAML", "Action", False),
        ("sts:TagSession", "NotAction", True),
        ("sts:*", "NotAction", False),
        (["s3:*", "STS:Assume*"], "NotAction", False),
    ],
)
def test_actions_are_matched_case_insensitively_with_wildcards_and_not_action(action, key, assumes):
    assert flagged(trust(allow(action=action, key=key))) is assumes


# --- principals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": PARTNER},
        {"AWS": PARTNER_ROOT},
        {"AWS": f"arn:aws-cn:iam::{PARTNER}:root"},
        {"AWS": f"arn:aws-us-gov:iam::{PARTNER}:user/alice"},
        {"AWS": f"arn:aws:iam::{PARTNER}:role/path/deployer"},
        {"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/deployer/session"},
        {"AWS": [f"arn:aws:iam::{HOST}:root", PARTNER]},
        {"AWS": "AIDAJQABLZS4A3QDU576Q"},
        {"aws": PARTNER},
    ],
)
def test_principals_outside_the_own_account_are_flagged(principal):
    assert flagged(trust(allow(principal)))


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": HOST},
        {"AWS": f"arn:aws:iam::{HOST}:root"},
        {"AWS": [f"arn:aws-cn:iam::{HOST}:user/ops", HOST]},
        {"Service": "ec2.amazonaws.com"},
        {"Federated": "arn:aws:iam::222222222222:saml-provider/okta"},
        {"Service": ["lambda.amazonaws.com"], "Federated": "cognito-identity.amazonaws.com"},
    ],
)
def test_own_account_service_and_federated_principals_pass(principal):
    assert mfa_violations(trust(allow(principal)), OWN) == []


def test_without_any_own_account_every_account_principal_counts_as_cross_account():
    assert flagged(trust(allow({"AWS": HOST})), own=frozenset())


def test_star_narrowed_to_the_own_account_admits_no_foreign_caller():
    # Every signed request carries aws:PrincipalAccount, and a foreign caller never has an own-account value.
    narrowed = {"StringEquals": {"aws:PrincipalAccount": HOST, "aws:PrincipalOrgID": "o-abc"}}
    assert not flagged(trust(allow("*", narrowed)))
    to_partner = {"StringEquals": {"aws:PrincipalAccount": [HOST, PARTNER]}}
    [violation] = mfa_violations(trust(allow("*", to_partner)), OWN)
    assert violation.principals == ("*",)
    assert not flagged(trust(allow("*", {**to_partner, **MFA_TRUE})))


def test_allow_with_not_principal_counts_as_open_to_anyone():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": PARTNER}, "Action": "sts:AssumeRole"}
    assert flagged(trust(statement))


def test_statement_given_as_an_object_and_a_json_string_document_are_analysed():
    single = {"Version": "2012-10-17", "Statement": allow()}
    assert flagged(single)
    assert flagged(json.dumps(single))
    assert not flagged(json.dumps({"Statement": allow(condition=MFA_TRUE)}))


# --- messages ------------------------------------------------------------------------------------------------------


def test_finding_has_the_code_and_the_exact_fixing_condition_with_the_external_id_redacted():
    condition = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}, "StringEquals": {"sts:ExternalId": "x42"}}
    [violation] = mfa_violations(trust(allow(condition=condition)), OWN)
    assert violation.code == "MFA-002"
    assert code_of(violation.message) == "MFA-002"
    assert violation.sid == "Partner" and violation.principals == (PARTNER_ROOT,)
    fixed = {"StringEquals": {"sts:ExternalId": REDACTED}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert violation.fix == {"statement_index": 0, "Condition": fixed}
    assert "x42" not in violation.message


def test_a_statement_without_any_mfa_condition_is_mfa_001():
    [violation] = mfa_violations(trust(allow()), OWN)
    assert violation.code == "MFA-001"
    assert violation.fix == {"statement_index": 0, "Condition": MFA_TRUE}


def test_applying_the_suggested_condition_fixes_the_statement():
    for condition in DOES_NOT_REQUIRE_MFA.values():
        statement = allow(condition=condition)
        [violation] = mfa_violations(trust(statement), OWN)
        fixed = violation.fix["Condition"]
        assert mfa_violations(trust({**statement, "Condition": fixed}), OWN) == []


def test_message_names_a_statement_without_sid_by_index():
    statement = allow(sid=None)
    del statement["Sid"]
    [violation] = mfa_violations(trust(allow(condition=MFA_TRUE), statement), OWN)
    assert violation.message.startswith(f"MFA-001: Statement index 1 lets {PARTNER_ROOT} assume this role")
    assert violation.statement_index == 1 and violation.sid is None


def test_message_lists_every_exposed_principal_of_the_statement():
    principals = {"AWS": [PARTNER_ROOT, f"arn:aws:iam::{OTHER}:user/bob", f"arn:aws:iam::{HOST}:root"]}
    [violation] = mfa_violations(trust(allow(principals)), OWN)
    assert violation.principals == (PARTNER_ROOT, f"arn:aws:iam::{OTHER}:user/bob")


# --- malformed documents -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{not json", "DOC-001"),
        ("[1, 2]", "DOC-001"),
        (42, "DOC-001"),
        (None, "DOC-001"),
        ("[" * 10_000, "DOC-001"),
        ('{"Statement": [], "Statement": []}', "DOC-001"),
        (trust(allow(principal={1: "x"})), "DOC-001"),
        (trust(allow(condition={"Bool": {2: "true"}})), "DOC-001"),
        ({"Version": "2012-10-17"}, "DOC-003"),
        ({"Statement": "Allow"}, "DOC-003"),
        ({"Version": "2012-10-17", "Statement": []}, "DOC-003"),
        ({"Version": "2012-10-18", "Statement": [allow()]}, "DOC-002"),
        ({"Version": 2012, "Statement": [allow()]}, "DOC-002"),
        (trust(allow(sid="Partner-1")), "DOC-004"),
        (trust(allow(sid="Partner one")), "DOC-004"),
        (trust(allow(sid="Same", condition=MFA_TRUE), allow(sid="Same", condition=MFA_TRUE)), "DOC-004"),
        ({"Statement": [7]}, "DOC-005"),
        (trust({**allow(), "Effect": "allow"}), "DOC-005"),
        (trust({"Effect": "Allow", "Action": "sts:AssumeRole"}), "DOC-005"),
        (trust({"Effect": "Allow", "Principal": "*"}), "DOC-005"),
        (trust(allow(principal={"AWS": 5})), "DOC-006"),
        (trust(allow(principal={"AWS": True})), "DOC-005"),
        (trust(allow(principal="someone")), "DOC-005"),
        (trust(allow(principal={"AWS": "arn:aws:iam::*:root"})), "DOC-006"),
        (trust(allow(principal={"AWS": "AIDAJQABLZS4A3QDU576Q"})), "DOC-006"),
        (trust(allow(principal={"AWS": "22222222222"})), "DOC-006"),
        (trust(allow(principal={"AWS": f"arn:aws:iam::{PARTNER}:group/partners"})), "DOC-006"),
        (trust(allow(principal={"AWS": f"arn:aws:s3:::{PARTNER}"})), "DOC-006"),
        (trust(allow(condition=["Bool"])), "DOC-007"),
        (trust(allow(condition={"Bool": {"aws:MultiFactorAuthPresent": {"x": 1}}})), "DOC-007"),
        (trust(allow(condition={"BoolEquals": {"aws:MultiFactorAuthPresent": "true"}})), "DOC-007"),
        (trust(allow(condition={"NullIfExists": {"aws:MultiFactorAuthAge": "false"}})), "DOC-007"),
        (trust({**allow(condition=MFA_TRUE), "Resource": "*"}), "DOC-008"),
        (trust({**allow(condition=MFA_TRUE), "NotResource": "arn:aws:s3:::b"}), "DOC-008"),
    ],
)
def test_documents_iam_refuses_are_one_malformed_finding_with_its_code(document, code):
    [violation] = mfa_violations(document, OWN)
    assert violation.code == code
    assert violation.message.startswith(f"{code}: The role's trust policy is malformed: ")


def test_malformed_messages_say_iam_refuses_the_document_and_why():
    [version] = mfa_violations({"Version": "2012-10-18", "Statement": [allow()]}, OWN)
    assert "IAM accepts only" in version.message and "refuses" in version.message
    [resource] = mfa_violations(trust({**allow(condition=MFA_TRUE), "Resource": "*"}), OWN)
    assert "prohibited field Resource" in resource.message


@pytest.mark.parametrize(
    "document",
    [
        {"Statement": [allow(condition=MFA_TRUE)]},
        {"Version": "2008-10-17", "Statement": [allow(condition=MFA_TRUE)]},
        trust(allow(sid="", condition=MFA_TRUE), allow(sid="", condition=MFA_TRUE)),
        trust(allow(principal={"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/ops/alice"}, condition=MFA_TRUE)),
        trust(allow(principal={"AWS": f"arn:aws:sts::{PARTNER}:federated-user/bob"}, condition=MFA_TRUE)),
        trust(allow(principal={"AWS": f"arn:aws:iam::{PARTNER}:role/path/to/ops"}, condition=MFA_TRUE)),
        trust(allow(condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "x"}, **MFA_TRUE})),
    ],
)
def test_documents_iam_accepts_are_not_malformed(document):
    assert mfa_violations(document, OWN) == []


def test_every_code_the_pack_reports_is_registered_with_a_meaning_and_documented():
    assert all(meaning.strip() for meaning in FINDING_CODES.values())
    assert {"SKIP-001", "SKIP-002"} <= set(FINDING_CODES)
    documented = (Path(__file__).resolve().parents[2] / "docs" / "policy-pack.md").read_text()
    assert all(f"| `{code}` |" in documented for code in FINDING_CODES)


# --- External ID for third parties ---------------------------------------------------------------------------------


def test_third_party_without_external_id_is_flagged_and_with_it_passes():
    third_parties = frozenset({PARTNER})
    [violation] = external_id_violations(trust(allow(condition=MFA_TRUE)), OWN, third_parties)
    assert violation.code == "EXTID-001"
    assert violation.fix["Condition"]["StringEquals"] == {"sts:ExternalId": REDACTED}
    with_external_id = {**MFA_TRUE, "StringEquals": {"sts:ExternalId": "partner-42"}}
    assert external_id_violations(trust(allow(condition=with_external_id)), OWN, third_parties) == []


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"sts:ExternalId": "partner-42"}},
        {"StringNotEquals": {"sts:ExternalId": "wrong"}},
        {"Null": {"sts:ExternalId": "true"}},
    ],
)
def test_external_id_conditions_that_pass_without_one_are_flagged(condition):
    assert external_id_violations(trust(allow(condition=condition)), OWN, frozenset({PARTNER}))


def test_external_id_is_only_checked_for_listed_third_parties_outside_the_own_accounts():
    document = trust(allow())
    assert external_id_violations(document, OWN, frozenset()) == []
    assert external_id_violations(document, OWN, frozenset({OTHER})) == []
    assert external_id_violations(document, frozenset({PARTNER}), frozenset({PARTNER})) == []
    assert external_id_violations("{broken", OWN, frozenset({PARTNER})) == []


# --- trust open to anyone ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "is_open"),
    [
        (None, True),
        (MFA_TRUE, True),
        ({"StringEquals": {"sts:ExternalId": "x"}}, True),
        ({"StringNotEquals": {"aws:PrincipalAccount": OTHER}}, True),
        ({"StringLike": {"aws:PrincipalArn": "*"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceAccount": HOST}}, True),
        ({"StringEquals": {"aws:PrincipalAccount": PARTNER}}, False),
        ({"StringEquals": {"AWS:principalorgid": "o-abc123"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/*"}}, False),
        ({"StringEquals": {"aws:SourceAccount": HOST}}, False),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:111111111111:topic"}}, False),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-1/ou-2/*"}}, False),
    ],
)
def test_star_trust_is_open_unless_a_condition_narrows_the_caller(condition, is_open):
    for principal in ("*", {"AWS": "*"}):
        assert bool(open_trust_violations(trust(allow(principal, condition)))) is is_open


def test_named_principals_are_not_open_trust_and_a_narrowing_deny_closes_a_star_trust():
    assert open_trust_violations(trust(allow())) == []
    org_deny = deny({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}})
    assert open_trust_violations(trust(allow("*"), org_deny)) == []
    [violation] = open_trust_violations(trust(allow("*")))
    assert violation.code == "OPEN-001" and violation.principals == ("*",)
    assert "aws:PrincipalOrgID" in violation.fix["Condition"]["StringEquals"]


# --- cross-account principals, own accounts, session length --------------------------------------------------------


def test_cross_account_principals_ignore_mfa_and_honour_denies_without_conditions():
    assert cross_account_principals(trust(allow(condition=MFA_TRUE)), OWN) == (PARTNER_ROOT,)
    assert cross_account_principals(trust(allow(), deny()), OWN) == ()
    assert cross_account_principals(trust(allow({"AWS": HOST})), OWN) == ()
    assert cross_account_principals("not json", OWN) == ()


@pytest.mark.parametrize(
    ("allowed", "pinned"),
    [
        ([HOST], HOST),
        (json.dumps([HOST]), HOST),
        (HOST, HOST),
        ([HOST, PARTNER], None),
        (json.dumps([HOST, PARTNER]), None),
        ([], None),
        (None, None),
        ("not-json", None),
        (["12345"], None),
    ],
)
def test_provider_is_pinned_only_to_exactly_one_account(allowed, pinned):
    assert pinned_account_id(allowed) == pinned


def test_own_accounts_combine_exemptions_provider_pin_and_role_arn():
    own = own_account_ids([OTHER], [HOST], f"arn:aws:iam::{PARTNER}:role/x")
    assert own == frozenset({OTHER, HOST, PARTNER})
    assert own_account_ids([], None, None) == frozenset()
    assert not flagged(trust(allow()), own_account_ids([], None, f"arn:aws:iam::{PARTNER}:role/x"))


@pytest.mark.parametrize(
    ("duration", "limit", "flagged_session"),
    [(43200, 3600, True), (43200.0, 43200, False), (3600, 3600, False), (None, 3600, False), ("7200", 3600, True)],
)
def test_max_session_is_flagged_above_the_limit_for_cross_account_roles(duration, limit, flagged_session):
    finding = max_session_finding(trust(allow(condition=MFA_TRUE)), duration, OWN, limit)
    assert (finding is not None) is flagged_session
    if finding:
        assert finding.code == "SESSION-001"
        assert finding.principals == (PARTNER_ROOT,)
        assert finding.fix == {"maxSessionDuration": limit}


def test_max_session_ignores_roles_trusted_only_by_their_own_account():
    assert max_session_finding(trust(allow({"AWS": HOST})), 43200, OWN, 3600) is None


# --- identity policies: AssumeRole on wildcards ---------------------------------------------------------------------


def identity(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize(
    ("statement", "is_flagged"),
    [
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "sts:*", "Resource": "arn:aws:iam::*:role/*"}, True),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/team-*"}, True),
        ({"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:s3:::b", "arn:aws-cn:iam::*:role/x"]}, True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "NotResource": "arn:aws:s3:::bucket"}, True),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111111111111:role/x"}, False),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:user/*"}, False),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "NotAction": "sts:*", "Resource": "*"}, False),
        ({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "NotResource": "arn:*:iam::*:role/*"}, False),
        ({"Effect": "Allow", "Action": "sts:AssumeRole", "NotResource": "*"}, False),
    ],
)
def test_assume_role_on_wildcard_resources(statement, is_flagged):
    assert bool(wildcard_assume_role_findings(identity(statement))) is is_flagged
    assert bool(wildcard_assume_role_findings(json.dumps(identity(statement)))) is is_flagged


def test_wildcard_message_names_the_statement_the_resource_and_the_not_action_route():
    statement = {"Sid": "Ops", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    [finding] = wildcard_assume_role_findings(identity(statement), "policy")
    assert finding.code == "WILDCARD-001"
    assert finding.message.startswith('WILDCARD-001: policy: Statement "Ops" (index 0) allows sts:AssumeRole')
    assert finding.statement_index == 0


@pytest.mark.parametrize(
    ("first", "second", "intersect"),
    [
        ("*", "role/*", True),
        ("role/?", "role/*", True),
        ("user/*", "role/*", False),
        ("r*e/x", "role/*", True),
        ("abc", "abd", False),
        ("a*" * 200, "b" + "*" * 200, False),
    ],
)
def test_glob_patterns_intersect(first, second, intersect):
    assert glob_patterns_intersect(first, second) is intersect


def test_full_admin_means_every_action_on_every_resource():
    assert grants_full_admin(identity({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assert grants_full_admin(json.dumps(identity({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]})))
    assert not grants_full_admin(identity({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}))
    assert not grants_full_admin(identity({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}))
    assert not grants_full_admin(identity({"Effect": "Deny", "Action": "*", "Resource": "*"}))
    assert not grants_full_admin("{")


# --- administrator roles across resources ---------------------------------------------------------------------------

ROLE_URN = "urn:pulumi:host::partner-access::aws:iam/role:Role::partner"


def role(trust_document=None, urn=ROLE_URN, **props):
    return StackResource(
        urn=urn,
        resource_type="aws:iam/role:Role",
        name="partner",
        props={"assumeRolePolicy": json.dumps(trust_document or trust(allow(condition=MFA_TRUE))), **props},
    )


def attachment(policy_arn, role_name="partner-role", dependencies=frozenset()):
    return StackResource(
        urn="urn:pulumi:host::partner-access::aws:iam/rolePolicyAttachment:RolePolicyAttachment::admin",
        resource_type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        name="admin",
        props={"role": role_name, "policyArn": policy_arn},
        property_dependencies={"role": dependencies},
    )


ADMIN_POLICY = identity({"Effect": "Allow", "Action": "*", "Resource": "*"})


@pytest.mark.parametrize(
    "resources",
    [
        [role(name="partner-role"), attachment("arn:aws:iam::aws:policy/AdministratorAccess")],
        [role(name="partner-role"), attachment("arn:aws-us-gov:iam::aws:policy/AdministratorAccess")],
        [role(name=UNKNOWN), attachment("arn:aws:iam::aws:policy/AdministratorAccess", UNKNOWN, frozenset({ROLE_URN}))],
        [role(managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])],
        [role(inlinePolicies=[{"name": "all", "policy": json.dumps(ADMIN_POLICY)}])],
        [
            role(name="partner-role"),
            StackResource(
                urn="urn:inline",
                resource_type="aws:iam/rolePolicy:RolePolicy",
                name="inline",
                props={"role": "partner-role", "policy": ADMIN_POLICY},
            ),
        ],
    ],
    ids=["attachment", "gov-partition", "preview-by-dependency", "managed-arns", "inline", "role-policy"],
)
def test_administrator_access_on_cross_account_roles(resources):
    [finding] = admin_role_findings(resources, [])
    assert finding.urn == ROLE_URN
    assert finding.finding.code == "ADMIN-001" and finding.finding.principals == (PARTNER_ROOT,)


def test_managed_admin_policy_from_the_stack_linked_by_dependency_is_found():
    policy = StackResource(
        urn="urn:managed", resource_type="aws:iam/policy:Policy", name="everything", props={"policy": ADMIN_POLICY}
    )
    link = StackResource(
        urn="urn:attach",
        resource_type="aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        name="attach",
        props={"role": UNKNOWN, "policyArn": UNKNOWN},
        property_dependencies={"role": frozenset({ROLE_URN}), "policyArn": frozenset({"urn:managed"})},
    )
    [finding] = admin_role_findings([role(name=UNKNOWN), policy, link], [])
    assert finding.finding.code == "ADMIN-001"
    # An attachment whose policy ARN is unknown and not linked to the admin policy proves nothing.
    unlinked = StackResource(**{**link.__dict__, "property_dependencies": {"role": frozenset({ROLE_URN})}})
    assert admin_role_findings([role(name=UNKNOWN), policy, unlinked], []) == []


def test_admin_roles_not_trusted_cross_account_or_exempt_pass():
    admin = attachment("arn:aws:iam::aws:policy/AdministratorAccess")
    own_only = role(trust(allow({"AWS": HOST})), name="partner-role")
    assert admin_role_findings([own_only, admin], [HOST]) == []
    assert admin_role_findings([role(name="partner-role"), admin], [PARTNER]) == []
    other_role = attachment("arn:aws:iam::aws:policy/AdministratorAccess", role_name="someone-else")
    assert admin_role_findings([role(name="partner-role"), other_role], []) == []
    read_only = attachment("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert admin_role_findings([role(name="partner-role"), read_only], []) == []
    pinned = StackResource(**{**role(name="partner-role").__dict__, "provider_allowed_account_ids": f'["{PARTNER}"]'})
    assert admin_role_findings([pinned, admin], []) == []
    deployed = role(name="partner-role", arn=f"arn:aws:iam::{PARTNER}:role/partner-role")
    assert admin_role_findings([deployed, admin], []) == []


def test_unknown_markers_are_detected_anywhere_in_a_value():
    assert contains_unknown({"a": [1, {"b": UNKNOWN}]})
    assert not contains_unknown({"a": [1, {"b": "c"}]})
    assert glob_regex("a*b?").fullmatch("axxbc")


# --- policy variables in condition values ----------------------------------------------------------------------------

MFA_PRESENT = "aws:MultiFactorAuthPresent"
TAG_VARIABLE = "${aws:PrincipalTag/mfa}"


@pytest.mark.parametrize(
    "condition",
    [
        # The variable resolves to the request's own value, so with MFA "false" the clause holds.
        {"StringEquals": {MFA_PRESENT: "${aws:MultiFactorAuthPresent}"}},
        # The caller's account controls its tags, and with them the value compared.
        {"StringEquals": {MFA_PRESENT: TAG_VARIABLE}},
        {"StringLike": {MFA_PRESENT: ["true", TAG_VARIABLE]}},
        {"Bool": {MFA_PRESENT: TAG_VARIABLE}},
    ],
)
def test_allow_whose_mfa_value_is_a_policy_variable_is_flagged(condition):
    assert flagged(trust(allow(condition=condition)))


@pytest.mark.parametrize(
    "condition",
    [
        # A literal value already fails: no substitution can rescue the clause.
        {**MFA_TRUE, "StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
        {**MFA_TRUE, "StringEquals": {MFA_PRESENT: TAG_VARIABLE}},
        # Escapes are the literal characters: "${*}" is a star, not a wildcard, so "false" does not match it.
        {"StringLike": {MFA_PRESENT: "${*}"}, "Bool": {MFA_PRESENT: ["true"]}},
    ],
)
def test_allow_with_a_variable_beside_a_failing_literal_clause_passes(condition):
    assert mfa_violations(trust(allow(condition=condition)), OWN) == []


def test_escaped_star_is_literal_and_a_plain_star_is_a_wildcard():
    assert not flagged(trust(allow(condition={"StringLike": {MFA_PRESENT: "${*}"}})))
    assert flagged(trust(allow(condition={"StringLike": {MFA_PRESENT: "*"}})))


@pytest.mark.parametrize(
    ("deny_condition", "protects"),
    [
        ({"StringNotEqualsIfExists": {MFA_PRESENT: "${aws:MultiFactorAuthPresent}"}}, False),
        ({"StringNotEquals": {MFA_PRESENT: TAG_VARIABLE}}, False),
        ({"BoolIfExists": {MFA_PRESENT: "false"}, "StringEquals": {"aws:PrincipalTag/team": TAG_VARIABLE}}, False),
        ({"BoolIfExists": {MFA_PRESENT: "false"}, "StringLike": {"sts:RoleSessionName": "${*}"}}, False),
        ({"BoolIfExists": {MFA_PRESENT: "false"}}, True),
    ],
)
def test_deny_with_a_policy_variable_is_not_trusted_to_cover_the_request(deny_condition, protects):
    assert flagged(trust(allow(), deny(deny_condition))) is not protects


def test_a_variable_does_not_count_as_narrowing_a_star_trust():
    variable = {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalTag/account}"}}
    assert open_trust_violations(trust(allow("*", variable)))
    assert open_trust_violations(trust(allow("*"), deny({"StringNotEquals": {"aws:PrincipalOrgID": "${x}"}})))
    assert open_trust_violations(trust(allow("*", {"StringEquals": {"aws:PrincipalAccount": PARTNER}}))) == []


# --- principal-derived condition keys --------------------------------------------------------------------------------

NO_MFA_DENY = {"BoolIfExists": {MFA_PRESENT: "false"}}
ALICE = f"arn:aws:iam::{PARTNER}:user/alice"
CI_ROLE = f"arn:aws:iam::{PARTNER}:role/ci"
CI_SESSION = f"arn:aws:sts::{PARTNER}:assumed-role/ci/s"


@pytest.mark.parametrize(
    ("allowed", "principal_condition", "protects"),
    [
        ({"AWS": PARTNER_ROOT}, {"StringNotEquals": {"aws:PrincipalAccount": HOST}}, True),
        ({"AWS": PARTNER}, {"StringEquals": {"aws:PrincipalAccount": [OTHER, PARTNER]}}, True),
        ({"AWS": PARTNER_ROOT}, {"StringEquals": {"aws:PrincipalAccount": OTHER}}, False),
        ({"AWS": ALICE}, {"ArnEquals": {"aws:PrincipalArn": ALICE}}, True),
        ({"AWS": CI_ROLE}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/*"}}, True),
        # A whole account's callers have many ARNs; an assumed-role ARN does not show the role's path.
        ({"AWS": PARTNER_ROOT}, {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:user/*"}}, False),
        ({"AWS": CI_SESSION}, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, False),
        # Every foreign caller carries its own aws:PrincipalAccount, so "not our account" covers all of them.
        ("*", {"StringNotEquals": {"aws:PrincipalAccount": HOST}}, True),
        ("*", {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{HOST}:*"}}, True),
        ("*", {"Null": {"aws:PrincipalArn": "false"}}, True),
        ("*", {"StringLike": {"aws:PrincipalAccount": "*"}}, True),
        ("*", {"StringNotEquals": {"aws:PrincipalAccount": PARTNER}}, False),
    ],
)
def test_deny_conditions_on_the_principal_are_decided_per_principal(allowed, principal_condition, protects):
    document = trust(allow(allowed), deny({**NO_MFA_DENY, **principal_condition}))
    assert flagged(document) is not protects


def test_allow_conditions_on_the_principal_are_decided_per_principal():
    principals = {"AWS": [PARTNER_ROOT, f"arn:aws:iam::{OTHER}:root"]}
    [violation] = mfa_violations(trust(allow(principals, {"StringEquals": {"aws:PrincipalAccount": OTHER}})), OWN)
    assert violation.principals == (f"arn:aws:iam::{OTHER}:root",)
    assert not flagged(trust(allow({"AWS": PARTNER}, {"StringEquals": {"aws:PrincipalAccount": HOST}})))


# --- values not known yet (preview) ---------------------------------------------------------------------------------


def test_a_known_no_mfa_grant_is_reported_although_another_statement_is_not_known_yet():
    unknown_allow = allow({"AWS": UNKNOWN}, sid="Later")
    assert flagged(trust(allow(), unknown_allow))
    assert flagged(trust(allow(), allow(condition={"Bool": {MFA_PRESENT: UNKNOWN}}, sid="Later")))
    # An Allow whose own conditions are not known yet is checked at `up`, not guessed at.
    assert not flagged(trust(allow(condition={"StringEquals": {"sts:ExternalId": UNKNOWN}})))
    assert not flagged(UNKNOWN)
    assert not flagged({"Version": "2012-10-17", "Statement": UNKNOWN})


@pytest.mark.parametrize(
    "undecided_deny",
    [
        deny({"BoolIfExists": {MFA_PRESENT: UNKNOWN}}),
        deny(NO_MFA_DENY, principal={"AWS": UNKNOWN}),
        deny(NO_MFA_DENY, action=UNKNOWN),
        {"Effect": UNKNOWN, "Principal": "*", "Action": "sts:AssumeRole"},
        UNKNOWN,
    ],
)
def test_a_deny_not_known_yet_that_could_cover_the_grant_defers_it(undecided_deny):
    assert not flagged(trust(allow(), undecided_deny))


@pytest.mark.parametrize(
    "undecided_deny",
    [
        deny({**NO_MFA_DENY, "StringEquals": {"sts:ExternalId": UNKNOWN}}, principal={"AWS": OTHER}),
        deny({"Bool": {MFA_PRESENT: "true"}, "StringEquals": {"sts:ExternalId": UNKNOWN}}),
        deny({"StringEquals": {"sts:ExternalId": UNKNOWN}}, action="sts:TagSession"),
    ],
)
def test_a_deny_not_known_yet_that_cannot_cover_the_grant_does_not_hide_it(undecided_deny):
    assert flagged(trust(allow(), undecided_deny))


# --- size and message bounds -----------------------------------------------------------------------------------------


def test_documents_larger_than_iam_accepts_are_malformed_before_analysis():
    huge = trust(*[allow(sid=f"S{index}") for index in range(200)])
    for document in (huge, json.dumps(huge, indent=2)):
        [violation] = mfa_violations(document, OWN)
        assert violation.code == "DOC-001"
    # Whitespace does not count: an indented document that is small once compacted is analysed.
    small = json.dumps(trust(allow(condition=MFA_TRUE)), indent=400)
    assert len(small) > 10_240
    assert mfa_violations(small, OWN) == []


def test_a_violation_lists_a_bounded_number_of_denies_that_miss_the_request():
    weak_denies = [deny({"Bool": {MFA_PRESENT: "false"}}) for _ in range(30)]
    [violation] = mfa_violations(trust(allow(), *weak_denies), OWN)
    assert "statement index 1, statement index 2" in violation.message
    assert "and 25 more does not certainly apply" in violation.message
    assert len(violation.message) < 1_000


# --- admin equivalents -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "is_admin"),
    [
        ({"Action": "*:*", "Resource": "arn:*"}, True),
        ({"Action": "*", "Resource": "arn:*:*:*:*:*"}, True),
        ({"Action": "*", "NotResource": "arn:aws:s3:::x"}, True),
        ({"NotAction": "iam:CreateUser", "Resource": "*"}, True),
        ({"NotAction": ["iam:CreateUser", "iam:DeleteUser"], "NotResource": "arn:aws:s3:::x"}, True),
        ({"Action": "*", "Resource": "arn:aws:*"}, False),
        ({"Action": "*", "NotResource": "*"}, False),
        ({"Action": "*", "NotResource": "arn:*"}, False),
        ({"NotAction": "iam:*", "Resource": "*"}, False),
        ({"NotAction": "*", "Resource": "*"}, False),
        ({"Action": "s3:*", "Resource": "arn:*"}, False),
    ],
)
def test_admin_equivalents_of_star_on_star(statement, is_admin):
    assert grants_full_admin(identity({"Effect": "Allow", **statement})) is is_admin


# --- open trust: wildcard "narrowing" values narrow nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "is_open"),
    [
        ({"StringLike": {"aws:PrincipalArn": "arn:*"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}, True),
        ({"StringLike": {"aws:userid": "*:*"}}, True),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-*"}}, True),
        ({"StringLike": {"aws:PrincipalAccount": "????????????"}}, True),
        ({"StringEquals": {"aws:PrincipalOrgID": ["o-abc123", "o-*"]}}, True),
        ({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}, False),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:*"}}, False),
    ],
)
def test_star_trust_narrowing_values_must_be_concrete(condition, is_open):
    assert bool(open_trust_violations(trust(allow("*", condition)))) is is_open


def test_a_deny_narrowing_with_wildcard_values_narrows_nothing():
    assert open_trust_violations(trust(allow("*"), deny({"StringNotLike": {"aws:PrincipalAccount": "*1*"}})))
    assert open_trust_violations(trust(allow("*"), deny({"StringNotEquals": {"aws:PrincipalAccount": HOST}}))) == []
