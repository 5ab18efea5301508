"""Findings: a stable code, a message that starts with it, and the suggested fix as data.

Every message the policies report starts with "<code>: " (matching ^([A-Z]+-\\d{3}): ), so tests, the audit command
and CI logs can act on the code; the prose after it may change, the codes and their meanings do not. No message and
no fix holds a secret or an sts:ExternalId value: such values are shown as REDACTED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REDACTED = "<redacted>"
CODE_RE = re.compile(r"^([A-Z]+-\d{3}): ")

# code -> what it means, one line each; docs/policy-pack.md lists the same.
FINDING_CODES: Mapping[str, str] = {
    # cross-account-trust-requires-mfa
    "MFA-001": "an Allow lets a principal outside the role's own accounts assume it without MFA, and the statement "
    "has no MFA condition",
    "MFA-002": "an Allow lets a principal outside the role's own accounts assume it without MFA although the "
    "statement has an MFA condition: the condition also holds for a request without MFA",
    # third-party-trust-requires-external-id
    "EXTID-001": "an Allow lets a listed third-party account assume the role without an sts:ExternalId, and the "
    "statement has no External ID condition",
    "EXTID-002": "an Allow lets a listed third-party account assume the role without an sts:ExternalId although the "
    "statement has an External ID condition: the condition also holds for a request without one",
    # trust-open-to-any-principal
    "OPEN-001": 'an Allow trusts "*" (or NotPrincipal) to call sts:AssumeRole with no condition narrowing the caller',
    # assume-role-on-wildcard-resource
    "WILDCARD-001": 'an identity policy allows sts:AssumeRole on "*" or on a wildcard pattern that matches roles',
    "WILDCARD-002": "an identity policy allows sts:AssumeRole through NotResource, on every role it does not exclude",
    # cross-account-role-max-session-duration
    "SESSION-001": "a role trusted from another account allows sessions longer than the configured limit",
    # cross-account-role-not-admin
    "ADMIN-001": 'a role trusted from another account has AdministratorAccess or a "*" on "*" policy',
    # malformed documents, reported by the MFA policy (the other trust policies skip them)
    "DOC-001": "the document is not a JSON object IAM can store: not valid JSON, not an object, a key stated twice, "
    "a non-string key, or longer than IAM's size limit",
    "DOC-002": 'the Version is neither "2012-10-17" nor "2008-10-17"; IAM refuses the document',
    "DOC-003": "there is no Statement, or the Statement list is empty; IAM refuses the document",
    "DOC-004": "a Sid holds characters other than ASCII letters and digits, or two statements share a Sid; IAM "
    "refuses the document",
    "DOC-005": "a statement is not shaped as IAM requires (an object with Effect Allow or Deny, exactly one of "
    "Action/NotAction and of Principal/NotPrincipal, string values); IAM refuses the document",
    "DOC-006": 'a principal is neither "*", a 12-digit account ID, nor the ARN of an account root, IAM user or role, '
    "assumed-role session or federated user, or has a wildcard inside; IAM refuses it as an invalid principal",
    "DOC-007": "a Condition is not shaped as IAM requires: an operator IAM does not define, or values that are not "
    "strings, numbers or booleans; IAM refuses the document",
    "DOC-008": "a role trust policy statement has Resource or NotResource (an identity policy statement, Principal or "
    "NotPrincipal); IAM refuses the document",
    # reported by the pack's engine side
    "SKIP-001": "not checked: the document is redacted (`[secret]`); analyze with the stack's secrets provider to "
    "check it",
    "SKIP-002": "not checked yet: the document is not known during preview; it is checked at `pulumi up`",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem found: its code, the message (starting with the code), and the fix as data (None when the fix is
    not a document change, e.g. removing a statement)."""

    code: str
    message: str
    fix: Mapping[str, Any] | None = None
    # Where in a trust policy, when the finding is about one statement.
    statement_index: int | None = None
    sid: str | None = None
    principals: tuple[str, ...] = field(default=())


def finding(code: str, text: str, fix: Mapping[str, Any] | None = None, **where: Any) -> Finding:
    """A Finding whose message is "<code>: <text>"; the code must be registered."""
    if code not in FINDING_CODES:
        raise KeyError(f"unregistered finding code {code}")
    return Finding(code=code, message=f"{code}: {text}", fix=fix, **where)


def code_of(message: str) -> str | None:
    """The code a message starts with, or None."""
    match = CODE_RE.match(message)
    return match.group(1) if match else None
