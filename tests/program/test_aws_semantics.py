"""What the rendered documents mean, decided by an independent IAM evaluator (principalmapper), not by our own code.

First the evaluator itself is checked on textbook cases, so a bug in it cannot hide a bug in the documents; then, for
several grant shapes, who can and who cannot assume the host role with the trust and partner policies the builders
render; then that each grant's `access` sentence states what those documents enforce, and that federated sessions
are shut out as the grant model warns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from components.access_summary import access_sentence, condition_clauses, duration
from components.documents import partner_policy_document, trust_policy_document
from components.grant_model import Grant, PartnerGroup
from support.iam_evaluator import AssumeRoleRequest, Caller, Mfa, can_assume_role, request_context, resolve_policy

HOST = "111111111111"
PARTNER = "222222222222"
STRANGER = "333333333333"
ROLE_ARN = f"arn:aws:iam::{HOST}:role/textbook"
ALLOW_ASSUME_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE_ARN}],
}


def trust(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow_from(principal: str, condition: dict | None = None, action: str | list[str] = "sts:AssumeRole") -> dict:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


PARTNER_ROOT = f"arn:aws:iam::{PARTNER}:root"
MFA_BOOL = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
MFA_BOOL_IF_EXISTS = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
DENY_WITHOUT_MFA = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "sts:AssumeRole",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}


def partner_user(name: str = "alice", account_id: str = PARTNER, policies: tuple[dict, ...] = (ALLOW_ASSUME_ROLE,)):
    return Caller(account_id=account_id, name=name, identity_policies=policies)


def textbook_verdict(trust_policy: dict, request: AssumeRoleRequest, caller: Caller | None = None) -> bool:
    return can_assume_role(caller or partner_user(), ROLE_ARN, trust_policy, request)


# --- The evaluator, on cases whose answer AWS's documentation states outright ---------------------------------------


@pytest.mark.parametrize(
    ("condition", "mfa", "expected"),
    [
        (MFA_BOOL, Mfa.PRESENT, True),
        (MFA_BOOL, Mfa.FALSE, False),
        (MFA_BOOL, Mfa.ABSENT, False),  # Bool on a missing key is false
        (MFA_BOOL_IF_EXISTS, Mfa.PRESENT, True),
        (MFA_BOOL_IF_EXISTS, Mfa.FALSE, False),
        (MFA_BOOL_IF_EXISTS, Mfa.ABSENT, True),  # the long-term access key loophole
        ({"Bool": {"aws:MultiFactorAuthPresent": True}}, Mfa.PRESENT, True),  # a JSON boolean is its text
        ({"Bool": {"aws:MultiFactorAuthPresent": True}}, Mfa.FALSE, False),
        ({"Null": {"aws:MultiFactorAuthPresent": "false"}}, Mfa.FALSE, True),  # Null tests presence only
        ({"Null": {"aws:MultiFactorAuthPresent": "false"}}, Mfa.ABSENT, False),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, Mfa.ABSENT, False),
        ({"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}, Mfa.ABSENT, True),
        ({"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}, Mfa.PRESENT, True),
        ({"StringNotLike": {"sts:ExternalId": "x*"}}, Mfa.ABSENT, True),  # negated operator, missing key: true
        ({"StringLike": {"sts:ExternalId": "x*"}}, Mfa.ABSENT, False),
        # Two operators on one key are ANDed, even once ...IfExists resolves to its plain operator.
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}, "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
         Mfa.FALSE, False),
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}, "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
         Mfa.PRESENT, False),
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}, "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
         Mfa.PRESENT, True),
    ],
)
def test_evaluator_condition_operators_follow_aws(condition, mfa, expected):
    assert textbook_verdict(trust(allow_from(PARTNER_ROOT, condition)), AssumeRoleRequest("alice", mfa=mfa)) is expected


@pytest.mark.parametrize(("age", "expected"), [(3599, True), (3600, False), (7200, False)])
def test_evaluator_compares_if_exists_numbers_when_the_key_is_present(age, expected):
    document = trust(allow_from(PARTNER_ROOT, {"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}))
    assert textbook_verdict(document, AssumeRoleRequest("alice", mfa_age_seconds=age)) is expected


def test_principalmapper_alone_gets_numeric_if_exists_wrong():
    """Why iam_evaluator resolves IfExists itself: raw principalmapper denies an age well under the limit."""
    from principalmapper.querying.local_policy_simulation import _get_condition_match
    from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict

    condition = {"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}
    assert not _get_condition_match(condition, CaseInsensitiveDict({"aws:MultiFactorAuthAge": "10"}))
    assert _get_condition_match({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
                                CaseInsensitiveDict({"aws:MultiFactorAuthAge": "10"}))


def test_evaluator_honours_an_explicit_deny_in_the_trust_policy():
    document = trust(allow_from(PARTNER_ROOT), DENY_WITHOUT_MFA)
    assert textbook_verdict(document, AssumeRoleRequest("alice", mfa=Mfa.PRESENT))
    assert not textbook_verdict(document, AssumeRoleRequest("alice", mfa=Mfa.ABSENT))
    assert not textbook_verdict(document, AssumeRoleRequest("alice", mfa=Mfa.FALSE))


def test_evaluator_honours_an_explicit_deny_in_the_callers_policies():
    deny_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}
    document = trust(allow_from(PARTNER_ROOT))
    assert textbook_verdict(document, AssumeRoleRequest("alice"))
    denied_caller = partner_user(policies=(ALLOW_ASSUME_ROLE, deny_all))
    assert not textbook_verdict(document, AssumeRoleRequest("alice"), denied_caller)


@pytest.mark.parametrize("named_as", [PARTNER_ROOT, PARTNER, f"arn:aws:iam::{PARTNER}:user/alice", "*"])
def test_evaluator_matches_every_form_of_principal(named_as):
    assert textbook_verdict(trust(allow_from(named_as)), AssumeRoleRequest("alice"))


def test_evaluator_refuses_a_principal_the_trust_does_not_name():
    document = trust(allow_from(PARTNER_ROOT))
    assert not textbook_verdict(document, AssumeRoleRequest("mallory"), partner_user("mallory", STRANGER))
    assert not textbook_verdict(trust(allow_from(f"arn:aws:iam::{PARTNER}:user/bob")), AssumeRoleRequest("alice"))


def test_evaluator_requires_both_sides_across_accounts():
    document = trust(allow_from(PARTNER_ROOT))
    assert not textbook_verdict(document, AssumeRoleRequest("alice"), partner_user(policies=()))
    other_role = {**ALLOW_ASSUME_ROLE, "Statement": [{**ALLOW_ASSUME_ROLE["Statement"][0], "Resource": f"{ROLE_ARN}2"}]}
    assert not textbook_verdict(document, AssumeRoleRequest("alice"), partner_user(policies=(other_role,)))
    assert not textbook_verdict(trust(allow_from(PARTNER_ROOT, action="sts:TagSession")), AssumeRoleRequest("alice"))


def test_evaluator_reads_group_policies():
    group_member = Caller(account_id=PARTNER, name="bob", group_policies=(ALLOW_ASSUME_ROLE,))
    assert textbook_verdict(trust(allow_from(PARTNER_ROOT)), AssumeRoleRequest("bob"), group_member)


def test_evaluator_substitutes_policy_variables_and_ignores_statements_it_cannot_resolve():
    session_is_user = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
    assert textbook_verdict(trust(allow_from(PARTNER_ROOT, session_is_user)), AssumeRoleRequest("alice"))
    assert not textbook_verdict(trust(allow_from(PARTNER_ROOT, session_is_user)), AssumeRoleRequest("bob"))
    role_session = Caller(account_id=PARTNER, name="ci", kind="role", identity_policies=(ALLOW_ASSUME_ROLE,))
    assert "aws:username" not in request_context(role_session, AssumeRoleRequest("ci"))
    assert not textbook_verdict(trust(allow_from(PARTNER_ROOT, session_is_user)), AssumeRoleRequest("ci"), role_session)
    assert resolve_policy(trust(allow_from(PARTNER_ROOT, session_is_user)), {})["Statement"] == []


# --- Our documents, for several grant shapes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A grant shape and how its legitimate partner user authenticates."""

    grant: Grant
    external_id: str | None = None

    def request(self, user: str = "alice", **changes: object) -> AssumeRoleRequest:
        source_identity = user if self.grant.require_source_identity else None
        base = AssumeRoleRequest(session_name=user, external_id=self.external_id, source_identity=source_identity)
        return replace(base, **changes)

    def verdict(self, request: AssumeRoleRequest, caller: Caller | None = None) -> bool:
        trust_policy = trust_policy_document(self.grant, self.external_id)
        return can_assume_role(caller or self.partner_user(), self.grant.role_arn, trust_policy, request)

    def partner_user(self, name: str = "alice", account_id: str | None = None, via_group: bool = False) -> Caller:
        policies = (partner_policy_document(self.grant),)
        return Caller(
            account_id=account_id or self.grant.partner_account_id,
            name=name,
            identity_policies=() if via_group else policies,
            group_policies=policies if via_group else (),
        )


def grant(**fields: object) -> Grant:
    return Grant(role_name="ex-for-aws-b", host_account_id=HOST, partner_account_id=PARTNER, **fields)


SHAPES = {
    "default": Shape(grant()),
    "listed-principals": Shape(grant(partner_principal_arns=(
        f"arn:aws:iam::{PARTNER}:user/alice", f"arn:aws:iam::{PARTNER}:user/ops/carol"))),
    "max-mfa-age": Shape(grant(max_mfa_age_seconds=900)),
    "external-id": Shape(grant(external_id_secret="partnerExternalId"), external_id="Shared-Secret_42"),
    "source-identity": Shape(grant(require_source_identity=True)),
    "role-path": Shape(grant(role_path="/partners/b/")),
    "everything": Shape(grant(role_path="/partners/", max_mfa_age_seconds=3600, require_source_identity=True,
                              external_id_secret="partnerExternalId"), external_id="Shared-Secret_42"),
}
shapes = pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))


@shapes
def test_partner_user_with_mfa_and_own_session_name_can_assume(shape):
    assert shape.verdict(shape.request())


@shapes
def test_partner_group_member_can_assume(shape):
    assert shape.verdict(shape.request(), shape.partner_user(via_group=True))


@shapes
@pytest.mark.parametrize("mfa", [Mfa.ABSENT, Mfa.FALSE])
def test_without_mfa_cannot(shape, mfa):
    assert not shape.verdict(shape.request(mfa=mfa))


@shapes
def test_another_account_cannot(shape):
    assert not shape.verdict(shape.request(), shape.partner_user(account_id=STRANGER))


@shapes
def test_without_the_partner_policy_cannot(shape):
    assert not shape.verdict(shape.request(), Caller(account_id=PARTNER, name="alice"))


@shapes
@pytest.mark.parametrize("session_name", ["bob", "Alice", "alice-admin", "someone-else"])
def test_a_session_name_other_than_the_own_user_name_cannot(shape, session_name):
    assert not shape.verdict(shape.request(session_name=session_name))


@shapes
def test_the_partner_policy_reaches_only_the_exact_role(shape):
    caller = shape.partner_user()
    other_role = replace(shape.grant, role_name="another-role")
    assert not can_assume_role(caller, other_role.role_arn, trust_policy_document(other_role, shape.external_id),
                               shape.request())


@pytest.mark.parametrize("external_id", [None, "Shared-Secret_41", "shared-secret_42", ""])
def test_external_id_wrong_or_missing_cannot(external_id):
    shape = SHAPES["external-id"]
    assert not shape.verdict(shape.request(external_id=external_id))


@pytest.mark.parametrize("source_identity", [None, "bob", "Alice"])
def test_source_identity_missing_or_foreign_cannot(source_identity):
    shape = SHAPES["source-identity"]
    assert not shape.verdict(shape.request(source_identity=source_identity))


def test_source_identity_needs_set_source_identity_on_the_partner_side_too():
    shape = SHAPES["source-identity"]
    assume_only = {**partner_policy_document(shape.grant)}
    assume_only["Statement"] = [s for s in assume_only["Statement"] if s["Action"] == "sts:AssumeRole"]
    assert not shape.verdict(shape.request(), replace(shape.partner_user(), identity_policies=(assume_only,)))


def test_setting_a_source_identity_is_refused_when_the_grant_does_not_ask_for_one():
    shape = SHAPES["default"]
    assert not shape.verdict(shape.request(source_identity="alice"))


@pytest.mark.parametrize(("age", "expected"), [(1, True), (899, True), (900, False), (3600, False)])
def test_max_mfa_age_refuses_an_older_mfa(age, expected):
    shape = SHAPES["max-mfa-age"]
    assert shape.verdict(shape.request(mfa_age_seconds=age)) is expected


def test_listed_principals_admit_only_the_listed_users():
    shape = SHAPES["listed-principals"]
    assert shape.verdict(shape.request("carol"), replace(shape.partner_user("carol"), path="/ops/"))
    assert not shape.verdict(shape.request("bob"), shape.partner_user("bob"))
    assert not shape.verdict(shape.request("carol"), shape.partner_user("carol"))  # same name, another path


def test_role_path_is_part_of_the_role_arn_both_sides_use():
    shape = SHAPES["role-path"]
    assert shape.grant.role_arn == f"arn:aws:iam::{HOST}:role/partners/b/ex-for-aws-b"
    without_path = replace(shape.grant, role_path="/")
    assert not can_assume_role(shape.partner_user(), without_path.role_arn,
                               trust_policy_document(without_path), shape.request())


def test_a_listed_partner_role_cannot_satisfy_the_session_name_rule():
    """A role session has no aws:username, so the default "session name is the user name" rule shuts it out; such a
    grant needs requireSessionNameIsUsername: false, which the grant model insists on."""
    role_principal = f"arn:aws:iam::{PARTNER}:role/partner-ci"
    ci_session = Caller(account_id=PARTNER, name="partner-ci", kind="role")
    strict = Shape(grant(partner_principal_arns=(role_principal,)))
    relaxed = Shape(grant(partner_principal_arns=(role_principal,), require_session_name_is_username=False))
    ci_session = replace(ci_session, identity_policies=(partner_policy_document(strict.grant),))
    assert not strict.verdict(strict.request("partner-ci"), ci_session)
    assert relaxed.verdict(relaxed.request("partner-ci"), ci_session)
    assert not relaxed.verdict(relaxed.request("partner-ci", mfa=Mfa.ABSENT), ci_session)


# --- The access sentence says what the documents enforce -----------------------------------------------------------


def with_partner_side(shape: Shape) -> Shape:
    """The shape with a direct user (alice) and a created group with one member (bob)."""
    return replace(shape, grant=replace(shape.grant, partner_users=("alice",),
                                        partner_group=PartnerGroup(name="operators", members=("bob",))))


@shapes
def test_the_access_sentence_names_who_gets_in_and_into_which_role(shape):
    shape = with_partner_side(shape)
    sentence = access_sentence(shape.grant)
    assert "User alice and the members of group operators (created here with bob)" in sentence
    assert f"of partner account {PARTNER}" in sentence and shape.grant.role_arn in sentence
    listed = shape.grant.partner_principal_arns
    for name, caller in (("alice", shape.partner_user("alice")), ("bob", shape.partner_user("bob", via_group=True))):
        admitted = not listed or caller.arn in listed
        assert shape.verdict(shape.request(name), caller) is admitted
    assert ("as far as the trust admits them" in sentence) is bool(listed)
    other_role = replace(shape.grant, role_name="another-role")
    assert not can_assume_role(shape.partner_user(), other_role.role_arn,
                               trust_policy_document(other_role, shape.external_id), shape.request())


@shapes
def test_each_condition_the_access_sentence_states_is_one_the_trust_enforces(shape):
    shape = with_partner_side(shape)
    the_grant = shape.grant
    conditions = condition_clauses(the_grant)
    assert all(condition in access_sentence(the_grant) for condition in conditions)
    assert conditions[0] == "only with MFA"
    assert not shape.verdict(shape.request(mfa=Mfa.ABSENT)) and not shape.verdict(shape.request(mfa=Mfa.FALSE))

    states_age = any("after their MFA sign-in" in condition for condition in conditions)
    assert states_age is (the_grant.max_mfa_age_seconds is not None)
    if states_age:
        limit = the_grant.max_mfa_age_seconds
        assert f"less than {duration(limit)} after their MFA sign-in" in conditions
        assert shape.verdict(shape.request(mfa_age_seconds=limit - 1))
        assert not shape.verdict(shape.request(mfa_age_seconds=limit))
    else:
        assert shape.verdict(shape.request(mfa_age_seconds=86400))

    states_session_name = "with the session name set to their own IAM user name" in conditions
    assert states_session_name is the_grant.require_session_name_is_username
    assert shape.verdict(shape.request(session_name="someone-else")) is not states_session_name

    states_external_id = any("External ID" in condition for condition in conditions)
    assert states_external_id is (the_grant.external_id_secret is not None)
    if states_external_id:
        assert not shape.verdict(shape.request(external_id=None))
        assert shape.external_id not in access_sentence(the_grant)

    states_source_identity = "with their own IAM user name as source identity" in conditions
    assert states_source_identity is the_grant.require_source_identity
    if states_source_identity:
        assert not shape.verdict(shape.request(source_identity=None))


def test_without_the_session_name_rule_the_sentence_and_the_trust_both_drop_it():
    shape = with_partner_side(Shape(grant(require_session_name_is_username=False)))
    assert "session name" not in access_sentence(shape.grant)
    assert shape.verdict(shape.request(session_name="any-name"))


# --- Federated sessions cannot meet the trust --------------------------------------------------------------------


@shapes
@pytest.mark.parametrize("mfa", [Mfa.ABSENT, Mfa.FALSE, Mfa.PRESENT])
def test_an_identity_center_session_is_refused_by_the_default_trust(shape, mfa):
    """An IAM Identity Center user switches from a role session of account B: it has no aws:username, so the
    session-name rule refuses it whatever MFA context it carried; without MFA context the MFA rule refuses it too."""
    sso_session = Caller(account_id=PARTNER, name="AWSReservedSSO_ReadOnly_0123456789abcdef", kind="role",
                         path="/aws-reserved/sso.amazonaws.com/",
                         identity_policies=(partner_policy_document(shape.grant),))
    request = shape.request("alice@partner.example", mfa=mfa)
    assert "aws:username" not in request_context(sso_session, request)
    assert not shape.verdict(request, sso_session)
