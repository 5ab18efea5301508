"""The program's own stacks through the real pack, as the CI preview runs them
(`pulumi preview --stack <stack> --policy-pack policypack --policy-pack-config policy-pack-config.json`) and as
`pulumi policy analyze` replays their state.

Each stack's program runs under mocks (partner_access/check/program.py); every registered resource then goes through
the pack over gRPC (partner_access/check/engine.py). The fixture project's stacks must pass; the host's role with its
MFA condition removed or weakened must fail the preview with the mandatory policy. Replayed from a `pulumi stack
export` of their state, the stacks pass `pulumi policy analyze` whether their secrets can be decrypted or not.

Only `test_the_repository_stacks_pass_the_pack_with_the_ci_config` reads the repository's own Pulumi.yaml and stack
files, and checks only what must hold for any operator's config: both stacks build and pass the pack.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from iam_trust_policies.findings import code_of
from partner_access.check import program
from partner_access.check.engine import (
    PolicyPackProcess,
    StackPreview,
    launch_for_analyze,
    launch_for_preview,
)
from partner_access.check.snapshot import export_stack, snapshot_from_export
from partner_access.check.stack import preview_from_program_run
from support.program_runner import FIXTURE_PROJECT, REPO_ROOT, reveal, run_program

# The pack and config the CI workflows run (tests/ci reads these two names).
PACK_DIR = REPO_ROOT / "policypack"
POLICY_CONFIG_FILE = REPO_ROOT / "policy-pack-config.json"
FIXTURE_POLICY_CONFIG = json.loads((FIXTURE_PROJECT / "policy-pack-config.json").read_text())
MFA_POLICY = "cross-account-trust-requires-mfa"
NOT_CHECKED_POLICY = "trust-not-checked"
ROLE_TYPE = "aws:iam/role:Role"
MFA_KEY = "aws:multifactorauthpresent"
EXTERNAL_ID_GRANT = {"roleName": "ex-for-aws-b", "hostAccountId": "111111111111", "partnerAccountId": "222222222222",
                     "partnerUsers": ["alice"], "externalIdSecret": "partnerBExternalId"}
EXTERNAL_ID = "partner-b-ext-2026"


@functools.cache
def program_preview(stack: str) -> StackPreview:
    run = run_program(stack)
    assert run.error is None, run.error
    return preview_from_program_run(run)


@functools.cache
def external_id_host(preview: bool) -> StackPreview:
    """The host stack with a grant that requires an External ID: its trust policy is a secret."""
    run = run_program("host", config_overrides={"grants": [EXTERNAL_ID_GRANT]},
                      secrets={"partnerBExternalId": EXTERNAL_ID}, preview=preview)
    assert run.error is None, run.error
    return preview_from_program_run(run)


@pytest.fixture(scope="module", params=["host", "partner"])
def stack_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def stack_preview(stack_name: str) -> StackPreview:
    return program_preview(stack_name)


@pytest.fixture(scope="module")
def stack_pack(stack_preview: StackPreview) -> Iterator[PolicyPackProcess]:
    with launch_for_preview(PACK_DIR, stack_preview) as pack:
        pack.configure_like_engine(FIXTURE_POLICY_CONFIG)
        yield pack


@pytest.fixture(scope="module")
def analyze_pack() -> Iterator[PolicyPackProcess]:
    with launch_for_analyze(PACK_DIR) as pack:
        yield pack


def test_stack_passes_the_pack_with_the_ci_config(stack_preview: StackPreview, stack_pack: PolicyPackProcess):
    analyzed_types = {resource.type for resource in stack_preview.resources}
    assert {"pulumi:pulumi:Stack", "pulumi:providers:aws"} <= analyzed_types
    assert any(t.startswith("aws:iam/") for t in analyzed_types)  # the stack has IAM resources for the pack to check

    result = stack_pack.run_preview(stack_preview)

    assert result.mandatory() == []
    assert stack_pack.logged_errors() == []
    assert stack_pack.extra_stdout == ""


def _with_other_account_ids(tmp_path: Path) -> Path:
    """The repository's project files with every 12-digit account ID replaced, as an operator's step 1 does."""
    files = ["Pulumi.yaml", *(path.name for path in REPO_ROOT.glob("Pulumi.*.yaml"))]
    texts = {name: (REPO_ROOT / name).read_text() for name in files}
    accounts = sorted({match for text in texts.values() for match in re.findall(r"(?<!\d)\d{12}(?!\d)", text)})
    replacement = {account: f"{900000000000 + index * 1111:012d}" for index, account in enumerate(accounts)}
    for name, text in texts.items():
        rewritten = re.sub(r"(?<!\d)\d{12}(?!\d)", lambda match: replacement[match.group()], text)
        if name == "Pulumi.yaml":
            rewritten += f"main: {REPO_ROOT}\n"
        (tmp_path / name).write_text(rewritten)
    return tmp_path


REPOSITORY_STACKS = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml")
                           for path in REPO_ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", REPOSITORY_STACKS)
@pytest.mark.parametrize("accounts", ["checked-in", "rewritten"])
def test_the_repository_stacks_pass_the_pack_with_the_ci_config(stack: str, accounts: str, tmp_path: Path):
    # Whatever accounts and grants an operator configures, the checked-in project builds and passes the CI check;
    # the same check on a copy with other account IDs shows it does not lean on the sample's.
    project = program.load_project(REPO_ROOT if accounts == "checked-in" else _with_other_account_ids(tmp_path))
    secrets = {key.partition(":")[2]: "check-stand-in-value"
               for key in program.encrypted_keys(program.stack_config(project, stack))}
    run = program.run_program(project, stack, secrets=secrets)
    assert run.error is None, run.error
    assert run.resources, "a stack of the project deploys at least one grant's side"
    preview = preview_from_program_run(run)
    with launch_for_preview(PACK_DIR, preview) as pack:
        pack.configure_from_file(POLICY_CONFIG_FILE)
        result = pack.run_preview(preview)
        assert result.mandatory() == []
        assert pack.logged_errors() == []


def _host_role_urn(preview: StackPreview) -> str:
    [role_urn] = [resource.urn for resource in preview.resources if resource.type == ROLE_TYPE]
    return role_urn


def _without_mfa(document: dict, replacement_operator: str | None) -> dict:
    """The trust with every `Bool aws:MultiFactorAuthPresent` moved to `replacement_operator`, or dropped."""
    broken = copy.deepcopy(document)
    statements = broken["Statement"] if isinstance(broken["Statement"], list) else [broken["Statement"]]
    changed = False
    for statement in statements:
        condition = statement.get("Condition", {})
        for operator in list(condition):
            if operator.lower() != "bool":
                continue
            for key in [k for k in condition[operator] if k.lower() == MFA_KEY]:
                value = condition[operator].pop(key)
                changed = True
                if replacement_operator is not None:
                    condition.setdefault(replacement_operator, {})[key] = value
            if not condition[operator]:
                del condition[operator]
        if "Condition" in statement and not condition:
            del statement["Condition"]
    assert changed, f"the host role's trust has no MFA condition to break: {document}"
    return broken


@pytest.mark.parametrize("stack_name", ["host"], indirect=True)
@pytest.mark.parametrize("replacement_operator", [None, "BoolIfExists"], ids=["mfa-removed", "bool-if-exists"])
def test_host_role_with_weakened_mfa_fails_the_preview(
    stack_preview: StackPreview, stack_pack: PolicyPackProcess, replacement_operator: str | None
):
    role_urn = _host_role_urn(stack_preview)
    inputs = dict(stack_preview.resource(role_urn).properties)
    # Recorded inputs are in the engine's encoding: a secret-wrapped document stays wrapped the way it came.
    document = json.loads(reveal(inputs["assumeRolePolicy"]))
    inputs["assumeRolePolicy"] = json.dumps(_without_mfa(document, replacement_operator))

    result = stack_pack.run_preview(stack_preview.with_resource_properties(role_urn, inputs))

    failing = [(d.policy_name, d.enforcement_level) for d in result.mandatory()]
    assert failing == [(MFA_POLICY, "mandatory")]
    [violation] = result.resource_diagnostics[role_urn]
    assert "aws:MultiFactorAuthPresent" in violation.message
    assert stack_pack.logged_errors() == []


@pytest.mark.parametrize("stack_name", ["partner"], indirect=True)
def test_partner_policy_widened_to_any_role_is_advisory_and_does_not_fail_the_preview(
    stack_preview: StackPreview, stack_pack: PolicyPackProcess
):
    [policy] = [resource for resource in stack_preview.resources if resource.type == "aws:iam/policy:Policy"]
    document = json.loads(reveal(policy.properties["policy"]))
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement in statements:
        statement["Resource"] = "*"

    result = stack_pack.run_preview(
        stack_preview.with_resource_properties(policy.urn, {**policy.properties, "policy": json.dumps(document)})
    )

    assert result.mandatory() == []
    assert [(d.policy_name, d.enforcement_level) for d in result.resource_diagnostics[policy.urn]] == [
        ("assume-role-on-wildcard-resource", "advisory")
    ]


# `pulumi policy analyze` on the stacks' state ---------------------------------------------------------------------


def _not_checked(result) -> list[tuple[str, str | None]]:
    """(resource name, code) of each trust-not-checked finding; the pack's message follows the policy description."""
    return [(urn.rsplit("::", 1)[-1], code_of(d.message.split("\n", 1)[1]))
            for urn, found in result.resource_diagnostics.items() for d in found if d.policy_name == NOT_CHECKED_POLICY]


def _analyze_export(pack: PolicyPackProcess, deployed: StackPreview, *, encrypt_secrets: bool,
                    config: dict | None = None):
    export = json.loads(json.dumps(export_stack(deployed, encrypt_secrets=encrypt_secrets)))
    pack.configure_like_engine({**FIXTURE_POLICY_CONFIG, **(config or {})})
    return export, pack.run_snapshot(snapshot_from_export(export))


@pytest.mark.parametrize("stack", ["host", "partner"])
@pytest.mark.parametrize("encrypt_secrets", [False, True], ids=["decrypted", "redacted"])
def test_deployed_stacks_pass_policy_analyze(analyze_pack: PolicyPackProcess, stack: str, encrypt_secrets: bool):
    deployed = preview_from_program_run(run_program(stack, preview=False))
    export, result = _analyze_export(analyze_pack, deployed, encrypt_secrets=encrypt_secrets)
    assert export["version"] == 3
    assert [r["urn"] for r in export["deployment"]["resources"]] == [r.urn for r in deployed.resources]
    assert result.mandatory() == []
    assert result.all_diagnostics() == []  # the sample grant has no secret: nothing is redacted
    assert analyze_pack.logged_errors() == []


def test_host_role_with_an_external_id_passes_policy_analyze_decrypted(analyze_pack: PolicyPackProcess):
    _, result = _analyze_export(analyze_pack, external_id_host(preview=False), encrypt_secrets=False)
    assert result.all_diagnostics() == []


def test_host_role_with_an_external_id_redacted_is_not_checked_not_malformed(analyze_pack: PolicyPackProcess):
    export, result = _analyze_export(analyze_pack, external_id_host(preview=False), encrypt_secrets=True)
    assert EXTERNAL_ID not in json.dumps(export)
    assert result.mandatory() == []
    assert _not_checked(result) == [("ex-for-aws-b-role", "SKIP-001")]
    assert [d.policy_name for d in result.all_diagnostics()] == [NOT_CHECKED_POLICY]


def test_redacted_findings_turn_off_with_the_policy(analyze_pack: PolicyPackProcess):
    _, result = _analyze_export(analyze_pack, external_id_host(preview=False), encrypt_secrets=True,
                                config={NOT_CHECKED_POLICY: "disabled"})
    assert result.all_diagnostics() == []


def test_analyze_of_a_role_without_mfa_fails_with_the_mandatory_policy(analyze_pack: PolicyPackProcess):
    deployed = program_preview("host")
    role_urn = _host_role_urn(deployed)
    inputs = dict(deployed.resource(role_urn).properties)
    inputs["assumeRolePolicy"] = json.dumps(_without_mfa(json.loads(reveal(inputs["assumeRolePolicy"])), None))
    up = preview_from_program_run(run_program("host", preview=False))
    _, result = _analyze_export(analyze_pack, up.with_resource_properties(role_urn, inputs), encrypt_secrets=False)
    assert [(d.policy_name, d.enforcement_level) for d in result.mandatory()] == [(MFA_POLICY, "mandatory")]


def test_preview_of_a_trust_built_from_unknowns_says_checked_at_up(analyze_pack: PolicyPackProcess):
    preview = external_id_host(preview=True)
    role_urn = _host_role_urn(preview)
    unknown_trust = {**preview.resource(role_urn).properties, "assumeRolePolicy": program.UNKNOWN}
    with launch_for_preview(PACK_DIR, preview) as pack:
        pack.configure_like_engine(FIXTURE_POLICY_CONFIG)
        result = pack.run_preview(preview.with_resource_properties(role_urn, unknown_trust))
        assert result.mandatory() == []
        assert _not_checked(result) == [("ex-for-aws-b-role", "SKIP-002")]
        pack.configure_like_engine({**FIXTURE_POLICY_CONFIG, NOT_CHECKED_POLICY: "disabled"})
        assert pack.run_preview(preview.with_resource_properties(role_urn, unknown_trust)).all_diagnostics() == []
