"""Who outside a role's own accounts can assume it, and under which requests: the trust-policy checks.

Method: a request that matters (say, "no MFA") is modelled as one or more request contexts that fix the relevant
condition keys and leave every other key open. An Allow statement lets a principal in when its conditions are not
definitely false in such a context (an attacker controls the open keys); a Deny statement only protects when its
principal and action cover the request and its conditions are definitely true there. Each context is checked on its
own, so two Deny statements that each cover one way of calling without MFA together protect the role.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .conditions import RequestContext, clause_truth, conditions_truth
from .documents import (
    ConditionClause,
    MalformedPolicyError,
    PolicyKind,
    Principal,
    Statement,
    parse_policy,
)

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

MFA_FIX_CLAUSE = {"Bool": {MFA_PRESENT_KEY: "true"}}
EXTERNAL_ID_FIX_CLAUSE = {"StringEquals": {EXTERNAL_ID_KEY: "<the External ID agreed with the third party>"}}
NARROWING_FIX_CLAUSE = {"StringEquals": {"aws:PrincipalOrgID": "<your organization ID, o-...>"}}


# Compared by identity: scenarios are the module's constants.
@dataclass(frozen=True, eq=False)
class RequestScenario:
    description: str
    context: RequestContext


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


@dataclass(frozen=True)
class TrustViolation:
    """One Allow statement (or the whole document, when malformed) that breaks a trust rule."""

    message: str
    statement_index: int | None = None
    sid: str | None = None
    principals: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExposedGrant:
    statement: Statement
    principals: tuple[Principal, ...]
    scenarios: tuple[RequestScenario, ...]
    uncovering_denies: tuple[Statement, ...]


def exposed_grants(
    statements: list[Statement],
    own_account_ids: frozenset[str],
    scenarios: tuple[RequestScenario, ...],
    principal_filter: frozenset[str] | None = None,
) -> list[ExposedGrant]:
    """Allow statements letting a principal outside own_account_ids assume the role in one of the scenarios.

    principal_filter, when given, keeps only principals of those accounts (used for third parties).
    """
    denies = [statement for statement in statements if not statement.is_allow and statement.grants_assume_role]
    # Per scenario, the Deny statements whose conditions certainly apply to such a request.
    active_denies = [
        [deny for deny in denies if conditions_truth(deny.conditions, scenario.context) is True]
        for scenario in scenarios
    ]
    grants: list[ExposedGrant] = []
    for statement in statements:
        if not statement.is_allow or not statement.grants_assume_role:
            continue
        principals = [
            principal
            for principal in statement.effective_principals
            if principal.is_outside(own_account_ids)
            and (principal_filter is None or principal.account_id in principal_filter)
        ]
        if not principals:
            continue
        exposed_principals: list[Principal] = []
        exposed_scenarios: list[RequestScenario] = []
        # Conditional Deny statements that do not apply to some request this statement lets through.
        missed_denies: list[Statement] = []
        for scenario, scenario_denies in zip(scenarios, active_denies, strict=True):
            if conditions_truth(statement.conditions, scenario.context) is False:
                continue
            for principal in principals:
                if scenario_denies and any(_deny_covers_principal(deny, principal) for deny in scenario_denies):
                    continue
                if principal not in exposed_principals:
                    exposed_principals.append(principal)
                if scenario not in exposed_scenarios:
                    exposed_scenarios.append(scenario)
                    missed_denies.extend(
                        deny
                        for deny in denies
                        if deny.conditions and deny not in scenario_denies and deny not in missed_denies
                    )
        if exposed_principals:
            grants.append(
                ExposedGrant(statement, tuple(exposed_principals), tuple(exposed_scenarios), tuple(missed_denies))
            )
    return grants


def _deny_covers_principal(deny: Statement, principal: Principal) -> bool:
    if deny.not_principals is not None:
        # Denies everyone except the listed principals: covers ours only if none of them could be ours.
        return not principal.is_wildcard and not any(
            excluded.is_wildcard or excluded.account_id is None or excluded.account_id == principal.account_id
            for excluded in deny.not_principals
        )
    for denied in deny.principals or ():
        if denied.is_wildcard:
            return True
        if principal.is_wildcard:
            continue
        if denied.text == principal.text:
            return True
        if denied.is_whole_account and denied.account_id is not None and denied.account_id == principal.account_id:
            return True
    return False


def mfa_violations(document: object, own_account_ids: frozenset[str]) -> list[TrustViolation]:
    """Violations of "every cross-account trust requires MFA" in a trust policy (dict or JSON string).

    Empty exactly when no principal outside own_account_ids (or anyone, for "*") could be allowed sts:AssumeRole in
    a request without MFA. A malformed document yields one violation saying what is wrong; this never raises.
    """
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError as error:
        return [TrustViolation(message=f"The role's trust policy is malformed: {error}.")]
    return [
        _violation(
            grant,
            "without MFA",
            _mfa_problem(grant),
            _fixed_condition(grant.statement.raw_condition, {MFA_PRESENT_KEY.lower(), MFA_AGE_KEY.lower()},
                             MFA_FIX_CLAUSE),
        )
        for grant in exposed_grants(statements, own_account_ids, NO_MFA_SCENARIOS)
    ]


def external_id_violations(
    document: object, own_account_ids: frozenset[str], third_party_account_ids: frozenset[str]
) -> list[TrustViolation]:
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
            "without an External ID",
            "a third party must present an sts:ExternalId so that others cannot use it as a confused deputy; "
            + _clauses_problem(grant, {EXTERNAL_ID_KEY.lower()}, "External ID"),
            _fixed_condition(grant.statement.raw_condition, {EXTERNAL_ID_KEY.lower()}, EXTERNAL_ID_FIX_CLAUSE),
        )
        for grant in grants
    ]


def open_trust_violations(document: object) -> list[TrustViolation]:
    """Allow statements trusting "*" (or NotPrincipal) for sts:AssumeRole with nothing narrowing the caller."""
    try:
        statements = parse_policy(document, PolicyKind.TRUST)
    except MalformedPolicyError:
        return []
    if any(_deny_narrows_wildcard(statement) for statement in statements):
        return []
    violations: list[TrustViolation] = []
    for statement in statements:
        if not statement.is_allow or not statement.grants_assume_role:
            continue
        if not any(principal.is_wildcard for principal in statement.effective_principals):
            continue
        if any(_narrows(clause, _POSITIVE_MATCH_OPERATORS) for clause in statement.conditions):
            continue
        fix = _fixed_condition(statement.raw_condition, set(), NARROWING_FIX_CLAUSE)
        violations.append(
            TrustViolation(
                message=(
                    f"{statement.title} trusts {_principal_names(statement.effective_principals)} to "
                    "call sts:AssumeRole with no condition narrowing the caller (aws:PrincipalAccount, "
                    "aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount, aws:SourceArn, ...), so any AWS "
                    f"account can try. Name the trusted accounts as principals, or set its Condition to {fix}."
                ),
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
    return (
        clause.key_lower in NARROWING_KEYS
        and clause.base_operator in operators
        and not clause.if_exists
        and clause.set_qualifier != "forallvalues"
        and bool(clause.values)
        and all(value.strip("*?") for value in clause.values)
    )


def _deny_narrows_wildcard(statement: Statement) -> bool:
    """A Deny on everyone whose only conditions say "caller is not one of ours" narrows a "*" trust."""
    return (
        not statement.is_allow
        and statement.grants_assume_role
        and any(principal.is_wildcard for principal in statement.principals or ())
        and bool(statement.conditions)
        and all(_narrows(clause, _NEGATIVE_MATCH_OPERATORS) for clause in statement.conditions)
    )


def _violation(grant: ExposedGrant, missing: str, problem: str, fixed_condition: str) -> TrustViolation:
    statement = grant.statement
    principal_names = _principal_names(grant.principals)
    requests = " and ".join(scenario.description for scenario in grant.scenarios)
    deny_note = ""
    if grant.uncovering_denies:
        labels = ", ".join(deny.label for deny in grant.uncovering_denies)
        deny_note = f" The Deny in {labels} does not certainly apply to such a request."
    message = (
        f"{statement.title} lets {principal_names} assume this role {missing}: {requests} "
        f"{'is' if len(grant.scenarios) == 1 else 'are'} allowed; {problem}.{deny_note} "
        f"Set the statement's Condition to {fixed_condition}."
    )
    return TrustViolation(
        message=message,
        statement_index=statement.index,
        sid=statement.sid,
        principals=tuple(principal.text for principal in grant.principals),
    )


def _mfa_problem(grant: ExposedGrant) -> str:
    return _clauses_problem(grant, {MFA_PRESENT_KEY.lower(), MFA_AGE_KEY.lower()}, "MFA")


def _clauses_problem(grant: ExposedGrant, keys: set[str], what: str) -> str:
    clauses = [clause for clause in grant.statement.conditions if clause.key_lower in keys]
    if not clauses:
        return f"the statement has no {what} condition"
    passing = [
        clause.render()
        for clause in clauses
        if any(clause_truth(clause, scenario.context) is not False for scenario in grant.scenarios)
    ]
    return f"its {what} condition {', '.join(passing)} does not require {what}, since it holds for that request"


def _fixed_condition(
    raw_condition: dict[str, Any], replaced_keys: set[str], required: dict[str, dict[str, str]]
) -> str:
    """The statement's Condition with clauses on replaced_keys dropped and the required clause added, as JSON."""
    fixed: dict[str, Any] = {}
    for operator, keys in raw_condition.items():
        kept = {key: value for key, value in keys.items() if key.lower() not in replaced_keys}
        if kept:
            fixed[operator] = kept
    for operator, keys in required.items():
        fixed[operator] = {**fixed.get(operator, {}), **keys}
    return json.dumps(fixed)


def _principal_names(principals: Iterable[Principal]) -> str:
    return ", ".join(principal.text for principal in principals)
