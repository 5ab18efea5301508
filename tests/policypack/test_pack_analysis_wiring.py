"""The pulumi_policy wiring: each policy's validate called with arguments built the way the analyzer builds them.

Properties go through pulumi_policy's own deserialize_properties and unknown_checking_proxy, so engine encodings
(unknown sentinels, secret envelopes, Struct numbers as floats) reach the policies exactly as under `pulumi preview`.
"""

import json

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from iam_trust_policies.findings import code_of
from iam_trust_policies.policies import (
    ADMIN_ROLE_POLICY,
    EXTERNAL_ID_POLICY,
    MAX_SESSION_POLICY,
    MFA_POLICY,
    OPEN_TRUST_POLICY,
    POLICIES,
    TRUST_NOT_CHECKED_POLICY,
    WILDCARD_ASSUME_ROLE_POLICY,
    plain_value,
)
from partner_access.check.engine import secret
from support.program_runner import UNKNOWN as UNKNOWN_STRING

HOST = "111111111111"
PARTNER = "222222222222"
ROLE = "aws:iam/role:Role"
NO_MFA_TRUST = json.dumps(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "sts:AssumeRole"}
        ]
    }
)
MFA_TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ]
    }
)
BY_NAME = {policy.name: policy for policy in POLICIES}
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def engine_props(props):
    """Properties as the analyzer hands them to a policy."""
    return unknown_checking_proxy(deserialize_properties(props))


def provider(allowed_account_ids):
    props = {} if allowed_account_ids is None else {"allowedAccountIds": allowed_account_ids}
    return PolicyProviderResource("pulumi:providers:aws", engine_props(props), "urn:provider", "default")


def resource_args(props, resource_type=ROLE, config=None, allowed_account_ids=None):
    return ResourceValidationArgs(
        resource_type,
        engine_props(props),
        f"urn:pulumi:host::partner-access::{resource_type}::subject",
        "subject",
        OPTIONS,
        provider(allowed_account_ids),
        config,
    )


def run(policy_name, args):
    messages = []
    BY_NAME[policy_name].validate(args, lambda message, urn=None: messages.append((message, urn)))
    return [message for message, _ in messages] if isinstance(args, ResourceValidationArgs) else messages


def test_policy_names_kinds_levels_and_config_keys_are_the_published_contract():
    kinds = {policy.name: type(policy) for policy in POLICIES}
    assert kinds == {
        MFA_POLICY: ResourceValidationPolicy,
        EXTERNAL_ID_POLICY: ResourceValidationPolicy,
        OPEN_TRUST_POLICY: ResourceValidationPolicy,
        WILDCARD_ASSUME_ROLE_POLICY: ResourceValidationPolicy,
        MAX_SESSION_POLICY: ResourceValidationPolicy,
        TRUST_NOT_CHECKED_POLICY: ResourceValidationPolicy,
        ADMIN_ROLE_POLICY: StackValidationPolicy,
    }
    assert BY_NAME[MFA_POLICY].enforcement_level is EnforcementLevel.MANDATORY
    assert {p.enforcement_level for p in POLICIES if p.name != MFA_POLICY} == {EnforcementLevel.ADVISORY}
    keys = {policy.name: set(policy.config_schema.properties if policy.config_schema else {}) for policy in POLICIES}
    assert keys[MFA_POLICY] == {"exemptAccountIds"}
    assert keys[EXTERNAL_ID_POLICY] == {"exemptAccountIds", "thirdPartyAccountIds"}
    assert keys[MAX_SESSION_POLICY] == {"exemptAccountIds", "maxSessionDurationSeconds"}
    assert keys[ADMIN_ROLE_POLICY] == {"exemptAccountIds"}


def test_every_account_list_shares_one_schema_validating_twelve_digits():
    jsonschema = pytest.importorskip("jsonschema")
    schemas = [
        policy.config_schema.properties[key]
        for policy in POLICIES
        if policy.config_schema
        for key in ("exemptAccountIds", "thirdPartyAccountIds")
        if key in policy.config_schema.properties
    ]
    assert len(schemas) == 5
    for schema in schemas:
        assert schema["default"] == []
        jsonschema.validate([HOST, PARTNER], schema)
        for bad in (["1234"], ["11111111111a"], [111111111111], HOST):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(bad, schema)
    session = BY_NAME[MAX_SESSION_POLICY].config_schema.properties["maxSessionDurationSeconds"]
    assert session["default"] == 3600
    jsonschema.validate(7200, session)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("7200", session)


def test_repository_policy_pack_config_file_matches_the_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    from pathlib import Path

    config = json.loads((Path(__file__).parents[2] / "policy-pack-config.json").read_text())
    for policy_name, settings in config.items():
        policy = BY_NAME[policy_name]
        properties = {key: value for key, value in settings.items() if key != "enforcementLevel"}
        schema = {"type": "object", "properties": policy.config_schema.properties, "additionalProperties": False}
        jsonschema.validate(properties, schema)


@pytest.mark.parametrize(
    ("props", "resource_type"),
    [
        ({"assumeRolePolicy": NO_MFA_TRUST}, ROLE),
        ({"assumeRolePolicy": json.loads(NO_MFA_TRUST)}, ROLE),
        ({"assumeRolePolicy": secret(NO_MFA_TRUST)}, ROLE),
        ({"assumeRolePolicyDocument": json.loads(NO_MFA_TRUST)}, "aws-native:iam:Role"),
        ({"assumeRolePolicyDocument": secret(json.loads(NO_MFA_TRUST))}, "aws-native:iam:Role"),
    ],
    ids=["json-string", "dict", "secret", "aws-native", "aws-native-secret"],
)
def test_mfa_policy_flags_roles_in_every_encoding(props, resource_type):
    [message] = run(MFA_POLICY, resource_args(props, resource_type))
    assert code_of(message) == "MFA-001"


def test_mfa_policy_passes_mfa_roles_and_ignores_other_resource_types():
    assert run(MFA_POLICY, resource_args({"assumeRolePolicy": MFA_TRUST})) == []
    assert run(MFA_POLICY, resource_args({"assumeRolePolicy": NO_MFA_TRUST}, "aws:s3/bucket:Bucket")) == []
    assert run(MFA_POLICY, resource_args({"name": "no-policy-yet"})) == []


@pytest.mark.parametrize(
    "props",
    [
        {"assumeRolePolicy": UNKNOWN_STRING},
        {"assumeRolePolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": UNKNOWN_STRING}}]}},
        {"assumeRolePolicyDocument": UNKNOWN_STRING},
    ],
)
def test_unknown_documents_during_preview_are_skipped_without_error(props):
    resource_type = "aws-native:iam:Role" if "assumeRolePolicyDocument" in props else ROLE
    for policy_name in (MFA_POLICY, EXTERNAL_ID_POLICY, OPEN_TRUST_POLICY, MAX_SESSION_POLICY):
        config = {"thirdPartyAccountIds": [PARTNER], "maxSessionDurationSeconds": 3600.0}
        assert run(policy_name, resource_args({**props, "maxSessionDuration": 43200.0}, resource_type, config)) == []


def test_mfa_policy_reports_a_known_grant_in_a_partly_unknown_document_during_preview():
    no_mfa = json.loads(NO_MFA_TRUST)["Statement"][0]
    later = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": UNKNOWN_STRING}}}
    [message] = run(MFA_POLICY, resource_args({"assumeRolePolicy": {"Statement": [no_mfa, later]}}))
    assert code_of(message) == "MFA-001" and "Statement index 0 lets" in message
    possible_deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": UNKNOWN_STRING}}}
    assert run(MFA_POLICY, resource_args({"assumeRolePolicy": {"Statement": [no_mfa, possible_deny]}})) == []
    # The advisory trust policies still wait for the whole document.
    config = {"thirdPartyAccountIds": [PARTNER]}
    partly_known = resource_args({"assumeRolePolicy": {"Statement": [no_mfa, later]}}, config=config)
    assert run(EXTERNAL_ID_POLICY, partly_known) == []


def test_unknown_provider_pin_skips_rather_than_guessing_the_own_account():
    assert run(MFA_POLICY, resource_args({"assumeRolePolicy": NO_MFA_TRUST}, allowed_account_ids=UNKNOWN_STRING)) == []


def test_malformed_document_is_reported_once_by_the_mfa_policy_only():
    args = resource_args({"assumeRolePolicy": "{oops"}, config={"thirdPartyAccountIds": [PARTNER]})
    [message] = run(MFA_POLICY, args)
    assert code_of(message) == "DOC-001"
    for policy_name in (EXTERNAL_ID_POLICY, OPEN_TRUST_POLICY, MAX_SESSION_POLICY):
        assert run(policy_name, args) == []


@pytest.mark.parametrize(
    ("config", "allowed_account_ids", "role_arn", "is_flagged"),
    [
        (None, None, None, True),
        ({"exemptAccountIds": [PARTNER]}, None, None, False),
        ({"exemptAccountIds": [HOST]}, None, None, True),
        (None, json.dumps([PARTNER]), None, False),
        (None, [PARTNER], None, False),
        (None, json.dumps([HOST, PARTNER]), None, True),
        (None, json.dumps([HOST]), None, True),
        # A Role has no `arn` input, so an `arn` among a resource policy's inputs decides nothing (the stack policy
        # reads the ARN from the role's outputs instead).
        (None, None, f"arn:aws:iam::{PARTNER}:role/x", True),
        (None, None, UNKNOWN_STRING, True),
    ],
)
def test_own_account_comes_from_exemptions_and_provider_pin(config, allowed_account_ids, role_arn, is_flagged):
    props = {"assumeRolePolicy": NO_MFA_TRUST}
    if role_arn is not None:
        props["arn"] = role_arn
    args = resource_args(props, config=config, allowed_account_ids=allowed_account_ids)
    assert bool(run(MFA_POLICY, args)) is is_flagged


def test_external_id_policy_flags_only_configured_third_parties():
    props = {"assumeRolePolicy": MFA_TRUST}
    assert run(EXTERNAL_ID_POLICY, resource_args(props)) == []
    [message] = run(EXTERNAL_ID_POLICY, resource_args(props, config={"thirdPartyAccountIds": [PARTNER]}))
    assert code_of(message) == "EXTID-001"
    exempted = {"thirdPartyAccountIds": [PARTNER], "exemptAccountIds": [PARTNER]}
    assert run(EXTERNAL_ID_POLICY, resource_args(props, config=exempted)) == []


def test_open_trust_policy():
    open_trust = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}})
    assert run(OPEN_TRUST_POLICY, resource_args({"assumeRolePolicy": open_trust}))
    assert run(OPEN_TRUST_POLICY, resource_args({"assumeRolePolicy": MFA_TRUST})) == []


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        ("aws:iam/policy:Policy", {"policy": "DOC"}),
        ("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": "DOC"}),
        ("aws:iam/userPolicy:UserPolicy", {"user": "u", "policy": secret("DOC")}),
        ("aws:iam/groupPolicy:GroupPolicy", {"group": "g", "policy": "DOC"}),
        ("aws-native:iam:ManagedPolicy", {"policyDocument": "OBJECT"}),
        ("aws:iam/role:Role", {"assumeRolePolicy": MFA_TRUST, "inlinePolicies": [{"name": "i", "policy": "DOC"}]}),
    ],
)
def test_wildcard_assume_role_policy_reads_every_identity_policy_resource(resource_type, props):
    wildcard = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    exact = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{HOST}:role/x"}]}

    def filled(value, document):
        """props with "DOC" replaced by the document as JSON text and "OBJECT" by the document itself."""
        if value == "DOC":
            return document if document == UNKNOWN_STRING else json.dumps(document)
        if value == "OBJECT":
            return document
        if isinstance(value, dict):
            return {key: filled(item, document) for key, item in value.items()}
        if isinstance(value, list):
            return [filled(item, document) for item in value]
        return value

    assert len(run(WILDCARD_ASSUME_ROLE_POLICY, resource_args(filled(props, wildcard), resource_type))) == 1
    assert run(WILDCARD_ASSUME_ROLE_POLICY, resource_args(filled(props, exact), resource_type)) == []
    unknown = filled(props, UNKNOWN_STRING)
    assert run(WILDCARD_ASSUME_ROLE_POLICY, resource_args(unknown, resource_type)) == []


@pytest.mark.parametrize(
    ("duration", "config", "is_flagged"),
    [
        (43200.0, None, True),
        (3600.0, None, False),
        (None, None, False),
        (7200.0, {"maxSessionDurationSeconds": 7200.0}, False),
        (43200.0, {"exemptAccountIds": [PARTNER]}, False),
        (UNKNOWN_STRING, None, False),
    ],
)
def test_max_session_policy(duration, config, is_flagged):
    props = {"assumeRolePolicy": MFA_TRUST}
    if duration is not None:
        props["maxSessionDuration"] = duration
    assert bool(run(MAX_SESSION_POLICY, resource_args(props, config=config))) is is_flagged


def stack_resource(resource_type, name, props, dependencies=None, allowed_account_ids=None):
    return PolicyResource(
        resource_type,
        engine_props(props),
        f"urn:pulumi:host::partner-access::{resource_type}::{name}",
        name,
        OPTIONS,
        provider(allowed_account_ids),
        None,
        [],
        dependencies or {},
    )


def test_admin_policy_matches_attachments_by_name_and_by_dependency_under_preview():
    role = stack_resource(ROLE, "partner", {"assumeRolePolicy": MFA_TRUST, "name": UNKNOWN_STRING})
    attach_props = {"role": UNKNOWN_STRING, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    attachment_type = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    linked = stack_resource(attachment_type, "admin", attach_props, {"role": [role]})
    unlinked = stack_resource(attachment_type, "admin", attach_props)
    [(message, urn)] = run(ADMIN_ROLE_POLICY, StackValidationArgs([role, linked]))
    assert urn == role.urn and code_of(message) == "ADMIN-001"
    assert run(ADMIN_ROLE_POLICY, StackValidationArgs([role, unlinked])) == []

    named_role = stack_resource(ROLE, "partner", {"assumeRolePolicy": secret(MFA_TRUST), "name": "partner-role"})
    by_name = stack_resource(attachment_type, "admin", {**attach_props, "role": "partner-role"})
    assert len(run(ADMIN_ROLE_POLICY, StackValidationArgs([named_role, by_name]))) == 1
    exempt = StackValidationArgs([named_role, by_name], {"exemptAccountIds": [PARTNER]})
    assert run(ADMIN_ROLE_POLICY, exempt) == []


def test_plain_value_unwraps_proxies_secrets_and_unknowns():
    props = engine_props({"a": [1, UNKNOWN_STRING, {"b": secret("s")}], "c": UNKNOWN_STRING})
    converted = plain_value(props)
    assert converted["a"][0] == 1 and converted["a"][2] == {"b": "s"}
    assert repr(converted["a"][1]) == repr(converted["c"]) == "UNKNOWN"
    assert plain_value(Secret({"x": 1})) == {"x": 1}
