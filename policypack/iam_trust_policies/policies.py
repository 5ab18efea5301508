"""The pack's pulumi_policy policies: engine arguments in, plain values to the pure analysis, messages out.

The engine wraps resource inputs in pulumi_policy proxies that raise UnknownValueError on values not known during
preview; everything is converted to plain values here, with UNKNOWN in their place, and checks skip documents that
are not fully known (they run again at `up`). Secrets arrive unwrapped from Analyze; Secret objects and raw secret
envelopes are unwrapped here too so a secret document is checked like a plain one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)
from pulumi_policy.secret import Secret

from .identity_analysis import wildcard_assume_role_findings
from .model import UNKNOWN, contains_unknown
from .resources import (
    ADMIN_CHECK_RESOURCE_TYPES,
    DEFAULT_MAX_SESSION_DURATION_SECONDS,
    ROLE_TRUST_PROPERTIES,
    StackResource,
    admin_role_findings,
    carries_identity_documents,
    embedded_documents,
    max_session_finding,
    own_account_ids,
)
from .trust_analysis import external_id_violations, mfa_violations, open_trust_violations

MFA_POLICY = "cross-account-trust-requires-mfa"
EXTERNAL_ID_POLICY = "third-party-trust-requires-external-id"
OPEN_TRUST_POLICY = "trust-open-to-any-principal"
WILDCARD_ASSUME_ROLE_POLICY = "assume-role-on-wildcard-resource"
MAX_SESSION_POLICY = "cross-account-role-max-session-duration"
ADMIN_ROLE_POLICY = "cross-account-role-not-admin"

EXEMPT_ACCOUNT_IDS = "exemptAccountIds"
THIRD_PARTY_ACCOUNT_IDS = "thirdPartyAccountIds"
MAX_SESSION_DURATION_SECONDS = "maxSessionDurationSeconds"

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
# The engine's secret envelope, should one reach a policy without pulumi_policy unwrapping it.
_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"


def account_id_list_schema(description: str) -> dict[str, Any]:
    """The one schema for a config list of AWS account IDs."""
    return {
        "type": "array",
        "items": {"type": "string", "pattern": "^[0-9]{12}$"},
        "uniqueItems": True,
        "default": [],
        "description": description,
    }


def exempt_account_ids_schema() -> dict[str, Any]:
    return account_id_list_schema(
        "12-digit AWS account IDs whose principals this policy treats as the role's own account (list your own "
        "and internal accounts)."
    )


MFA_CONFIG = PolicyConfigSchema(properties={EXEMPT_ACCOUNT_IDS: exempt_account_ids_schema()})
EXTERNAL_ID_CONFIG = PolicyConfigSchema(
    properties={
        EXEMPT_ACCOUNT_IDS: exempt_account_ids_schema(),
        THIRD_PARTY_ACCOUNT_IDS: account_id_list_schema(
            "12-digit AWS account IDs of third parties (vendors) that must present an sts:ExternalId; "
            "nothing is checked until a team lists some."
        ),
    }
)
MAX_SESSION_CONFIG = PolicyConfigSchema(
    properties={
        EXEMPT_ACCOUNT_IDS: exempt_account_ids_schema(),
        MAX_SESSION_DURATION_SECONDS: {
            "type": "integer",
            "minimum": DEFAULT_MAX_SESSION_DURATION_SECONDS,
            "maximum": 43200,
            "default": DEFAULT_MAX_SESSION_DURATION_SECONDS,
            "description": "Longest maxSessionDuration, in seconds, allowed on a role trusted from another account.",
        },
    }
)
ADMIN_ROLE_CONFIG = PolicyConfigSchema(properties={EXEMPT_ACCOUNT_IDS: exempt_account_ids_schema()})


def plain_value(value: object) -> object:
    """A deep copy of an engine value as dicts, lists and scalars, with UNKNOWN where the value is not known."""
    if isinstance(value, Secret):
        return plain_value(value.value)
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        result = {key: _plain_item(value, key) for key in value}
        if result.get(_SIGNATURE_KEY) == _SECRET_SIGNATURE and "value" in result:
            return result["value"]
        return result
    if isinstance(value, Sequence):
        return [_plain_item(value, position) for position in range(len(value))]
    return value


def _plain_item(container: Any, key: object) -> object:
    try:
        item = container[key]
    except UnknownValueError:
        return UNKNOWN
    return plain_value(item)


def plain_property(props: Mapping[str, Any], name: str) -> object:
    """One input as a plain value; None when absent."""
    try:
        if name not in props:
            return None
    except UnknownValueError:
        return UNKNOWN
    return _plain_item(props, name)


def _config_value(config: Mapping[str, Any], key: str, schema: PolicyConfigSchema) -> object:
    # The CLI fills in schema defaults, but an engine or test that sends no config must get them too.
    value = config.get(key) if config else None
    return schema.properties[key]["default"] if value is None else value


def _account_list(config: Mapping[str, Any], key: str, schema: PolicyConfigSchema) -> list[str]:
    value = _config_value(config, key, schema)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list | tuple) else []


def _provider_allowed_account_ids(provider: Any) -> object:
    if provider is None:
        return None
    return plain_property(provider.props, "allowedAccountIds")


def _role_trust_document(args: ResourceValidationArgs, partly_known: bool = False) -> object:
    """The role's trust policy as a plain value, or None when this is not a role or the policy is not known yet.

    partly_known keeps a document some of whose values are not known yet (UNKNOWN inside), for checks whose
    analysis handles them; a wholly unknown document is None either way.
    """
    trust_property = ROLE_TRUST_PROPERTIES.get(args.resource_type)
    if trust_property is None:
        return None
    document = plain_property(args.props, trust_property)
    if document is UNKNOWN or (not partly_known and contains_unknown(document)):
        return None
    return document


def _role_own_accounts(args: ResourceValidationArgs, schema: PolicyConfigSchema) -> frozenset[str] | None:
    """None when an input that decides the own accounts is not known yet.

    The role's ARN is not among a resource policy's inputs (a Role has no `arn` input), so only exemptions and the
    provider's pinned account decide here; the stack policy also uses the ARN from the role's outputs.
    """
    allowed = _provider_allowed_account_ids(args.provider)
    if contains_unknown(allowed):
        return None
    exempt = _account_list(args.get_config(), EXEMPT_ACCOUNT_IDS, schema)
    return own_account_ids(exempt, allowed)


def _validate_mfa(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    document = _role_trust_document(args, partly_known=True)
    own = _role_own_accounts(args, MFA_CONFIG)
    if document is None or own is None:
        return
    for violation in mfa_violations(document, own):
        report_violation(violation.message, None)


def _validate_external_id(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    third_parties = frozenset(_account_list(args.get_config(), THIRD_PARTY_ACCOUNT_IDS, EXTERNAL_ID_CONFIG))
    if not third_parties:
        return
    document = _role_trust_document(args)
    own = _role_own_accounts(args, EXTERNAL_ID_CONFIG)
    if document is None or own is None:
        return
    for violation in external_id_violations(document, own, third_parties):
        report_violation(violation.message, None)


def _validate_open_trust(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    document = _role_trust_document(args)
    if document is None:
        return
    for violation in open_trust_violations(document):
        report_violation(violation.message, None)


def _validate_wildcard_assume_role(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not carries_identity_documents(args.resource_type):
        return
    props = plain_value(args.props)
    if not isinstance(props, dict):
        return
    for where, document in embedded_documents(args.resource_type, props):
        if document is None or contains_unknown(document):
            continue
        for finding in wildcard_assume_role_findings(document, where):
            report_violation(finding.message, None)


def _validate_max_session(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    document = _role_trust_document(args)
    own = _role_own_accounts(args, MAX_SESSION_CONFIG)
    duration = plain_property(args.props, "maxSessionDuration")
    limit = _config_value(args.get_config(), MAX_SESSION_DURATION_SECONDS, MAX_SESSION_CONFIG)
    if document is None or own is None or duration is UNKNOWN or isinstance(limit, bool):
        return
    if not isinstance(limit, int | float):
        return
    finding = max_session_finding(document, duration, own, limit)
    if finding is not None:
        report_violation(finding.message, None)


def _validate_admin_roles(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    exempt = _account_list(args.get_config(), EXEMPT_ACCOUNT_IDS, ADMIN_ROLE_CONFIG)
    stack_resources: list[StackResource] = []
    for resource in args.resources:
        if resource.resource_type not in ADMIN_CHECK_RESOURCE_TYPES:
            continue
        props = plain_value(resource.props)
        stack_resources.append(
            StackResource(
                urn=resource.urn,
                resource_type=resource.resource_type,
                name=resource.name,
                props=props if isinstance(props, dict) else {},
                provider_allowed_account_ids=_provider_allowed_account_ids(resource.provider),
                property_dependencies={
                    name: frozenset(dependency.urn for dependency in dependencies)
                    for name, dependencies in (resource.property_dependencies or {}).items()
                },
            )
        )
    for finding in admin_role_findings(stack_resources, exempt):
        report_violation(finding.message, finding.urn)


def _resource_policy(
    name: str,
    description: str,
    validate: Callable[[ResourceValidationArgs, ReportViolation], None],
    enforcement_level: EnforcementLevel,
    severity: Severity,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema,
        severity=severity,
    )


POLICIES: list[Policy] = [
    _resource_policy(
        MFA_POLICY,
        "IAM roles that principals outside the role's own account can assume must require MFA "
        '("Bool": {"aws:MultiFactorAuthPresent": "true"}).',
        _validate_mfa,
        EnforcementLevel.MANDATORY,
        Severity.HIGH,
        MFA_CONFIG,
    ),
    _resource_policy(
        EXTERNAL_ID_POLICY,
        "IAM roles trusted by a listed third-party account must require an sts:ExternalId.",
        _validate_external_id,
        EnforcementLevel.ADVISORY,
        Severity.MEDIUM,
        EXTERNAL_ID_CONFIG,
    ),
    _resource_policy(
        OPEN_TRUST_POLICY,
        'IAM role trust policies must not let "*" assume the role without a condition narrowing the caller.',
        _validate_open_trust,
        EnforcementLevel.ADVISORY,
        Severity.HIGH,
    ),
    _resource_policy(
        WILDCARD_ASSUME_ROLE_POLICY,
        'Identity policies must not allow sts:AssumeRole on "*" or on wildcard role ARNs.',
        _validate_wildcard_assume_role,
        EnforcementLevel.ADVISORY,
        Severity.MEDIUM,
    ),
    _resource_policy(
        MAX_SESSION_POLICY,
        "IAM roles trusted from another account must not allow sessions longer than the configured limit.",
        _validate_max_session,
        EnforcementLevel.ADVISORY,
        Severity.LOW,
        MAX_SESSION_CONFIG,
    ),
    StackValidationPolicy(
        name=ADMIN_ROLE_POLICY,
        description="IAM roles trusted from another account must not have AdministratorAccess or a \"*\" on \"*\" "
        "policy.",
        validate=_validate_admin_roles,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=ADMIN_ROLE_CONFIG,
        severity=Severity.HIGH,
    ),
]
