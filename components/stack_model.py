"""The validated stack model: which side a stack deploys, its account, that account's IAM quotas, its grants and their
External IDs, from the stack's raw config.

The rules that depend on the stack's own account live here: the account's quotas (stack settings, with AWS's defaults)
against the roles, trusts and partner attachments this stack creates, and each External ID against STS's rules. Every
problem is reported at once and nothing is registered. Pure: config arrives through a `ConfigSource` (the raw text of
a key, and whether it is secret), which `components.stack_config` provides from Pulumi; the tests provide dicts.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from components import config_checks as check
from components.config_checks import Problems, Setting, setting, settings_of
from components.documents import trust_policy_document, trust_policy_size
from components.grant_model import (
    ACCOUNT_ID_PATTERN,
    GRANTS_KEY,
    MANAGED_POLICIES_PER_GROUP,
    MAX_MANAGED_POLICIES_PER_ROLE,
    MAX_MANAGED_POLICIES_PER_USER,
    Grant,
    collect_grants,
    partner_policy_holders,
)
from components.namespace import QUOTAS_SETTING, SIDE_SETTING, config_key

SIDE_KEY = config_key(SIDE_SETTING)
QUOTAS_KEY = config_key(QUOTAS_SETTING)
ALLOWED_ACCOUNT_IDS_KEY = "aws:allowedAccountIds"

Side = Literal["host", "partner"]
SIDES: tuple[Side, ...] = ("host", "partner")

# STS AssumeRole: an External ID is 2-1224 of these characters.
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)

# IAM and AWS STS quotas: a role trust policy is 2,048 characters by default, raisable to 4,096; IAM does not count
# whitespace (GetAccountSummary: AssumeRolePolicySizeQuota, "in non-whitespace characters").
DEFAULT_TRUST_POLICY_MAX_CHARACTERS = 2048
MAX_TRUST_POLICY_MAX_CHARACTERS = 4096
DEFAULT_MANAGED_POLICIES = 10


@dataclass(frozen=True)
class Quotas:
    """The IAM quotas of the stack's account that AWS lets an account raise, with AWS's defaults. An account whose
    quota was raised sets the new value here (stack setting partner-access:quotas), so previews refuse exactly what
    that account cannot hold. The per-group quota (10) cannot be raised, so it is not a setting."""

    managed_policies_per_role: int = setting("managedPoliciesPerRole", DEFAULT_MANAGED_POLICIES)
    managed_policies_per_user: int = setting("managedPoliciesPerUser", DEFAULT_MANAGED_POLICIES)
    trust_policy_max_characters: int = setting("trustPolicyMaxCharacters", DEFAULT_TRUST_POLICY_MAX_CHARACTERS)


@dataclass(frozen=True)
class QuotaRange:
    """What a quota setting may be: from AWS's default up to the most AWS raises it to, and the name IAM's
    GetAccountSummary (`aws iam get-account-summary`) reports the account's value under."""

    maximum: int
    account_summary_key: str


QUOTA_SETTINGS = settings_of(Quotas)
QUOTA_RANGES: Mapping[str, QuotaRange] = {
    "managedPoliciesPerRole": QuotaRange(MAX_MANAGED_POLICIES_PER_ROLE, "AttachedPoliciesPerRoleQuota"),
    "managedPoliciesPerUser": QuotaRange(MAX_MANAGED_POLICIES_PER_USER, "AttachedPoliciesPerUserQuota"),
    "trustPolicyMaxCharacters": QuotaRange(MAX_TRUST_POLICY_MAX_CHARACTERS, "AssumeRolePolicySizeQuota"),
}
# The per-group quota, for reference next to the settings: IAM reports it as AttachedPoliciesPerGroupQuota.
GROUP_QUOTA = QuotaRange(MANAGED_POLICIES_PER_GROUP, "AttachedPoliciesPerGroupQuota")


@dataclass(frozen=True)
class StackSide:
    """Which side of the grants a stack deploys, and the one account it is pinned to (the only entry of
    aws:allowedAccountIds, which also makes the AWS provider refuse another account's credentials)."""

    side: Side = setting(SIDE_KEY)  # noqa: RUF009 (a dataclasses.field)
    account_id: str = setting(ALLOWED_ACCOUNT_IDS_KEY)


# A grant's External ID lives under a key the grant names (externalIdSecret), secret, on both stacks.
EXTERNAL_ID_SETTING = config_key("<externalIdSecret>")
# The stack settings the program reads, by full key, as the docs list them.
STACK_SETTINGS: tuple[Setting, ...] = (
    *settings_of(StackSide),
    *(dataclasses.replace(declared, name=f"{QUOTAS_KEY}.{declared.name}") for declared in QUOTA_SETTINGS),
    Setting(name=EXTERNAL_ID_SETTING, attribute="external_ids", required=False, default=None, default_text=None),
)


@dataclass(frozen=True)
class StackModel:
    """Everything one stack deploys, validated. `external_ids` holds each grant's External ID in plain text, by
    grant name: callers must keep it secret (components.stack_config wraps it in a secret Output at once)."""

    stack: StackSide
    grants: tuple[Grant, ...]
    quotas: Quotas
    external_ids: Mapping[str, str]


class ConfigSource(Protocol):
    """The stack's raw config: the engine's text for a key (structured values JSON-encoded), and whether the key is
    secret."""

    def get(self, key: str) -> str | None: ...

    def is_secret(self, key: str) -> bool: ...


def _decoded(text: str | None) -> object:
    # The engine hands structured values (lists, objects) JSON-encoded and plain values as their text.
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _collect_stack_side(problems: Problems, side: object, allowed_account_ids: object) -> StackSide | None:
    before = problems.count()
    if side not in SIDES:
        problems.add(SIDE_KEY, f"{side!r} is not a side; set it to one of: {', '.join(SIDES)}")
    account = None
    if not isinstance(allowed_account_ids, list) or len(allowed_account_ids) != 1:
        problems.add(ALLOWED_ACCOUNT_IDS_KEY, f"{allowed_account_ids!r} must list exactly one account, the one this "
                     "stack deploys into, so a deploy with another account's credentials fails")
    else:
        account = check.text(problems, f"{ALLOWED_ACCOUNT_IDS_KEY}[0]", allowed_account_ids[0], ACCOUNT_ID_PATTERN,
                             "is not a 12-digit AWS account ID (quote it in YAML)")
    if problems.count() > before or account is None:
        return None
    return StackSide(side=side, account_id=account)  # type: ignore[arg-type]  # side is one of SIDES here


def parse_stack_side(side: object, allowed_account_ids: object) -> StackSide:
    """Which side this stack deploys and the account it is pinned to, both required so no stack deploys blind."""
    problems = Problems()
    stack = _collect_stack_side(problems, side, allowed_account_ids)
    problems.raise_if_any()
    return stack  # type: ignore[return-value]


def _collect_quotas(problems: Problems, raw: object) -> Quotas:
    if raw is None:
        return Quotas()
    settings = check.mapping(problems, QUOTAS_KEY, raw, "of quota settings")
    if settings is None:
        return Quotas()
    check.known_keys(problems, QUOTAS_KEY, settings, [declared.name for declared in QUOTA_SETTINGS], "a quota setting")
    fields = {}
    for declared in QUOTA_SETTINGS:
        if settings.get(declared.name) is None:
            continue
        maximum = QUOTA_RANGES[declared.name].maximum
        value = check.whole_number(problems, f"{QUOTAS_KEY}.{declared.name}", settings[declared.name],
                                   declared.default, maximum, f"from {declared.default} (AWS's default) to {maximum} "
                                   "(the most AWS raises it to)")
        if value is not None:
            fields[declared.attribute] = value
    return Quotas(**fields)


def parse_quotas(raw: object) -> Quotas:
    """The stack's quota settings (partner-access:quotas, an object; unset keys take AWS's defaults)."""
    problems = Problems()
    quotas = _collect_quotas(problems, raw)
    problems.raise_if_any()
    return quotas


def _selects(stack: StackSide, grant: Grant) -> bool:
    return (grant.host_account_id if stack.side == "host" else grant.partner_account_id) == stack.account_id


def grants_for_stack(stack: StackSide, grants: Sequence[Grant]) -> tuple[Grant, ...]:
    """The grants whose side this stack deploys: host roles in its account, or partner access from its account."""
    selected = tuple(grant for grant in grants if _selects(stack, grant))
    if not selected:
        account_setting = "hostAccountId" if stack.side == "host" else "partnerAccountId"
        raise check.GrantConfigError([
            f"{GRANTS_KEY}: no grant has {account_setting} {stack.account_id}, the account {ALLOWED_ACCOUNT_IDS_KEY} "
            f"pins this {stack.side} stack to; check the stack's account or add a grant"
        ])
    return selected


def external_id_key(grant: Grant) -> str | None:
    """The config key holding the grant's External ID, if the grant requires one."""
    return None if grant.external_id_secret is None else config_key(grant.external_id_secret)


def _collect_external_id(problems: Problems, grant: Grant, value: object, is_secret: bool) -> str | None:
    key = external_id_key(grant)
    before = problems.count()
    if value is None:
        problems.add(key, f"is not set, and grant {grant.grant_name!r} requires it (externalIdSecret); set it on both "
                     f"stacks with `pulumi config set --secret {grant.external_id_secret} <external-id>`")
    elif not is_secret:
        problems.add(key, f"must be set with `pulumi config set --secret {grant.external_id_secret} ...`, not in "
                     "plain text: an External ID is shared only with the partner")
    elif not isinstance(value, str) or not EXTERNAL_ID_PATTERN.fullmatch(value):
        # The value itself stays out of the message: it is a secret.
        problems.add(key, "is not a valid External ID: 2-1224 of letters, digits and +=,.@:/_-")
    return value if problems.count() == before else None  # type: ignore[return-value]


def validate_external_id(grant: Grant, value: object, is_secret: bool) -> str:
    """The External ID a grant requires, checked against STS's rules and required to be stored as a secret."""
    problems = Problems()
    external_id = _collect_external_id(problems, grant, value, is_secret)
    problems.raise_if_any()
    return external_id  # type: ignore[return-value]


def _quota_hint(setting_name: str) -> str:
    default = next(declared.default for declared in QUOTA_SETTINGS if declared.name == setting_name)
    return (f"{QUOTAS_KEY}.{setting_name}, AWS's default {default}, raisable to {QUOTA_RANGES[setting_name].maximum}; "
            "policies attached outside this program come on top")


def _check_host_quotas(problems: Problems, grants: Sequence[Grant], quotas: Quotas,
                       external_ids: Mapping[str, str]) -> None:
    # IAM refuses these at deploy time, after other resources may have changed; refuse them at preview.
    for grant in grants:
        where = f"{GRANTS_KEY} grant {grant.grant_name!r}"
        if len(grant.managed_policy_arns) > quotas.managed_policies_per_role:
            problems.add(where, f"managedPolicyArns lists {len(grant.managed_policy_arns)} policies, over this "
                         f"account's quota of {quotas.managed_policies_per_role} per role "
                         f"({_quota_hint('managedPoliciesPerRole')})")
        size = trust_policy_size(trust_policy_document(grant, external_ids.get(grant.grant_name)))
        if size > quotas.trust_policy_max_characters:
            problems.add(where, f"its trust policy is {size} characters (whitespace not counted), over this "
                         f"account's quota of {quotas.trust_policy_max_characters} "
                         f"({_quota_hint('trustPolicyMaxCharacters')}); list fewer partnerPrincipalArns (or trust the "
                         "partner account root and let the partner choose its users)")


def _check_partner_quotas(problems: Problems, stack: StackSide, grants: Sequence[Grant], quotas: Quotas) -> None:
    for holder in partner_policy_holders(grants):
        if holder.kind != "user" or holder.account_id != stack.account_id:
            continue
        if len(holder.grant_indexes) > quotas.managed_policies_per_user:
            problems.add(GRANTS_KEY, f"{len(holder.grant_indexes)} grants attach their partner policy to user "
                         f"{holder.name!r} in account {holder.account_id}, over this account's quota of "
                         f"{quotas.managed_policies_per_user} per user ({_quota_hint('managedPoliciesPerUser')}); put "
                         "those users in a group per grant")


def load_stack(source: ConfigSource) -> StackModel:
    """The stack's validated model from its raw config, or GrantConfigError listing every problem."""
    problems = Problems()
    stack = _collect_stack_side(problems, _decoded(source.get(SIDE_KEY)),
                                _decoded(source.get(ALLOWED_ACCOUNT_IDS_KEY)))
    grants = collect_grants(problems, _decoded(source.get(GRANTS_KEY)))
    quotas = _collect_quotas(problems, _decoded(source.get(QUOTAS_KEY)))
    problems.raise_if_any()
    assert stack is not None, "a stack side that failed to parse was reported above"
    selected = grants_for_stack(stack, grants)
    external_ids: dict[str, str] = {}
    for grant in selected:
        key = external_id_key(grant)
        if key is not None:
            # Read as text, never JSON-decoded: an External ID is a string whatever it looks like.
            value = _collect_external_id(problems, grant, source.get(key), source.is_secret(key))
            if value is not None:
                external_ids[grant.grant_name] = value
    problems.raise_if_any()
    if stack.side == "host":
        _check_host_quotas(problems, selected, quotas, external_ids)
    else:
        _check_partner_quotas(problems, stack, selected, quotas)
    problems.raise_if_any()
    return StackModel(stack=stack, grants=selected, quotas=quotas, external_ids=external_ids)
