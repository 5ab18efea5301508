"""An independent IAM evaluator for the tests: principalmapper's local policy evaluation, made to follow AWS's
documented semantics where it does not.

principalmapper is AGPL, so it is imported only here, by tests; neither the program nor the policy pack may use it.

What this module adds on top of principalmapper (each verified against a hand-written case in
tests/program/test_aws_semantics.py):
- Python 3.10+ compatibility: it imports `Mapping`/`MutableMapping` from `collections`, removed in 3.10.
- Policy variables (`${aws:username}`) are substituted from the request context before evaluation; principalmapper
  leaves them literal in condition values. A statement with a variable whose key is absent from the context (a role
  session has no aws:username) is ignored, as AWS documents.
- `...IfExists` operators: principalmapper's numeric comparisons never match when the operator carries the suffix
  (`NumericLessThanIfExists` with the key present is always false). Conditions are therefore resolved against the
  context first: an `IfExists` entry whose key is absent is satisfied and dropped, otherwise the suffix is dropped
  and the key is aliased (`key#OperatorIfExists`, with the same context value), so that `Bool` and `BoolIfExists` on
  one key stay two ANDed clauses instead of one overwriting the other.
- Negated operators (`StringNotLike`, `ArnNotLike`, ...) with the key absent are true in AWS; principalmapper says false
  for some of them, so those entries are dropped (satisfied) too.
- JSON booleans and numbers in policy values are compared as their JSON text ("true", "3600"), which is how IAM
  stores them; principalmapper expects strings.

The model of a cross-account `sts:AssumeRole` (https://docs.aws.amazon.com/IAM/latest/UserGuide/
reference_policies_evaluation-logic-cross-account.html): the caller's identity policies in its own account AND the
role's trust policy in the role's account must both allow, and an explicit Deny in either wins. Setting a source
identity is a second action, `sts:SetSourceIdentity`, that both sides must allow as well.
"""

from __future__ import annotations

import collections
import collections.abc
import copy
import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

# principalmapper 1.1.5 still does `from collections import Mapping, MutableMapping`.
for _alias in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _alias):
        setattr(collections, _alias, getattr(collections.abc, _alias))

from principalmapper.common import Group, Node, Policy  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402

ASSUME_ROLE = "sts:AssumeRole"
SET_SOURCE_IDENTITY = "sts:SetSourceIdentity"

_POLICY_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SET_OPERATOR_PREFIXES = ("ForAllValues:", "ForAnyValue:")
_IF_EXISTS = "IfExists"
_ALIAS_SEPARATOR = "#"


class Mfa(enum.Enum):
    """How the caller authenticated, as it shows in aws:MultiFactorAuthPresent."""

    ABSENT = "absent"  # long-term access keys: the key is not in the request context at all
    FALSE = "false"  # temporary credentials obtained without MFA
    PRESENT = "true"  # signed in / GetSessionToken with an MFA code


@dataclass(frozen=True)
class Caller:
    """The principal that calls sts:AssumeRole: an IAM user (or a role session) with the policies it holds."""

    account_id: str
    name: str
    kind: str = "user"  # "user" or "role"
    path: str = "/"
    identity_policies: tuple[dict, ...] = ()
    group_policies: tuple[dict, ...] = ()
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{self.kind}{self.path}{self.name}"


@dataclass(frozen=True)
class AssumeRoleRequest:
    """The parameters of one sts:AssumeRole call and how its caller authenticated."""

    session_name: str
    mfa: Mfa = Mfa.PRESENT
    mfa_age_seconds: int = 60
    external_id: str | None = None
    source_identity: str | None = None
    extra_context: dict[str, str] = field(default_factory=dict)


def request_context(caller: Caller, request: AssumeRoleRequest) -> dict[str, str]:
    """The request context AWS builds for this AssumeRole call (the keys our documents can test)."""
    context = {
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalType": "User" if caller.kind == "user" else "AssumedRole",
        "aws:userid": f"AIDA{caller.name.upper()}",
        "aws:SecureTransport": "true",
        "sts:RoleSessionName": request.session_name,
    }
    if caller.kind == "user":
        context["aws:username"] = caller.name
    if request.mfa is not Mfa.ABSENT:
        context["aws:MultiFactorAuthPresent"] = request.mfa.value
    if request.mfa is Mfa.PRESENT:
        context["aws:MultiFactorAuthAge"] = str(request.mfa_age_seconds)
    if request.external_id is not None:
        context["sts:ExternalId"] = request.external_id
    if request.source_identity is not None:
        context["sts:SourceIdentity"] = request.source_identity
    context.update(request.extra_context)
    return context


def can_assume_role(
    caller: Caller,
    role_arn: str,
    trust_policy: dict,
    request: AssumeRoleRequest,
) -> bool:
    """Whether AWS would let `caller` assume the role `role_arn` whose trust policy is `trust_policy`."""
    actions = [ASSUME_ROLE] if request.source_identity is None else [ASSUME_ROLE, SET_SOURCE_IDENTITY]
    context = request_context(caller, request)
    return all(is_allowed(caller, action, role_arn, trust_policy, context) for action in actions)


def is_allowed(caller: Caller, action: str, role_arn: str, trust_policy: dict, context: dict[str, str]) -> bool:
    """One action on one role, evaluated with both the caller's identity policies and the role's trust policy."""
    identity_documents = [resolve_policy(document, context) for document in caller.identity_policies]
    group_documents = [resolve_policy(document, context) for document in caller.group_policies]
    resolved_trust = resolve_policy(trust_policy, context)
    node = Node(
        arn=caller.arn,
        id_value=context["aws:userid"],
        attached_policies=[
            Policy(f"{caller.arn}-policy-{index}", f"identity-{index}", document)
            for index, document in enumerate(identity_documents)
        ],
        group_memberships=[
            Group(
                f"arn:{caller.partition}:iam::{caller.account_id}:group/group-{index}",
                [Policy(f"{caller.arn}-group-policy-{index}", f"group-{index}", document)],
            )
            for index, document in enumerate(group_documents)
        ],
        trust_policy=None if caller.kind == "user" else {"Version": "2012-10-17", "Statement": []},
        instance_profile=None,
        num_access_keys=1,
        active_password=True,
        is_admin=False,
        permissions_boundary=None,
        has_mfa=True,
        tags={},
    )
    return local_check_authorization_full(
        node,
        action,
        role_arn,
        _with_key_aliases(context, [*identity_documents, *group_documents, resolved_trust]),
        resource_policy=resolved_trust,
        resource_owner=role_arn.split(":")[4],
    )


def resolve_policy(document: dict, context: dict[str, str]) -> dict:
    """The document with variables substituted and every condition resolved to what principalmapper gets right.

    Variables exist only in Version 2012-10-17; in 2008-10-17, or without a Version, "${...}" is literal text (IAM User
    Guide, policy variables), so it is escaped from substitution there."""
    resolved = copy.deepcopy(document)
    statements = resolved["Statement"] if isinstance(resolved["Statement"], list) else [resolved["Statement"]]
    lowered_context = {key.lower(): value for key, value in context.items()}
    resolves = resolved.get("Version") == "2012-10-17"
    resolved["Statement"] = [
        statement
        for statement in (_resolve_statement(statement, lowered_context, resolves) for statement in statements)
        if statement is not None
    ]
    return resolved


class _UnresolvedVariable(LookupError):
    """A policy variable names a key the request context lacks."""


def _resolve_statement(statement: dict, lowered_context: dict[str, str], resolves: bool) -> dict | None:
    """The statement ready for principalmapper, or None when AWS would ignore it: "If AWS cannot resolve a variable
    this might cause the entire statement to be invalid" (IAM User Guide, policy variables)."""
    try:
        for element in ("Resource", "NotResource"):
            if element in statement:
                statement[element] = _substitute_values(statement[element], lowered_context, resolves)
        if "Condition" in statement:
            statement["Condition"] = _resolve_condition(statement["Condition"], lowered_context, resolves)
    except _UnresolvedVariable:
        return None
    return statement


def _resolve_condition(condition: dict, lowered_context: dict[str, str], resolves: bool) -> dict:
    resolved: dict[str, dict[str, Any]] = {}
    for operator, entries in condition.items():
        for key, values in entries.items():
            substituted = _substitute_values(values, lowered_context, resolves)
            if operator.startswith(_SET_OPERATOR_PREFIXES) or operator == "Null":
                resolved.setdefault(operator, {})[key] = substituted
                continue
            base_operator = operator.removesuffix(_IF_EXISTS)
            key_is_missing = key.lower() not in lowered_context
            # AWS: a missing key satisfies ...IfExists and every negated operator, and fails the others.
            if key_is_missing and (operator.endswith(_IF_EXISTS) or _is_negated(base_operator)):
                continue
            if operator.endswith(_IF_EXISTS) and not key_is_missing:
                # The plain operator may test the same key in this block: an alias keeps both clauses (ANDed).
                key = f"{key}{_ALIAS_SEPARATOR}{operator}"
            resolved.setdefault(base_operator, {})[key] = substituted
    return resolved


def _is_negated(operator: str) -> bool:
    return "Not" in operator  # StringNotEquals, StringNotLike, ArnNotLike, NumericNotEquals, NotIpAddress, ...


def _substitute_values(values: Any, lowered_context: dict[str, str], resolves: bool = True) -> list[str]:
    """Every value as text with its ${key} variables replaced from the context (when the Version has variables)."""
    texts = [
        value if isinstance(value, str) else json.dumps(value)
        for value in (values if isinstance(values, list) else [values])
    ]
    if not resolves:
        return texts
    return [
        _POLICY_VARIABLE.sub(lambda match: _variable_value(match.group(1), lowered_context), text) for text in texts
    ]


def _variable_value(key: str, lowered_context: dict[str, str]) -> str:
    key = key.strip()
    if key in ("*", "?", "$") or "," in key:
        raise NotImplementedError(f"${{{key}}}: literal-character and default-value variables are not modelled")
    if key.lower() not in lowered_context:
        raise _UnresolvedVariable(key)
    return lowered_context[key.lower()]


def _with_key_aliases(context: dict[str, str], resolved_documents: list[dict]) -> dict[str, str]:
    """The context plus a value for every aliased key (`key#OperatorIfExists`) the resolved documents test."""
    lowered_context = {key.lower(): value for key, value in context.items()}
    aliased = dict(context)
    for document in resolved_documents:
        for statement in document["Statement"]:
            for entries in statement.get("Condition", {}).values():
                for key in entries:
                    original, separator, _ = key.partition(_ALIAS_SEPARATOR)
                    if separator:
                        aliased[key] = lowered_context[original.lower()]
    return aliased
