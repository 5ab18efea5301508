"""Parsing IAM policy documents into normalized statements, and IAM-style wildcard matching.

Pure: no Pulumi imports, so the analysis runs (and is tested) without an engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

ASSUME_ROLE_ACTION = "sts:assumerole"
_ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")


class Unknown:
    """Marks a value Pulumi cannot know yet (preview); the wiring substitutes it for the engine's sentinels."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()


def contains_unknown(value: object) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return False


class MalformedPolicyError(ValueError):
    """The document is not an IAM policy IAM would accept; the message says what is wrong."""


class PolicyKind(Enum):
    # Trust (resource-based) policies name a Principal; identity policies name a Resource instead.
    TRUST = "trust"
    IDENTITY = "identity"


def is_account_id(text: object) -> bool:
    return isinstance(text, str) and _ACCOUNT_ID_RE.match(text) is not None


def account_of_arn(arn: object) -> str | None:
    """The 12-digit account in an ARN of any partition, or None (not an ARN, or an account-less ARN)."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and is_account_id(parts[4]):
        return parts[4]
    return None


@dataclass(frozen=True, slots=True)
class Principal:
    """One AWS principal as a trust policy names it."""

    text: str
    account_id: str | None
    # "*" / {"AWS": "*"} / an Allow with NotPrincipal: anyone at all.
    is_wildcard: bool
    # A bare account ID or an account's :root ARN: every identity of that account the account delegates to.
    is_whole_account: bool

    def is_outside(self, own_account_ids: frozenset[str]) -> bool:
        return self.is_wildcard or self.account_id is None or self.account_id not in own_account_ids


WILDCARD_PRINCIPAL = Principal(text="*", account_id=None, is_wildcard=True, is_whole_account=False)


@lru_cache(maxsize=8192)
def parse_principal(text: str) -> Principal:
    if text == "*":
        return WILDCARD_PRINCIPAL
    if is_account_id(text):
        return Principal(text=text, account_id=text, is_wildcard=False, is_whole_account=True)
    account_id = account_of_arn(text)
    # A wildcard inside an ARN is not valid IAM; treating it as "anyone" errs towards flagging.
    is_wildcard = "*" in text or "?" in text
    is_root = account_id is not None and text.split(":", 5)[5] == "root"
    return Principal(text=text, account_id=account_id, is_wildcard=is_wildcard, is_whole_account=is_root)


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One operator/key pair of a Condition block, with its ORed values as strings."""

    operator: str
    # Lower-case operator without its ForAllValues:/ForAnyValue: qualifier and IfExists suffix.
    base_operator: str
    if_exists: bool
    set_qualifier: str | None
    key: str
    key_lower: str
    values: tuple[str, ...]

    def render(self) -> str:
        shown: object = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {json.dumps({self.key: shown})}"


# Compared by identity: two statements with the same text are still two statements.
@dataclass(eq=False, slots=True)
class Statement:
    index: int
    sid: str | None
    is_allow: bool
    # Exactly one of principals / not_principals is set for trust policies; both are None for identity policies.
    principals: tuple[Principal, ...] | None
    not_principals: tuple[Principal, ...] | None
    action_patterns: tuple[str, ...] | None
    not_action_patterns: tuple[str, ...] | None
    resource_patterns: tuple[str, ...] | None
    not_resource_patterns: tuple[str, ...] | None
    conditions: tuple[ConditionClause, ...]
    raw_condition: dict[str, Any]
    # Whether Action / NotAction covers sts:AssumeRole; every check asks, so it is decided once while parsing.
    grants_assume_role: bool

    @property
    def label(self) -> str:
        if self.sid:
            return f'statement "{self.sid}" (index {self.index})'
        return f"statement index {self.index}"

    @property
    def title(self) -> str:
        """The label at the start of a sentence."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def effective_principals(self) -> tuple[Principal, ...]:
        """Who the statement applies to; NotPrincipal means everyone but a few, so anyone."""
        if self.not_principals is not None:
            return (WILDCARD_PRINCIPAL,)
        return self.principals or ()


def glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


@lru_cache(maxsize=4096)
def _action_pattern_matches(pattern_lower: str, action_lower: str) -> bool:
    if "*" not in pattern_lower and "?" not in pattern_lower:
        return pattern_lower == action_lower
    return glob_regex(pattern_lower).fullmatch(action_lower) is not None


def action_list_covers(
    action_patterns: tuple[str, ...] | None, not_action_patterns: tuple[str, ...] | None, action_lower: str
) -> bool:
    """Whether Action (or NotAction: everything it does not name) covers the action, case-insensitively."""
    if action_patterns is not None:
        return any(_action_pattern_matches(pattern, action_lower) for pattern in action_patterns)
    if not_action_patterns is not None:
        return not any(_action_pattern_matches(pattern, action_lower) for pattern in not_action_patterns)
    return False


def load_document(document: object) -> dict[str, Any]:
    """A policy given as a dict or a JSON string, as a dict; anything else raises MalformedPolicyError."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            raise MalformedPolicyError(f"the policy document is not valid JSON ({_short(error)})") from None
    if not isinstance(document, dict):
        raise MalformedPolicyError(
            f"the policy document must be a JSON object, not {_describe_type(document)}"
        )
    return document


def parse_policy(document: object, kind: PolicyKind) -> list[Statement]:
    loaded = load_document(document)
    statements = loaded.get("Statement")
    if statements is None:
        raise MalformedPolicyError("the policy document has no Statement")
    if isinstance(statements, dict):
        statements = [statements]
    elif not isinstance(statements, list):
        raise MalformedPolicyError(f"Statement must be an object or a list, not {_describe_type(statements)}")
    return [_parse_statement(index, statement, kind) for index, statement in enumerate(statements)]


class _StatementError(ValueError):
    """A problem inside one statement; _parse_statement prefixes where it is, only when there is one."""


def _parse_statement(index: int, statement: object, kind: PolicyKind) -> Statement:
    try:
        return _parse_statement_body(index, statement, kind)
    except _StatementError as error:
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        where = f'statement "{sid}" (index {index})' if isinstance(sid, str) and sid else f"statement index {index}"
        raise MalformedPolicyError(f"{where} {error}") from None


def _parse_statement_body(index: int, statement: object, kind: PolicyKind) -> Statement:
    if not isinstance(statement, dict):
        raise _StatementError(f"must be an object, not {_describe_type(statement)}")
    sid = statement.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _StatementError("has a Sid that is not a string")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _StatementError(f'has Effect {json.dumps(effect)}; it must be "Allow" or "Deny"')

    action_patterns, not_action_patterns = _exactly_one(statement, "Action", "NotAction")
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    resource_patterns: tuple[str, ...] | None = None
    not_resource_patterns: tuple[str, ...] | None = None
    if kind is PolicyKind.TRUST:
        principal_block = statement.get("Principal")
        if (principal_block is None) == ("NotPrincipal" not in statement):
            raise _StatementError("must have exactly one of Principal and NotPrincipal")
        if principal_block is not None:
            principals = _parse_principal_block(principal_block, "Principal")
        else:
            not_principals = _parse_principal_block(statement["NotPrincipal"], "NotPrincipal")
    else:
        resource_patterns, not_resource_patterns = _exactly_one(statement, "Resource", "NotResource")

    raw_condition = statement.get("Condition")
    if raw_condition is None:
        raw_condition = {}
    conditions = _parse_conditions(raw_condition)
    if action_patterns is not None:
        action_patterns, covers_assume_role = _action_spec(action_patterns, False)
    else:
        not_action_patterns, covers_assume_role = _action_spec(not_action_patterns, True)
    return Statement(
        index,
        sid or None,
        effect == "Allow",
        principals,
        not_principals,
        action_patterns,
        not_action_patterns,
        resource_patterns,
        not_resource_patterns,
        conditions,
        raw_condition,
        covers_assume_role,
    )


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


def _string_list(value: object, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise _StatementError(f"{element} must be a string or a list of strings")


def _parse_principal_block(block: object, element: str) -> tuple[Principal, ...]:
    if block == "*":
        return (WILDCARD_PRINCIPAL,)
    if not isinstance(block, dict):
        raise _StatementError(f'{element} must be "*" or an object such as {{"AWS": "<account ID or ARN>"}}')
    principals: list[Principal] = []
    for principal_type, names in block.items():
        name_list = (names,) if isinstance(names, str) else _string_list(names, f"{element} {principal_type}")
        # Service, Federated and CanonicalUser principals are not AWS account identities.
        if principal_type == "AWS" or principal_type.upper() == "AWS":
            principals.extend(map(parse_principal, name_list))
    return tuple(principals)


_SET_QUALIFIERS = ("forallvalues:", "foranyvalue:")


def _parse_conditions(raw_condition: object) -> tuple[ConditionClause, ...]:
    if not isinstance(raw_condition, dict):
        raise _StatementError("Condition must be an object")
    if not raw_condition:
        return ()
    clauses: list[ConditionClause] = []
    for operator, keys in raw_condition.items():
        if not isinstance(keys, dict):
            raise _StatementError(f"Condition operator {operator} must map condition keys to values")
        for key, raw_values in keys.items():
            values = (raw_values,) if isinstance(raw_values, str) else _condition_values(raw_values, operator, key)
            clauses.append(_condition_clause(operator, key, values))
    return tuple(clauses)


@lru_cache(maxsize=8192)
def _condition_clause(operator: str, key: str, values: tuple[str, ...]) -> ConditionClause:
    base = operator.lower()
    set_qualifier = None
    for qualifier in _SET_QUALIFIERS:
        if base.startswith(qualifier):
            set_qualifier = qualifier[:-1]
            base = base[len(qualifier) :]
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    return ConditionClause(
        operator=operator,
        base_operator=base,
        if_exists=if_exists,
        set_qualifier=set_qualifier,
        key=key,
        key_lower=key.lower(),
        values=values,
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
            raise _StatementError(f"Condition {operator} {key} values must be strings, numbers or booleans")
    return tuple(normalized)


def _describe_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."
