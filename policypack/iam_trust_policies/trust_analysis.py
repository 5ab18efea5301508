"""The trust-policy questions the policies ask (MFA, External ID, open trust, cross-account principals) and their
findings; who gets in is decided in access.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .access import ExposedGrant, RequestScenario, exposed_grants
from .conditions import clause_truth
from .findings import REDACTED, Finding, finding
from .model import ConditionClause, MalformedPolicyError, PolicyKind, Principal, Statement, account_of_arn
from .parsing import parse_policy

MFA_PRESENT_KEY = "aws:MultiFactorAuthPresent"
MFA_AGE_KEY = "aws:MultiFactorAuthAge"
EXTERNAL_ID_KEY = "sts:ExternalId"
# Conditions that pin a "*" trust to known callers.
NARROWING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
    )
)
_POSITIVE_MATCH_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_NEGATIVE_MATCH_OPERATORS = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)

MFA_KEYS = frozenset({MFA_PRESENT_KEY.lower(), MFA_AGE_KEY.lower()})
MFA_FIX_CLAUSE = {"Bool": {MFA_PRESENT_KEY: "true"}}
EXTERNAL_ID_KEYS = frozenset({EXTERNAL_ID_KEY.lower()})
EXTERNAL_ID_FIX_CLAUSE = {"StringEquals": {EXTERNAL_ID_KEY: REDACTED}}
NARROWING_FIX_CLAUSE = {"StringEquals": {"aws:PrincipalOrgID": "<your organization ID, o-...>"}}
# A message lists at most this many Deny statements by name.
MAX_LISTED_DENIES = 5

# Requests without MFA. Whether every role session carries aws:MultiFactorAuthPresent is not documented, so both
# shapes are tried for every caller (see docs/policy-pack.md, "Finding codes").
NO_MFA_SCENARIOS = (
    RequestScenario(
        "a request signed with long-term access keys (aws:MultiFactorAuthPresent and aws:MultiFactorAuthAge absent)",
        {MFA_PRESENT_KEY.lower(): None, MFA_AGE_KEY.lower(): None},
    ),
    RequestScenario(
        "a request with temporary credentials obtained without MFA (aws:MultiFactorAuthPresent = false, "
        "aws:MultiFactorAuthAge absent)",
        {MFA_PRESENT_KEY.lower(): "false", MFA_AGE_KEY.lower(): None},
    ),
)
NO_EXTERNAL_ID_SCENARIOS = (RequestScenario("a request without an External ID", {EXTERNAL_ID_KEY.lower(): None}),)
ANY_REQUEST_SCENARIOS = (RequestScenario("some request", {}),)


def mfa_violations(document: object, own_account_ids: frozenset[str]) -> list[Finding]:
    """Violations of "every cross-account trust requires MFA" in a trust policy (dict or JSON string).

    Empty exactly when no caller outside own_account_ids could be allowed sts:AssumeRole in a request without MFA.
    A malformed document yields one finding saying what is wrong (a DOC- code); this never raises.
    """
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError as error:
        return [malformed_finding(error)]
    return [
        _violation(
            grant,
            "MFA-002" if _has_clause_on(grant.statement, MFA_KEYS) else "MFA-001",
            "without MFA",
            _clauses_problem(grant, MFA_KEYS, "MFA"),
            _fixed_condition(grant.statement.raw_condition, MFA_KEYS, MFA_FIX_CLAUSE),
        )
        for grant in exposed_grants(statements, own_account_ids, NO_MFA_SCENARIOS)
    ]


def malformed_finding(error: MalformedPolicyError) -> Finding:
    return finding(error.code, f"The role's trust policy is malformed: {error}.")


def _has_clause_on(statement: Statement, keys: frozenset[str]) -> bool:
    return any(clause.key_lower in keys for clause in statement.conditions)


def external_id_violations(
    document: object, own_account_ids: frozenset[str], third_party_account_ids: frozenset[str]
) -> list[Finding]:
    """Statements letting a listed third-party account assume the role without an sts:ExternalId.

    Malformed documents yield nothing here: the MFA policy reports them once.
    """
    if not third_party_account_ids:
        return []
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError:
        return []
    grants = exposed_grants(statements, own_account_ids, NO_EXTERNAL_ID_SCENARIOS, third_party_account_ids)
    return [
        _violation(
            grant,
            "EXTID-002" if _has_clause_on(grant.statement, EXTERNAL_ID_KEYS) else "EXTID-001",
            "without an External ID",
            "a third party must present an sts:ExternalId so that others cannot use it as a confused deputy; "
            + _clauses_problem(grant, EXTERNAL_ID_KEYS, "External ID"),
            _fixed_condition(grant.statement.raw_condition, EXTERNAL_ID_KEYS, EXTERNAL_ID_FIX_CLAUSE),
        )
        for grant in grants
    ]


def open_trust_violations(document: object) -> list[Finding]:
    """Allow statements trusting "*" (or NotPrincipal) for sts:AssumeRole with nothing narrowing the caller."""
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError:
        return []
    if any(_deny_narrows_wildcard(statement) for statement in statements):
        return []
    if any(statement.undecided for statement in statements):
        return []  # a statement not known yet might narrow the trust; checked again at `up`
    violations: list[Finding] = []
    for statement in statements:
        if not statement.is_allow or not statement.grants_assume_role:
            continue
        if not any(principal.is_wildcard for principal in statement.effective_principals):
            continue
        if any(_narrows(clause, _POSITIVE_MATCH_OPERATORS) for clause in statement.conditions):
            continue
        fix = _fixed_condition(statement.raw_condition, frozenset(), NARROWING_FIX_CLAUSE)
        violations.append(
            finding(
                "OPEN-001",
                f"{statement.title} trusts {_principal_names(statement.effective_principals)} to "
                "call sts:AssumeRole with no condition narrowing the caller (aws:PrincipalAccount, "
                "aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount, aws:SourceArn, ...), so any AWS "
                f"account can try. Name the trusted accounts as principals, or set its Condition to {_json(fix)}.",
                {"statement_index": statement.index, "Condition": fix},
                statement_index=statement.index,
                sid=statement.sid,
                principals=tuple(principal.text for principal in statement.effective_principals),
            )
        )
    return violations


def cross_account_principals(document: object, own_account_ids: frozenset[str]) -> tuple[str, ...]:
    """Principals outside own_account_ids the trust policy can let assume the role at all (malformed: none)."""
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError:
        return ()
    names: list[str] = []
    for grant in exposed_grants(statements, own_account_ids, ANY_REQUEST_SCENARIOS):
        names.extend(principal.text for principal in grant.principals if principal.text not in names)
    return tuple(names)


def _narrows(clause: ConditionClause, operators: frozenset[str]) -> bool:
    """Whether the clause pins the caller down: every value must name concrete accounts, organizations or ARNs."""
    if (
        clause.key_lower not in NARROWING_KEYS
        or clause.base_operator not in operators
        or clause.if_exists
        or clause.set_qualifier == "forallvalues"
        or clause.has_variable
        or not clause.values
    ):
        return False
    return all(_narrowing_value(clause.key_lower, value) for value in clause.values)


_EXACT_VALUE_KEYS = frozenset(
    key.lower() for key in ("aws:PrincipalAccount", "aws:SourceAccount", "aws:PrincipalOrgID", "aws:SourceOrgID")
)
_ARN_KEYS = frozenset(key.lower() for key in ("aws:PrincipalArn", "aws:SourceArn"))
_ORG_PATH_KEYS = frozenset(key.lower() for key in ("aws:PrincipalOrgPaths", "aws:SourceOrgPaths"))
_ORG_PATH_PREFIX_RE = re.compile(r"^o-[a-z0-9]+/r-[a-z0-9]+(/|$)")


def _narrowing_value(key_lower: str, value: str) -> bool:
    if key_lower in _EXACT_VALUE_KEYS:
        return bool(value) and "*" not in value and "?" not in value
    if key_lower in _ARN_KEYS:
        return account_of_arn(value) is not None
    if key_lower in _ORG_PATH_KEYS:
        return _ORG_PATH_PREFIX_RE.match(value) is not None
    # aws:userid: "<unique ID or account>:<session>"; the part naming the caller must be exact.
    caller = value.split(":", 1)[0]
    return bool(caller) and "*" not in caller and "?" not in caller


def _deny_narrows_wildcard(statement: Statement) -> bool:
    """A Deny on everyone whose only conditions say "caller is not one of ours" narrows a "*" trust."""
    return (
        not statement.is_allow
        and statement.grants_assume_role
        and any(principal.is_wildcard for principal in statement.principals or ())
        and bool(statement.conditions)
        and all(_narrows(clause, _NEGATIVE_MATCH_OPERATORS) for clause in statement.conditions)
    )


def _violation(
    grant: ExposedGrant, code: str, missing: str, problem: str, fixed_condition: dict[str, Any]
) -> Finding:
    statement = grant.statement
    principal_names = _principal_names(grant.principals)
    requests = " and ".join([scenario.description for scenario in grant.scenarios])
    deny_note = ""
    if grant.uncovering_denies:
        listed = grant.uncovering_denies[:MAX_LISTED_DENIES]
        labels = ", ".join(deny.label for deny in listed)
        more = len(grant.uncovering_denies) - len(listed)
        if more:
            labels += f" and {more} more"
        deny_note = f" The Deny in {labels} does not certainly apply to such a request."
    message = (
        f"{statement.title} lets {principal_names} assume this role {missing}: {requests} "
        f"{'is' if len(grant.scenarios) == 1 else 'are'} allowed; {problem}.{deny_note} "
        f"Set the statement's Condition to {_json(fixed_condition)}."
    )
    return finding(
        code,
        message,
        {"statement_index": statement.index, "Condition": fixed_condition},
        statement_index=statement.index,
        sid=statement.sid,
        principals=tuple([principal.text for principal in grant.principals]),
    )


def _clauses_problem(grant: ExposedGrant, keys: frozenset[str], what: str) -> str:
    clauses = [clause for clause in grant.statement.conditions if clause.key_lower in keys]
    if not clauses:
        return f"the statement has no {what} condition"
    passing = [
        render_clause(clause)
        for clause in clauses
        if any(clause_truth(clause, scenario.context) is not False for scenario in grant.scenarios)
    ]
    return f"its {what} condition {', '.join(passing)} does not require {what}, since it holds for that request"


def _fixed_condition(
    raw_condition: dict[str, Any], replaced_keys: frozenset[str], required: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The statement's Condition with clauses on replaced_keys dropped and the required clause added; External ID
    values shown as REDACTED."""
    fixed: dict[str, Any] = {}
    for operator, keys in raw_condition.items():
        kept = {
            key: REDACTED if key.lower() in EXTERNAL_ID_KEYS else value
            for key, value in keys.items()
            if key.lower() not in replaced_keys
        }
        if kept:
            fixed[operator] = kept
    for operator, keys in required.items():
        fixed[operator] = {**fixed.get(operator, {}), **keys}
    return fixed


def _json(value: object) -> str:
    return json.dumps(value)


def render_clause(clause: ConditionClause) -> str:
    """The clause as a message quotes it, External ID values shown as REDACTED."""
    if clause.key_lower in EXTERNAL_ID_KEYS:
        shown: object = REDACTED
    else:
        shown = clause.values[0] if len(clause.values) == 1 else list(clause.values)
    return f"{clause.operator} {_json({clause.key: shown})}"


def _principal_names(principals: Iterable[Principal]) -> str:
    return ", ".join([principal.text for principal in principals])
