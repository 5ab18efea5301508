"""Three-valued evaluation of IAM Condition blocks against a partly known request context.

A context maps lower-case condition keys to their value in the request, or to None when the key is absent from the
request. Keys a context does not mention could hold anything, so clauses on them evaluate to None ("could be either").
The rules follow the IAM reference: values of one key are ORed (NORed for negated operators); keys and operators are
ANDed; a key absent from the request fails every operator except negated ones (which pass), ...IfExists (passes) and
Null; ForAllValues passes and ForAnyValue fails on an absent key.

Policy variables ("${aws:PrincipalTag/mfa}") in values are substituted by IAM from the request, which the caller may
shape, and a variable IAM cannot resolve may void the whole statement. A clause holding one is therefore never
decided true; it is decided false only when its other values already make it false whatever the variable becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .globs import glob_regex
from .model import ConditionClause

RequestContext = Mapping[str, "str | None"]

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


def clause_truth(clause: ConditionClause, context: RequestContext) -> bool | None:
    """True or False when the context decides the clause; None when it could go either way."""
    if clause.key_lower not in context:
        return None
    actual = context[clause.key_lower]
    operator = clause.base_operator
    if operator == "null":
        truth = _null_truth(clause.plain_values, actual)
        return None if clause.has_variable else truth
    if actual is None:
        if clause.if_exists or clause.set_qualifier == "forallvalues":
            truth = True
        elif clause.set_qualifier == "foranyvalue":
            truth = False
        else:
            truth = operator in _NEGATED_OPERATORS
        return None if truth and clause.has_variable else truth
    matched = _any_value_matches(operator, actual, clause)
    negated = operator in _NEGATED_OPERATORS
    if clause.has_variable:
        # The variable may match too, or void the statement: only a literal match under a negated operator decides.
        return False if matched and negated else None
    if matched is None:
        return None
    return not matched if negated else matched


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


def _any_value_matches(operator: str, actual: str, clause: ConditionClause) -> bool | None:
    """Whether any literal policy value matches the request value, ignoring negation; None for operators not
    modelled."""
    values = clause.plain_values
    if operator in ("stringequals", "stringnotequals", "arnequals", "arnnotequals"):
        return actual in values
    if operator in ("stringequalsignorecase", "stringnotequalsignorecase"):
        folded = actual.casefold()
        return any(value.casefold() == folded for value in values)
    if operator in ("stringlike", "stringnotlike", "arnlike", "arnnotlike"):
        return any(glob_regex(pattern).fullmatch(actual) is not None for pattern in clause.patterns)
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
