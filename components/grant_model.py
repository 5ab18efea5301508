"""The validated grant model: the grants setting in, immutable grants out.

Every rule on a grant is checked here, before the program registers a single resource, so a bad setting fails
`pulumi preview` with a message that names the setting and the rule, and nothing is created or lost. Each setting and
its default are declared once, on the `Grant` and `PartnerGroup` fields; one parser per settings section checks the
settings that are set, the grant is built from them (the model fills in the defaults), then one cross-field pass
checks the rules between settings, and one pass across grants checks what IAM limits per account. The rules that need
a stack's own account (its quotas, its External ID values) are in `components.stack_model`. This module is pure: no
Pulumi imports, so it is tested on its own and reused by the document builders.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components import config_checks as check
from components.config_checks import GrantConfigError as GrantConfigError  # re-exported: callers catch it from here
from components.config_checks import Problems, setting, settings_of
from components.namespace import GRANTS_SETTING, PROGRAM_SETTINGS, config_key

GRANTS_KEY = config_key(GRANTS_SETTING)

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
TAG_PUNCTUATION = frozenset("_.:/=+-@")

# The most managed policies IAM attaches, whatever an account's quota (IAM and AWS STS quotas: per role 10 by default,
# raisable to 25; per user 10, raisable to 20; per group 10, not adjustable). The account's own quotas, which may be
# lower, are stack settings checked in components.stack_model.
MAX_MANAGED_POLICIES_PER_ROLE = 25
MAX_MANAGED_POLICIES_PER_USER = 20
MANAGED_POLICIES_PER_GROUP = 10
# IAM and AWS STS quotas, not adjustable: an IAM user can be a member of at most 10 groups.
GROUPS_PER_USER = 10

POLICY_ARN_RULE = "is not an IAM managed policy ARN (arn:aws:iam::<account or aws>:policy/<path/><name>)"
USER_NAME_RULE = "is not an IAM user name (1-64 of letters, digits and +=,.@_-)"
PRINCIPAL_RULE = "is not an IAM root, user or role ARN without wildcards; wildcard principals would let anyone in"

# Partners who sign in through a federation cannot meet this trust, for two documented reasons (IAM User Guide).
NO_USERNAME_REASON = ("its sessions have no aws:username (IAM puts that key in the request context for IAM users; "
                      "requests made with a role do not carry it), so the session-name and source-identity rules "
                      "cannot hold")
NO_MFA_REASON = ("the MFA its identity provider applies is not visible to this trust as aws:MultiFactorAuthPresent "
                 "(for AssumeRoleWithSAML and AssumeRoleWithWebIdentity AWS cannot determine whether the provider "
                 "required MFA, and federated users cannot be assigned an MFA device for use with AWS), so the trust's "
                 "MFA rule would refuse it every time")
FEDERATED_PRINCIPALS: tuple[tuple[re.Pattern[str], str], ...] = (
    # IAM Identity Center creates its roles under this path, named AWSReservedSSO_<permission set>_<suffix>.
    (re.compile(r"arn:[\w-]+:iam::\d{12}:role/(?:aws-reserved/sso\.amazonaws\.com/|(?:[^/]*/)*AWSReservedSSO_)"),
     "an IAM Identity Center role"),
    (re.compile(r"arn:[\w-]+:iam::\d{12}:(?:saml-provider|oidc-provider)/"), "a SAML or OIDC identity provider"),
    (re.compile(r"arn:[\w-]+:sts::\d{12}:assumed-role/"), "a role session (for example a SAML, OIDC or IAM Identity "
                                                          "Center sign-in)"),
    (re.compile(r"arn:[\w-]+:sts::\d{12}:federated-user/"), "a federated user session"),
)


@dataclass(frozen=True)
class PartnerGroup:
    """A group in the partner account whose members may switch into the role."""

    name: str = setting("name")
    create: bool = setting("create", True)
    members: tuple[str, ...] = setting("members", ())


@dataclass(frozen=True)
class Grant:
    """One role in the host account that one partner account may switch into, with MFA, and who may do so.

    Each field is one grant setting (its config name in `setting(...)`) with its default. The three settings whose
    default is derived from others (name, partnerPolicyName, displayName) are None until the grant is built, which
    fills them in, so every consumer reads one resolved attribute.
    """

    role_name: str = setting("roleName")
    host_account_id: str = setting("hostAccountId")
    partner_account_id: str = setting("partnerAccountId")
    role_path: str = setting("rolePath", "/")
    description: str = setting("description", "")
    max_session_duration_seconds: int = setting("maxSessionDurationSeconds", MIN_SESSION_SECONDS)
    permissions_boundary_arn: str | None = setting("permissionsBoundaryArn", None)
    tags: Mapping[str, str] = setting("tags", factory=dict)
    managed_policy_arns: tuple[str, ...] = setting("managedPolicyArns", ())
    inline_policy: Mapping[str, Any] | None = setting("inlinePolicy", None)
    partner_principal_arns: tuple[str, ...] = setting("partnerPrincipalArns", (),
                                                      default_text="`[]` = `arn:aws:iam::<B>:root`")
    max_mfa_age_seconds: int | None = setting("maxMfaAgeSeconds", None)
    external_id_secret: str | None = setting("externalIdSecret", None)
    require_session_name_is_username: bool = setting("requireSessionNameIsUsername", True)
    require_source_identity: bool = setting("requireSourceIdentity", False)
    partner_policy_name: str = setting("partnerPolicyName", None,
                                       default_text="`assume-<name>` (`name` defaults to `roleName`)")
    partner_users: tuple[str, ...] = setting("partnerUsers", ())
    partner_group: PartnerGroup | None = setting("partnerGroup", None)  # noqa: RUF009 (a dataclasses.field)
    display_name: str = setting("displayName", None, default_text="`<roleName>@<hostAccountId>`")
    cli_source_profile: str = setting("cliSourceProfile", "default")
    partition: str = setting("partition", "aws")
    grant_name: str = setting("name", None, default_text="`roleName`")

    def __post_init__(self) -> None:
        # The derived defaults, resolved once here (the order matters: the policy name follows the grant name).
        if self.grant_name is None:
            object.__setattr__(self, "grant_name", self.role_name)
        if self.partner_policy_name is None:
            object.__setattr__(self, "partner_policy_name", f"assume-{self.grant_name}")
        if self.display_name is None:
            default_display = f"{self.role_name}@{self.host_account_id}"[:MAX_DISPLAY_NAME_LENGTH]
            object.__setattr__(self, "display_name", default_display)

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.host_account_id}:role{self.role_path}{self.role_name}"

    @property
    def trusted_principals(self) -> tuple[str, ...]:
        """The partner principals the trust names: the listed ARNs, or else the whole partner account."""
        return self.partner_principal_arns or (f"arn:{self.partition}:iam::{self.partner_account_id}:root",)

    @property
    def known_partner_users(self) -> tuple[str, ...]:
        """Every partner user this grant names, directly or as a member of its group, each once, in order."""
        group_members = self.partner_group.members if self.partner_group else ()
        return tuple(dict.fromkeys((*self.partner_users, *group_members)))

    @property
    def identity_rules(self) -> tuple[str, ...]:
        """The settings that tie the session to the partner's IAM user name (${aws:username}), where switched on."""
        rules = (("requireSessionNameIsUsername", self.require_session_name_is_username),
                 ("requireSourceIdentity", self.require_source_identity))
        return tuple(name for name, required in rules if required)


# The settings as declared on the model, in the README's order, for parsing and for comparing the docs with.
GRANT_SETTINGS = settings_of(Grant)
PARTNER_GROUP_SETTINGS = settings_of(PartnerGroup)
_ATTRIBUTE_OF = {declared.name: declared.attribute for declared in GRANT_SETTINGS}
_REQUIRED_GRANT_SETTINGS = tuple(declared.name for declared in GRANT_SETTINGS if declared.required)


def managed_policy_name(policy_arn: str) -> str:
    """The last segment of a managed policy ARN, which names the policy's attachment resource."""
    return policy_arn.rsplit("/", 1)[-1]


# --- Checks of one setting -------------------------------------------------------------------------------------------


def _account_id(problems: Problems, where: str, value: object) -> str | None:
    return check.text(problems, where, value, ACCOUNT_ID_PATTERN, "is not a 12-digit AWS account ID (quote it in YAML)")


def _partition(problems: Problems, where: str, value: object) -> str | None:
    if value not in PARTITIONS:
        problems.add(where, f"{value!r} is not one of {', '.join(PARTITIONS)}")
        return None
    return value  # type: ignore[return-value]


def _role_path(problems: Problems, where: str, value: object) -> str | None:
    if not isinstance(value, str) or not IAM_PATH_PATTERN.fullmatch(value) or len(value) > IAM_PATH_MAX_LENGTH:
        problems.add(where, f"{value!r} is not an IAM path: '/' or '/segments/' (starts and ends with '/', printable "
                     f"ASCII, at most {IAM_PATH_MAX_LENGTH} characters)")
        return None
    return value


def _description(problems: Problems, where: str, value: object) -> str | None:
    if not isinstance(value, str) or not DESCRIPTION_PATTERN.fullmatch(value):
        problems.add(where, "must be text of at most 1000 characters that IAM accepts (printable Latin-1, tabs and "
                     "newlines)")
        return None
    return value


def _is_tag_text(text: str) -> bool:
    # IAM's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: letters, separators, numbers and a little punctuation.
    return all(unicodedata.category(char)[0] in "LZN" or char in TAG_PUNCTUATION for char in text)


def _tags(problems: Problems, where: str, value: object) -> dict[str, str] | None:
    if not isinstance(value, Mapping) or len(value) > MAX_TAGS:
        problems.add(where, f"must be an object of at most {MAX_TAGS} string tags")
        return None
    before = problems.count()
    for key, tag_value in value.items():
        if (not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:")
                or not _is_tag_text(key)):
            problems.add(where, f"key {key!r} must be 1-128 letters, digits, spaces or _.:/=+-@ and not start with "
                         "'aws:'")
        if not isinstance(tag_value, str) or len(tag_value) > 256 or not _is_tag_text(tag_value):
            problems.add(f"{where}.{key}", "must be at most 256 letters, digits, spaces or _.:/=+-@")
    return dict(value) if problems.count() == before else None


def _policy_document(problems: Problems, where: str, value: object) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("Statement"), (list, Mapping)):
        problems.add(where, "must be an IAM policy document: an object with a Statement (object or list)")
        return None
    return value


def _managed_policy_arns(problems: Problems, where: str, value: object) -> tuple[str, ...] | None:
    arns = check.text_list(problems, where, value, POLICY_ARN_PATTERN, POLICY_ARN_RULE, "policy")
    if arns is None:
        return None
    before = problems.count()
    if len(arns) > MAX_MANAGED_POLICIES_PER_ROLE:
        problems.add(where, f"lists {len(arns)} policies; IAM attaches at most {MAX_MANAGED_POLICIES_PER_ROLE} to a "
                     "role, even with the account's quota raised as far as AWS raises it")
    check.unique_names(problems, where, [managed_policy_name(arn) for arn in arns],
                       "the policy name (which names its attachment)")
    return arns if problems.count() == before else None


def _federated_kind(arn: object) -> str | None:
    """What kind of federated principal an ARN names, if it names one."""
    if not isinstance(arn, str):
        return None
    return next((kind for pattern, kind in FEDERATED_PRINCIPALS if pattern.match(arn)), None)


def _partner_principal_arns(problems: Problems, where: str, value: object) -> tuple[str, ...] | None:
    before = problems.count()
    arns = []
    for i, arn in enumerate(check.listed(problems, where, value)):
        kind = _federated_kind(arn)
        if kind is not None:
            problems.add(f"{where}[{i}]", f"{arn!r} is {kind}: {NO_USERNAME_REASON}, and {NO_MFA_REASON}; give the "
                         "people who switch IAM users in the partner account, with MFA, and list those users")
        elif check.text(problems, f"{where}[{i}]", arn, PRINCIPAL_ARN_PATTERN, PRINCIPAL_RULE) is not None:
            arns.append(arn)
    check.unique_names(problems, where, arns, "principal")
    return tuple(arns) if problems.count() == before else None


def _external_id_secret(problems: Problems, where: str, value: object) -> str | None:
    key = check.text(problems, where, value, SECRET_CONFIG_KEY_PATTERN, "must name a config key of this project (a "
                     "letter, then letters, digits, _ or -) that holds the External ID, set with `pulumi config set "
                     "--secret`")
    if key in PROGRAM_SETTINGS:
        problems.add(where, f"{key!r} is one of the program's own settings ({', '.join(PROGRAM_SETTINGS)}); name "
                     "another key")
        return None
    return key


def _partner_group(problems: Problems, where: str, value: object) -> PartnerGroup | None:
    raw = check.mapping(problems, where, value, "with name, create (default true) and members (default [])")
    if raw is None:
        return None
    before = problems.count()
    known = [declared.name for declared in PARTNER_GROUP_SETTINGS]
    check.known_keys(problems, where, raw, known, "a setting")
    fields: dict[str, Any] = {}
    if raw.get("name") is None:
        problems.add(f"{where}.name", "is required")
    else:
        fields["name"] = check.text(problems, f"{where}.name", raw["name"], GROUP_NAME_PATTERN,
                                    "is not an IAM group name (1-128 of letters, digits and +=,.@_-)")
    if raw.get("create") is not None:
        fields["create"] = check.boolean(problems, f"{where}.create", raw["create"])
    if raw.get("members") is not None:
        fields["members"] = check.text_list(problems, f"{where}.members", raw["members"], USER_NAME_PATTERN,
                                            USER_NAME_RULE, "user")
    if problems.count() > before:
        return None
    group = PartnerGroup(**fields)
    if group.members and not group.create:
        problems.add(f"{where}.members", "can only be set when the component creates the group (create: true); an "
                     "existing group's membership is managed where the group is")
        return None
    return group


def _display_name(problems: Problems, where: str, value: object) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_DISPLAY_NAME_LENGTH:
        problems.add(where, f"{value!r} must be 1-{MAX_DISPLAY_NAME_LENGTH} characters")
        return None
    return value


# --- One parser per settings section -----------------------------------------------------------------------------


class _Section:
    """One grant's settings as read by one section parser: each set setting checked, the valid ones kept by
    attribute, so the grant is built from exactly the settings that are set."""

    def __init__(self, problems: Problems, where: str, raw: Mapping[str, object]) -> None:
        self.problems = problems
        self.where = where
        self.raw = raw
        self.fields: dict[str, Any] = {}

    def read(self, name: str, parse: Any) -> None:
        """Checks setting `name` with `parse(problems, where, value)` when it is set (null counts as unset)."""
        value = self.raw.get(name)
        if value is None:
            return
        parsed = parse(self.problems, f"{self.where}.{name}", value)
        if parsed is not None:
            self.fields[_ATTRIBUTE_OF[name]] = parsed


def _parse_identity(section: _Section) -> None:
    """Which role, in which account, for which partner account: the settings that name the grant."""
    section.read("roleName", lambda p, w, v: check.text(p, w, v, ROLE_NAME_PATTERN, "is not an IAM role name (1-64 "
                                                          "of letters, digits and +=,.@_-)"))
    section.read("hostAccountId", _account_id)
    section.read("partnerAccountId", _account_id)
    section.read("partition", _partition)
    section.read("name", lambda p, w, v: check.text(p, w, v, ROLE_NAME_PATTERN, "is not a grant name (1-64 of "
                                                      "letters, digits and +=,.@_-)"))


def _parse_role(section: _Section) -> None:
    """The role itself: where it lives, how it is described and tagged, how long a session lasts, its boundary."""
    section.read("rolePath", _role_path)
    section.read("description", _description)
    section.read("maxSessionDurationSeconds", lambda p, w, v: check.whole_number(
        p, w, v, MIN_SESSION_SECONDS, MAX_SESSION_SECONDS,
        f"of seconds from {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS} (1 to 12 hours)"))
    section.read("permissionsBoundaryArn", lambda p, w, v: check.text(p, w, v, POLICY_ARN_PATTERN, POLICY_ARN_RULE))
    section.read("tags", _tags)


def _parse_permissions(section: _Section) -> None:
    """What the partner may do in the host account once switched."""
    section.read("managedPolicyArns", _managed_policy_arns)
    section.read("inlinePolicy", _policy_document)


def _parse_trust(section: _Section) -> None:
    """Who the role's trust admits and under which conditions."""
    section.read("partnerPrincipalArns", _partner_principal_arns)
    section.read("maxMfaAgeSeconds", lambda p, w, v: check.whole_number(p, w, v, 1, None,
                                                                         "of seconds greater than 0"))
    section.read("externalIdSecret", _external_id_secret)
    section.read("requireSessionNameIsUsername", check.boolean)
    section.read("requireSourceIdentity", check.boolean)


def _parse_partner_side(section: _Section) -> None:
    """What the partner stack creates: the policy that lets users assume the role, and who gets it."""
    section.read("partnerPolicyName", lambda p, w, v: check.text(p, w, v, POLICY_NAME_PATTERN, "is not an IAM policy "
                                                                   "name (1-128 of letters, digits and +=,.@_-)"))
    section.read("partnerUsers", lambda p, w, v: check.text_list(p, w, v, USER_NAME_PATTERN, USER_NAME_RULE, "user"))
    section.read("partnerGroup", _partner_group)


def _parse_console_and_cli(section: _Section) -> None:
    """How the partner reaches the role: the console's switch-role link and the CLI profile."""
    section.read("displayName", _display_name)
    section.read("cliSourceProfile", lambda p, w, v: check.text(p, w, v, CLI_PROFILE_NAME_PATTERN, "is not an AWS "
                                                                  "CLI profile name (1-64 of letters, digits and "
                                                                  "._@+=-)"))


SECTION_PARSERS = (_parse_identity, _parse_role, _parse_permissions, _parse_trust, _parse_partner_side,
                   _parse_console_and_cli)


# --- The rules between one grant's settings ------------------------------------------------------------------------


def _check_policy_arn(problems: Problems, where: str, arn: str, grant: Grant) -> None:
    match = POLICY_ARN_PATTERN.fullmatch(arn)
    if match is None:
        return
    if match["account"] not in ("aws", grant.host_account_id):
        problems.add(where, f"{arn!r} is in account {match['account']}; a role can use only AWS managed policies or "
                     f"policies of its own account {grant.host_account_id}")
    if match["partition"] != grant.partition:
        problems.add(where, f"{arn!r} is not in partition {grant.partition!r}")


def _check_principal_arn(problems: Problems, where: str, arn: str, grant: Grant) -> None:
    match = PRINCIPAL_ARN_PATTERN.fullmatch(arn)
    if match is None:
        return
    if match["account"] != grant.partner_account_id:
        problems.add(where, f"{arn!r} is in account {match['account']}, not partnerAccountId "
                     f"{grant.partner_account_id}")
    if match["partition"] != grant.partition:
        problems.add(where, f"{arn!r} is not in partition {grant.partition!r}")
    if match["kind"].startswith("role/") and grant.identity_rules:
        # A role session carries no aws:username, so these rules would lock the listed role out for good.
        problems.add(where, f"{arn!r} is a role, whose sessions have no aws:username, so "
                     f"{' and '.join(grant.identity_rules)} would refuse it every time; list users, or set those to "
                     "false for this grant")


def _check_grant(problems: Problems, where: str, grant: Grant) -> None:
    """The rules between settings, on the built grant, so defaults count exactly as the model has them."""
    if grant.partner_account_id == grant.host_account_id:
        problems.add(f"{where}.partnerAccountId", f"equals hostAccountId {grant.host_account_id}; a partner must be "
                     "another account")
    if grant.permissions_boundary_arn is not None:
        _check_policy_arn(problems, f"{where}.permissionsBoundaryArn", grant.permissions_boundary_arn, grant)
    for i, arn in enumerate(grant.managed_policy_arns):
        _check_policy_arn(problems, f"{where}.managedPolicyArns[{i}]", arn, grant)
    for i, arn in enumerate(grant.partner_principal_arns):
        _check_principal_arn(problems, f"{where}.partnerPrincipalArns[{i}]", arn, grant)
    if not grant.partner_users and grant.partner_group is None:
        problems.add(f"{where}.partnerUsers", "or partnerGroup must be set: without either, the partner policy is "
                     "attached to nobody and no one can switch")
    if grant.identity_rules:
        for user in grant.known_partner_users:
            if len(user) < MIN_SESSION_NAME_LENGTH:
                problems.add(f"{where}.partnerUsers", f"user {user!r} is shorter than the {MIN_SESSION_NAME_LENGTH} "
                             "characters STS requires of a session name or source identity, so the user-name rules "
                             "would refuse them every time")


def _parse_grant(problems: Problems, index: int, raw: object) -> Grant | None:
    where = f"{GRANTS_KEY}[{index}]"
    settings = check.mapping(problems, where, raw, "(one grant)")
    if settings is None:
        return None
    before = problems.count()
    check.known_keys(problems, where, settings, list(_ATTRIBUTE_OF), "a grant setting")
    for required in _REQUIRED_GRANT_SETTINGS:
        if settings.get(required) is None:
            problems.add(f"{where}.{required}", "is required")
    section = _Section(problems, where, settings)
    for parse_section in SECTION_PARSERS:
        parse_section(section)
    if problems.count() > before:
        return None
    grant = Grant(**section.fields)
    _check_grant(problems, where, grant)
    return grant if problems.count() == before else None


# --- The rules across grants ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyHolder:
    """A partner user or group that receives partner policies, and the grants (by index) that attach one to it."""

    account_id: str
    kind: str  # "user" or "group"
    name: str
    grant_indexes: tuple[int, ...]


def partner_policy_holders(grants: Sequence[Grant]) -> tuple[PolicyHolder, ...]:
    """Who receives each grant's partner policy: every user of partnerUsers and the group, per partner account."""
    indexes: dict[tuple[str, str, str], list[int]] = {}
    names: dict[tuple[str, str, str], str] = {}
    for index, grant in enumerate(grants):
        holders = [("user", user) for user in grant.partner_users]
        if grant.partner_group is not None:
            holders.append(("group", grant.partner_group.name))
        for kind, name in holders:
            key = (grant.partner_account_id, kind, name.casefold())  # IAM names ignore case
            indexes.setdefault(key, []).append(index)
            names.setdefault(key, name)
    return tuple(PolicyHolder(account_id=key[0], kind=key[1], name=names[key], grant_indexes=tuple(found))
                 for key, found in indexes.items())


def _check_unique_per_account(problems: Problems, grants: Sequence[Grant]) -> None:
    # IAM names are unique per account, whatever their path or case, so two grants may not claim one name in one
    # account; and each stack names its grants' components and outputs by grant name, so those are unique per stack.
    claims: dict[tuple[str, str, str], int] = {}
    for index, grant in enumerate(grants):
        names = [("role name", grant.host_account_id, grant.role_name),
                 ("grant name", grant.host_account_id, grant.grant_name),
                 ("grant name", grant.partner_account_id, grant.grant_name),
                 ("partner policy name", grant.partner_account_id, grant.partner_policy_name)]
        if grant.partner_group and grant.partner_group.create:
            names.append(("partner group name", grant.partner_account_id, grant.partner_group.name))
        for kind, account, name in names:
            first = claims.setdefault((kind, account, name.casefold()), index)
            if first != index:
                hint = "; give one of them its own name setting" if kind == "grant name" else ""
                problems.add(f"{GRANTS_KEY}[{index}]", f"{kind} {name!r} in account {account} is already used by "
                             f"{GRANTS_KEY}[{first}] (IAM names ignore case){hint}")


def _check_partner_attachment_ceilings(problems: Problems, grants: Sequence[Grant]) -> None:
    # Each grant attaches its own partner policy to its users and group. These ceilings hold in every account; the
    # partner account's own (possibly lower) user quota is checked by its stack.
    ceilings = {"user": (MAX_MANAGED_POLICIES_PER_USER, "even with the account's quota raised as far as AWS raises it"),
                "group": (MANAGED_POLICIES_PER_GROUP, "a quota AWS does not raise")}
    for holder in partner_policy_holders(grants):
        ceiling, why = ceilings[holder.kind]
        if len(holder.grant_indexes) > ceiling:
            problems.add(GRANTS_KEY, f"{len(holder.grant_indexes)} grants attach their partner policy to {holder.kind} "
                         f"{holder.name!r} in account {holder.account_id}; IAM attaches at most {ceiling} managed "
                         f"policies to a {holder.kind}, {why}: give those grants separate groups")


def _check_group_memberships(problems: Problems, grants: Sequence[Grant]) -> None:
    # The component owns the membership of the groups it creates; a user in more of them than IAM allows would stop
    # the partner deploy half-way. Memberships of groups made elsewhere are not counted (they are not known here).
    groups_of: dict[tuple[str, str], dict[str, str]] = {}
    for grant in grants:
        group = grant.partner_group
        if group is None or not group.create:
            continue
        for member in group.members:
            groups_of.setdefault((grant.partner_account_id, member.casefold()), {})[group.name.casefold()] = member
    for (account, _), groups in groups_of.items():
        if len(groups) > GROUPS_PER_USER:
            member = next(iter(groups.values()))
            problems.add(GRANTS_KEY, f"user {member!r} in account {account} is a member of {len(groups)} groups the "
                         f"grants create; IAM puts a user in at most {GROUPS_PER_USER} groups, a quota AWS does not "
                         "raise: list the user in partnerUsers of some grants instead")


def collect_grants(problems: Problems, raw: object) -> tuple[Grant, ...]:
    """The grants setting parsed into `problems`: the valid grants, with every problem recorded."""
    if not isinstance(raw, list) or not raw:
        problems.add(GRANTS_KEY, "must be a non-empty list of grants (set it under config: in Pulumi.yaml)")
        return ()
    before = problems.count()
    grants = [_parse_grant(problems, index, item) for index, item in enumerate(raw)]
    if problems.count() > before:
        return ()
    valid = [grant for grant in grants if grant is not None]
    _check_unique_per_account(problems, valid)
    _check_partner_attachment_ceilings(problems, valid)
    _check_group_memberships(problems, valid)
    return tuple(valid) if problems.count() == before else ()


def parse_grants(raw: object) -> tuple[Grant, ...]:
    """Validates the project's grants setting, as read from config (a list of objects), into grants; raises
    GrantConfigError listing every problem."""
    problems = Problems()
    grants = collect_grants(problems, raw)
    problems.raise_if_any()
    return grants
