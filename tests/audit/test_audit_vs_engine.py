"""Differential: on every document, the audit's findings are exactly what the pack reports over the engine's gRPC
protocol for the same resources (policy, level, message, resource), and its config reads as the engine reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from iam_trust_policies.policies import POLICIES
from partner_access.audit.authorization_details import build_snapshot
from partner_access.audit.evaluation import evaluate_stack
from partner_access.audit.pack_config import read_pack_config
from partner_access.audit.pack_resources import PackStack, stack_of

from .conftest import MANAGEMENT_ACCOUNT, account_session
from .engine_harness import PACK_DIR, PolicyPackProcess, engine_diagnostics
from .iam_fixture import MFA, audit_config, identity, populate, root

OWN = "111111111111"
PARTNER = "222222222222"
VENDOR = "333333333333"
DESCRIPTIONS = {policy.name: policy.description for policy in POLICIES}


def statement(principal: object, condition: dict[str, Any] | None = None, *, effect: str = "Allow",
              action: object = "sts:AssumeRole", principal_key: str = "Principal") -> dict[str, Any]:
    body: dict[str, Any] = {"Effect": effect, principal_key: principal, "Action": action}
    if condition:
        body["Condition"] = condition
    return body


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


PARTNER_ROOT = root(PARTNER)
# Trust documents in every shape the policies tell apart, well-formed and not (strings are the text IAM returns).
TRUST_DOCUMENTS: dict[str, object] = {
    "no-condition": document(statement(PARTNER_ROOT)),
    "mfa": document(statement(PARTNER_ROOT, MFA)),
    "mfa-json-boolean": document(statement(PARTNER_ROOT, {"Bool": {"aws:MultiFactorAuthPresent": True}})),
    "mfa-if-exists": document(statement(PARTNER_ROOT, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})),
    "mfa-false": document(statement(PARTNER_ROOT, {"Bool": {"aws:MultiFactorAuthPresent": "false"}})),
    "mfa-age": document(statement(PARTNER_ROOT, {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
    "mfa-age-if-exists": document(statement(PARTNER_ROOT,
                                            {"NumericLessThanIfExists": {"aws:MultiFactorAuthAge": "3600"}})),
    "mfa-age-not-null": document(statement(PARTNER_ROOT, {"Null": {"aws:MultiFactorAuthAge": "false"}})),
    "vendor-mfa": document(statement(root(VENDOR), MFA)),
    "vendor-external-id": document(statement(root(VENDOR), {**MFA, "StringEquals": {"sts:ExternalId": "x-1"}})),
    "vendor-external-id-only": document(statement(root(VENDOR), {"StringEquals": {"sts:ExternalId": "x-1"}})),
    "anyone": document(statement("*")),
    "anyone-in-org": document(statement("*", {**MFA, "StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})),
    "any-aws-with-mfa": document(statement({"AWS": "*"}, MFA)),
    "service": document(statement({"Service": "ec2.amazonaws.com"})),
    "federated": document(statement(
        {"Federated": f"arn:aws:iam::{OWN}:oidc-provider/token.actions.githubusercontent.com"},
        action="sts:AssumeRoleWithWebIdentity")),
    "own-root": document(statement(root(OWN))),
    "bare-account-id": document(statement({"AWS": PARTNER})),
    "mixed-principals": document(statement({"AWS": [root(OWN)["AWS"], f"arn:aws:iam::{PARTNER}:user/alice"]})),
    "assumed-role": document(statement({"AWS": f"arn:aws:sts::{PARTNER}:assumed-role/ci/session"})),
    "china-partition": document(statement({"AWS": f"arn:aws-cn:iam::{PARTNER}:root"})),
    "not-principal": document(statement({"AWS": f"arn:aws:iam::{OWN}:root"}, principal_key="NotPrincipal")),
    "deny-without-mfa": document(
        statement(PARTNER_ROOT),
        statement("*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny"),
    ),
    "deny-plain-bool": document(
        statement(PARTNER_ROOT),
        statement("*", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny"),
    ),
    "sts-star": document(statement(PARTNER_ROOT, action="sts:*")),
    "every-action": document(statement(PARTNER_ROOT, action="*")),
    "assume-glob": document(statement(PARTNER_ROOT, action="sts:Assume*")),
    "tag-session-only": document(statement(PARTNER_ROOT, action="sts:TagSession")),
    "not-action": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": PARTNER_ROOT,
                                                            "NotAction": "s3:*"}]},
    "policy-variable": document(statement(PARTNER_ROOT, {"Bool": {"aws:MultiFactorAuthPresent":
                                                                  "${aws:MultiFactorAuthPresent}"}})),
    "single-statement-object": {"Version": "2012-10-17", "Statement": statement(PARTNER_ROOT, MFA)},
    "malformed-text": '{"Version": "2012-10-17", "Statement": [',
    "duplicate-keys": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Effect": "Deny", '
                      f'"Principal": {{"AWS": "arn:aws:iam::{PARTNER}:root"}}, "Action": "sts:AssumeRole"}}]}}',
    "array": [statement(PARTNER_ROOT)],
    "statement-number": {"Version": "2012-10-17", "Statement": 7},
    "bad-effect": document({"Effect": "Maybe", "Principal": PARTNER_ROOT, "Action": "sts:AssumeRole"}),
    "no-principal": document({"Effect": "Allow", "Action": "sts:AssumeRole"}),
    "empty-text": "",
}
IDENTITY_DOCUMENTS: dict[str, object] = {
    "assume-star": identity("sts:AssumeRole", "*"),
    "assume-every-role": identity("sts:AssumeRole", "arn:aws:iam::*:role/*"),
    "assume-one-role": identity("sts:AssumeRole", f"arn:aws:iam::{OWN}:role/partner"),
    "assume-glob-action": identity("sts:Assume*", f"arn:aws:iam::{PARTNER}:role/*"),
    "admin": identity("*", "*"),
    "not-resource": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "NotResource": f"arn:aws:iam::{OWN}:role/x"}]}),
    "read-only": identity(["s3:GetObject"], "*"),
    "malformed": '{"Statement": ',
}
SESSION_LENGTHS = (None, 3600, 7200, 43200)


def corpus_details() -> dict[str, Any]:
    """One account holding every trust document on a role, and every identity document on a role, a user, a group
    and a managed policy (with admin and wildcard ones attached to cross-account roles)."""
    roles = []
    for index, (name, trust) in enumerate(TRUST_DOCUMENTS.items()):
        identity_names = list(IDENTITY_DOCUMENTS)
        inline_name = identity_names[index % len(identity_names)]
        attached = (["arn:aws:iam::aws:policy/AdministratorAccess"] if index % 3 == 0 else []) + (
            [f"arn:aws:iam::{OWN}:policy/admin"] if index % 4 == 0 else [])
        roles.append({
            "RoleName": name, "Arn": f"arn:aws:iam::{OWN}:role/{name}", "Path": "/", "RoleId": f"AROA{index}",
            "AssumeRolePolicyDocument": trust,
            "RolePolicyList": [{"PolicyName": inline_name, "PolicyDocument": IDENTITY_DOCUMENTS[inline_name]}],
            "AttachedManagedPolicies": [{"PolicyArn": arn, "PolicyName": arn.rsplit("/", 1)[-1]} for arn in attached],
        })
    inline = [{"PolicyName": name, "PolicyDocument": text} for name, text in IDENTITY_DOCUMENTS.items()]
    return {
        "RoleDetailList": roles,
        "UserDetailList": [{"UserName": "alice", "Arn": f"arn:aws:iam::{OWN}:user/alice", "UserPolicyList": inline}],
        "GroupDetailList": [{"GroupName": "ops", "Arn": f"arn:aws:iam::{OWN}:group/ops", "GroupPolicyList": inline}],
        "Policies": [
            {"PolicyName": name, "Arn": f"arn:aws:iam::{OWN}:policy/{name}", "DefaultVersionId": "v2",
             "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": False, "Document": identity("s3:*", "*")},
                                   {"VersionId": "v2", "IsDefaultVersion": True, "Document": text}]}
            for name, text in IDENTITY_DOCUMENTS.items()
        ],
    }


def corpus_stacks() -> list[PackStack]:
    details = corpus_details()
    stacks = []
    for duration in SESSION_LENGTHS:
        durations = None if duration is None else {role["Arn"]: duration for role in details["RoleDetailList"]}
        stacks.append(stack_of(build_snapshot(details, max_session_durations=durations)))
    return stacks


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "policy-pack-config.json"
    config = audit_config(VENDOR)
    config["trust-open-to-any-principal"] = "mandatory"
    config["cross-account-role-not-admin"] = {"exemptAccountIds": [VENDOR]}
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def pack(config_path: Path) -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess(PACK_DIR, project="partner-access-audit", stack="audit", dry_run=False) as process:
        process.configure_from_file(config_path)
        yield process


def engine_view(pack: PolicyPackProcess, stack: PackStack) -> list[tuple[str, str, str, str]]:
    return sorted((urn, d.policy_name, d.enforcement_level, d.message) for urn, d in engine_diagnostics(pack, stack))


def audit_view(stack: PackStack, config_path: Path) -> list[tuple[str, str, str, str]]:
    evaluation = evaluate_stack(stack, POLICIES, read_pack_config(config_path, POLICIES))
    assert evaluation.errors == ()
    urn_of = {}
    for resource in stack.resources:
        urn_of.setdefault(resource.subject, []).append(resource.urn)
    found = []
    for entry in evaluation.subjects:
        for finding in entry.findings:
            # Every pack message starts with its stable code, and the audit reports that code.
            assert finding.code is not None and finding.message.startswith(f"{finding.code}: ")
            found.append((finding.policy, finding.level, _engine_message(finding.policy, finding.message),
                          urn_of[entry.subject]))
    return found


def _engine_message(policy: str, message: str) -> str:
    # pulumi_policy's report_violation sends the policy's description, then the message on the next line.
    return f"{DESCRIPTIONS[policy]}\n{message}" if message else DESCRIPTIONS[policy]


def assert_same_findings(pack: PolicyPackProcess, stack: PackStack, config_path: Path) -> None:
    engine = engine_view(pack, stack)
    audit = audit_view(stack, config_path)
    # Every audit finding is one of the engine's diagnostics on a resource of the same entity, and vice versa.
    remaining = list(engine)
    for policy, level, message, urns in audit:
        match = next((d for d in remaining if d[1:] == (policy, level, message) and d[0] in urns), None)
        assert match is not None, (policy, level, message, urns)
        remaining.remove(match)
    assert remaining == []
    assert len(audit) == len(engine)


def test_config_reads_as_the_engine_reconciles_it(pack: PolicyPackProcess, config_path: Path):
    engine = pack.configure_from_file(config_path)
    audit = read_pack_config(config_path, POLICIES)
    assert set(engine) == set(audit)
    for name, settings in audit.items():
        assert settings.level.value == engine[name].enforcement_level
        assert dict(settings.properties) == dict(engine[name].properties)


@pytest.mark.parametrize("stack_index", range(len(SESSION_LENGTHS)), ids=[f"session-{d}" for d in SESSION_LENGTHS])
def test_every_corpus_document_gets_the_engines_findings(pack: PolicyPackProcess, config_path: Path, stack_index):
    stack = corpus_stacks()[stack_index]
    assert_same_findings(pack, stack, config_path)
    # The corpus exercises every policy.
    assert {d[1] for d in engine_view(pack, stack)} >= {p.name for p in POLICIES} - (
        {"cross-account-role-max-session-duration"} if SESSION_LENGTHS[stack_index] in (None, 3600) else set())


def test_every_fixture_account_in_moto_gets_the_engines_findings(moto_aws, pack: PolicyPackProcess, config_path):
    from partner_access.audit.account_collection import collect_account

    accounts = (MANAGEMENT_ACCOUNT, PARTNER, VENDOR)
    sessions = {a: boto3.Session() if a == MANAGEMENT_ACCOUNT else account_session(a) for a in accounts}
    populate(accounts, sessions.__getitem__)
    for account in accounts:
        stack = stack_of(collect_account(sessions[account], account))
        assert stack.resources
        assert_same_findings(pack, stack, config_path)
