"""Three-valued evaluation of IAM Condition blocks against a partly known request context.

A context maps lower-case condition keys to their value in the request, or to None when the key is absent from the
request. Keys a context does not mention could hold anything, so clauses on them evaluate to None ("could be either").
The rules follow the IAM reference ("IAM JSON policy elements: Condition operators"): values of one key are ORed
(NORed for negated operators); keys and operators are ANDed; a key absent from the request fails every operator except
negated ones (which pass), ...IfExists (passes) and Null; ForAllValues passes and ForAnyValue fails on an absent key.
ForAllValues:Null and ForAnyValue:Null quantify over the key's values: with the key absent the first holds and the
second does not; with it present both test it as Null does.

Policy variables ("${aws:PrincipalAccount}", Version 2012-10-17 only) are substituted from the context when it knows
the key's value. A variable whose key could hold anything, or is absent (IAM then may void the whole statement), leaves
the clause undecided unless its other values already make it false whatever the variable becomes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .globs import arn_matches, glob_regex, unescaped
from .model import ConditionClause


@dataclass(frozen=True, slots=True)
class ShapedValue:
    """A value every request of some caller carries whose text the document cannot know, only the form IAM gives it
    (e.g. aws:userid of an IAM user: its unique ID, "AIDA" and letters and digits). A string clause is decided when
    none of its values could match a value of that form, or one matches every such value; anything else about the
    value stays open."""

    # Every value the key can hold matches full; every prefix of such a value matches prefix.
    full: str
    prefix: str
    # Every value starts with fixed_prefix and ends with fixed_suffix (which do not overlap), and holds a colon after
    # the prefix when has_colon (fixed_suffix then starts with that colon, when set).
    fixed_prefix: str
    fixed_suffix: str = ""
    has_colon: bool = False

    def may_match(self, value: str, is_pattern: bool, ignore_case: bool) -> bool:
        """Whether the policy value (a ...Like pattern when is_pattern) could match some value of this form; True
        when unsure."""
        if not is_pattern or not any(character in value for character in "*?"):
            text = unescaped(value) if is_pattern else value
            return _compiled(self.full, ignore_case).fullmatch(text) is not None
        head = re.split(r"[*?]", value, maxsplit=1)[0]
        if "$" in head:
            return True  # an escape such as "${*}" in the literal part: not worth reading, so unsure
        return _compiled(self.prefix, ignore_case).fullmatch(head) is not None

    def always_matches(self, pattern: str) -> bool:
        """Whether a ...Like pattern matches every value of this form: a start every value has, "*", and an end every
        value has; or, for a form with a colon, such a start, "*:*" and such an end. False when unsure."""
        if "?" in pattern or "$" in pattern or "*" not in pattern:
            return False
        pieces = re.split(r"\*+", pattern)
        head, tail = pieces[0], pieces[-1]
        if not self.fixed_prefix.startswith(head):
            return False
        if len(pieces) == 2:
            return self.fixed_suffix.endswith(tail)
        # head*:*tail: the colon after the prefix, and tail within what follows it.
        return self.has_colon and pieces[1:-1] == [":"] and self.fixed_suffix[1:].endswith(tail)


@lru_cache(maxsize=64)
def _compiled(regex: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


RequestContext = Mapping[str, "str | ShapedValue | None"]

_NEGATED_OPERATORS = frozenset(
    {
        "stringnotequals",
        "stringnotequalsignorecase",
        "stringnotlike",
        "numericnotequals",
        "datenotequals",
        "notipaddress",
        "arnnotequals",
        "arnnotlike",
        "binarynotequals",
    }
)
_NUMERIC_COMPARISONS = {
    "numericequals": lambda actual, expected: actual == expected,
    "numericnotequals": lambda actual, expected: actual == expected,
    "numericlessthan": lambda actual, expected: actual < expected,
    "numericlessthanequals": lambda actual, expected: actual <= expected,
    "numericgreaterthan": lambda actual, expected: actual > expected,
    "numericgreaterthanequals": lambda actual, expected: actual >= expected,
}
NUMERIC_OPERATORS = frozenset(_NUMERIC_COMPARISONS)
_STRING_PATTERN_OPERATORS = frozenset({"stringlike", "stringnotlike"})
# ArnEquals matches like ArnLike: each of the six colon-delimited ARN components is matched separately and may hold
# "*" and "?" (IAM User Guide, "IAM JSON policy elements: Condition operators", ARN condition operators).
_ARN_OPERATORS = frozenset({"arnlike", "arnnotlike", "arnequals", "arnnotequals"})
# ${key} or ${key, 'default'} (IAM User Guide, "IAM policy elements: Variables and tags").
_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT_RE = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_LITERAL_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def variable_keys(value: str) -> tuple[str, ...]:
    """The lower-case keys of the policy variables in a value (escapes such as "${*}" are not variables)."""
    keys = []
    for body in _VARIABLE_RE.findall(value):
        if body in _LITERAL_ESCAPES:
            continue
        default = _DEFAULT_RE.match(body)
        keys.append((default.group(1) if default else body).strip().lower())
    return tuple(keys)


def resolve_variables(value: str, context: RequestContext, as_pattern: bool) -> str | None:
    """The value with its variables substituted from the context; None when one is not known there. Substituted text
    is literal, so for a pattern its wildcard characters are escaped."""
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        body = match.group(1)
        if body in _LITERAL_ESCAPES:
            return match.group(0) if as_pattern else body
        default = _DEFAULT_RE.match(body)
        key = (default.group(1) if default else body).strip().lower()
        known = context.get(key)
        if isinstance(known, str):
            text = known
        elif default is not None and key in context and known is None:
            text = default.group(2)
        else:
            unresolved = True
            return ""
        if as_pattern:
            return "".join("${" + character + "}" if character in "*?$" else character for character in text)
        return text

    resolved = _VARIABLE_RE.sub(substitute, value)
    return None if unresolved else resolved


def clause_truth(clause: ConditionClause, context: RequestContext) -> bool | None:
    """True or False when the context decides the clause; None when it could go either way."""
    if clause.key_lower not in context:
        return None
    actual = context[clause.key_lower]
    if isinstance(actual, ShapedValue):
        return _shaped_truth(clause, actual)
    operator = clause.base_operator
    plain_values = clause.plain_values
    patterns = clause.patterns
    unresolved = False
    if clause.variable_values:
        resolved_plain = list(plain_values)
        resolved_patterns = list(patterns)
        for value in clause.variable_values:
            plain = resolve_variables(value, context, as_pattern=False)
            if plain is None:
                unresolved = True
                continue
            resolved_plain.append(plain)
            pattern = resolve_variables(value, context, as_pattern=True)
            resolved_patterns.append(pattern if pattern is not None else plain)
        plain_values, patterns = tuple(resolved_plain), tuple(resolved_patterns)
    truth = _decided_truth(clause, operator, actual, plain_values, patterns)
    if not unresolved:
        return truth
    # An unresolved variable could match as well, or void the statement: only a falsehood no value can lift (an
    # absent key under a positive operator, a literal match under a negated one) decides.
    if truth is False and operator != "null" and (actual is None or operator in _NEGATED_OPERATORS):
        return False
    return None


def _decided_truth(
    clause: ConditionClause,
    operator: str,
    actual: str | None,
    plain_values: tuple[str, ...],
    patterns: tuple[str, ...],
) -> bool | None:
    if operator == "null":
        if actual is None and clause.set_qualifier is not None:
            return clause.set_qualifier == "forallvalues"
        return _null_truth(plain_values, actual)
    if actual is None:
        if clause.if_exists or clause.set_qualifier == "forallvalues":
            return True
        if clause.set_qualifier == "foranyvalue":
            return False
        return operator in _NEGATED_OPERATORS
    matched = _any_value_matches(operator, actual, plain_values, patterns)
    if matched is None:
        return None
    return not matched if operator in _NEGATED_OPERATORS else matched


_SHAPE_POSITIVE = {"stringequals": False, "stringequalsignorecase": True, "stringlike": False}
_SHAPE_NEGATED = {"stringnotequals": False, "stringnotequalsignorecase": True, "stringnotlike": False}


def _shaped_truth(clause: ConditionClause, actual: ShapedValue) -> bool | None:
    """A clause on a key the request carries with a value known only by its form: Null is decided (the key is
    present); a string operator is decided when one of its patterns matches every value of that form (true for the
    positive operators, false for the negated ones) or none of its values could match one (the reverse); everything
    else could go either way."""
    operator = clause.base_operator
    if operator == "null":
        return _null_truth(clause.plain_values, "")
    if clause.variable_values:
        return None
    ignore_case = _SHAPE_POSITIVE.get(operator, _SHAPE_NEGATED.get(operator))
    if ignore_case is None:
        return None
    is_pattern = operator in _STRING_PATTERN_OPERATORS
    candidates = clause.patterns if is_pattern else clause.plain_values
    if is_pattern and any(actual.always_matches(pattern) for pattern in candidates):
        return operator not in _SHAPE_NEGATED
    if any(actual.may_match(value, is_pattern, ignore_case) for value in candidates):
        return None
    return operator in _SHAPE_NEGATED


def conditions_truth(clauses: Iterable[ConditionClause], context: RequestContext) -> bool | None:
    """AND of the clauses in three-valued logic: False wins, then None, else True."""
    undecided = False
    for clause in clauses:
        truth = clause_truth(clause, context)
        if truth is False:
            return False
        if truth is None:
            undecided = True
    return None if undecided else True


def _null_truth(values: tuple[str, ...], actual: str | None) -> bool:
    # Null "true" asks for the key to be absent, "false" for it to be present; values are ORed.
    for value in values:
        wanted = value.lower()
        if (wanted == "true" and actual is None) or (wanted == "false" and actual is not None):
            return True
    return False


def _any_value_matches(
    operator: str, actual: str, values: tuple[str, ...], patterns: tuple[str, ...]
) -> bool | None:
    """Whether any policy value matches the request value, ignoring negation; None for operators not modelled."""
    if operator in ("stringequals", "stringnotequals"):
        return actual in values
    if operator in ("stringequalsignorecase", "stringnotequalsignorecase"):
        folded = actual.casefold()
        return any(value.casefold() == folded for value in values)
    if operator in _STRING_PATTERN_OPERATORS:
        return any(glob_regex(pattern).fullmatch(actual) is not None for pattern in patterns)
    if operator in _ARN_OPERATORS:
        return any(arn_matches(pattern, actual) for pattern in patterns)
    if operator == "bool":
        lowered = actual.lower()
        return any(value.lower() == lowered for value in values)
    comparison = _NUMERIC_COMPARISONS.get(operator)
    if comparison is not None:
        actual_number = _number(actual)
        expected_numbers = [_number(value) for value in values]
        if actual_number is None or any(number is None for number in expected_numbers):
            return None
        return any(comparison(actual_number, number) for number in expected_numbers)
    return None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
