"""The policy model: statements, principals and condition clauses, as the analysis reads them.

Pure values, frozen and built by keyword. Parsing (parsing.py) is the only producer; the analysis modules only read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

ASSUME_ROLE_ACTION = "sts:assumerole"
SET_SOURCE_IDENTITY_ACTION = "sts:setsourceidentity"
TAG_SESSION_ACTION = "sts:tagsession"
# The two versions of the policy language IAM knows; only the newer one resolves policy variables.
CURRENT_VERSION = "2012-10-17"
LEGACY_VERSION = "2008-10-17"
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
    """The document is not an IAM policy IAM would accept; the message says what is wrong, code which rule (a DOC-
    code of findings.py)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


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


class PrincipalKind(Enum):
    """What an AWS principal names; decides which callers it admits (IAM User Guide, "AWS JSON policy elements:
    Principal")."""

    ANYONE = "anyone"  # "*" or {"AWS": "*"}
    ACCOUNT = "account"  # a 12-digit account ID or arn:...:iam::<account>:root: every identity the account delegates to
    USER = "user"  # arn:...:iam::<account>:user/<path><name>
    ROLE = "role"  # arn:...:iam::<account>:role/<path><name>; admits that role's sessions
    ASSUMED_ROLE = "assumed-role"  # arn:...:sts::<account>:assumed-role/<role>/<session>: that one session
    FEDERATED_USER = "federated-user"  # arn:...:sts::<account>:federated-user/<name>


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """One AWS principal as a trust policy names it."""

    text: str
    kind: PrincipalKind
    account_id: str | None
    partition: str | None = None
    # The role or user name (last path segment) for USER and ROLE, the role name for ASSUMED_ROLE.
    name: str | None = None
    # For ASSUMED_ROLE: the session name.
    session: str | None = None

    @property
    def is_wildcard(self) -> bool:
        return self.kind is PrincipalKind.ANYONE

    @property
    def is_whole_account(self) -> bool:
        return self.kind is PrincipalKind.ACCOUNT

    def is_outside(self, own_account_ids: frozenset[str]) -> bool:
        return self.account_id is None or self.account_id not in own_account_ids

    @property
    def identity_arn(self) -> str | None:
        """The aws:PrincipalArn of every caller this principal admits, when it names one IAM user or role."""
        return self.text if self.kind in (PrincipalKind.USER, PrincipalKind.ROLE) else None


WILDCARD_PRINCIPAL = Principal(text="*", kind=PrincipalKind.ANYONE, account_id=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionClause:
    """One operator/key pair of a Condition block, with its ORed values as strings."""

    operator: str
    # Lower-case operator without its ForAllValues:/ForAnyValue: qualifier and IfExists suffix.
    base_operator: str
    if_exists: bool
    # "forallvalues", "foranyvalue" or None.
    set_qualifier: str | None
    key: str
    key_lower: str
    values: tuple[str, ...]
    # Values holding a policy variable (Version 2012-10-17 only: in 2008-10-17 or without a Version, "${...}" is
    # literal text). IAM substitutes them from the request; resolved where the request is known.
    variable_values: tuple[str, ...]
    # The values without variables, escapes resolved: what equality, Bool, numeric and Null operators compare.
    plain_values: tuple[str, ...]
    # The values without variables, escapes kept: what the ...Like operators match as patterns.
    patterns: tuple[str, ...]

    @property
    def has_variable(self) -> bool:
        return bool(self.variable_values)


# Compared by identity: two statements with the same text are still two statements.
@dataclass(frozen=True, eq=False, slots=True, kw_only=True)
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
        """The label at the start of a sentence."""
        if self.sid:
            return f'Statement "{self.sid}" (index {self.index})'
        return f"Statement index {self.index}"

    @property
    def effective_principals(self) -> tuple[Principal, ...]:
        """Who the statement applies to; NotPrincipal means everyone but a few, so anyone."""
        if self.not_principals is not None:
            return (WILDCARD_PRINCIPAL,)
        return self.principals or ()
