"""Who outside a role's own accounts can assume it, and under which requests: the decision the trust checks share.

Method: a request that matters (say, "no MFA") is a scenario fixing some condition keys. Each Allow statement is tried
against concrete witness requests: the callers its principals admit (callers.py), the scenario's keys, and for keys
that more than one clause tests, every value the document compares them with (plus one it never names and absence),
so that clauses on one key are judged together. Keys still open could hold anything: an Allow lets a request in when
its conditions are not definitely false (the caller controls the open keys); a Deny only protects when its principal
and action cover the request and its conditions are definitely true. A request that carries a source identity or
session tags also needs sts:SetSourceIdentity or sts:TagSession allowed by the trust (IAM User Guide, "Pass session tags
in AWS STS" and "Monitor and control actions taken with assumed roles"), so those are tried both ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from .callers import (
    CALLER_KEYS,
    FRESH,
    PRINCIPAL_ACCOUNT_KEY,
    PRINCIPAL_ARN_KEY,
    USERID_KEY,
    USERNAME_KEY,
    Caller,
    Witnesses,
    callers_admitted,
    principal_admits,
    witnesses,
)
from .conditions import NUMERIC_OPERATORS, RequestContext, ShapedValue, conditions_truth, variable_keys
from .globs import action_list_covers, pattern_instances
from .model import (
    ASSUME_ROLE_ACTION,
    SET_SOURCE_IDENTITY_ACTION,
    TAG_SESSION_ACTION,
    WILDCARD_PRINCIPAL,
    ConditionClause,
    Principal,
    PrincipalKind,
    Statement,
    account_of_arn,
)

SOURCE_IDENTITY_KEYS = frozenset({"aws:sourceidentity", "sts:sourceidentity"})
_TAG_KEYS = frozenset({"aws:tagkeys", "sts:transitivetagkeys"})
_REQUEST_TAG_PREFIX = "aws:requesttag/"
# Beyond this many witness requests per caller and scenario, open keys stay open (sound, less exact).
MAX_KEY_COMBINATIONS = 64


# Compared by identity: scenarios are module constants of the checks.
@dataclass(frozen=True, eq=False)
class RequestScenario:
    description: str
    context: RequestContext


@dataclass(frozen=True)
class ExposedGrant:
    statement: Statement
    principals: tuple[Principal, ...]
    scenarios: tuple[RequestScenario, ...]
    # Conditional Deny statements that cover an admitted caller by principal and action but do not certainly apply.
    uncovering_denies: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class _Request:
    scenario_index: int
    caller: Caller | None
    context: RequestContext
    needs_source_identity: bool
    needs_tag_session: bool


def exposed_grants(
    statements: list[Statement],
    own_account_ids: frozenset[str],
    scenarios: tuple[RequestScenario, ...],
    principal_filter: frozenset[str] | None = None,
) -> list[ExposedGrant]:
    """Allow statements letting a caller outside own_account_ids assume the role in one of the scenarios.

    principal_filter, when given, keeps only principals of those accounts (used for third parties). A grant that an
    undecided Deny (one holding values not known yet) might cover is not reported: it is checked again at `up`.
    """
    allows = [statement for statement in statements if statement.is_allow]
    denies = [statement for statement in statements if not statement.is_allow]
    assume_role_denies = [deny for deny in denies if deny.grants_assume_role]
    clauses = [clause for statement in statements for clause in statement.conditions]
    clause_keys = {clause.key_lower for clause in clauses}
    if not assume_role_denies and not clause_keys & _PLAN_KEYS and _statements_independent(allows, scenarios):
        return _exposed_without_interplay(allows, own_account_ids, scenarios, principal_filter)
    source_identity = bool(clause_keys & SOURCE_IDENTITY_KEYS)
    tags = bool(clause_keys & _TAG_KEYS) or any(key.startswith(_REQUEST_TAG_PREFIX) for key in clause_keys)
    # Callers matter only when something tells them apart: a caller key tested (directly, or as a variable in a
    # clause whose key the request fixes), a companion permission, or a Deny naming some of a principal's callers.
    # Otherwise the principal stands for all its callers.
    decided_keys = _scenario_keys(scenarios) | CALLER_KEYS
    every_caller = (
        bool(clause_keys & CALLER_KEYS)
        or source_identity
        or tags
        or any(
            key in CALLER_KEYS
            for clause in clauses
            if clause.variable_values and clause.key_lower in decided_keys
            for value in clause.variable_values
            for key in variable_keys(value)
        )
    )
    by_caller = every_caller or any(
        _splits(deny, principal)
        for deny in assume_role_denies
        for allow in allows
        for principal in allow.effective_principals
    )
    found = _witnesses(statements, clauses) if by_caller else None
    without_source_identity, without_tags = _family_absent_keys(clause_keys, source_identity, tags)
    shared_keys: set[str] = set()
    if len(clause_keys) != len(clauses):
        counts: dict[str, int] = {}
        for clause in clauses:
            counts[clause.key_lower] = counts.get(clause.key_lower, 0) + 1
        shared_keys = {key for key, count in counts.items() if count > 1 and not (by_caller and key in CALLER_KEYS)}
    extensions = [
        _key_witnesses(sorted(shared_keys - set(scenario.context)), clauses) if shared_keys else [{}]
        for scenario in scenarios
    ]
    flag_choices = [
        (carries_source_identity, carries_tags)
        for carries_source_identity in ((False, True) if source_identity else (False,))
        for carries_tags in ((False, True) if tags else (False,))
    ]
    families = source_identity or tags
    requests_by_caller: dict[Caller | None, list[_Request]] = {}

    def requests_for(caller: Caller | None) -> list[_Request]:
        requests = requests_by_caller.get(caller)
        if requests is None:
            caller_context = caller.context() if caller is not None else {}
            requests = []
            for index, scenario in enumerate(scenarios):
                for carries_source_identity, carries_tags in flag_choices:
                    base: dict[str, str | ShapedValue | None] = {**caller_context}
                    if not carries_source_identity:
                        base.update(without_source_identity)
                    if not carries_tags:
                        base.update(without_tags)
                    base.update(scenario.context)
                    for extension in extensions[index]:
                        if families and _contradicts(extension, base):
                            continue
                        context = {**base, **extension} if extension else base
                        requests.append(_Request(index, caller, context, carries_source_identity, carries_tags))
            requests_by_caller[caller] = requests
        return requests

    deny_results: dict[tuple[int, str], tuple[bool, tuple[Statement, ...]]] = {}
    splits: dict[str, bool] = {}

    def denied(request: _Request, principal: Principal) -> tuple[bool, tuple[Statement, ...]]:
        key = (id(request), principal.text)
        result = deny_results.get(key)
        if result is None:
            if request.caller is None:
                result = _denied_for_principal(assume_role_denies, principal, request.context)
            else:
                result = _denied(assume_role_denies, request.caller, request.context, ASSUME_ROLE_ACTION)
            deny_results[key] = result
        return result

    def enumerates_callers(principal: Principal) -> bool:
        if found is None:
            return False
        if every_caller:
            return True
        result = splits.get(principal.text)
        if result is None:
            result = splits[principal.text] = any(_splits(deny, principal) for deny in assume_role_denies)
        return result

    grants: list[ExposedGrant] = []
    for statement, principals in _outside_grants(allows, own_account_ids, principal_filter):
        conditions = statement.conditions
        exposed_principals: dict[str, Principal] = {}
        exposed_scenarios: set[int] = set()
        missed: dict[Statement, None] = {}
        for principal in principals:
            callers: Iterable[Caller | None] = (
                callers_admitted(principal, found, own_account_ids)
                if found is not None and enumerates_callers(principal)
                else (None,)
            )
            for caller in callers:
                for request in requests_for(caller):
                    if conditions and conditions_truth(conditions, request.context) is False:
                        continue
                    is_denied, conditional = denied(request, principal) if assume_role_denies else (False, ())
                    if is_denied:
                        continue
                    if caller is not None and (
                        (
                            request.needs_source_identity
                            and not _permitted(allows, denies, caller, request.context, SET_SOURCE_IDENTITY_ACTION)
                        )
                        or (
                            request.needs_tag_session
                            and not _permitted(allows, denies, caller, request.context, TAG_SESSION_ACTION)
                        )
                    ):
                        continue
                    exposed_principals.setdefault(principal.text, principal)
                    exposed_scenarios.add(request.scenario_index)
                    for deny in conditional:
                        missed[deny] = None
        if exposed_principals:
            grants.append(
                ExposedGrant(
                    statement,
                    tuple(exposed_principals.values()),
                    tuple(scenario for index, scenario in enumerate(scenarios) if index in exposed_scenarios),
                    tuple(sorted(missed, key=_statement_index)),
                )
            )
    return grants


# Keys whose presence in a document needs the full method: the caller's keys and the companion permissions' keys.
_PLAN_KEYS = CALLER_KEYS | SOURCE_IDENTITY_KEYS | _TAG_KEYS


def _exposed_without_interplay(
    allows: list[Statement],
    own_account_ids: frozenset[str],
    scenarios: tuple[RequestScenario, ...],
    principal_filter: frozenset[str] | None,
) -> list[ExposedGrant]:
    """exposed_grants for a document without Deny statements, caller keys, companion keys, policy variables or keys
    tested twice: each Allow is judged on its own, once per scenario, for all its principals."""
    grants: list[ExposedGrant] = []
    for statement, principals in _outside_grants(allows, own_account_ids, principal_filter):
        exposed = tuple(
            scenario for scenario in scenarios if conditions_truth(statement.conditions, scenario.context) is not False
        )
        if exposed:
            grants.append(ExposedGrant(statement, tuple({p.text: p for p in principals}.values()), exposed, ()))
    return grants


def _outside_grants(
    allows: list[Statement], own_account_ids: frozenset[str], principal_filter: frozenset[str] | None
) -> Iterator[tuple[Statement, tuple[Principal, ...]]]:
    """Each Allow of sts:AssumeRole with its principals outside the own accounts (of the filter's accounts only,
    when one is given); Allows that name none are left out."""
    for statement in allows:
        if not statement.grants_assume_role:
            continue
        principals = tuple(
            principal
            for principal in statement.effective_principals
            if principal.is_outside(own_account_ids)
            and (principal_filter is None or principal.account_id in principal_filter)
        )
        if principals:
            yield statement, principals


def _statements_independent(allows: list[Statement], scenarios: tuple[RequestScenario, ...]) -> bool:
    """Whether, with no Deny to weigh, each Allow can be judged clause by clause: no key the scenarios leave open is
    tested twice in one statement, and no variable or tag key sits in a clause the scenarios decide."""
    decided = _scenario_keys(scenarios)
    for statement in allows:
        open_keys: set[str] = set()
        for clause in statement.conditions:
            key = clause.key_lower
            if key in decided:
                if clause.variable_values:
                    return False
            elif key in open_keys or key.startswith(_REQUEST_TAG_PREFIX):
                return False
            else:
                open_keys.add(key)
    return True


@lru_cache(maxsize=64)
def _scenario_keys(scenarios: tuple[RequestScenario, ...]) -> frozenset[str]:
    return frozenset(key for scenario in scenarios for key in scenario.context)


def _statement_index(statement: Statement) -> int:
    return statement.index


def _witnesses(statements: list[Statement], clauses: list[ConditionClause]) -> Witnesses:
    principals = [
        principal
        for statement in statements
        for principal in (*(statement.principals or ()), *(statement.not_principals or ()))
    ]
    arn_values = [
        value for clause in clauses if clause.key_lower == PRINCIPAL_ARN_KEY for value in clause.values
    ]
    account_values = [
        value for clause in clauses if clause.key_lower == PRINCIPAL_ACCOUNT_KEY for value in clause.values
    ]
    account_values += [account for value in arn_values if (account := account_of_arn(value)) is not None]
    user_names = [value for clause in clauses if clause.key_lower == USERNAME_KEY for value in clause.plain_values]
    # A federated user's aws:userid is "<account>:<name>": the accounts and names such values spell are witnesses.
    federated_ids = [value for clause in clauses if clause.key_lower == USERID_KEY for value in clause.patterns]
    return witnesses(principals, arn_values, account_values, user_names, federated_ids)


def _family_absent_keys(tested_keys: set[str], source_identity: bool, tags: bool) -> tuple[dict, dict]:
    """The keys a request without a source identity, and one without session tags, does not carry."""
    without_source_identity = {key: None for key in SOURCE_IDENTITY_KEYS} if source_identity else {}
    without_tags: dict[str, None] = {}
    if tags:
        without_tags = {key: None for key in _TAG_KEYS}
        without_tags.update({key: None for key in tested_keys if key.startswith(_REQUEST_TAG_PREFIX)})
    return without_source_identity, without_tags


def _contradicts(extension: dict[str, str | None], base: RequestContext) -> bool:
    """Whether a witness extension gives a value to a key the request leaves out (no source identity, no tags)."""
    return any(base.get(key, FRESH) is None and value is not None for key, value in extension.items())


def _key_witnesses(shared: list[str], clauses: list[ConditionClause]) -> list[dict[str, str | None]]:
    """Witness values for each key more than one clause tests and the request does not fix (shared), as the
    extensions of a request's context (one empty extension when there is none)."""
    if not shared:
        return [{}]
    total = 1
    kept: list[tuple[str, tuple[str | None, ...]]] = []
    for key, values in sorted(((key, _key_witness_values(key, clauses)) for key in shared), key=lambda p: len(p[1])):
        if total * len(values) > MAX_KEY_COMBINATIONS:
            continue
        total *= len(values)
        kept.append((key, values))
    keys = [key for key, _ in kept]
    return [dict(zip(keys, combination, strict=True)) for combination in product(*(values for _, values in kept))]


def _key_witness_values(key: str, clauses: list[ConditionClause]) -> tuple[str | None, ...]:
    values: dict[str | None, None] = {None: None, FRESH: None}
    for clause in clauses:
        if clause.key_lower != key:
            continue
        for value in clause.plain_values:
            values[value] = None
            if clause.base_operator in NUMERIC_OPERATORS:
                try:
                    number = float(value)
                except ValueError:
                    continue
                values[repr(number - 0.5)] = None
                values[repr(number + 0.5)] = None
        for pattern in clause.patterns:
            # The shortest and a longer string the pattern matches: together they tell apart patterns that differ
            # in how much a "*" must cover.
            values.update(dict.fromkeys(pattern_instances(pattern, FRESH)))
        if clause.base_operator == "bool":
            values["true"] = values["false"] = None
    return tuple(values)


def _splits(deny: Statement, principal: Principal) -> bool:
    """Whether the Deny's principals cover some but perhaps not all callers the (Allow's) principal admits."""
    if deny.not_principals is not None:
        return True
    return _deny_relation(deny, principal) is None


def _deny_relation(deny: Statement, principal: Principal) -> bool | None:
    """True when the Deny's principals cover every caller the principal admits, False when none, None when some."""
    relation: bool | None = False
    for denied in deny.principals or ():
        if denied.kind is PrincipalKind.ANYONE or denied.text == principal.text:
            return True
        if principal.kind is PrincipalKind.ANYONE:
            relation = None
        elif denied.account_id == principal.account_id:
            if denied.kind is PrincipalKind.ACCOUNT:
                return True
            if principal.kind is PrincipalKind.ACCOUNT or principal.kind is not denied.kind:
                relation = None
    return relation


def _denied_for_principal(
    denies: list[Statement], principal: Principal, context: RequestContext
) -> tuple[bool, tuple[Statement, ...]]:
    """_denied for all callers of a principal that no Deny tells apart (the Denies cover sts:AssumeRole)."""
    covering = [
        deny for deny in denies if deny.not_principals is None and _deny_relation(deny, principal) is True
    ]
    return _deny_outcome(covering, context)


def _covers_caller(statement: Statement, caller: Caller) -> bool:
    """Whether a statement's principals cover the caller."""
    if statement.not_principals is not None:
        # Everyone except the listed principals: covers the caller only if none of them could be the caller.
        return not any(
            excluded.is_wildcard or excluded.account_id is None or excluded.account_id == caller.account_id
            for excluded in statement.not_principals
        )
    for principal in statement.principals or ():
        if principal.kind is PrincipalKind.ANYONE:
            return True
        if principal_admits(principal, caller):
            return True
    return False


def _denied(
    denies: list[Statement], caller: Caller, context: RequestContext, action: str
) -> tuple[bool, tuple[Statement, ...]]:
    """Whether some Deny certainly (or, holding unknowns, possibly) covers the request, and the conditional Denies
    that cover it by principal and action but do not certainly apply."""
    covering = [deny for deny in denies if _covers_action(deny, action) and _covers_caller(deny, caller)]
    return _deny_outcome(covering, context)


def _deny_outcome(covering: list[Statement], context: RequestContext) -> tuple[bool, tuple[Statement, ...]]:
    """Of Denies covering a request by principal and action: whether one applies for certain (or, holding unknowns,
    possibly), else the conditional ones that do not certainly apply."""
    conditional: list[Statement] = []
    for deny in covering:
        truth = conditions_truth(deny.conditions, context)
        if truth is True or (deny.undecided and truth is not False):
            return True, ()
        if deny.conditions and not deny.undecided:
            conditional.append(deny)
    return False, tuple(conditional)


def _covers_action(statement: Statement, action: str) -> bool:
    if action == ASSUME_ROLE_ACTION:
        return statement.grants_assume_role
    return action_list_covers(statement.action_patterns, statement.not_action_patterns, action)


def _permitted(
    allows: list[Statement], denies: list[Statement], caller: Caller, context: RequestContext, action: str
) -> bool:
    """Whether the trust allows the caller a companion action (sts:SetSourceIdentity, sts:TagSession) in the same
    request."""
    if _denied(denies, caller, context, action)[0]:
        return False
    return any(
        _covers_action(allow, action)
        and (_covers_caller(allow, caller) or WILDCARD_PRINCIPAL in allow.effective_principals)
        and conditions_truth(allow.conditions, context) is not False
        for allow in allows
    )
