"""The program's own stacks through the real pack, as the CI preview runs them:
`pulumi preview --stack <stack> --policy-pack policypack --policy-pack-config policy-pack-config.json`.

Each stack's program runs under mocks (support/program_runner.py); every registered resource then goes through the
pack over gRPC with the repository's policy config (support/policy_engine.py). The stacks must pass; the host's
role with its MFA condition removed or weakened must fail the preview with the mandatory policy.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator

import pytest

from support.policy_engine import (
    PolicyPackProcess,
    StackPreview,
    launch_for_preview,
    preview_from_program_run,
)
from support.program_runner import PROJECT_NAME, REPO_ROOT, reveal, run_program

PACK_DIR = REPO_ROOT / "policypack"
POLICY_CONFIG_FILE = REPO_ROOT / "policy-pack-config.json"
MFA_POLICY = "cross-account-trust-requires-mfa"
ROLE_TYPE = "aws:iam/role:Role"
MFA_KEY = "aws:multifactorauthpresent"


@functools.cache
def program_preview(stack: str) -> StackPreview:
    run = run_program(stack)
    assert run.error is None, run.error
    return preview_from_program_run(run, project=PROJECT_NAME)


@pytest.fixture(scope="module", params=["host", "partner"])
def stack_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def stack_preview(stack_name: str) -> StackPreview:
    return program_preview(stack_name)


@pytest.fixture(scope="module")
def stack_pack(stack_preview: StackPreview) -> Iterator[PolicyPackProcess]:
    with launch_for_preview(PACK_DIR, stack_preview) as pack:
        pack.configure_from_file(POLICY_CONFIG_FILE)
        yield pack


def test_stack_passes_the_pack_with_the_ci_config(stack_preview: StackPreview, stack_pack: PolicyPackProcess):
    analyzed_types = {resource.type for resource in stack_preview.resources}
    assert {"pulumi:pulumi:Stack", "pulumi:providers:aws"} <= analyzed_types
    assert any(t.startswith("aws:iam/") for t in analyzed_types)  # the stack has IAM resources for the pack to check

    result = stack_pack.run_preview(stack_preview)

    assert result.mandatory() == []
    assert stack_pack.logged_errors() == []
    assert stack_pack.extra_stdout == ""


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
