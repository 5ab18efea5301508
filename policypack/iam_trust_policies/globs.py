"""IAM wildcard matching, in one place: Action patterns, the ...Like condition operators and pattern intersection.

"*" matches any run of characters and "?" any one character. In condition values "${*}", "${?}" and "${$}" stand for
the literal characters, and any other "${...}" is a policy variable (IAM User Guide, "IAM policy elements: Variables
and tags").
"""

from __future__ import annotations

import re
from functools import lru_cache

ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}
_VARIABLE_RE = re.compile(r"\$\{(?![*?$]\})")
_GLOB_TOKEN_RE = re.compile(r"\$\{[*?$]\}|[*?]|[^*?$]+|\$")


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """An IAM ...Like pattern as a regex: "*" any run, "?" one character, "${*}" "${?}" "${$}" the characters."""
    return re.compile(
        "".join(
            ".*" if token == "*" else "." if token == "?" else re.escape(ESCAPES.get(token, token))
            for token in _GLOB_TOKEN_RE.findall(pattern)
        ),
        re.DOTALL,
    )


@lru_cache(maxsize=8192)
def arn_matches(pattern: str, arn: str) -> bool:
    """An ARN condition operator's match: the six colon-delimited components compared one by one, each a glob."""
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(
        glob_regex(part).fullmatch(value) is not None for part, value in zip(pattern_parts, arn_parts, strict=True)
    )


def has_policy_variable(value: str) -> bool:
    return "${" in value and _VARIABLE_RE.search(value) is not None


def unescaped(value: str) -> str:
    """The value with "${*}", "${?}" and "${$}" replaced by the characters they stand for."""
    if "${" not in value:
        return value
    for escape, character in ESCAPES.items():
        value = value.replace(escape, character)
    return value


@lru_cache(maxsize=4096)
def action_pattern_matches(pattern_lower: str, action_lower: str) -> bool:
    if "*" not in pattern_lower and "?" not in pattern_lower:
        return pattern_lower == action_lower
    return glob_regex(pattern_lower).fullmatch(action_lower) is not None


def action_list_covers(
    action_patterns: tuple[str, ...] | None, not_action_patterns: tuple[str, ...] | None, action_lower: str
) -> bool:
    """Whether Action (or NotAction: everything it does not name) covers the action, case-insensitively."""
    if action_patterns is not None:
        return any(action_pattern_matches(pattern, action_lower) for pattern in action_patterns)
    if not_action_patterns is not None:
        return not any(action_pattern_matches(pattern, action_lower) for pattern in not_action_patterns)
    return False


def glob_patterns_intersect(first: str, second: str) -> bool:
    """Whether some string matches both IAM globs ("*" any run of characters, "?" one character).

    A search over pairs of positions (how far each pattern has been matched), iterative so long patterns cannot
    exhaust the stack.
    """
    end = (len(first), len(second))
    seen = {(0, 0)}
    pending = [(0, 0)]
    while pending:
        i, j = pending.pop()
        if (i, j) == end:
            return True
        first_star = i < len(first) and first[i] == "*"
        second_star = j < len(second) and second[j] == "*"
        successors = []
        if first_star:
            successors.append((i + 1, j))  # the star matches nothing more
        if second_star:
            successors.append((i, j + 1))
        if i < len(first) and j < len(second):
            if first_star and not second_star:
                successors.append((i, j + 1))  # the star swallows the other pattern's next character
            elif second_star and not first_star:
                successors.append((i + 1, j))
            elif not first_star and (first[i] == second[j] or "?" in (first[i], second[j])):
                successors.append((i + 1, j + 1))
        for successor in successors:
            if successor not in seen:
                seen.add(successor)
                pending.append(successor)
    return False
