"""Property-based: no document, however odd, crashes a policy; the suggested MFA fix always fixes."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from iam_trust_policies.identity_analysis import grants_full_admin, wildcard_assume_role_findings
from iam_trust_policies.model import UNKNOWN, contains_unknown
from iam_trust_policies.policies import POLICIES
from iam_trust_policies.trust_analysis import (
    cross_account_principals,
    external_id_violations,
    mfa_violations,
    open_trust_violations,
)

OWN = frozenset({"111111111111"})
THIRD_PARTIES = frozenset({"222222222222"})
MFA_KEYS = {"aws:multifactorauthpresent", "aws:multifactorauthage"}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

accounts = st.sampled_from(["111111111111", "222222222222", "333333333333"])
principal_names = st.one_of(
    st.just("*"),
    accounts,
    accounts.map(lambda account: f"arn:aws:iam::{account}:root"),
    accounts.map(lambda account: f"arn:aws-cn:iam::{account}:user/alice"),
    accounts.map(lambda account: f"arn:aws:sts::{account}:assumed-role/r/s"),
)
principals = st.one_of(
    st.just("*"),
    st.fixed_dictionaries({"AWS": st.one_of(principal_names, st.lists(principal_names, min_size=1, max_size=3))}),
    st.just({"Service": "ec2.amazonaws.com"}),
    st.just({"Federated": "arn:aws:iam::222222222222:saml-provider/x"}),
)
actions = st.sampled_from(["sts:AssumeRole", "STS:assumerole", "sts:*", "*", "sts:Assume*", "sts:TagSession", "s3:*"])
condition_keys = st.sampled_from(
    [
        "aws:MultiFactorAuthPresent",
        "AWS:multifactorauthpresent",
        "aws:MultiFactorAuthAge",
        "sts:ExternalId",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
    ]
)
operators = st.sampled_from(
    [
        "Bool",
        "BoolIfExists",
        "Null",
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "NumericLessThan",
        "NumericLessThanIfExists",
        "NumericNotEquals",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringLike",
        "DateGreaterThan",
    ]
)
condition_values = st.one_of(
    st.sampled_from(["true", "false", "True", "3600", "0", "x", "o-abc", "*", "${aws:username}", "${*}", "${"]),
    st.booleans(),
    st.integers(min_value=0, max_value=100000),
)
conditions = st.dictionaries(
    operators,
    st.dictionaries(condition_keys, st.one_of(condition_values, st.lists(condition_values, max_size=3)), max_size=2),
    max_size=3,
)


@st.composite
def statements(draw):
    statement = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    if draw(st.booleans()):
        statement["Sid"] = draw(st.text(alphabet="abcXYZ09", max_size=6))
    statement["NotPrincipal" if draw(st.integers(0, 9)) == 0 else "Principal"] = draw(principals)
    action = draw(st.one_of(actions, st.lists(actions, max_size=3)))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = action
    if draw(st.booleans()):
        statement["Condition"] = draw(conditions)
    return statement


def unique_sids(body):
    """IAM refuses two statements with one Sid: a repeated one gets its position appended."""
    seen = set()
    for position, statement in enumerate(body):
        sid = statement.get("Sid")
        if sid and sid in seen:
            statement["Sid"] = sid = f"{sid}{position}"
        seen.add(sid)
    return body


trust_documents = st.builds(
    lambda body, as_object: {"Version": "2012-10-17", "Statement": body[0] if as_object and body else body},
    st.lists(statements(), min_size=1, max_size=5).map(unique_sids),
    st.booleans(),
)


def every_pure_check(document):
    assert all(isinstance(violation.message, str) for violation in mfa_violations(document, OWN))
    external_id_violations(document, OWN, THIRD_PARTIES)
    open_trust_violations(document)
    cross_account_principals(document, OWN)
    wildcard_assume_role_findings(document)
    grants_full_admin(document)


OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
CONFIG = {"thirdPartyAccountIds": list(THIRD_PARTIES), "exemptAccountIds": list(OWN)}


def every_policy(resource_type, props, report=lambda message, urn=None: None):
    """Run every policy's validate on one resource, stack policies on a one-resource stack."""
    engine_props = unknown_checking_proxy(deserialize_properties(props))
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            args = ResourceValidationArgs(resource_type, engine_props, "urn:x", "x", OPTIONS, None, CONFIG)
        else:
            resource = PolicyResource(resource_type, engine_props, "urn:x", "x", OPTIONS, None, None, [], {})
            args = StackValidationArgs([resource], CONFIG)
        policy.validate(args, report)


EXTERNAL_ID = "Xq7-partner-secret"
external_id_clauses = st.sampled_from(
    [
        {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
        {"StringEqualsIfExists": {"STS:externalid": [EXTERNAL_ID, "other"]}},
        {"StringNotEquals": {"sts:ExternalId": EXTERNAL_ID}, "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
        {"StringLike": {"sts:ExternalId": EXTERNAL_ID + "*"}},
    ]
)


@PROPERTY_SETTINGS
@given(trust_documents, st.lists(external_id_clauses, min_size=1, max_size=3))
def test_no_external_id_value_reaches_a_message_or_a_fix(document, clauses):
    body = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement, clause in zip(body, clauses, strict=False):
        statement["Condition"] = {**statement.get("Condition", {}), **clause}
    messages = []
    every_policy("aws:iam/role:Role", {"assumeRolePolicy": json.dumps(document), "maxSessionDuration": 43200},
                 lambda message, urn=None: messages.append(message))
    findings = [
        *mfa_violations(document, OWN),
        *external_id_violations(document, OWN, THIRD_PARTIES),
        *open_trust_violations(document),
    ]
    messages += [finding.message for finding in findings]
    assert all(EXTERNAL_ID not in message for message in messages)
    assert all(EXTERNAL_ID not in json.dumps(finding.fix) for finding in findings)
    assert all(re.match(r"^[A-Z]+-\d{3}: ", message) for message in messages)


@PROPERTY_SETTINGS
@given(json_values)
def test_arbitrary_json_never_crashes_the_analysis_and_malformed_is_one_violation(value):
    every_pure_check(value)
    every_pure_check(json.dumps(value))
    if not isinstance(value, dict):
        assert len(mfa_violations(value, OWN)) == 1


@PROPERTY_SETTINGS
@given(json_values, st.sampled_from(["aws:iam/role:Role", "aws-native:iam:Role", "aws:iam/policy:Policy"]))
def test_arbitrary_json_never_crashes_a_policy(value, resource_type):
    for props in (
        {"assumeRolePolicy": value, "policy": value, "maxSessionDuration": value},
        {"assumeRolePolicy": json.dumps(value), "policy": json.dumps(value), "inlinePolicies": [{"policy": value}]},
        {"assumeRolePolicyDocument": value, "policyDocument": value, "name": value},
    ):
        every_policy(resource_type, props)


@PROPERTY_SETTINGS
@given(trust_documents)
def test_policy_shaped_documents_never_crash_and_json_text_agrees_with_objects(document):
    every_pure_check(document)
    every_policy("aws:iam/role:Role", {"assumeRolePolicy": json.dumps(document), "maxSessionDuration": 43200})
    assert mfa_violations(document, OWN) == mfa_violations(json.dumps(document), OWN)


@PROPERTY_SETTINGS
@given(trust_documents)
def test_requiring_mfa_on_every_allow_statement_always_passes(document):
    body = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement in body:
        if statement["Effect"] != "Allow":
            continue
        kept = {
            operator: {key: value for key, value in keys.items() if key.lower() not in MFA_KEYS}
            for operator, keys in statement.get("Condition", {}).items()
        }
        statement["Condition"] = {**kept, "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert mfa_violations(document, OWN) == []


@PROPERTY_SETTINGS
@given(trust_documents)
def test_every_reported_fix_clears_its_statement(document):
    for violation in mfa_violations(document, OWN):
        body = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        body[violation.statement_index]["Condition"] = violation.fix["Condition"]
        remaining = mfa_violations(document, OWN)
        assert violation.statement_index not in {v.statement_index for v in remaining}


def with_unknowns(value, positions):
    """The value with the leaves (and containers) at the drawn positions of a depth-first walk replaced by UNKNOWN."""
    counter = iter(range(10_000))

    def walk(item):
        if next(counter) in positions:
            return UNKNOWN
        if isinstance(item, dict):
            return {key: walk(child) for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child) for child in item]
        return item

    return walk(value)


@PROPERTY_SETTINGS
@given(trust_documents, st.sets(st.integers(min_value=0, max_value=60), max_size=4))
def test_partly_unknown_documents_never_crash_and_only_fully_known_allows_are_reported(document, positions):
    partly_known = with_unknowns(document, positions)
    every_pure_check(partly_known)
    body = partly_known.get("Statement") if isinstance(partly_known, dict) else None
    statements = body if isinstance(body, list) else [body]
    for violation in mfa_violations(partly_known, OWN):
        if violation.statement_index is not None:
            assert not contains_unknown(statements[violation.statement_index])
