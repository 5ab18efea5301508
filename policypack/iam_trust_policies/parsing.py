"""A loaded policy document to the model (model.py), with the statement-level rules IAM refuses a policy on.

IAM's grammar (IAM User Guide, "Grammar of the IAM JSON policy language" and "IAM JSON policy elements"): Effect is
"Allow" or "Deny"; exactly one of Action/NotAction; a trust policy names exactly one of Principal/NotPrincipal and no
Resource/NotResource, an identity policy the reverse; an AWS principal is "*", a 12-digit account ID or the ARN of an
account root, IAM user or role, assumed-role session or federated user; a condition operator is one IAM defines.

Values not known yet (UNKNOWN, during preview) are tolerated: an unknown document or Statement list yields no
statements, an Allow holding an unknown is left out (it is checked at `up`), and any other statement holding one
becomes an undecided Deny (see Statement.undecided).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from typing import Any

from .conditions import NUMERIC_OPERATORS
from .globs import action_list_covers, has_policy_variable, unescaped
from .loading import check_sids, describe_type, document_cache_key, document_version, load_document, statement_list
from .model import (
    ASSUME_ROLE_ACTION,
    CURRENT_VERSION,
    UNKNOWN,
    WILDCARD_PRINCIPAL,
    ConditionClause,
    MalformedPolicyError,
    PolicyKind,
    Principal,
    PrincipalKind,
    Statement,
    contains_unknown,
    is_account_id,
)

# arn:<partition>:<service>::<account>:<resource>, for the principal shapes IAM accepts.
_PRINCIPAL_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>[0-9]{12}):(?P<resource>.+)$"
)
_IAM_NAME_RE = re.compile(r"^(?:user|role)/(?:[^/]+/)*(?P<name>[^/]+)$")
_ASSUMED_ROLE_RE = re.compile(r"^assumed-role/(?P<role>[^/]+)/(?P<session>[^/]+)$")
_FEDERATED_USER_RE = re.compile(r"^federated-user/(?P<name>[^/]+)$")

# Condition operators IAM defines (IAM User Guide, "IAM JSON policy elements: Condition operators"), lower-cased.
_OPERATORS = NUMERIC_OPERATORS | frozenset(
    {
        "stringequals",
        "stringnotequals",
        "stringequalsignorecase",
        "stringnotequalsignorecase",
        "stringlike",
        "stringnotlike",
        "dateequals",
        "datenotequals",
        "datelessthan",
        "datelessthanequals",
        "dategreaterthan",
        "dategreaterthanequals",
        "bool",
        "binaryequals",
        "ipaddress",
        "notipaddress",
        "arnequals",
        "arnlike",
        "arnnotequals",
        "arnnotlike",
    }
)
_SET_QUALIFIERS = ("forallvalues:", "foranyvalue:")


class _StatementError(ValueError):
    """A problem inside one statement, with its DOC- code; _parse_statement prefixes where it is."""

    def __init__(self, message: str, code: str = "DOC-005") -> None:
        super().__init__(message)
        self.code = code


# Every policy of the pack that reads a role's trust policy parses it: the same document several times in a row, once
# per policy. The outcome of the last few parses is kept (statements are frozen, so sharing them is safe); a stack
# holds many roles, so older entries go. pulumi_policy serves the engine from a pool of threads, so the kept parses
# are read and written under a lock (the parsing itself runs outside it).
_RECENT_PARSES_KEPT = 32
_recent_parses: OrderedDict[tuple[str, PolicyKind], tuple[Statement, ...] | MalformedPolicyError] = OrderedDict()
_recent_parses_lock = threading.Lock()


def parse_policy(document: object, kind: PolicyKind) -> list[Statement]:
    """The document's statements; MalformedPolicyError when IAM would refuse the document."""
    if document is UNKNOWN:
        return []
    text = document_cache_key(document)
    if text is None:
        return _parse_document(document, kind)
    key = (text, kind)
    with _recent_parses_lock:
        outcome = _recent_parses.get(key)
        if outcome is not None:
            _recent_parses.move_to_end(key)
    if outcome is None:
        try:
            outcome = tuple(_parse_document(document, kind))
        except MalformedPolicyError as error:
            outcome = error
        with _recent_parses_lock:
            _recent_parses[key] = outcome
            if len(_recent_parses) > _RECENT_PARSES_KEPT:
                _recent_parses.popitem(last=False)
    if isinstance(outcome, MalformedPolicyError):
        raise MalformedPolicyError(str(outcome), outcome.code)
    return list(outcome)


def _parse_document(document: object, kind: PolicyKind) -> list[Statement]:
    # JSON text is known as a whole; only an object from the engine can hold UNKNOWN markers.
    may_hold_unknowns = not isinstance(document, str) and contains_unknown(document)
    loaded = load_document(document)
    resolves_variables = document_version(loaded) == CURRENT_VERSION
    statements = statement_list(loaded)
    if statements is None:
        return []
    check_sids(statements)
    parsed: list[Statement] = []
    for index, statement in enumerate(statements):
        if not may_hold_unknowns or not contains_unknown(statement):
            parsed.append(_parse_statement(index, statement, kind, resolves_variables))
        elif not (isinstance(statement, dict) and statement.get("Effect") == "Allow"):
            parsed.append(_undecided_deny(index, statement, kind, resolves_variables))
    return parsed


@lru_cache(maxsize=8192)
def parse_principal(text: str) -> Principal:
    """An AWS principal; _StatementError when IAM would refuse it."""
    if text == "*":
        return WILDCARD_PRINCIPAL
    if is_account_id(text):
        return Principal(text=text, kind=PrincipalKind.ACCOUNT, account_id=text)
    if "*" in text or "?" in text:
        # IAM refuses partial wildcards in principals ("arn:aws:iam::*:root", ".../role/*"): only "*" alone.
        raise _StatementError(
            f'names the principal "{text}" with a wildcard; IAM accepts "*" on its own but no wildcard inside an '
            "account ID or ARN, so name each account or ARN exactly",
            "DOC-006",
        )
    match = _PRINCIPAL_ARN_RE.match(text)
    if match is not None:
        partition, service, account, resource = match.group("partition", "service", "account", "resource")
        if service == "iam":
            if resource == "root":
                return Principal(text=text, kind=PrincipalKind.ACCOUNT, account_id=account, partition=partition)
            named = _IAM_NAME_RE.match(resource)
            if named is not None:
                kind = PrincipalKind.USER if resource.startswith("user/") else PrincipalKind.ROLE
                return Principal(
                    text=text, kind=kind, account_id=account, partition=partition, name=named.group("name")
                )
        else:
            session = _ASSUMED_ROLE_RE.match(resource)
            if session is not None:
                return Principal(
                    text=text,
                    kind=PrincipalKind.ASSUMED_ROLE,
                    account_id=account,
                    partition=partition,
                    name=session.group("role"),
                    session=session.group("session"),
                )
            federated = _FEDERATED_USER_RE.match(resource)
            if federated is not None:
                return Principal(
                    text=text,
                    kind=PrincipalKind.FEDERATED_USER,
                    account_id=account,
                    partition=partition,
                    name=federated.group("name"),
                )
    raise _StatementError(
        f'names the principal "{text}", which is neither a 12-digit account ID nor the ARN of an account root, IAM '
        "user or role, assumed-role session or federated user; IAM refuses it as an invalid principal",
        "DOC-006",
    )


def _parse_statement(index: int, statement: object, kind: PolicyKind, resolves_variables: bool) -> Statement:
    try:
        return _parse_statement_body(index, statement, kind, resolves_variables)
    except _StatementError as error:
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        where = f'statement "{sid}" (index {index})' if isinstance(sid, str) and sid else f"statement index {index}"
        raise MalformedPolicyError(f"{where} {error}", error.code) from None


def _parse_statement_body(index: int, statement: object, kind: PolicyKind, resolves_variables: bool) -> Statement:
    if not isinstance(statement, dict):
        raise _StatementError(f"must be an object, not {describe_type(statement)}")
    sid = statement.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _StatementError("has a Sid that is not a string")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _StatementError(f'has Effect {json.dumps(effect)}; it must be "Allow" or "Deny"')

    action = statement.get("Action")
    not_action_patterns: tuple[str, ...] | None = None
    if type(action) is str and "NotAction" not in statement:
        # The usual shape, one action string, decided by one cached lookup.
        action_patterns, covers_assume_role = _single_action_spec(action)
    else:
        action_patterns, not_action_patterns = _exactly_one(statement, "Action", "NotAction")
        if action_patterns is not None:
            action_patterns, covers_assume_role = _action_spec(action_patterns, False)
        else:
            not_action_patterns, covers_assume_role = _action_spec(not_action_patterns or (), True)
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    resource_patterns: tuple[str, ...] | None = None
    not_resource_patterns: tuple[str, ...] | None = None
    if kind is PolicyKind.TRUST:
        _refuse_elements(statement, ("Resource", "NotResource"), "a role trust policy applies to the role itself")
        principal_block = statement.get("Principal")
        if (principal_block is None) == ("NotPrincipal" not in statement):
            raise _StatementError("must have exactly one of Principal and NotPrincipal")
        if principal_block is not None:
            principals = _parse_principal_block(principal_block, "Principal")
        else:
            not_principals = _parse_principal_block(statement["NotPrincipal"], "NotPrincipal")
    else:
        _refuse_elements(statement, ("Principal", "NotPrincipal"), "an identity policy applies to its holder")
        resource_patterns, not_resource_patterns = _exactly_one(statement, "Resource", "NotResource")

    raw_condition = statement.get("Condition")
    if raw_condition is None:
        raw_condition = {}
    # An empty Condition object has no clauses; anything else falsy ([], "", 0) still reaches the type check.
    conditions = () if raw_condition == {} else _parse_conditions(raw_condition, resolves_variables)
    return Statement(
        index=index,
        sid=sid or None,
        is_allow=effect == "Allow",
        principals=principals,
        not_principals=not_principals,
        action_patterns=action_patterns,
        not_action_patterns=not_action_patterns,
        resource_patterns=resource_patterns,
        not_resource_patterns=not_resource_patterns,
        conditions=conditions,
        raw_condition=raw_condition,
        grants_assume_role=covers_assume_role,
    )


def _refuse_elements(statement: dict[str, Any], elements: tuple[str, str], why: str) -> None:
    """IAM refuses a statement holding an element its kind of policy does not have."""
    for element in elements:
        if element in statement:
            raise _StatementError(
                f"has a {element} element; {why}, so IAM refuses it (prohibited field {element})", "DOC-008"
            )


@lru_cache(maxsize=4096)
def _single_action_spec(action: str) -> tuple[tuple[str, ...], bool]:
    return _action_spec((action,), False)


@lru_cache(maxsize=4096)
def _action_spec(patterns: tuple[str, ...], negated: bool) -> tuple[tuple[str, ...], bool]:
    """Lower-cased patterns, and whether Action (or NotAction, when negated) covers sts:AssumeRole."""
    lowered = tuple(pattern.lower() for pattern in patterns)
    if negated:
        return lowered, action_list_covers(None, lowered, ASSUME_ROLE_ACTION)
    return lowered, action_list_covers(lowered, None, ASSUME_ROLE_ACTION)


def _exactly_one(
    statement: dict[str, Any], name: str, negated_name: str
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    plain = statement.get(name)
    if (plain is None) == (negated_name not in statement):
        raise _StatementError(f"must have exactly one of {name} and {negated_name}")
    if plain is not None:
        return _string_list(plain, name), None
    return None, _string_list(statement[negated_name], negated_name)


def _string_list(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                break
        else:
            return tuple(value)
    raise _StatementError(f"{where} must be a string or a list of strings")


def _principal_names(value: object, where: str) -> tuple[str, ...]:
    """A principal type's names. IAM's grammar makes quotation marks optional for numbers ("Grammar of the IAM JSON
    policy language"), so an account ID written as a JSON number (as YAML writes an unquoted one) is its digits."""
    items = value if isinstance(value, list) else [value]
    if any(type(item) is int for item in items):
        return _string_list([str(item) if type(item) is int else item for item in items], where)
    return _string_list(value, where)


def _parse_principal_block(block: object, element: str) -> tuple[Principal, ...]:
    """The AWS principals of a Principal/NotPrincipal block (Service, Federated and CanonicalUser principals are not
    AWS account identities and are left out)."""
    if type(block) is dict and len(block) == 1:
        # The usual shape, one principal type naming one principal, decided by one cached lookup.
        for principal_type, names in block.items():
            if type(names) is str:
                return _single_principal_block(element, principal_type, names)
    if block == "*":
        return (WILDCARD_PRINCIPAL,)
    if not isinstance(block, dict):
        raise _StatementError(f'{element} must be "*" or an object such as {{"AWS": "<account ID or ARN>"}}')
    principals: list[Principal] = []
    for principal_type, names in block.items():
        name_list = _principal_names(names, f"{element} {principal_type}")
        if principal_type.upper() == "AWS":
            try:
                principals.extend(parse_principal(name) for name in name_list)
            except _StatementError as error:
                raise _StatementError(f"{element} {principal_type} {error}", error.code) from None
    return tuple(principals)


@lru_cache(maxsize=8192)
def _single_principal_block(element: str, principal_type: str, name: str) -> tuple[Principal, ...]:
    if principal_type.upper() != "AWS":
        return ()
    try:
        return (parse_principal(name),)
    except _StatementError as error:
        raise _StatementError(f"{element} {principal_type} {error}", error.code) from None


def _parse_conditions(raw_condition: object, resolves_variables: bool) -> tuple[ConditionClause, ...]:
    if not isinstance(raw_condition, dict):
        raise _StatementError("Condition must be an object", "DOC-007")
    clauses: list[ConditionClause] = []
    for operator, keys in raw_condition.items():
        if not isinstance(keys, dict):
            raise _StatementError(f"Condition operator {operator} must map condition keys to values", "DOC-007")
        for key, raw_values in keys.items():
            if type(raw_values) is str:
                clauses.append(_single_value_clause(operator, key, raw_values, resolves_variables))
            else:
                values = _condition_values(raw_values, operator, key)
                clauses.append(_condition_clause(operator, key, values, resolves_variables))
    return tuple(clauses)


@lru_cache(maxsize=8192)
def _single_value_clause(operator: str, key: str, value: str, resolves_variables: bool) -> ConditionClause:
    # The usual clause names one string; looking it up by that string spares building and hashing a values tuple.
    return _condition_clause(operator, key, (value,), resolves_variables)


@lru_cache(maxsize=8192)
def _condition_clause(operator: str, key: str, values: tuple[str, ...], resolves_variables: bool) -> ConditionClause:
    base = operator.lower()
    set_qualifier = None
    for qualifier in _SET_QUALIFIERS:
        if base.startswith(qualifier):
            set_qualifier = qualifier[:-1]
            base = base[len(qualifier) :]
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    if not (base in _OPERATORS or (base == "null" and not if_exists)):
        raise _StatementError(
            f'has the condition operator "{operator}", which IAM does not define (IfExists applies to every '
            "operator but Null), so IAM refuses the document",
            "DOC-007",
        )
    if resolves_variables:
        variable_values = tuple(value for value in values if has_policy_variable(value))
        patterns = tuple(value for value in values if value not in variable_values) if variable_values else values
        plain_values = tuple(unescaped(value) for value in patterns)
    else:
        # Without Version 2012-10-17, "${...}" is literal text: "$" is escaped for the pattern matcher.
        variable_values = ()
        plain_values = values
        patterns = tuple(value.replace("$", "${$}") for value in values)
    return ConditionClause(
        operator=operator,
        base_operator=base,
        if_exists=if_exists,
        set_qualifier=set_qualifier,
        key=key,
        key_lower=key.lower(),
        values=values,
        variable_values=variable_values,
        plain_values=plain_values,
        patterns=patterns,
    )


def _condition_values(raw_values: object, operator: str, key: str) -> tuple[str, ...]:
    values = raw_values if isinstance(raw_values, list) else [raw_values]
    normalized: list[str] = []
    for value in values:
        if isinstance(value, bool):
            normalized.append("true" if value else "false")
        elif isinstance(value, str):
            normalized.append(value)
        elif isinstance(value, int | float):
            normalized.append(json.dumps(value))
        else:
            raise _StatementError(f"Condition {operator} {key} values must be strings, numbers or booleans", "DOC-007")
    return tuple(normalized)


# Stands for a condition whose key or values are not known yet: no request context decides it.
_UNDECIDED_CLAUSE = ConditionClause(
    operator="Unknown",
    base_operator="unknown",
    if_exists=False,
    set_qualifier=None,
    key="unknown",
    key_lower="\x00unknown",
    values=(),
    variable_values=("\x00unknown",),
    plain_values=(),
    patterns=(),
)


def _undecided_deny(index: int, statement: object, kind: PolicyKind, resolves_variables: bool) -> Statement:
    """A statement holding unknowns as the widest Deny it could turn out to be."""
    known: dict[str, Any] = {"Effect": "Deny"}
    undecided_conditions = False
    parsed: Statement | None = None
    if isinstance(statement, dict):
        sid = statement.get("Sid")
        if isinstance(sid, str):
            known["Sid"] = sid
        elements = [("Action", "NotAction", "*")]
        if kind is PolicyKind.TRUST:
            elements.append(("Principal", "NotPrincipal", "*"))
        else:
            elements.append(("Resource", "NotResource", "*"))
        for element, negated, anything in elements:
            for name in (element, negated):
                if name in statement:
                    value = statement[name]
                    if contains_unknown(value):
                        known[element] = anything
                    else:
                        known[name] = value
        condition = statement.get("Condition")
        if condition is UNKNOWN or (condition is not None and not isinstance(condition, dict)):
            undecided_conditions = True
        elif condition:
            known_condition: dict[str, Any] = {}
            for operator, keys in condition.items():
                if not isinstance(keys, dict):
                    undecided_conditions = True
                    continue
                for key, values in keys.items():
                    if contains_unknown(values):
                        undecided_conditions = True
                    else:
                        known_condition.setdefault(operator, {})[key] = values
            known["Condition"] = known_condition
        try:
            parsed = _parse_statement_body(index, known, kind, resolves_variables)
        except _StatementError:
            parsed = None
    if parsed is None:
        # Nothing usable is known: it could deny anything.
        return Statement(
            index=index,
            sid=None,
            is_allow=False,
            principals=(WILDCARD_PRINCIPAL,) if kind is PolicyKind.TRUST else None,
            not_principals=None,
            action_patterns=("*",),
            not_action_patterns=None,
            resource_patterns=("*",) if kind is PolicyKind.IDENTITY else None,
            not_resource_patterns=None,
            conditions=(_UNDECIDED_CLAUSE,),
            raw_condition={},
            grants_assume_role=True,
            undecided=True,
        )
    conditions = (*parsed.conditions, _UNDECIDED_CLAUSE) if undecided_conditions else parsed.conditions
    return replace(parsed, conditions=conditions, undecided=True)
