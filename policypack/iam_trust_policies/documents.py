"""Parsing IAM policy documents into normalized statements, and IAM-style wildcard matching.

Pure: no Pulumi imports, so the analysis runs (and is tested) without an engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import repeat
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

ASSUME_ROLE_ACTION = "sts:assumerole"
_ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")
# IAM caps a role trust policy at 4,096 characters without whitespace (its largest quota) and an inline identity
# policy at 10,240; anything larger cannot be deployed, and analysing it would only cost time.
MAX_COMPACT_DOCUMENT_CHARACTERS = 10_240
# "${*}", "${?}" and "${$}" stand for the literal characters; any other "${...}" is a policy variable.
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}
_VARIABLE_RE = re.compile(r"\$\{(?![*?$]\})")
_GLOB_TOKEN_RE = re.compile(r"\$\{[*?$]\}|[*?]|[^*?$]+|\$")


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

    @property
    def identity_arn(self) -> str | None:
        """The ARN a caller named by this principal has as aws:PrincipalArn: known for IAM users and roles only
        (an account's callers have many ARNs; an assumed-role ARN does not show the role's path)."""
        if self.account_id is None or self.is_whole_account:
            return None
        parts = self.text.split(":", 5)
        return self.text if parts[2] == "iam" and parts[5].startswith(("user/", "role/")) else None


WILDCARD_PRINCIPAL = Principal(text="*", account_id=None, is_wildcard=True, is_whole_account=False)


@lru_cache(maxsize=8192)
def parse_principal(text: str) -> Principal:
    if text == "*":
        return WILDCARD_PRINCIPAL
    if is_account_id(text):
        return Principal(text=text, account_id=text, is_wildcard=False, is_whole_account=True)
    if "*" in text or "?" in text:
        # IAM refuses partial wildcards in principals ("arn:aws:iam::*:root", ".../role/*"): only "*" alone.
        raise _StatementError(
            f'names the principal "{text}" with a wildcard; IAM accepts "*" on its own but no wildcard inside an '
            "account ID or ARN, so name each account or ARN exactly"
        )
    account_id = account_of_arn(text)
    is_root = account_id is not None and text.split(":", 5)[5] == "root"
    return Principal(text=text, account_id=account_id, is_wildcard=False, is_whole_account=is_root)


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
    # A value holds a policy variable: IAM substitutes it from the request (the caller may control it, e.g. through
    # its tags), or may drop the whole statement when it cannot, so the clause's outcome is not known here.
    has_variable: bool
    # The values without variables, escapes resolved: what equality, Bool, numeric and Null operators compare.
    plain_values: tuple[str, ...]
    # The values without variables, escapes kept: what the ...Like operators match as patterns.
    patterns: tuple[str, ...]

    def render(self) -> str:
        shown: object = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {json_text({self.key: shown})}"


def json_text(value: object) -> str:
    """Exactly json.dumps(value) for values decoded from JSON (no cycles), as violation messages quote them.

    json.dumps builds a new encoder on every call, which costs more than encoding the small Condition blocks messages
    quote, so one C encoder configured as json.dumps configures its own is kept. It skips the circular-reference check
    (a value decoded from JSON has no cycles), which also leaves it no state to share between threads.
    """
    if _JSON_ENCODER is None:
        return json.dumps(value)
    return "".join(_JSON_ENCODER(value, 0))


_DEFAULT_JSON_ENCODER = json.JSONEncoder()
_JSON_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None,
        _DEFAULT_JSON_ENCODER.default,
        encode_basestring_ascii,
        None,
        _DEFAULT_JSON_ENCODER.key_separator,
        _DEFAULT_JSON_ENCODER.item_separator,
        False,
        False,
        True,
    )
)


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
    # A statement holding values not known yet (preview), kept as a Deny that might cover any request it could
    # cover once known: unknown principals, actions and conditions count as "could be anything".
    undecided: bool = False

    @property
    def label(self) -> str:
        if self.sid:
            return f'statement "{self.sid}" (index {self.index})'
        return f"statement index {self.index}"

    @property
    def title(self) -> str:
        """The label at the start of a sentence (spelt out: every violation message starts with it)."""
        if self.sid:
            return f'Statement "{self.sid}" (index {self.index})'
        return f"Statement index {self.index}"

    @property
    def effective_principals(self) -> tuple[Principal, ...]:
        """Who the statement applies to; NotPrincipal means everyone but a few, so anyone."""
        if self.not_principals is not None:
            return (WILDCARD_PRINCIPAL,)
        return self.principals or ()


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """An IAM ...Like pattern as a regex: "*" any run, "?" one character, "${*}" "${?}" "${$}" the characters."""
    return re.compile(
        "".join(
            ".*" if token == "*" else "." if token == "?" else re.escape(_ESCAPES.get(token, token))
            for token in _GLOB_TOKEN_RE.findall(pattern)
        ),
        re.DOTALL,
    )


def has_policy_variable(value: str) -> bool:
    return "${" in value and _VARIABLE_RE.search(value) is not None


def _unescaped(value: str) -> str:
    if "${" not in value:
        return value
    for escape, character in _ESCAPES.items():
        value = value.replace(escape, character)
    return value


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


class _DuplicateKeyError(Exception):
    """Raised from inside json.loads; not a ValueError, so it is not mistaken for a syntax error."""


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _DuplicateKeyError(duplicate)
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_object_without_duplicate_keys)


def load_document(document: object) -> dict[str, Any]:
    """A policy given as a dict or a JSON string, as a dict; anything else raises MalformedPolicyError.

    JSON text with a key twice in one object is refused: parsers disagree on which value wins, so the document IAM
    stores need not be the one analysed. Documents IAM could never store (too long) are refused before analysis.
    """
    if isinstance(document, str):
        if len(document) > MAX_COMPACT_DOCUMENT_CHARACTERS:
            _check_size(document)
        try:
            document = _decode(document)
        except _DuplicateKeyError as duplicate:
            raise MalformedPolicyError(
                f'the policy document has the key "{_short(duplicate)}" twice in one object; parsers keep one of '
                "the values (which one varies), so state each key once"
            ) from None
        except (ValueError, RecursionError) as error:
            raise MalformedPolicyError(f"the policy document is not valid JSON ({_short(error)})") from None
    elif isinstance(document, dict):
        _check_size(document)
        non_string_key = _first_non_string_key(document)
        if non_string_key is not None:
            raise MalformedPolicyError(f"the policy document has the key {non_string_key!r}, which is not a string")
    if not isinstance(document, dict):
        raise MalformedPolicyError(
            f"the policy document must be a JSON object, not {_describe_type(document)}"
        )
    return document


def _decode(text: str) -> object:
    """_DECODER.decode(text), skipping its whitespace scans for the usual text: one object, no surrounding spaces."""
    if text[:1] == "{" and text[-1:] == "}":
        try:
            value, end = _DECODER.scan_once(text, 0)
        except Exception:
            pass  # whatever went wrong, decode() below raises it exactly as before
        else:
            if end == len(text):
                return value
    return _DECODER.decode(text)


def _first_non_string_key(value: object) -> object | None:
    # JSON text only ever has string keys; an object handed over in code may not, and must not crash the analysis.
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return key
            found = _first_non_string_key(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _first_non_string_key(item)
            if found is not None:
                return found
    return None


def _check_size(document: object) -> None:
    if isinstance(document, str):
        length = len("".join(document.split()))
    else:
        try:
            length = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=repr))
        except (ValueError, TypeError, RecursionError):
            return  # not JSON-shaped; parsing says what is wrong
    if length > MAX_COMPACT_DOCUMENT_CHARACTERS:
        raise MalformedPolicyError(
            f"the policy document is {length:,} characters long without whitespace; IAM accepts at most 4,096 "
            f"for a role trust policy and {MAX_COMPACT_DOCUMENT_CHARACTERS:,} for an inline policy, so it cannot be "
            "deployed"
        )


def parse_policy(document: object, kind: PolicyKind) -> list[Statement]:
    """The document's statements. Values not known yet (UNKNOWN, during preview) are tolerated: an unknown document
    or Statement list yields no statements, an Allow holding an unknown is left out (it is checked at `up`), and any
    other statement holding one becomes an undecided Deny (see Statement.undecided)."""
    if document is UNKNOWN:
        return []
    # JSON text is known as a whole; only an object from the engine can hold UNKNOWN markers.
    may_hold_unknowns = not isinstance(document, str) and contains_unknown(document)
    loaded = load_document(document)
    statements = loaded.get("Statement")
    if statements is UNKNOWN:
        return []
    if statements is None:
        raise MalformedPolicyError("the policy document has no Statement")
    if isinstance(statements, dict):
        statements = [statements]
    elif not isinstance(statements, list):
        raise MalformedPolicyError(f"Statement must be an object or a list, not {_describe_type(statements)}")
    parsed: list[Statement] = []
    for index, statement in enumerate(statements):
        if not may_hold_unknowns or not contains_unknown(statement):
            parsed.append(_parse_statement(index, statement, kind))
        elif not (isinstance(statement, dict) and statement.get("Effect") == "Allow"):
            parsed.append(_undecided_deny(index, statement, kind))
    return parsed


# Stands for a condition whose key or values are not known yet: no request context decides it.
_UNDECIDED_CLAUSE = ConditionClause("Unknown", "unknown", False, None, "unknown", "\x00unknown", (), True, (), ())


def _undecided_deny(index: int, statement: object, kind: PolicyKind) -> Statement:
    """A statement holding unknowns as the widest Deny it could turn out to be."""
    known: dict[str, Any] = {"Effect": "Deny"}
    undecided_conditions = False
    if isinstance(statement, dict):
        sid = statement.get("Sid")
        if isinstance(sid, str):
            known["Sid"] = sid
        for element, negated, anything in (
            ("Principal", "NotPrincipal", "*"),
            ("Action", "NotAction", "*"),
            ("Resource", "NotResource", "*"),
        ):
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
            parsed = _parse_statement_body(index, known, kind)
        except _StatementError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        # Nothing usable is known: it could deny anything.
        principals = (WILDCARD_PRINCIPAL,) if kind is PolicyKind.TRUST else None
        resources = ("*",) if kind is PolicyKind.IDENTITY else None
        return Statement(
            index, None, False, principals, None, ("*",), None, resources, None, (_UNDECIDED_CLAUSE,), {}, True, True
        )
    parsed.undecided = True
    if undecided_conditions:
        parsed.conditions = (*parsed.conditions, _UNDECIDED_CLAUSE)
    return parsed


# Enum members are slow class attributes on Python 3.11; the per-statement check compares against this alias.
_TRUST = PolicyKind.TRUST


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

    action = statement.get("Action")
    if type(action) is str and "NotAction" not in statement:
        # The usual shape, one action string, decided by one cached lookup.
        action_patterns, covers_assume_role = _single_action_spec(action)
        not_action_patterns = None
    else:
        action_patterns, not_action_patterns = _exactly_one(statement, "Action", "NotAction")
        if action_patterns is not None:
            action_patterns, covers_assume_role = _action_spec(action_patterns, False)
        else:
            not_action_patterns, covers_assume_role = _action_spec(not_action_patterns, True)
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    resource_patterns: tuple[str, ...] | None = None
    not_resource_patterns: tuple[str, ...] | None = None
    if kind is _TRUST:
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
    # An empty Condition object has no clauses; anything else falsy ([], "", 0) still reaches the type check.
    conditions = () if raw_condition == {} else _parse_conditions(raw_condition)
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


# _string_list's "no qualifier": a principal type can be any JSON key, even an empty string.
_NO_QUALIFIER = object()
# Paired with a list's items by map(), so that isinstance checks each of them without a Python-level loop.
_STRING_TYPE = repeat(str)


def _string_list(value: object, element: str, qualifier: object = _NO_QUALIFIER) -> tuple[str, ...]:
    """The value as strings; the error names the element, then the qualifier (a principal type) when given, which
    is formatted only then: most lists are fine."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(map(isinstance, value, _STRING_TYPE)):
        return tuple(value)
    where = element if qualifier is _NO_QUALIFIER else f"{element} {qualifier}"
    raise _StatementError(f"{where} must be a string or a list of strings")


def _parse_principal_block(block: object, element: str) -> tuple[Principal, ...]:
    if type(block) is dict and len(block) == 1:
        # The usual shapes, one principal type naming one principal, without the general loop below.
        for principal_type, names in block.items():
            if type(principal_type) is str and type(names) is str:
                if principal_type != "AWS" and principal_type.upper() != "AWS":
                    return ()
                try:
                    return (parse_principal(names),)
                except _StatementError as error:
                    raise _StatementError(f"{element} {principal_type} {error}") from None
    if block == "*":
        return (WILDCARD_PRINCIPAL,)
    if not isinstance(block, dict):
        raise _StatementError(f'{element} must be "*" or an object such as {{"AWS": "<account ID or ARN>"}}')
    principals: list[Principal] = []
    for principal_type, names in block.items():
        name_list = (names,) if isinstance(names, str) else _string_list(names, element, principal_type)
        # Service, Federated and CanonicalUser principals are not AWS account identities.
        if principal_type == "AWS" or principal_type.upper() == "AWS":
            try:
                principals.extend(map(parse_principal, name_list))
            except _StatementError as error:
                raise _StatementError(f"{element} {principal_type} {error}") from None
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
            if isinstance(raw_values, str):
                clauses.append(_single_value_clause(operator, key, raw_values))
            else:
                clauses.append(_condition_clause(operator, key, _condition_values(raw_values, operator, key)))
    return tuple(clauses)


@lru_cache(maxsize=8192)
def _single_value_clause(operator: str, key: str, value: str) -> ConditionClause:
    # The usual clause names one string; looking it up by that string spares building and hashing a values tuple.
    return _condition_clause(operator, key, (value,))


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
    has_variable = False
    plain_values = patterns = values
    if any("${" in value for value in values):
        patterns = tuple(value for value in values if not has_policy_variable(value))
        has_variable = len(patterns) != len(values)
        plain_values = tuple(_unescaped(value) for value in patterns)
    return ConditionClause(
        operator=operator,
        base_operator=base,
        if_exists=if_exists,
        set_qualifier=set_qualifier,
        key=key,
        key_lower=key.lower(),
        values=values,
        has_variable=has_variable,
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
