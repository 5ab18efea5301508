"""The validated grant model: raw stack config in, immutable grants out.

Every rule is checked here, before the program registers a single resource, so a bad setting fails `pulumi preview`
with a message that names the setting and the rule, and nothing is created or lost. This module is pure: no Pulumi
imports, so it is tested on its own and reused by the document builders.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

GRANTS_KEY = "partner-access:grants"
SIDE_KEY = "partner-access:side"
ALLOWED_ACCOUNT_IDS_KEY = "aws:allowedAccountIds"

Side = Literal["host", "partner"]
SIDES: tuple[Side, ...] = ("host", "partner")

# IAM's own limits, from the IAM API reference (CreateRole, CreatePolicy, CreateGroup, CreateUser, TagRole) and the
# STS AssumeRole reference for ExternalId. re.ASCII because IAM's \w is [A-Za-z0-9_], not Unicode word characters.
ACCOUNT_ID_PATTERN = re.compile(r"\d{12}", re.ASCII)
IAM_NAME_CHARACTERS = r"[\w+=,.@-]"
ROLE_NAME_PATTERN = re.compile(IAM_NAME_CHARACTERS + r"{1,64}", re.ASCII)
USER_NAME_PATTERN = ROLE_NAME_PATTERN
GROUP_NAME_PATTERN = re.compile(IAM_NAME_CHARACTERS + r"{1,128}", re.ASCII)
POLICY_NAME_PATTERN = GROUP_NAME_PATTERN
IAM_PATH_PATTERN = re.compile(r"/|/[\x21-\x7e]+/", re.ASCII)
IAM_PATH_MAX_LENGTH = 512
EXTERNAL_ID_PATTERN = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
DESCRIPTION_PATTERN = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]{0,1000}")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
POLICY_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>aws|\d{12}):policy"
    r"(?P<path>/(?:[\x21-\x2e\x30-\x7e]+/)*)(?P<name>[\w+=,.@-]{1,128})",
    re.ASCII,
)
PRINCIPAL_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):"
    r"(?P<kind>root|user/(?:[\x21-\x2e\x30-\x7e]+/)*[\w+=,.@-]{1,64}|role/(?:[\x21-\x2e\x30-\x7e]+/)*[\w+=,.@-]{1,64})",
    re.ASCII,
)
SECRET_CONFIG_KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,127}", re.ASCII)
CLI_PROFILE_NAME_PATTERN = re.compile(r"[\w.@+=-]{1,64}", re.ASCII)
MIN_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS = 43200
MAX_TAGS = 50
MAX_DISPLAY_NAME_LENGTH = 64
# STS: a role session name and a source identity are 2-64 characters, so a 1-character user could never match them.
MIN_SESSION_NAME_LENGTH = 2
# IAM's hard ceiling on managed policies per role, user or group (the default quota is 10; raising it is a request).
MAX_MANAGED_POLICIES = 20
# The program's own settings, which an External ID's config key must not reuse.
RESERVED_CONFIG_KEYS = ("grants", "side")
TAG_PUNCTUATION = frozenset("_.:/=+-@")
POLICY_ARN_RULE = "is not an IAM managed policy ARN (arn:aws:iam::<account or aws>:policy/<path/><name>)"
USER_NAME_RULE = "is not an IAM user name (1-64 of letters, digits and +=,.@_-)"


class GrantConfigError(ValueError):
    """Raised with every problem found in the stack config, one per line, each naming its setting and rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "partner-access config is invalid; nothing was created:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class PartnerGroup:
    """A group in the partner account whose members may switch into the role."""

    name: str
    create: bool = True
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    """One role in the host account that one partner account may switch into, with MFA, and who may do so."""

    role_name: str
    host_account_id: str
    partner_account_id: str
    role_path: str = "/"
    description: str = ""
    max_session_duration_seconds: int = MIN_SESSION_SECONDS
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    managed_policy_arns: tuple[str, ...] = ()
    inline_policy: Mapping[str, Any] | None = None
    partner_principal_arns: tuple[str, ...] = ()
    max_mfa_age_seconds: int | None = None
    external_id_secret: str | None = None
    require_source_identity: bool = False
    require_session_name_is_username: bool = True
    partner_policy_name: str | None = None
    partner_users: tuple[str, ...] = ()
    partner_group: PartnerGroup | None = None
    display_name: str | None = None
    cli_source_profile: str = "default"
    partition: str = "aws"
    name: str | None = None

    @property
    def grant_name(self) -> str:
        """Names the grant's component, its outputs and its CLI profile: the role name unless set."""
        return self.name or self.role_name

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.host_account_id}:role{self.role_path}{self.role_name}"

    @property
    def trusted_principals(self) -> tuple[str, ...]:
        """The partner principals the trust names: the listed ARNs, or else the whole partner account."""
        return self.partner_principal_arns or (f"arn:{self.partition}:iam::{self.partner_account_id}:root",)

    @property
    def effective_partner_policy_name(self) -> str:
        return self.partner_policy_name or f"assume-{self.grant_name}"[:128]

    @property
    def effective_display_name(self) -> str:
        return (self.display_name or f"{self.role_name}@{self.host_account_id}")[:MAX_DISPLAY_NAME_LENGTH]

    @property
    def known_partner_users(self) -> tuple[str, ...]:
        """Every partner user this grant names, directly or as a member of its group, each once, in order."""
        group_members = self.partner_group.members if self.partner_group else ()
        return tuple(dict.fromkeys((*self.partner_users, *group_members)))


@dataclass(frozen=True)
class StackSide:
    """Which side of the grants a stack deploys, and the one account it is pinned to."""

    side: Side
    account_id: str


# Each setting: config name -> (Grant field, default shown in docs). Order is the README's order.
GRANT_SETTINGS: dict[str, str] = {
    "roleName": "role_name",
    "hostAccountId": "host_account_id",
    "partnerAccountId": "partner_account_id",
    "rolePath": "role_path",
    "description": "description",
    "maxSessionDurationSeconds": "max_session_duration_seconds",
    "permissionsBoundaryArn": "permissions_boundary_arn",
    "tags": "tags",
    "managedPolicyArns": "managed_policy_arns",
    "inlinePolicy": "inline_policy",
    "partnerPrincipalArns": "partner_principal_arns",
    "maxMfaAgeSeconds": "max_mfa_age_seconds",
    "externalIdSecret": "external_id_secret",
    "requireSourceIdentity": "require_source_identity",
    "requireSessionNameIsUsername": "require_session_name_is_username",
    "partnerPolicyName": "partner_policy_name",
    "partnerUsers": "partner_users",
    "partnerGroup": "partner_group",
    "displayName": "display_name",
    "cliSourceProfile": "cli_source_profile",
    "partition": "partition",
    "name": "name",
}
REQUIRED_GRANT_SETTINGS = ("roleName", "hostAccountId", "partnerAccountId")
PARTNER_GROUP_SETTINGS = ("name", "create", "members")


class _Problems:
    """Collects problems so one preview reports every bad setting at once, not the first only."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, setting: str, rule: str) -> None:
        self.items.append(f"{setting}: {rule}")

    def raise_if_any(self) -> None:
        if self.items:
            raise GrantConfigError(self.items)


def _is_int(value: object) -> bool:
    # JSON config has no int/bool distinction in Python's eyes: True is an int, and must not pass as 1 second.
    return isinstance(value, int) and not isinstance(value, bool)


def _text(problems: _Problems, setting: str, value: object, pattern: re.Pattern[str], rule: str) -> str | None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.add(setting, f"{value!r} {rule}")
        return None
    return value


def _account_id(problems: _Problems, setting: str, value: object) -> str | None:
    return _text(problems, setting, value, ACCOUNT_ID_PATTERN, "is not a 12-digit AWS account ID (quote it in YAML)")


def _string_list(problems: _Problems, setting: str, value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(setting, f"must be a list, got {type(value).__name__}")
        return []
    return value


def _bool(problems: _Problems, setting: str, value: object, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(setting, f"{value!r} must be true or false")
        return default
    return value


def _unique(problems: _Problems, setting: str, values: Sequence[str], what: str) -> None:
    # IAM names are case-insensitive: "Alice" and "alice" are one user.
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            problems.add(setting, f"{what} {value!r} is listed twice (IAM names ignore case)")
        seen.add(value.casefold())


def _text_list(
    problems: _Problems, setting: str, raw: object, pattern: re.Pattern[str], rule: str, what: str
) -> list[str | None]:
    """Each item checked against `pattern` (None where it fails, so indexes still match the config) and no repeats."""
    items = [_text(problems, f"{setting}[{i}]", item, pattern, rule)
             for i, item in enumerate(_string_list(problems, setting, raw))]
    _unique(problems, setting, _valid(items), what)
    return items


def _valid(items: Sequence[str | None]) -> list[str]:
    return [item for item in items if item is not None]


def _parse_partner_group(problems: _Problems, setting: str, raw: object) -> PartnerGroup | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(setting, "must be an object with name, create (default true) and members (default [])")
        return None
    for unknown in sorted(set(raw) - set(PARTNER_GROUP_SETTINGS)):
        problems.add(f"{setting}.{unknown}", f"is not a setting; known: {', '.join(PARTNER_GROUP_SETTINGS)}")
    name = _text(problems, f"{setting}.name", raw.get("name"), GROUP_NAME_PATTERN, "is not an IAM group name "
                 "(1-128 of letters, digits and +=,.@_-)")
    create = _bool(problems, f"{setting}.create", raw.get("create"), True)
    members = _text_list(problems, f"{setting}.members", raw.get("members"), USER_NAME_PATTERN, USER_NAME_RULE, "user")
    if members and not create:
        problems.add(f"{setting}.members", "can only be set when the component creates the group (create: true); "
                     "an existing group's membership is managed where the group is")
    if name is None:
        return None
    return PartnerGroup(name=name, create=create, members=tuple(_valid(members)))


def _is_tag_text(text: str) -> bool:
    # IAM's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: letters, separators, numbers and a little punctuation.
    return all(
        unicodedata.category(char)[0] in "LZN" or char in TAG_PUNCTUATION
        for char in text
    )


def _check_policy_arn_owner(problems: _Problems, setting: str, arn: str, host: str | None, partition: str) -> None:
    match = POLICY_ARN_PATTERN.fullmatch(arn)
    if match is None:
        return
    # An invalid hostAccountId is reported on its own; comparing against it would only add a confusing second line.
    if host is not None and match["account"] not in ("aws", host):
        problems.add(setting, f"{arn!r} is in account {match['account']}; a role can use only AWS managed policies "
                     f"or policies of its own account {host}")
    if match["partition"] != partition:
        problems.add(setting, f"{arn!r} is not in partition {partition!r}")


def _parse_policy_document(problems: _Problems, setting: str, raw: object) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Statement"), (list, Mapping)):
        problems.add(setting, "must be an IAM policy document: an object with a Statement (object or list)")
        return None
    return raw


def _parse_grant(problems: _Problems, index: int, raw: object) -> Grant | None:
    where = f"{GRANTS_KEY}[{index}]"
    if not isinstance(raw, Mapping):
        problems.add(where, f"must be an object, got {type(raw).__name__}")
        return None
    for unknown in sorted(set(raw) - set(GRANT_SETTINGS)):
        problems.add(f"{where}.{unknown}", f"is not a grant setting; known: {', '.join(GRANT_SETTINGS)}")
    for required in REQUIRED_GRANT_SETTINGS:
        if raw.get(required) is None:
            problems.add(f"{where}.{required}", "is required")
    if any(raw.get(required) is None for required in REQUIRED_GRANT_SETTINGS):
        return None
    before = len(problems.items)

    _text(problems, f"{where}.roleName", raw["roleName"], ROLE_NAME_PATTERN,
          "is not an IAM role name (1-64 of letters, digits and +=,.@_-)")
    host = _account_id(problems, f"{where}.hostAccountId", raw["hostAccountId"])
    partner = _account_id(problems, f"{where}.partnerAccountId", raw["partnerAccountId"])
    if host is not None and host == partner:
        problems.add(f"{where}.partnerAccountId", f"equals hostAccountId {host}; a partner must be another account")

    partition = raw.get("partition", "aws")
    if partition not in PARTITIONS:
        problems.add(f"{where}.partition", f"{partition!r} is not one of {', '.join(PARTITIONS)}")

    role_path = raw.get("rolePath", "/")
    if not isinstance(role_path, str) or not IAM_PATH_PATTERN.fullmatch(role_path) or len(role_path) > 512:
        problems.add(f"{where}.rolePath", f"{role_path!r} is not an IAM path: '/' or '/segments/' (starts and ends "
                     "with '/', printable ASCII, at most 512 characters)")

    description = raw.get("description", "")
    if not isinstance(description, str) or not DESCRIPTION_PATTERN.fullmatch(description):
        problems.add(f"{where}.description", "must be text of at most 1000 characters that IAM accepts "
                     "(printable Latin-1, tabs and newlines)")

    duration = raw.get("maxSessionDurationSeconds", MIN_SESSION_SECONDS)
    if not _is_int(duration) or not MIN_SESSION_SECONDS <= duration <= MAX_SESSION_SECONDS:
        problems.add(f"{where}.maxSessionDurationSeconds",
                     f"{duration!r} must be a whole number of seconds from {MIN_SESSION_SECONDS} to "
                     f"{MAX_SESSION_SECONDS} (1 to 12 hours)")

    mfa_age = raw.get("maxMfaAgeSeconds")
    if mfa_age is not None and (not _is_int(mfa_age) or mfa_age <= 0):
        problems.add(f"{where}.maxMfaAgeSeconds", f"{mfa_age!r} must be a whole number of seconds greater than 0")

    boundary = raw.get("permissionsBoundaryArn")
    if boundary is not None and _text(problems, f"{where}.permissionsBoundaryArn", boundary, POLICY_ARN_PATTERN,
                                      POLICY_ARN_RULE):
        _check_policy_arn_owner(problems, f"{where}.permissionsBoundaryArn", boundary, host, partition)

    valid_managed = _valid(_text_list(problems, f"{where}.managedPolicyArns", raw.get("managedPolicyArns"),
                                      POLICY_ARN_PATTERN, POLICY_ARN_RULE, "policy"))
    for i, arn in enumerate(valid_managed):
        _check_policy_arn_owner(problems, f"{where}.managedPolicyArns[{i}]", arn, host, partition)
    if len(valid_managed) > MAX_MANAGED_POLICIES:
        problems.add(f"{where}.managedPolicyArns", f"lists {len(valid_managed)} policies; IAM attaches at most "
                     f"{MAX_MANAGED_POLICIES} to a role (10 unless the account's quota was raised)")
    _unique(problems, f"{where}.managedPolicyArns", [managed_policy_name(arn) for arn in set(valid_managed)],
            "the policy name (which names its attachment)")

    tags = raw.get("tags", {})
    if not isinstance(tags, Mapping) or len(tags) > MAX_TAGS:
        problems.add(f"{where}.tags", f"must be an object of at most {MAX_TAGS} string tags")
        tags = {}
    for key, value in tags.items():
        if (not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:")
                or not _is_tag_text(key)):
            problems.add(f"{where}.tags", f"key {key!r} must be 1-128 letters, digits, spaces or _.:/=+-@ and not "
                         "start with 'aws:'")
        if not isinstance(value, str) or len(value) > 256 or not _is_tag_text(value):
            problems.add(f"{where}.tags.{key}", "must be at most 256 letters, digits, spaces or _.:/=+-@")

    inline_policy = _parse_policy_document(problems, f"{where}.inlinePolicy", raw.get("inlinePolicy"))

    principals = _text_list(
        problems, f"{where}.partnerPrincipalArns", raw.get("partnerPrincipalArns"), PRINCIPAL_ARN_PATTERN,
        "is not an IAM root, user or role ARN without wildcards; wildcard principals would let anyone in", "principal",
    )
    external_id_secret = raw.get("externalIdSecret")
    if external_id_secret is not None:
        _text(problems, f"{where}.externalIdSecret", external_id_secret, SECRET_CONFIG_KEY_PATTERN,
              "must name a config key of this project (a letter, then letters, digits, _ or -) that holds the "
              "External ID, set with `pulumi config set --secret`")
        if external_id_secret in RESERVED_CONFIG_KEYS:
            problems.add(f"{where}.externalIdSecret", f"{external_id_secret!r} is one of the program's own settings "
                         f"({', '.join(RESERVED_CONFIG_KEYS)}); name another key")

    require_source_identity = _bool(problems, f"{where}.requireSourceIdentity", raw.get("requireSourceIdentity"),
                                    False)
    require_session_name = _bool(problems, f"{where}.requireSessionNameIsUsername",
                                 raw.get("requireSessionNameIsUsername"), True)

    identity_rules = [name for name, required in (("requireSessionNameIsUsername", require_session_name),
                                                  ("requireSourceIdentity", require_source_identity)) if required]
    for i, arn in enumerate(principals):
        match = PRINCIPAL_ARN_PATTERN.fullmatch(arn) if arn else None
        if match is None:
            continue
        if partner is not None and match["account"] != partner:
            problems.add(f"{where}.partnerPrincipalArns[{i}]",
                         f"{arn!r} is in account {match['account']}, not partnerAccountId {partner}")
        if match["partition"] != partition:
            problems.add(f"{where}.partnerPrincipalArns[{i}]", f"{arn!r} is not in partition {partition!r}")
        if match["kind"].startswith("role/") and identity_rules:
            # A role session carries no aws:username, so these rules would lock the listed role out for good.
            problems.add(f"{where}.partnerPrincipalArns[{i}]",
                         f"{arn!r} is a role, whose sessions have no aws:username, so {' and '.join(identity_rules)} "
                         "would refuse it every time; list users, or set those to false for this grant")

    partner_policy_name = raw.get("partnerPolicyName")
    if partner_policy_name is not None:
        _text(problems, f"{where}.partnerPolicyName", partner_policy_name, POLICY_NAME_PATTERN,
              "is not an IAM policy name (1-128 of letters, digits and +=,.@_-)")
    users = _text_list(problems, f"{where}.partnerUsers", raw.get("partnerUsers"), USER_NAME_PATTERN, USER_NAME_RULE,
                       "user")
    partner_group = _parse_partner_group(problems, f"{where}.partnerGroup", raw.get("partnerGroup"))
    if not _valid(users) and raw.get("partnerGroup") is None:
        problems.add(f"{where}.partnerUsers", "or partnerGroup must be set: without either, the partner policy is "
                     "attached to nobody and no one can switch")
    if require_session_name or require_source_identity:
        too_short = [user for user in (*_valid(users), *(partner_group.members if partner_group else ()))
                     if len(user) < MIN_SESSION_NAME_LENGTH]
        for user in too_short:
            problems.add(f"{where}.partnerUsers", f"user {user!r} is shorter than the {MIN_SESSION_NAME_LENGTH} "
                         "characters STS requires of a session name or source identity, so the user-name rules "
                         "would refuse them every time")

    display_name = raw.get("displayName")
    if display_name is not None and (not isinstance(display_name, str) or not
                                     1 <= len(display_name) <= MAX_DISPLAY_NAME_LENGTH):
        problems.add(f"{where}.displayName", f"{display_name!r} must be 1-{MAX_DISPLAY_NAME_LENGTH} characters")
    grant_name = raw.get("name")
    if grant_name is not None:
        _text(problems, f"{where}.name", grant_name, ROLE_NAME_PATTERN,
              "is not a grant name (1-64 of letters, digits and +=,.@_-)")
    cli_source_profile = raw.get("cliSourceProfile", "default")
    _text(problems, f"{where}.cliSourceProfile", cli_source_profile, CLI_PROFILE_NAME_PATTERN,
          "is not an AWS CLI profile name (1-64 of letters, digits and ._@+=-)")

    if len(problems.items) > before:
        return None
    return Grant(
        role_name=raw["roleName"],
        host_account_id=raw["hostAccountId"],
        partner_account_id=raw["partnerAccountId"],
        role_path=role_path,
        description=description,
        max_session_duration_seconds=duration,
        permissions_boundary_arn=boundary,
        tags=dict(tags),
        managed_policy_arns=tuple(valid_managed),
        inline_policy=inline_policy,
        partner_principal_arns=tuple(_valid(principals)),
        max_mfa_age_seconds=mfa_age,
        external_id_secret=external_id_secret,
        require_source_identity=require_source_identity,
        require_session_name_is_username=require_session_name,
        partner_policy_name=partner_policy_name,
        partner_users=tuple(_valid(users)),
        partner_group=partner_group,
        display_name=display_name,
        cli_source_profile=cli_source_profile,
        partition=partition,
        name=grant_name,
    )


def managed_policy_name(policy_arn: str) -> str:
    """The last segment of a managed policy ARN, which names the policy's attachment resource."""
    return policy_arn.rsplit("/", 1)[-1]


def _check_unique_per_account(problems: _Problems, grants: Sequence[Grant]) -> None:
    # IAM names are unique per account, whatever their path or case, so two grants may not claim one name in one
    # account; and each stack names its grants' components and outputs by grant name, so those are unique per stack.
    claims: dict[tuple[str, str, str], int] = {}
    for index, grant in enumerate(grants):
        names = [("role name", grant.host_account_id, grant.role_name),
                 ("grant name", grant.host_account_id, grant.grant_name),
                 ("grant name", grant.partner_account_id, grant.grant_name),
                 ("partner policy name", grant.partner_account_id, grant.effective_partner_policy_name)]
        if grant.partner_group and grant.partner_group.create:
            names.append(("partner group name", grant.partner_account_id, grant.partner_group.name))
        for kind, account, name in names:
            first = claims.setdefault((kind, account, name.casefold()), index)
            if first != index:
                hint = "; give one of them its own name setting" if kind == "grant name" else ""
                problems.add(f"{GRANTS_KEY}[{index}]", f"{kind} {name!r} in account {account} is already used by "
                             f"{GRANTS_KEY}[{first}] (IAM names ignore case){hint}")


def _check_partner_attachment_counts(problems: _Problems, grants: Sequence[Grant]) -> None:
    # Each grant attaches its own partner policy to its users and group; IAM stops at 20 per user or group.
    attachments: dict[tuple[str, str, str], list[int]] = {}
    for index, grant in enumerate(grants):
        holders = [("user", name) for name in grant.partner_users]
        if grant.partner_group is not None:
            holders.append(("group", grant.partner_group.name))
        for kind, name in holders:
            attachments.setdefault((grant.partner_account_id, kind, name.casefold()), []).append(index)
    for (account, kind, name), indexes in attachments.items():
        if len(indexes) > MAX_MANAGED_POLICIES:
            problems.add(GRANTS_KEY, f"{len(indexes)} grants attach their partner policy to {kind} {name!r} in account "
                         f"{account}; IAM attaches at most {MAX_MANAGED_POLICIES} managed policies to a {kind} (10 "
                         "unless the account's quota was raised): put those users in a group per grant")


def parse_grants(raw: object) -> tuple[Grant, ...]:
    """Validates the project's grants setting, as read from config (a list of objects), into grants."""
    problems = _Problems()
    if not isinstance(raw, list) or not raw:
        problems.add(GRANTS_KEY, "must be a non-empty list of grants (set it under config: in Pulumi.yaml)")
        problems.raise_if_any()
    grants = [_parse_grant(problems, index, item) for index, item in enumerate(raw)]
    problems.raise_if_any()
    valid = [grant for grant in grants if grant is not None]
    _check_unique_per_account(problems, valid)
    _check_partner_attachment_counts(problems, valid)
    problems.raise_if_any()
    return tuple(valid)


def parse_stack_side(side: object, allowed_account_ids: object) -> StackSide:
    """Which side this stack deploys and the account it is pinned to, both required so no stack deploys blind."""
    problems = _Problems()
    if side not in SIDES:
        problems.add(SIDE_KEY, f"{side!r} is not a side; set it to one of: {', '.join(SIDES)}")
    if not isinstance(allowed_account_ids, list) or len(allowed_account_ids) != 1:
        problems.add(ALLOWED_ACCOUNT_IDS_KEY, f"{allowed_account_ids!r} must list exactly one account, the one this "
                     "stack deploys into, so a deploy with another account's credentials fails")
        problems.raise_if_any()
    account = _account_id(problems, f"{ALLOWED_ACCOUNT_IDS_KEY}[0]", allowed_account_ids[0])
    problems.raise_if_any()
    return StackSide(side=side, account_id=account)  # type: ignore[arg-type]


def grants_for_stack(stack: StackSide, grants: Sequence[Grant]) -> tuple[Grant, ...]:
    """The grants whose side this stack deploys: host roles in its account, or partner access from its account."""
    selected = tuple(
        grant for grant in grants
        if (grant.host_account_id if stack.side == "host" else grant.partner_account_id) == stack.account_id
    )
    if not selected:
        account_setting = "hostAccountId" if stack.side == "host" else "partnerAccountId"
        raise GrantConfigError([
            f"{GRANTS_KEY}: no grant has {account_setting} {stack.account_id}, the account {ALLOWED_ACCOUNT_IDS_KEY} "
            f"pins this {stack.side} stack to; check the stack's account or add a grant"
        ])
    return selected


def validate_external_id(grant: Grant, value: object, is_secret: bool) -> str:
    """The External ID a grant requires, checked against STS's rules and required to be stored as a secret."""
    key = f"partner-access:{grant.external_id_secret}"
    problems = _Problems()
    if value is None:
        problems.add(key, f"is not set, and grant {grant.grant_name!r} requires it (externalIdSecret); set it on both "
                     f"stacks with `pulumi config set --secret {grant.external_id_secret} <external-id>`")
    elif not is_secret:
        problems.add(key, f"must be set with `pulumi config set --secret {grant.external_id_secret} ...`, not in "
                     "plain text: an External ID is shared only with the partner")
    elif not isinstance(value, str) or not EXTERNAL_ID_PATTERN.fullmatch(value):
        # The value itself stays out of the message: it is a secret.
        problems.add(key, "is not a valid External ID: 2-1224 of letters, digits and +=,.@:/_-")
    problems.raise_if_any()
    return value  # type: ignore[return-value]
