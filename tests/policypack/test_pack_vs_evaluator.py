"""Differential test: the pack's MFA analysis against an independent IAM evaluator, over generated trust policies.

For each generated trust document, the evaluator (principalmapper, via support.iam_evaluator) is asked whether some
principal outside our own accounts can assume the role without MFA, i.e. with aws:MultiFactorAuthPresent absent
(long-term access keys) or "false" (temporary credentials obtained without MFA). The callers tried are every foreign
principal the document's Allow statements name, plus, wherever they trust "*", a user of each foreign account the
generator uses and of an account the document never names. Each caller holds an identity policy allowing everything,
so only the trust policy decides. The pack must flag the document exactly when the evaluator lets one of them in.
Identities of our own accounts never count, also under "*": aws:PrincipalAccount and aws:PrincipalArn tell them apart.
Policy variables in condition values are substituted from the request, so callers are tried without and with the
principal tag the generated variables name. IAM refuses partial wildcards in principals, so a document naming one must
be reported as malformed rather than judged.

Documents here have Version 2012-10-17 or 2008-10-17 (literal "${...}"); support.iam_evaluator honours both.
principalmapper, with that module around it, does not model: federated users and assumed-role session principals as
callers (every caller here is an IAM user or a role session), the root user's inability to assume roles, session tags
and the sts:TagSession they need, default values in policy variables, and ARN operators component by component (it
matches whole strings). It reads an unresolvable variable as voiding its statement, where the pack stays undecided.
Those rules are checked against the SMT oracle (test_pack_vs_oracle.py) and by the cases in test_pack_iam_rules.py.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iam_trust_policies.trust_analysis import mfa_violations
from support.iam_evaluator import AssumeRoleRequest, Caller, Mfa, can_assume_role

OWN_ACCOUNTS = frozenset({"111111111111", "444444444444"})
FOREIGN_ACCOUNT = "222222222222"
ARBITRARY_FOREIGN_ACCOUNT = "999999999999"
ROLE_ARN = "arn:aws:iam::111111111111:role/protected"
ALLOW_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# The user that stands for "any identity of the account" when a trust names a whole account (or "*").
ACCOUNT_STAND_IN = "intruder"
MFA_PRESENT = "aws:MultiFactorAuthPresent"
MFA_AGE = "aws:MultiFactorAuthAge"

FOREIGN_PRINCIPALS = [
    FOREIGN_ACCOUNT,
    f"arn:aws:iam::{FOREIGN_ACCOUNT}:root",
    f"arn:aws:iam::{FOREIGN_ACCOUNT}:user/alice",
    f"arn:aws:iam::{FOREIGN_ACCOUNT}:user/team/bob",
    f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/partner-ci",
    "arn:aws:iam::333333333333:root",
]
OWN_PRINCIPALS = ["111111111111", "arn:aws:iam::444444444444:root", "arn:aws:iam::111111111111:user/carol"]

principal_names = st.sampled_from(FOREIGN_PRINCIPALS + OWN_PRINCIPALS)
# IAM accepts "*" alone as a principal; these are refused when the role is created.
PARTIAL_WILDCARD_PRINCIPALS = [f"arn:aws:iam::{FOREIGN_ACCOUNT}:user/*", "arn:aws:iam::*:root"]
MFA_TAG = "aws:PrincipalTag/mfa"
MFA_TAG_VARIABLE = "${" + MFA_TAG + "}"
allow_principals = st.one_of(
    st.just("*"),
    st.just({"AWS": "*"}),
    principal_names.map(lambda name: {"AWS": name}),
    st.lists(principal_names, min_size=1, max_size=3, unique=True).map(lambda names: {"AWS": names}),
)
assume_role_actions = st.sampled_from([
    {"Action": "sts:AssumeRole"},
    {"Action": "STS:assumerole"},
    {"Action": "sts:*"},
    {"Action": "*"},
    {"Action": "sts:Assume*"},
    {"Action": ["sts:AssumeRole", "sts:TagSession"]},
    {"Action": "sts:AssumeRoleWithSAML"},
    {"NotAction": "sts:TagSession"},
    {"NotAction": "sts:*"},
    {"NotAction": ["iam:*", "sts:AssumeRole"]},
])
boolean_values = st.sampled_from(["true", "false", True, False, ["true", "false"], ["false"], ["true"]])
age_limits = st.sampled_from(["3600", 3600, "0"])
mfa_clauses = st.one_of(
    st.tuples(st.sampled_from(["Bool", "BoolIfExists"]), st.just(MFA_PRESENT), boolean_values),
    st.tuples(
        st.sampled_from(["NumericLessThan", "NumericLessThanIfExists", "NumericLessThanEquals",
                         "NumericGreaterThanIfExists"]),
        st.just(MFA_AGE),
        age_limits,
    ),
    st.tuples(st.just("Null"), st.sampled_from([MFA_PRESENT, MFA_AGE]), boolean_values),
    st.tuples(
        st.sampled_from(["StringEquals", "StringEqualsIfExists", "StringNotEquals", "StringLike"]),
        st.just(MFA_PRESENT),
        st.sampled_from(["true", "false", "t*"]),
    ),
)


def condition_block(clauses: list[tuple[str, str, object]]) -> dict:
    block: dict[str, dict[str, object]] = {}
    for operator, key, value in clauses:
        block.setdefault(operator, {})[key] = value
    return block


# At most one per statement, on aws:MultiFactorAuthPresent with a positive operator: a caller whose tag equals its
# MFA value satisfies any of them, so the caller tries (no tag, tag "false") decide every generated document.
variable_clauses = st.sampled_from([
    ("StringEquals", MFA_PRESENT, "${aws:MultiFactorAuthPresent}"),
    ("StringEquals", MFA_PRESENT, MFA_TAG_VARIABLE),
    ("StringLike", MFA_PRESENT, ["true", MFA_TAG_VARIABLE]),
    ("Bool", MFA_PRESENT, MFA_TAG_VARIABLE),
])
# Every signed request carries aws:PrincipalAccount and aws:PrincipalArn, so they decide "*" trusts too.
principal_account_clauses = st.sampled_from([
    ("StringEquals", "aws:PrincipalAccount", FOREIGN_ACCOUNT),
    ("StringNotEquals", "aws:PrincipalAccount", FOREIGN_ACCOUNT),
    ("StringEquals", "aws:PrincipalAccount", sorted(OWN_ACCOUNTS)),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:role/self"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{FOREIGN_ACCOUNT}:user/*"),
    ("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:*"),
])


@st.composite
def allow_statements(draw: st.DrawFn) -> dict:
    principal = draw(allow_principals)
    statement = {"Effect": "Allow", "Principal": principal, **draw(assume_role_actions)}
    clauses = draw(st.lists(mfa_clauses, max_size=3))
    clauses += draw(st.lists(variable_clauses, max_size=1))
    clauses += draw(st.lists(principal_account_clauses, max_size=1))
    if clauses:
        statement["Condition"] = condition_block(clauses)
    return statement


deny_conditions = st.sampled_from([
    None,
    {"BoolIfExists": {MFA_PRESENT: "false"}},
    {"Bool": {MFA_PRESENT: "false"}},
    {"Null": {MFA_PRESENT: "true"}},
    {"NumericGreaterThanIfExists": {MFA_AGE: "3600"}},
    {"BoolIfExists": {MFA_PRESENT: ["false"]}},
    # Conditions on the caller: the pack binds them from the principal the Allow names.
    {"BoolIfExists": {MFA_PRESENT: "false"}, "StringNotEquals": {"aws:PrincipalAccount": sorted(OWN_ACCOUNTS)}},
    {"BoolIfExists": {MFA_PRESENT: "false"}, "StringEquals": {"aws:PrincipalAccount": FOREIGN_ACCOUNT}},
    {"BoolIfExists": {MFA_PRESENT: "false"}, "ArnEquals": {"aws:PrincipalArn": FOREIGN_PRINCIPALS[2]}},
    {"BoolIfExists": {MFA_PRESENT: "false"}, "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/*"}},
    # Policy variables: never certain to apply.
    {"StringNotEqualsIfExists": {MFA_PRESENT: "${aws:MultiFactorAuthPresent}"}},
    {"StringNotEquals": {MFA_PRESENT: MFA_TAG_VARIABLE}},
])
# No NotPrincipal: IAM refuses it in role trust policies (IAM User Guide, "NotPrincipal"), so no role can have one.
deny_principals = st.one_of(
    st.just({"Principal": "*"}),
    st.sampled_from(PARTIAL_WILDCARD_PRINCIPALS).map(lambda name: {"Principal": {"AWS": name}}),
    st.just({"Principal": {"AWS": "*"}}),
    principal_names.map(lambda name: {"Principal": {"AWS": name}}),
    st.lists(principal_names, min_size=1, max_size=2, unique=True).map(lambda names: {"Principal": {"AWS": names}}),
)


@st.composite
def deny_statements(draw: st.DrawFn) -> dict:
    statement = {
        "Effect": "Deny",
        **draw(deny_principals),
        **draw(st.sampled_from([{"Action": "sts:AssumeRole"}, {"Action": "*"}, {"Action": "sts:*"},
                                {"Action": "sts:TagSession"}])),
    }
    condition = draw(deny_conditions)
    if condition is not None:
        statement["Condition"] = condition
    return statement


@st.composite
def trust_documents(draw: st.DrawFn) -> dict:
    statements = draw(st.lists(allow_statements(), min_size=1, max_size=2))
    statements += draw(st.lists(deny_statements(), max_size=2))
    version = draw(st.sampled_from(["2012-10-17", "2012-10-17", "2012-10-17", "2008-10-17"]))
    return {"Version": version, "Statement": draw(st.permutations(statements))}


def caller_for(principal: str) -> Caller | None:
    """The caller a trust's principal stands for, or None when it is one of our own accounts."""
    if principal == "*":
        return Caller(ARBITRARY_FOREIGN_ACCOUNT, ACCOUNT_STAND_IN, identity_policies=(ALLOW_EVERYTHING,))
    account_id = principal if principal.isdigit() else principal.split(":")[4]
    if account_id in OWN_ACCOUNTS:
        return None
    resource = "root" if principal.isdigit() else principal.split(":", 5)[5]
    if resource == "root":
        resource = f"user/{ACCOUNT_STAND_IN}"
    kind, _, path_and_name = resource.partition("/")
    path, _, name = path_and_name.rpartition("/")
    return Caller(account_id=account_id, name=name, kind=kind, path=f"/{path}/" if path else "/",
                  identity_policies=(ALLOW_EVERYTHING,))


def named_principals(document: dict, effect: str | None = None) -> list[str]:
    """The AWS principals the document's statements (of one effect, or all) name."""
    names: list[str] = []
    for statement in document["Statement"]:
        if effect not in (None, statement["Effect"]):
            continue
        listed = statement["Principal"] if statement["Principal"] == "*" else statement["Principal"]["AWS"]
        names.extend([listed] if isinstance(listed, str) else listed)
    return names


def foreign_callers(document: dict) -> list[Caller]:
    """Who to try: each foreign principal an Allow names; for a whole account (or "*"), an arbitrary identity of it
    plus every identity of it the document names anywhere, since a Deny may single out some of them."""
    allowed = named_principals(document, "Allow")
    candidates = [caller_for(name) for name in allowed]
    if "*" in allowed:
        candidates += [
            Caller(account, ACCOUNT_STAND_IN, identity_policies=(ALLOW_EVERYTHING,))
            for account in (FOREIGN_ACCOUNT, "333333333333")
        ]
    mentioned = [caller_for(name) for name in named_principals(document) if name not in PARTIAL_WILDCARD_PRINCIPALS]
    for caller in list(candidates):
        if caller is not None and caller.name == ACCOUNT_STAND_IN:
            candidates += [
                other for other in mentioned
                if other is not None and caller.account_id in (ARBITRARY_FOREIGN_ACCOUNT, other.account_id)
            ]
    unique: list[Caller] = []
    for caller in candidates:
        if caller is not None and caller not in unique:
            unique.append(caller)
    return unique


def evaluator_entry_without_mfa(document: dict) -> tuple[Caller, Mfa] | None:
    """A caller and MFA state the evaluator lets assume the role, or None."""
    tag_contexts = [{}]
    if MFA_TAG in json.dumps(document):
        tag_contexts.append({MFA_TAG: "false"})
    for caller in foreign_callers(document):
        for mfa in (Mfa.ABSENT, Mfa.FALSE):
            for tags in tag_contexts:
                request = AssumeRoleRequest(session_name=caller.name, mfa=mfa, extra_context=tags)
                if can_assume_role(caller, ROLE_ARN, document, request):
                    return caller, mfa
    return None


def names_partial_wildcard_principal(document: dict) -> bool:
    return any(name in PARTIAL_WILDCARD_PRINCIPALS for name in named_principals(document))


PROJECT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {MFA_PRESENT: "true"}, "StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
    }],
}
IF_EXISTS_LOOPHOLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": FOREIGN_ACCOUNT}, "Action": "sts:AssumeRole",
                   "Condition": {"BoolIfExists": {MFA_PRESENT: "true"}}}],
}
DENY_CLOSES_LOOPHOLE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"BoolIfExists": {MFA_PRESENT: "false"}}},
    ],
}
BOOL_AND_BOOL_IF_EXISTS_ON_ONE_KEY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": FOREIGN_ACCOUNT}, "Action": "sts:AssumeRole",
                   "Condition": {"Bool": {MFA_PRESENT: "true"}, "BoolIfExists": {MFA_PRESENT: "false"}}}],
}

SELF_SUBSTITUTED_MFA_VALUE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": FOREIGN_ACCOUNT}, "Action": "sts:AssumeRole",
                   "Condition": {"StringEquals": {MFA_PRESENT: "${aws:MultiFactorAuthPresent}"}}}],
}
TAG_CHOSEN_MFA_VALUE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": FOREIGN_ACCOUNT}, "Action": "sts:AssumeRole",
                   "Condition": {"StringLike": {MFA_PRESENT: ["true", MFA_TAG_VARIABLE]}}}],
}
DENY_WITH_VARIABLE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"StringNotEqualsIfExists": {MFA_PRESENT: "${aws:MultiFactorAuthPresent}"}}},
    ],
}
GUARDRAIL_FOR_OTHER_ACCOUNTS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"BoolIfExists": {MFA_PRESENT: "false"},
                       "StringNotEquals": {"aws:PrincipalAccount": sorted(OWN_ACCOUNTS)}}},
    ],
}


# Derandomized: the same 1500 documents every run (a few seconds), so a failure reproduces.
@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@example(PROJECT_TRUST)
@example(IF_EXISTS_LOOPHOLE)
@example(DENY_CLOSES_LOOPHOLE)
@example(BOOL_AND_BOOL_IF_EXISTS_ON_ONE_KEY)
@example(SELF_SUBSTITUTED_MFA_VALUE)
@example(TAG_CHOSEN_MFA_VALUE)
@example(DENY_WITH_VARIABLE)
@example(GUARDRAIL_FOR_OTHER_ACCOUNTS)
@given(trust_documents())
def test_pack_flags_exactly_the_trusts_the_evaluator_opens_without_mfa(document):
    violations = mfa_violations(document, OWN_ACCOUNTS)
    if names_partial_wildcard_principal(document):
        [violation] = violations
        assert "malformed" in violation.message and "with a wildcard" in violation.message
        return
    entry = evaluator_entry_without_mfa(document)
    how = "nobody" if entry is None else f"{entry[0].arn} with MFA {entry[1].value}"
    assert bool(violations) == (entry is not None), (
        f"evaluator lets in: {how}; pack violations: {[v.message for v in violations]}\n"
        f"document: {json.dumps(document)}"
    )


def test_the_known_cases_get_the_verdicts_aws_documents():
    """The @example documents above, with the verdicts AWS's documentation gives, so the differential test's
    anchors are themselves checked."""
    assert evaluator_entry_without_mfa(PROJECT_TRUST) is None
    assert evaluator_entry_without_mfa(IF_EXISTS_LOOPHOLE) is not None
    assert evaluator_entry_without_mfa(DENY_CLOSES_LOOPHOLE) is None
    assert evaluator_entry_without_mfa(BOOL_AND_BOOL_IF_EXISTS_ON_ONE_KEY) is None  # the clauses are ANDed
    # Variables are substituted from the request: "false" equals itself, and the caller picks its own tag.
    assert evaluator_entry_without_mfa(SELF_SUBSTITUTED_MFA_VALUE) is not None
    assert evaluator_entry_without_mfa(TAG_CHOSEN_MFA_VALUE) is not None
    # The Deny's variable is unresolvable without MFA and its own value with it: it never applies.
    assert evaluator_entry_without_mfa(DENY_WITH_VARIABLE) is not None
    assert evaluator_entry_without_mfa(GUARDRAIL_FOR_OTHER_ACCOUNTS) is None
