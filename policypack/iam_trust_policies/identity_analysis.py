"""Identity-policy checks: sts:AssumeRole on wildcard resources, and "*" on "*" (administrator) grants."""

from __future__ import annotations

import re
from functools import lru_cache

from .findings import Finding, finding
from .globs import glob_patterns_intersect
from .model import MalformedPolicyError, PolicyKind, Statement
from .parsing import parse_policy

# Every role ARN, as a glob over its six ARN segments (partition, account and path are free).
_ROLE_ARN_SEGMENTS = ("arn", "*", "iam", "", "*", "role/*")
_ROLE_ARN_GLOB = ":".join(_ROLE_ARN_SEGMENTS)
# A stand-in for "any text" that only a "*" in a pattern can match, to test whether a pattern covers all roles.
_ANY_TEXT = "\x00"
_GENERIC_ROLE_ARN = f"arn:{_ANY_TEXT}:iam::{_ANY_TEXT}:role/{_ANY_TEXT}"


def wildcard_assume_role_findings(document: object, where: str = "the policy") -> list[Finding]:
    """One finding per Allow statement granting sts:AssumeRole on "*" or on a wildcard that can match roles; where
    names the document in messages (e.g. the resource input holding it).

    Malformed documents yield nothing: the provider rejects them before they matter.
    """
    try:
        statements = parse_policy(document, PolicyKind.IDENTITY)
    except MalformedPolicyError:
        return []
    findings: list[Finding] = []
    for statement in statements:
        if not statement.is_allow or not statement.grants_assume_role:
            continue
        problem = _wildcard_resource_problem(statement)
        if problem is None:
            continue
        through = " (through NotAction)" if statement.not_action_patterns is not None else ""
        findings.append(
            finding(
                "WILDCARD-002" if statement.resource_patterns is None else "WILDCARD-001",
                f"{where}: {statement.title} allows sts:AssumeRole{through} {problem}, so its holders can assume "
                "every matching role that trusts their account, including roles created later. List the exact "
                'role ARNs in Resource, e.g. "arn:aws:iam::111122223333:role/partner-read-only".',
                {"statement_index": statement.index, "Resource": ["<the exact role ARNs>"]},
                statement_index=statement.index,
                sid=statement.sid,
            )
        )
    return findings


def grants_full_admin(document: object) -> bool:
    """Whether some Allow statement grants what AdministratorAccess grants, or as good as that ("*" on "*").

    Every action: an Action pattern made only of "*" and ":" ("*", "*:*"), or a NotAction that names only exact
    actions (it leaves every service wide open; a NotAction with a wildcard such as "iam:*" withholds a whole
    service and is not counted). Every resource: "*", an ARN pattern that matches every ARN ("arn:*", "arn:*:*"),
    or a NotResource that does not itself exclude every resource. Conditions are not weighed: an administrator
    grant behind a condition is still one.
    """
    try:
        statements = parse_policy(document, PolicyKind.IDENTITY)
    except MalformedPolicyError:
        return False
    return any(_is_admin_equivalent(statement) for statement in statements)


def _is_admin_equivalent(statement: Statement) -> bool:
    if not statement.is_allow:
        return False
    if statement.action_patterns is not None:
        every_action = any(_matches_everything(pattern, ":") for pattern in statement.action_patterns)
    else:
        every_action = not any("*" in pattern or "?" in pattern for pattern in statement.not_action_patterns or ())
    if statement.resource_patterns is not None:
        every_resource = any(_matches_every_arn(pattern) for pattern in statement.resource_patterns)
    else:
        every_resource = not any(_matches_every_arn(pattern) for pattern in statement.not_resource_patterns or ())
    return every_action and every_resource


def _matches_everything(pattern: str, separator: str) -> bool:
    return "*" in pattern and set(pattern) <= {"*", separator}


def _matches_every_arn(pattern: str) -> bool:
    """"*", or "arn:" followed by stars and at most five colons, which every ARN (six segments) matches."""
    if pattern == "*":
        return True
    rest = pattern.removeprefix("arn:")
    return rest != pattern and _matches_everything(rest, ":") and rest.count(":") <= 4


def _wildcard_resource_problem(statement: Statement) -> str | None:
    if statement.resource_patterns is not None:
        wildcards = [pattern for pattern in statement.resource_patterns if _is_wildcard_role_pattern(pattern)]
        if wildcards:
            return "on " + ", ".join(f'"{pattern}"' for pattern in wildcards)
        return None
    excluded = statement.not_resource_patterns or ()
    if any(_covers_every_role(pattern) for pattern in excluded):
        return None
    return "on every resource except " + ", ".join(f'"{pattern}"' for pattern in excluded) + " (through NotResource)"


@lru_cache(maxsize=1024)
def _is_wildcard_role_pattern(pattern: str) -> bool:
    if "*" not in pattern and "?" not in pattern:
        return False
    segments = pattern.split(":", 5)
    if len(segments) != 6:
        return glob_patterns_intersect(pattern.lower(), _ROLE_ARN_GLOB)
    return all(
        glob_patterns_intersect(segment.lower(), template)
        for segment, template in zip(segments, _ROLE_ARN_SEGMENTS, strict=True)
    )


@lru_cache(maxsize=1024)
def _covers_every_role(pattern: str) -> bool:
    only_star_matches_any_text = "".join(
        ".*" if c == "*" else f"[^{_ANY_TEXT}]" if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(only_star_matches_any_text, _GENERIC_ROLE_ARN, re.DOTALL) is not None
