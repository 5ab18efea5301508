"""Who can call sts:AssumeRole under a trust's principals, and the facts IAM puts in the request about each caller.

Every signed request carries aws:PrincipalAccount, aws:PrincipalArn and aws:PrincipalType; aws:username only for IAM
users (IAM User Guide, "AWS global condition context keys"). For a role session, aws:PrincipalArn is the role's ARN,
not the session's. The root user cannot assume a role, so the callers of a trust are IAM users, role sessions and
federated users.

A principal that names an account (or "*") admits callers the document does not name. They are represented by a few
concrete witnesses: every identity of that account the document names anywhere (in a principal or as a condition value
on aws:PrincipalArn, wildcards instantiated), plus one of each kind it names nowhere. Conditions and Deny statements
can only tell callers apart by what the document says, so these witnesses stand for all callers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

from .conditions import ShapedValue
from .globs import glob_regex, pattern_instances
from .model import Principal, PrincipalKind, is_account_id

PRINCIPAL_ACCOUNT_KEY = "aws:principalaccount"
PRINCIPAL_ARN_KEY = "aws:principalarn"
PRINCIPAL_TYPE_KEY = "aws:principaltype"
USERNAME_KEY = "aws:username"
USERID_KEY = "aws:userid"
# Keys only a request an AWS service principal makes carries ("AWS global condition context keys": aws:SourceAccount
# "is only available when the call to your resource is made directly by an AWS service principal", and so are the
# other keys naming the resource a service acts for, and the service's own name); never a user's, a role session's or
# a federated user's request. aws:PrincipalIsAWSService is in every signed request, "false" for those callers.
SERVICE_ONLY_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalservicename",
        "aws:principalservicenameslist",
    }
)
PRINCIPAL_IS_SERVICE_KEY = "aws:principalisawsservice"
# Keys whose value depends only on who calls.
CALLER_KEYS = (
    frozenset({PRINCIPAL_ACCOUNT_KEY, PRINCIPAL_ARN_KEY, PRINCIPAL_TYPE_KEY, USERNAME_KEY, USERID_KEY})
    | SERVICE_ONLY_KEYS
    | {PRINCIPAL_IS_SERVICE_KEY}
)
# Stands for a name or account the document never mentions: no literal in a policy contains it.
FRESH = "\x01"
# aws:userid (IAM User Guide, "AWS global condition context keys" and "IAM identifiers", unique ID prefixes): an IAM
# user's unique ID ("AIDA..."); "<role's unique ID>:<session name>" for a role session (role IDs start "AROA", session
# names are 2-64 of letters, digits and +=,.@-). The IDs are not in the document, so only their form is known; the
# letters are taken in both cases to stay on the safe side of what IAM documents.
_UNIQUE_ID = "[A-Za-z0-9]+"
_SESSION_NAME = r"[\w+=,.@-]{2,64}"
USER_ID_SHAPE = ShapedValue(
    full=f"AIDA{_UNIQUE_ID}", prefix="(?:A(?:I(?:D(?:A[A-Za-z0-9]*)?)?)?)?", fixed_prefix="AIDA"
)
_SESSION_PREFIX = r"(?:A(?:R(?:O(?:A[A-Za-z0-9]*(?::[\w+=,.@-]*)?)?)?)?)?"
# Partition of callers a principal does not place in one (a bare account ID or "*"); see docs/policy-pack.md.
DEFAULT_PARTITION = "aws"


class CallerKind(Enum):
    """The callers that can assume a role, with their aws:PrincipalType."""

    USER = "User"
    ROLE_SESSION = "AssumedRole"
    FEDERATED_USER = "FederatedUser"


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    kind: CallerKind
    account_id: str
    partition: str
    # aws:PrincipalArn: the user's ARN, the role's ARN for its sessions, the federated user's ARN.
    arn: str
    # The user name, the role name, or the federated user's name.
    name: str
    # A role session's name (FRESH when the document names none).
    session: str | None = None

    def context(self) -> dict[str, str | ShapedValue | None]:
        """The request context keys IAM derives from the caller."""
        context: dict[str, str | ShapedValue | None] = {
            PRINCIPAL_ACCOUNT_KEY: self.account_id,
            PRINCIPAL_ARN_KEY: self.arn,
            PRINCIPAL_TYPE_KEY: self.kind.value,
            USERNAME_KEY: self.name if self.kind is CallerKind.USER else None,
            PRINCIPAL_IS_SERVICE_KEY: "false",
            **dict.fromkeys(SERVICE_ONLY_KEYS),
        }
        if self.kind is CallerKind.FEDERATED_USER:
            context[USERID_KEY] = f"{self.account_id}:{self.name}"
        elif self.kind is CallerKind.USER:
            context[USERID_KEY] = USER_ID_SHAPE
        else:
            context[USERID_KEY] = _session_userid_shape(self.session)
        return context


@lru_cache(maxsize=256)
def _session_userid_shape(session: str | None) -> ShapedValue:
    """aws:userid of a role session: a named session ends in its name; one the document names nowhere in any name."""
    if session is None or session == FRESH:
        return ShapedValue(
            full=f"AROA{_UNIQUE_ID}:{_SESSION_NAME}", prefix=_SESSION_PREFIX, fixed_prefix="AROA", has_colon=True
        )
    return ShapedValue(
        full=f"AROA{_UNIQUE_ID}:{re.escape(session)}",
        prefix=_SESSION_PREFIX,
        fixed_prefix="AROA",
        fixed_suffix=f":{session}",
        has_colon=True,
    )


def principal_admits(principal: Principal, caller: Caller) -> bool:
    """Whether a trust's principal matches the caller (IAM User Guide, "AWS JSON policy elements: Principal")."""
    kind = principal.kind
    if kind is PrincipalKind.ANYONE:
        return True
    if principal.account_id != caller.account_id:
        return False
    if kind is PrincipalKind.ACCOUNT:
        return True
    if kind is PrincipalKind.USER:
        return caller.kind is CallerKind.USER and caller.arn == principal.text
    if kind is PrincipalKind.ROLE:
        # A role ARN covers every session of that role.
        return caller.kind is CallerKind.ROLE_SESSION and caller.arn == principal.text
    if kind is PrincipalKind.ASSUMED_ROLE:
        return (
            caller.kind is CallerKind.ROLE_SESSION
            and caller.name == principal.name
            and (caller.session == principal.session)
        )
    return caller.kind is CallerKind.FEDERATED_USER and caller.name == principal.name


@dataclass(frozen=True, slots=True)
class Witnesses:
    """What the document names that could tell callers apart: accounts, and IAM identity ARNs per account."""

    accounts: frozenset[str]
    # (account or account pattern, "user" | "role", partition, resource) for users and roles the document names, or
    # that ARN patterns on aws:PrincipalArn match (wildcards in the resource filled with FRESH).
    identities: frozenset[tuple[str, str, str, str]]
    # (account, role name, session name) for assumed-role sessions named as principals.
    sessions: frozenset[tuple[str, str, str]]
    # (account, name) for federated users named as principals.
    federated: frozenset[tuple[str, str]]
    # User names conditions compare aws:username with: a user of that name in every account.
    user_names: frozenset[str] = frozenset()


def witnesses(
    principals: Iterable[Principal],
    arn_values: Iterable[str],
    account_values: Iterable[str],
    user_names: Iterable[str] = (),
    federated_ids: Iterable[str] = (),
) -> Witnesses:
    """The witnesses for a document: its principals, and the values its conditions compare caller keys with
    (federated_ids: aws:userid patterns, whose "<account>:<name>" values name federated users)."""
    accounts: set[str] = set()
    identities: set[tuple[str, str, str, str]] = set()
    sessions: set[tuple[str, str, str]] = set()
    federated: set[tuple[str, str]] = set()
    for principal in principals:
        if principal.account_id is None:
            continue
        accounts.add(principal.account_id)
        if principal.kind in (PrincipalKind.USER, PrincipalKind.ROLE):
            resource = principal.text.split(":", 5)[5]
            identities.add(
                (principal.account_id, principal.kind.value, principal.partition or DEFAULT_PARTITION, resource)
            )
        elif principal.kind is PrincipalKind.ASSUMED_ROLE and principal.name and principal.session:
            sessions.add((principal.account_id, principal.name, principal.session))
        elif principal.kind is PrincipalKind.FEDERATED_USER and principal.name:
            federated.add((principal.account_id, principal.name))
    for value in account_values:
        if is_account_id(value):
            accounts.add(value)
    for value in arn_values:
        for instance in _identity_instances(value):
            identities.add(instance)
            account = _account_instance(instance[0])
            if account is not None:
                accounts.add(account)
    names = frozenset(instance for name in user_names if "/" not in name for instance in pattern_instances(name, FRESH))
    for pattern in federated_ids:
        account, colon, name = pattern.partition(":")
        if colon and is_account_id(account):
            accounts.add(account)
            federated.update((account, instance) for instance in pattern_instances(name, FRESH) if instance)
    return Witnesses(frozenset(accounts), frozenset(identities), frozenset(sessions), frozenset(federated), names)


@lru_cache(maxsize=4096)
def _identity_instances(pattern: str) -> tuple[tuple[str, str, str, str], ...]:
    """(account pattern, kind, partition, resource) of IAM users or roles an ARN pattern matches, its resource's
    wildcards filled (see globs.pattern_instances); none when it matches no user or role ARN in particular."""
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "*") or parts[3] not in ("", "*"):
        return ()
    resource = parts[5]
    kind = "user" if resource.startswith("user/") else "role" if resource.startswith("role/") else None
    if kind is None:
        return ()
    partition = parts[1] if "*" not in parts[1] and "?" not in parts[1] else DEFAULT_PARTITION
    return tuple(
        (parts[4], kind, partition, filled) for filled in pattern_instances(resource, FRESH) if not filled.endswith("/")
    )


def _account_instance(pattern: str) -> str | None:
    """A 12-digit account an account pattern matches (wildcards filled with zeros), or None."""
    if "*" in pattern:
        head, _, tail = pattern.partition("*")
        filler = 12 - len(head.replace("*", "")) - len(tail.replace("*", ""))
        pattern = head + "0" * max(filler, 0) + tail.replace("*", "")
    candidate = pattern.replace("?", "0")
    return candidate if is_account_id(candidate) else None


@lru_cache(maxsize=8192)
def callers_admitted(principal: Principal, found: Witnesses, own_account_ids: frozenset[str]) -> tuple[Caller, ...]:
    """Witness callers outside own_account_ids that the principal admits."""
    kind = principal.kind
    if kind is PrincipalKind.ANYONE:
        fresh_account = _fresh_account(found.accounts | own_account_ids)
        accounts = sorted((found.accounts - own_account_ids) | {fresh_account})
        return tuple(caller for account in accounts for caller in _account_callers(account, DEFAULT_PARTITION, found))
    account = principal.account_id
    if account is None or account in own_account_ids:
        return ()
    partition = principal.partition or DEFAULT_PARTITION
    if kind is PrincipalKind.ACCOUNT:
        return _account_callers(account, partition, found)
    if kind is PrincipalKind.USER:
        return (_identity_caller(account, "user", principal.text),)
    if kind is PrincipalKind.ROLE:
        # Every session of the role: one the document names nowhere, and each it names.
        fresh_session = _identity_caller(account, "role", principal.text)
        named = [
            replace(fresh_session, session=session)
            for (owner, role, session) in sorted(found.sessions)
            if owner == account and role == fresh_session.name
        ]
        return (fresh_session, *named)
    if kind is PrincipalKind.ASSUMED_ROLE:
        name = principal.name or FRESH
        return (_role_session_caller(account, partition, name, principal.session),)
    return (_federated_caller(account, partition, principal.name or FRESH),)


def _account_callers(account: str, partition: str, found: Witnesses) -> tuple[Caller, ...]:
    callers = [
        _identity_caller(account, kind, f"arn:{identity_partition}:iam::{account}:{resource}")
        for (owner, kind, identity_partition, resource) in sorted(found.identities)
        if owner == account or ((("*" in owner) or ("?" in owner)) and glob_regex(owner).fullmatch(account))
    ]
    callers += [
        _role_session_caller(account, partition, role, session)
        for (owner, role, session) in sorted(found.sessions)
        if owner == account
    ]
    callers += [
        _federated_caller(account, partition, name) for (owner, name) in sorted(found.federated) if owner == account
    ]
    callers += [
        _identity_caller(account, "user", f"arn:{partition}:iam::{account}:user/{name}")
        for name in sorted(found.user_names)
        if name
    ]
    callers += [
        _identity_caller(account, "user", f"arn:{partition}:iam::{account}:user/{FRESH}"),
        _identity_caller(account, "role", f"arn:{partition}:iam::{account}:role/{FRESH}"),
        _federated_caller(account, partition, FRESH),
    ]
    return tuple(callers)


def _identity_caller(account: str, kind: str, arn: str) -> Caller:
    partition = arn.split(":", 2)[1]
    name = arn.rsplit("/", 1)[-1]
    if kind == "user":
        return Caller(kind=CallerKind.USER, account_id=account, partition=partition, arn=arn, name=name)
    return _role_session_caller(account, partition, name, FRESH, arn)


def _role_session_caller(account: str, partition: str, role: str, session: str | None, arn: str = "") -> Caller:
    """A session of the role `role` (its ARN as the document wrote it, or the plain one without a path)."""
    return Caller(
        kind=CallerKind.ROLE_SESSION,
        account_id=account,
        partition=partition,
        arn=arn or f"arn:{partition}:iam::{account}:role/{role}",
        name=role,
        session=session,
    )


def _federated_caller(account: str, partition: str, name: str) -> Caller:
    return Caller(
        kind=CallerKind.FEDERATED_USER,
        account_id=account,
        partition=partition,
        arn=f"arn:{partition}:sts::{account}:federated-user/{name}",
        name=name,
    )


def _fresh_account(taken: frozenset[str]) -> str:
    """A 12-digit account named nowhere in the document and not one of the own accounts."""
    candidate = 999_999_999_999
    while f"{candidate:012d}" in taken:
        candidate -= 1
    return f"{candidate:012d}"
