"""The policy pack over gRPC, launched and driven exactly as the Pulumi engine does (partner_access/check/engine.py).

These tests check the wiring the pure-analysis tests cannot: the pack starts the way the engine starts it, announces
its policies and config schemas, receives config the way `--policy-pack-config` delivers it, reads properties in the
engine's encodings (unknowns, secrets, JSON strings, objects) and the provider's pinned account, and reports through
the protocol with the right enforcement level, without logging errors.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import jsonschema
import pytest
import yaml

from iam_trust_policies.findings import code_of
from partner_access.check.engine import (
    AnalyzedResource,
    PolicyPackError,
    PolicyPackProcess,
    make_urn,
    reconcile_policy_config,
    secret,
    unknown,
)
from partner_access.check.stack import StackResourceSpec, build_stack_preview, provider_reference
from partner_access.pack_config import PolicyConfig, PolicyConfigError
from support.program_runner import FIXTURE_PROJECT, REPO_ROOT

PACK_DIR = REPO_ROOT / "policypack"
PROJECT = "team-project"
STACK = "dev"
OWN_ACCOUNT = "111111111111"
PARTNER_ACCOUNT = "222222222222"
OTHER_ACCOUNT = "333333333333"

MFA_POLICY = "cross-account-trust-requires-mfa"
EXTERNAL_ID_POLICY = "third-party-trust-requires-external-id"
OPEN_TRUST_POLICY = "trust-open-to-any-principal"
WILDCARD_ASSUME_POLICY = "assume-role-on-wildcard-resource"
SESSION_DURATION_POLICY = "cross-account-role-max-session-duration"
ADMIN_POLICY = "cross-account-role-not-admin"
NOT_CHECKED_POLICY = "trust-not-checked"
CROSS_ACCOUNT_POLICIES = (MFA_POLICY, EXTERNAL_ID_POLICY, SESSION_DURATION_POLICY, ADMIN_POLICY)

MFA_CONDITION = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def trust(principal: object, condition: dict | None = None, sid: str = "PartnerAccess") -> dict:
    statement: dict = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def partner_root(account: str = PARTNER_ACCOUNT) -> dict:
    return {"AWS": f"arn:aws:iam::{account}:root"}


def pinned_provider(*accounts: str) -> object:
    """The default AWS provider of a stack pinned with `aws:allowedAccountIds`, as the analyzer receives it."""
    config = {"region": "us-east-1"}
    if accounts:
        config["allowedAccountIds"] = json.dumps(list(accounts))
    return provider_reference(STACK, PROJECT, "aws", config, "7.51.1")


def role(assume_role_policy: object, *, name: str = "partner-role", provider: object = None, **inputs: object):
    urn = make_urn(STACK, PROJECT, "aws:iam/role:Role", name)
    return AnalyzedResource("aws:iam/role:Role", name, urn, {"assumeRolePolicy": assume_role_policy, **inputs},
                            provider=provider)


def native_role(document: object, *, name: str = "native-role") -> AnalyzedResource:
    urn = make_urn(STACK, PROJECT, "aws-native:iam:Role", name)
    return AnalyzedResource("aws-native:iam:Role", name, urn, {"assumeRolePolicyDocument": document})


@pytest.fixture(scope="module")
def pack_process() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(PACK_DIR, project=PROJECT, stack=STACK, dry_run=True,
                           config={"aws:region": "us-east-1"}) as process:
        yield process


@pytest.fixture
def pack(pack_process: PolicyPackProcess) -> Iterator[PolicyPackProcess]:
    """The module's pack with the engine's default config (each test may reconfigure); asserts it logged no errors."""
    pack_process.configure_like_engine(None)
    errors_before = len(pack_process.logged_errors())
    yield pack_process
    assert pack_process.logged_errors()[errors_before:] == []
    assert pack_process.extra_stdout == ""


# Start-up and metadata ------------------------------------------------------------------------------------------


def test_pack_starts_as_the_engine_launches_it(pack: PolicyPackProcess):
    # Port first on stdout, then nothing: anything else there would be mixed into the engine's plugin output.
    assert pack.startup_seconds is not None and pack.startup_seconds > 0
    assert pack.extra_stdout == ""
    # A Python pack leaves Handshake unimplemented, which the engine tolerates; ConfigureStack succeeded in start().
    assert pack.handshake_supported is False
    assert pack.plugin_version()


def test_analyzer_info_lists_every_policy_with_its_level_and_type(pack: PolicyPackProcess):
    info = pack.analyzer_info()
    assert info.name == "aws-cross-account-trust"
    assert info.supports_config
    levels = {name: policy.enforcement_level for name, policy in info.policies.items()}
    assert levels == {
        MFA_POLICY: "mandatory",
        EXTERNAL_ID_POLICY: "advisory",
        OPEN_TRUST_POLICY: "advisory",
        WILDCARD_ASSUME_POLICY: "advisory",
        SESSION_DURATION_POLICY: "advisory",
        ADMIN_POLICY: "advisory",
        NOT_CHECKED_POLICY: "advisory",
    }
    types = {name: policy.policy_type for name, policy in info.policies.items()}
    assert types[ADMIN_POLICY] == "stack"
    assert {types[name] for name in levels if name != ADMIN_POLICY} == {"resource"}
    assert all(policy.description for policy in info.policies.values())


def test_pack_announces_its_metadata(pack: PolicyPackProcess):
    info = pack.analyzer_info()
    assert info.display_name and info.description and info.provider == "aws"
    # The README Pulumi Cloud shows lists every policy the pack runs.
    assert all(f"`{name}`" in info.readme for name in info.policies)
    # Only known when the pack runs in GitHub Actions (as a workflow publishing it does).
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    assert info.repository == (f"{server}/{repository}" if server and repository else "")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_pack_version_is_in_step_with_the_changelog():
    manifest = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    version = manifest["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "Pulumi Cloud needs a semantic version to publish"
    headings = re.findall(r"^## (\S+)", (REPO_ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    released = [heading for heading in headings if re.fullmatch(r"\d+\.\d+\.\d+", heading)]
    if headings and headings[0] == "Unreleased":
        # Changes wait for the next release: the pack already carries its number, newer than the last release.
        assert not released or _version_key(version) > _version_key(released[0]), (version, released[:1])
    else:
        assert released and version == released[0], (version, released[:1])


def test_config_schemas_accept_account_ids_and_refuse_anything_else(pack: PolicyPackProcess):
    info = pack.analyzer_info()
    for name in CROSS_ACCOUNT_POLICIES:
        schema = info.policies[name].config_schema_properties["exemptAccountIds"]
        validator = jsonschema.Draft7Validator(schema)
        assert validator.is_valid([OWN_ACCOUNT, PARTNER_ACCOUNT]), name
        assert validator.is_valid([]), name
        for invalid in (["1234"], [OWN_ACCOUNT + "0"], ["11111111111a"], [111111111111], OWN_ACCOUNT):
            assert not validator.is_valid(invalid), (name, invalid)
    third_party = jsonschema.Draft7Validator(
        info.policies[EXTERNAL_ID_POLICY].config_schema_properties["thirdPartyAccountIds"]
    )
    assert third_party.is_valid([PARTNER_ACCOUNT])
    assert not third_party.is_valid(["partner"])
    duration = info.policies[SESSION_DURATION_POLICY].config_schema_properties["maxSessionDurationSeconds"]
    assert duration["default"] == 3600
    assert jsonschema.Draft7Validator(duration).is_valid(7200)
    assert not jsonschema.Draft7Validator(duration).is_valid("one hour")


# Configure, as `--policy-pack-config` does it -------------------------------------------------------------------


def test_fixture_config_file_reconciles_and_configures(pack: PolicyPackProcess):
    configured = pack.configure_from_file(FIXTURE_PROJECT / "policy-pack-config.json")
    assert set(configured) == set(pack.analyzer_info().policies)
    assert configured[MFA_POLICY].enforcement_level == "mandatory"
    assert configured[SESSION_DURATION_POLICY].properties["maxSessionDurationSeconds"] == 3600


@pytest.mark.parametrize("invalid", [["1234"], OWN_ACCOUNT, [int(OWN_ACCOUNT)], [OWN_ACCOUNT, "not-an-account"]])
def test_engine_refuses_invalid_exempt_account_ids_before_configuring(pack: PolicyPackProcess, invalid: object):
    with pytest.raises(PolicyConfigError) as refused:
        reconcile_policy_config(pack.analyzer_info(), {MFA_POLICY: {"exemptAccountIds": invalid}})
    assert any(error.startswith(f"{MFA_POLICY}: exemptAccountIds") for error in refused.value.errors)


def test_config_file_shorthands_reconcile_as_the_engine_reads_them(pack: PolicyPackProcess):
    info = pack.analyzer_info()
    everything_advisory = reconcile_policy_config(info, {"all": "advisory", MFA_POLICY: "disabled"})
    assert {name: c.enforcement_level for name, c in everything_advisory.items()} == {
        name: "disabled" if name == MFA_POLICY else "advisory" for name in info.policies
    }
    # Properties merge over the schema defaults instead of replacing them.
    exempted = reconcile_policy_config(info, {SESSION_DURATION_POLICY: {"exemptAccountIds": [PARTNER_ACCOUNT]}})
    assert exempted[SESSION_DURATION_POLICY].properties["maxSessionDurationSeconds"] == 3600
    assert exempted[SESSION_DURATION_POLICY].properties["exemptAccountIds"] == [PARTNER_ACCOUNT]
    with pytest.raises(PolicyConfigError, match="is not one of"):
        reconcile_policy_config(info, {MFA_POLICY: "block"})


def test_pack_given_unvalidated_invalid_exemptions_still_checks_every_account(pack: PolicyPackProcess):
    # The engine validates config before Configure; a Python pack accepts whatever Configure brings. An entry that is
    # not an account ID must never exempt anything, nor crash the pack.
    pack.configure({MFA_POLICY: PolicyConfig("mandatory", {"exemptAccountIds": ["2222", 42, None]})})
    result = pack.analyze(role(json.dumps(trust(partner_root()))))
    assert [d.enforcement_level for d in result.by_policy(MFA_POLICY)] == ["mandatory"]


def test_enforcement_level_from_config_is_applied(pack: PolicyPackProcess):
    violating = role(json.dumps(trust(partner_root())))
    pack.configure_like_engine({MFA_POLICY: "advisory"})
    assert [d.enforcement_level for d in pack.analyze(violating).by_policy(MFA_POLICY)] == ["advisory"]
    pack.configure_like_engine({MFA_POLICY: {"enforcementLevel": "disabled"}})
    assert pack.analyze(violating).by_policy(MFA_POLICY) == []


def test_exempt_account_ids_from_config_exempt_only_those_accounts(pack: PolicyPackProcess):
    pack.configure_like_engine({MFA_POLICY: {"exemptAccountIds": [PARTNER_ACCOUNT]}})
    assert pack.analyze(role(json.dumps(trust(partner_root())))).by_policy(MFA_POLICY) == []
    other = pack.analyze(role(json.dumps(trust(partner_root(OTHER_ACCOUNT)))))
    assert [d.enforcement_level for d in other.by_policy(MFA_POLICY)] == ["mandatory"]


# Analyze: the MFA rule through the protocol ---------------------------------------------------------------------


def test_trust_without_mfa_is_a_mandatory_violation_naming_statement_principal_and_fix(pack: PolicyPackProcess):
    result = pack.analyze(role(json.dumps(trust(partner_root(), sid="LetPartnerIn"))))
    [violation] = result.by_policy(MFA_POLICY)
    assert violation.enforcement_level == "mandatory"
    assert violation.policy_pack_name == "aws-cross-account-trust"
    assert "LetPartnerIn" in violation.message
    assert PARTNER_ACCOUNT in violation.message
    assert "aws:MultiFactorAuthPresent" in violation.message
    assert '"Bool"' in violation.message  # the Condition block to paste in, as JSON


def test_trust_requiring_mfa_passes_every_policy(pack: PolicyPackProcess):
    result = pack.analyze(role(json.dumps(trust(partner_root(), MFA_CONDITION))))
    assert result.diagnostics == ()


def test_bool_if_exists_is_not_mfa(pack: PolicyPackProcess):
    document = trust(partner_root(), {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}, sid="IfExists")
    [violation] = pack.analyze(role(json.dumps(document))).by_policy(MFA_POLICY)
    assert "IfExists" in violation.message


def test_trust_given_as_an_object_is_checked(pack: PolicyPackProcess):
    # Some programs pass the document itself rather than a JSON string; it arrives as a Struct.
    assert len(pack.analyze(role(trust(partner_root()))).by_policy(MFA_POLICY)) == 1
    assert pack.analyze(role(trust(partner_root(), MFA_CONDITION))).diagnostics == ()


def not_checked_codes(result) -> list[tuple[str | None, str, str]]:
    """(code, level, severity) of each trust-not-checked finding (pulumi-policy puts the policy's description on the
    first line of a violation's message, the pack's message after it)."""
    return [(code_of(d.message.split("\n", 1)[1]), d.enforcement_level, d.severity)
            for d in result.by_policy(NOT_CHECKED_POLICY)]


def test_unknown_trust_during_preview_is_an_advisory_not_checked_yet(pack: PolicyPackProcess):
    result = pack.analyze(role(unknown()))
    assert result.by_policy(MFA_POLICY) == []
    assert [d for d in result.diagnostics if d.enforcement_level == "mandatory"] == []
    assert not_checked_codes(result) == [("SKIP-002", "advisory", "low")]
    [finding] = result.by_policy(NOT_CHECKED_POLICY)
    assert "`pulumi up`" in finding.message


def test_unknown_pinned_account_during_preview_is_not_checked_yet(pack: PolicyPackProcess):
    provider = provider_reference(STACK, PROJECT, "aws", {"region": "us-east-1", "allowedAccountIds": unknown()},
                                  "7.51.1")
    result = pack.analyze(role(json.dumps(trust(partner_root())), provider=provider))
    assert result.by_policy(MFA_POLICY) == []
    assert not_checked_codes(result) == [("SKIP-002", "advisory", "low")]


@pytest.mark.parametrize("redacted", [secret("[secret]"), "[secret]"], ids=["secret-envelope", "plain"])
def test_trust_redacted_by_policy_analyze_is_an_advisory_not_checked(pack: PolicyPackProcess, redacted: object):
    # `pulumi policy analyze --file` without the stack's secrets provider replaces each secret by "[secret]".
    result = pack.analyze(role(redacted))
    assert [d for d in result.diagnostics if d.enforcement_level == "mandatory"] == []
    assert result.by_policy(MFA_POLICY) == []
    assert not_checked_codes(result) == [("SKIP-001", "advisory", "low")]
    assert "secrets provider" in result.by_policy(NOT_CHECKED_POLICY)[0].message


def test_trust_object_with_a_redacted_value_is_not_checked_but_its_known_grant_still_is(pack: PolicyPackProcess):
    document = trust(partner_root())
    document["Statement"].append({"Effect": "Allow", "Principal": {"AWS": secret("[secret]")},
                                  "Action": "sts:AssumeRole", "Condition": MFA_CONDITION})
    result = pack.analyze(role(document))
    assert not_checked_codes(result) == [("SKIP-001", "advisory", "low")]
    assert [d.enforcement_level for d in result.by_policy(MFA_POLICY)] == ["mandatory"]


def test_fully_known_trust_gets_no_not_checked_finding(pack: PolicyPackProcess):
    assert pack.analyze(role(json.dumps(trust(partner_root(), MFA_CONDITION)))).diagnostics == ()
    assert pack.analyze(role(secret(json.dumps(trust(partner_root(), MFA_CONDITION))))).diagnostics == ()


def test_not_checked_findings_turn_off_and_stay_advisory_beside_all_mandatory(pack: PolicyPackProcess):
    pack.configure_like_engine({NOT_CHECKED_POLICY: "disabled"})
    assert pack.analyze(role(unknown())).diagnostics == ()
    assert pack.analyze(role(secret("[secret]"))).diagnostics == ()
    # "all" applies first and per-policy entries after it, as the engine reconciles them.
    pack.configure_like_engine({"all": "mandatory", NOT_CHECKED_POLICY: "advisory"})
    assert not_checked_codes(pack.analyze(role(unknown()))) == [("SKIP-002", "advisory", "low")]


def test_partly_unknown_trust_object_during_preview_is_not_a_violation(pack: PolicyPackProcess):
    # A principal taken from another resource's output is unknown until that resource exists. Inside a JSON string
    # the whole string would be unknown; only a document passed as an object can be partly unknown.
    for resource in (role(trust({"AWS": unknown()})), native_role(trust({"AWS": unknown()}))):
        result = pack.analyze(resource)
        assert [d for d in result.diagnostics if d.enforcement_level == "mandatory"] == [], resource.type


def test_secret_trust_is_checked_like_a_plain_one(pack: PolicyPackProcess):
    violating = pack.analyze(role(secret(json.dumps(trust(partner_root(), sid="SecretTrust")))))
    [violation] = violating.by_policy(MFA_POLICY)
    assert violation.enforcement_level == "mandatory"
    assert "SecretTrust" in violation.message
    assert pack.analyze(role(secret(json.dumps(trust(partner_root(), MFA_CONDITION))))).diagnostics == ()


def test_secret_inside_a_trust_object_is_checked(pack: PolicyPackProcess):
    document = trust({"AWS": secret(f"arn:aws:iam::{PARTNER_ACCOUNT}:root")})
    assert len(pack.analyze(role(document)).by_policy(MFA_POLICY)) == 1


def test_malformed_trust_is_a_violation_with_a_clear_message(pack: PolicyPackProcess):
    [violation] = pack.analyze(role("{not json")).by_policy(MFA_POLICY)
    assert violation.enforcement_level == "mandatory"
    assert "JSON" in violation.message or "json" in violation.message


def test_aws_native_role_is_checked(pack: PolicyPackProcess):
    [violation] = pack.analyze(native_role(trust(partner_root(), sid="Native"))).by_policy(MFA_POLICY)
    assert violation.enforcement_level == "mandatory"
    assert "Native" in violation.message
    assert pack.analyze(native_role(trust(partner_root(), MFA_CONDITION))).diagnostics == ()


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        ("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b", "policy": json.dumps(trust(partner_root()))}),
        ("aws:sqs/queuePolicy:QueuePolicy", {"queueUrl": "q", "policy": json.dumps(trust(partner_root()))}),
        ("aws:lambda/permission:Permission", {"action": "lambda:InvokeFunction", "principal": PARTNER_ACCOUNT,
                                               "function": "f"}),
        ("aws:s3/bucket:Bucket", {"bucket": "b", "tags": {"assumeRolePolicy": "x"}}),
    ],
)
def test_other_resource_types_are_untouched(pack: PolicyPackProcess, resource_type: str, properties: dict):
    resource = AnalyzedResource(resource_type, "r", make_urn(STACK, PROJECT, resource_type, "r"), properties)
    assert pack.analyze(resource).diagnostics == ()


# Own account: the provider's pinned account -----------------------------------------------------------------------


def test_provider_pinned_to_one_account_makes_its_principals_own_account(pack: PolicyPackProcess):
    own_trust = json.dumps(trust({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:root"}))
    assert pack.analyze(role(own_trust, provider=pinned_provider(OWN_ACCOUNT))).by_policy(MFA_POLICY) == []
    unpinned = (None, pinned_provider(), pinned_provider(OTHER_ACCOUNT), pinned_provider(OWN_ACCOUNT, OTHER_ACCOUNT))
    for provider in unpinned:
        result = pack.analyze(role(own_trust, provider=provider))
        assert len(result.by_policy(MFA_POLICY)) == 1, provider


def test_provider_pin_does_not_exempt_other_accounts(pack: PolicyPackProcess):
    result = pack.analyze(role(json.dumps(trust(partner_root())), provider=pinned_provider(OWN_ACCOUNT)))
    assert len(result.by_policy(MFA_POLICY)) == 1


# The advisory policies, wired to their config -------------------------------------------------------------------


def test_third_party_trust_needs_external_id_only_for_listed_accounts(pack: PolicyPackProcess):
    mfa_only = role(json.dumps(trust(partner_root(), MFA_CONDITION)))
    assert pack.analyze(mfa_only).by_policy(EXTERNAL_ID_POLICY) == []
    pack.configure_like_engine({EXTERNAL_ID_POLICY: {"thirdPartyAccountIds": [PARTNER_ACCOUNT]}})
    [violation] = pack.analyze(mfa_only).by_policy(EXTERNAL_ID_POLICY)
    assert violation.enforcement_level == "advisory"
    assert "sts:ExternalId" in violation.message
    with_external_id = {**MFA_CONDITION, "StringEquals": {"sts:ExternalId": "agreed-secret"}}
    with_id = pack.analyze(role(json.dumps(trust(partner_root(), with_external_id))))
    assert with_id.by_policy(EXTERNAL_ID_POLICY) == []


def test_trust_open_to_anyone_is_flagged_unless_narrowed(pack: PolicyPackProcess):
    open_trust = pack.analyze(role(json.dumps(trust("*", MFA_CONDITION))))
    assert [d.enforcement_level for d in open_trust.by_policy(OPEN_TRUST_POLICY)] == ["advisory"]
    narrowed = {**MFA_CONDITION, "StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    assert pack.analyze(role(json.dumps(trust("*", narrowed)))).by_policy(OPEN_TRUST_POLICY) == []


@pytest.mark.parametrize("resource_type", ["aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy",
                                           "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"])
def test_identity_policy_assuming_any_role_is_flagged(pack: PolicyPackProcess, resource_type: str):
    def identity_policy(resource: str) -> AnalyzedResource:
        document = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]}
        return AnalyzedResource(resource_type, "p", make_urn(STACK, PROJECT, resource_type, "p"),
                                {"policy": json.dumps(document)})

    flagged = pack.analyze(identity_policy("*"))
    assert [d.enforcement_level for d in flagged.by_policy(WILDCARD_ASSUME_POLICY)] == ["advisory"]
    exact = identity_policy(f"arn:aws:iam::{OWN_ACCOUNT}:role/ex-for-aws-b")
    assert pack.analyze(exact).by_policy(WILDCARD_ASSUME_POLICY) == []


def test_long_sessions_on_cross_account_roles_follow_the_configured_limit(pack: PolicyPackProcess):
    long_session = role(json.dumps(trust(partner_root(), MFA_CONDITION)), maxSessionDuration=43200)
    [violation] = pack.analyze(long_session).by_policy(SESSION_DURATION_POLICY)
    assert violation.enforcement_level == "advisory"
    assert "43200" in violation.message
    pack.configure_like_engine({SESSION_DURATION_POLICY: {"maxSessionDurationSeconds": 43200}})
    assert pack.analyze(long_session).by_policy(SESSION_DURATION_POLICY) == []


# AnalyzeStack: administrator roles trusted from another account ---------------------------------------------------


def _admin_stack(trust_document: dict, policy_arn: str, *, dry_run: bool = True,
                 role_outputs: dict | None = None):
    role_urn = make_urn(STACK, PROJECT, "aws:iam/role:Role", "ops")
    attachment_type = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    role_inputs = {"name": "ops", "assumeRolePolicy": json.dumps(trust_document)}
    specs = [
        StackResourceSpec("aws:iam/role:Role", "ops", role_urn, role_inputs, custom=True,
                          outputs=None if role_outputs is None else {**role_inputs, **role_outputs}),
        StackResourceSpec(attachment_type, "ops-admin", make_urn(STACK, PROJECT, attachment_type, "ops-admin"),
                          {"role": "ops", "policyArn": policy_arn}, custom=True),
    ]
    preview = build_stack_preview(project=PROJECT, stack=STACK, config={"aws:region": "us-east-1"}, resources=specs,
                                  dry_run=dry_run)
    return preview, role_urn


def test_admin_role_trusted_from_another_account_is_flagged_by_stack_validation(pack: PolicyPackProcess):
    preview, role_urn = _admin_stack(trust(partner_root(), MFA_CONDITION), ADMIN_POLICY_ARN)
    result = pack.analyze_stack(preview.stack_resources)
    [violation] = result.by_policy(ADMIN_POLICY)
    assert violation.enforcement_level == "advisory"
    assert violation.urn == role_urn
    assert "AdministratorAccess" in violation.message


def test_read_only_or_own_account_roles_pass_stack_validation(pack: PolicyPackProcess):
    read_only, _ = _admin_stack(trust(partner_root(), MFA_CONDITION), "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert pack.analyze_stack(read_only.stack_resources).by_policy(ADMIN_POLICY) == []
    service, _ = _admin_stack(trust({"Service": "ec2.amazonaws.com"}), ADMIN_POLICY_ARN)
    assert pack.analyze_stack(service.stack_resources).by_policy(ADMIN_POLICY) == []


def test_inline_star_policy_counts_as_administrator(pack: PolicyPackProcess):
    preview, role_urn = _admin_stack(trust(partner_root(), MFA_CONDITION), "arn:aws:iam::aws:policy/ReadOnlyAccess")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    inline = AnalyzedResource(
        "aws:iam/rolePolicy:RolePolicy", "ops-inline",
        make_urn(STACK, PROJECT, "aws:iam/rolePolicy:RolePolicy", "ops-inline"),
        {"role": "ops", "policy": json.dumps(everything)},
    )
    [violation] = pack.analyze_stack([*preview.stack_resources, inline]).by_policy(ADMIN_POLICY)
    assert violation.urn == role_urn


EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        ("aws:iam/policyAttachment:PolicyAttachment", {"roles": ["other", "ops"], "policyArn": ADMIN_POLICY_ARN}),
        ("aws-native:iam:ManagedPolicy", {"roles": ["ops"], "policyDocument": EVERYTHING}),
        ("aws-native:iam:RolePolicy", {"roleName": "ops", "policyDocument": EVERYTHING}),
        ("aws:iam/rolePolicy:RolePolicy", {"role": "ops", "policy": json.dumps(EVERYTHING)}),
    ],
    ids=["policy-attachment", "native-managed-policy", "native-role-policy", "role-policy"],
)
def test_every_way_of_attaching_admin_to_the_role_is_found_and_only_for_that_role(
    pack: PolicyPackProcess, resource_type: str, properties: dict
):
    preview, role_urn = _admin_stack(trust(partner_root(), MFA_CONDITION), "arn:aws:iam::aws:policy/ReadOnlyAccess")
    urn = make_urn(STACK, PROJECT, resource_type, "grant")
    [violation] = pack.analyze_stack([*preview.stack_resources, AnalyzedResource(resource_type, "grant", urn,
                                                                                 properties)]).by_policy(ADMIN_POLICY)
    assert violation.urn == role_urn
    elsewhere = {key: (["other"] if isinstance(value, list) else "other") if key in ("roles", "role", "roleName")
                 else value for key, value in properties.items()}
    unrelated = AnalyzedResource(resource_type, "grant", urn, elsewhere)
    assert pack.analyze_stack([*preview.stack_resources, unrelated]).by_policy(ADMIN_POLICY) == []


def test_role_arn_known_after_deploy_makes_its_account_own(pack: PolicyPackProcess):
    own_trust = trust({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:role/operators"}, MFA_CONDITION)
    deployed_in_own, _ = _admin_stack(own_trust, ADMIN_POLICY_ARN, dry_run=False,
                                      role_outputs={"arn": f"arn:aws:iam::{OWN_ACCOUNT}:role/ops", "id": "ops"})
    assert pack.analyze_stack(deployed_in_own.stack_resources).by_policy(ADMIN_POLICY) == []
    deployed_elsewhere, _ = _admin_stack(own_trust, ADMIN_POLICY_ARN, dry_run=False,
                                         role_outputs={"arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/ops", "id": "ops"})
    assert len(pack.analyze_stack(deployed_elsewhere.stack_resources).by_policy(ADMIN_POLICY)) == 1


def test_whole_preview_sends_every_resource_and_reports_only_the_broken_one(pack: PolicyPackProcess):
    specs = [
        StackResourceSpec("aws:iam/role:Role", name, make_urn(STACK, PROJECT, "aws:iam/role:Role", name),
                          {"assumeRolePolicy": json.dumps(trust(partner_root(), condition))}, custom=True)
        for name, condition in (("good", MFA_CONDITION), ("bad", None))
    ]
    preview = build_stack_preview(project=PROJECT, stack=STACK,
                                  config={"aws:region": "us-east-1", "aws:allowedAccountIds": [OWN_ACCOUNT]},
                                  resources=specs)
    result = pack.run_preview(preview)
    assert [(d.policy_name, urn) for urn, found in result.resource_diagnostics.items() for d in found] == [
        (MFA_POLICY, make_urn(STACK, PROJECT, "aws:iam/role:Role", "bad"))
    ]
    assert result.stack_diagnostics == ()


# The harness itself ----------------------------------------------------------------------------------------------


def test_a_pack_that_dies_before_its_port_is_reported_with_its_stderr(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("import a_dependency_nobody_installed\n")
    with (
        pytest.raises(PolicyPackError, match=r"before printing its port(?s:.*)a_dependency_nobody_installed"),
        PolicyPackProcess(tmp_path, project=PROJECT, stack=STACK, startup_timeout=20),
    ):
        pass
