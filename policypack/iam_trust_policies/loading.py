"""Policy documents in: JSON text or engine objects to a dict, and the document-level rules IAM refuses a policy on.

JSON text with a key twice in one object is refused: parsers disagree on which value wins, so the document IAM stores
need not be the one analysed. Documents IAM could never store (too long) are refused before analysis. The
document-level grammar (IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON policy
language"): Version is "2012-10-17" or "2008-10-17" when present; Statement is present and not an empty list; a Sid
holds only ASCII letters and digits and is unique within the policy.
"""

from __future__ import annotations

import json
from typing import Any

from .model import CURRENT_VERSION, LEGACY_VERSION, UNKNOWN, MalformedPolicyError

# IAM caps a role trust policy at 4,096 characters without whitespace (its largest quota) and an inline identity
# policy at 10,240; anything larger cannot be deployed, and analysing it would only cost time.
MAX_COMPACT_DOCUMENT_CHARACTERS = 10_240
KNOWN_VERSIONS = (CURRENT_VERSION, LEGACY_VERSION)


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
    """A policy given as a dict or a JSON string, as a dict; anything else raises MalformedPolicyError."""
    if isinstance(document, str):
        if len(document) > MAX_COMPACT_DOCUMENT_CHARACTERS:
            _check_size(document)
        try:
            document = _DECODER.decode(document)
        except _DuplicateKeyError as duplicate:
            raise MalformedPolicyError(
                f'the policy document has the key "{_short(duplicate)}" twice in one object; parsers keep one of '
                "the values (which one varies), so state each key once",
                "DOC-001",
            ) from None
        except (ValueError, RecursionError) as error:
            raise MalformedPolicyError(f"the policy document is not valid JSON ({_short(error)})", "DOC-001") from None
    elif isinstance(document, dict):
        _check_size(document)
        non_string_key = _first_non_string_key(document)
        if non_string_key is not None:
            raise MalformedPolicyError(
                f"the policy document has the key {non_string_key!r}, which is not a string", "DOC-001"
            )
    if not isinstance(document, dict):
        raise MalformedPolicyError(
            f"the policy document must be a JSON object, not {describe_type(document)}", "DOC-001"
        )
    return document


def document_cache_key(document: object) -> str | None:
    """The text two documents share exactly when they are the same policy: JSON text as given, an engine object as
    its compact JSON (key order kept, since statement and clause order show in findings); None for an object that
    does not round-trip through JSON (values not known yet, non-string keys, non-JSON values)."""
    if isinstance(document, str):
        return document
    try:
        if not isinstance(document, dict) or not _is_plain_json(document):
            return None
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, RecursionError):
        return None


def _is_plain_json(value: object) -> bool:
    """Only objects with string keys, lists, strings, numbers, booleans and null: what serializes to one JSON text
    and back unchanged (a tuple or a non-string key would serialize like a list or a string key)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_plain_json(item) for item in value)
    return value is None or isinstance(value, str | int | float)


def document_version(document: dict[str, Any]) -> str | None:
    """The document's Version, checked; None when absent (IAM then applies 2008-10-17) or not known yet."""
    version = document.get("Version")
    if version is None or version is UNKNOWN:
        return None
    if version not in KNOWN_VERSIONS:
        raise MalformedPolicyError(
            f"the policy document has Version {json.dumps(version)}; IAM accepts only "
            f'"{CURRENT_VERSION}" (current) and "{LEGACY_VERSION}", so it refuses the document',
            "DOC-002",
        )
    return version


def statement_list(document: dict[str, Any]) -> list[object] | None:
    """The Statement element as a list (one object counts as a list of one); None when not known yet."""
    statements = document.get("Statement")
    if statements is UNKNOWN:
        return None
    if statements is None:
        raise MalformedPolicyError("the policy document has no Statement; IAM refuses a policy without one", "DOC-003")
    if isinstance(statements, dict):
        return [statements]
    if not isinstance(statements, list):
        raise MalformedPolicyError(
            f"Statement must be an object or a list, not {describe_type(statements)}", "DOC-003"
        )
    if not statements:
        raise MalformedPolicyError("the Statement list is empty; IAM refuses a policy with no statement", "DOC-003")
    return statements


def check_sids(statements: list[object]) -> None:
    """Sids are strings of ASCII letters and digits, unique within the policy (IAM's rule for its own policies)."""
    seen: set[str] = set()
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        sid = statement.get("Sid")
        if sid is None or sid is UNKNOWN:
            continue
        if not isinstance(sid, str):
            raise MalformedPolicyError(f"statement index {index} has a Sid that is not a string", "DOC-004")
        if sid and not (sid.isascii() and sid.isalnum()):
            raise MalformedPolicyError(
                f"statement index {index} has the Sid {json.dumps(sid)}; IAM accepts only ASCII letters and digits "
                "in a Sid, so it refuses the document",
                "DOC-004",
            )
        if sid and sid in seen:
            raise MalformedPolicyError(
                f'the Sid "{sid}" names two statements; IAM requires each Sid to be unique within a policy, so it '
                "refuses the document",
                "DOC-004",
            )
        seen.add(sid)


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
            "deployed",
            "DOC-001",
        )


def describe_type(value: object) -> str:
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
