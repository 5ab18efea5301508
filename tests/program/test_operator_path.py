"""The README's Deploying path for an operator's own project: own account IDs, renamed roles and users, a grant with
an External ID held as a secret on both of its stacks, and a third stack for a second partner account.

The project is written here (never the repository's sample config): what must hold is that such a project builds on
every stack, each stack deploying only its own side, that the workflows' stack listing picks the new stack up, and
that a missing or still-encrypted External ID is an error naming the key and how to give it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from partner_access.check import program
from support.program_runner import REPO_ROOT

HOST, PARTNER, VENDOR = "123456789012", "210987654321", "333344445555"
EXTERNAL_ID_KEY = "acmeDeployerExternalId"
ROLE_TYPE = "aws:iam/role:Role"
PARTNER_POLICY_TYPE = "aws:iam/policy:Policy"

GRANTS = [
    {"roleName": "acme-readonly", "hostAccountId": HOST, "partnerAccountId": PARTNER,
     "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "partnerUsers": ["carol"],
     "partnerGroup": {"name": "contoso-operators", "members": ["dave"]}},
    {"roleName": "acme-deployer", "hostAccountId": HOST, "partnerAccountId": PARTNER,
     "externalIdSecret": EXTERNAL_ID_KEY, "managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"],
     "partnerUsers": ["carol"]},
    {"roleName": "vendor-support", "hostAccountId": HOST, "partnerAccountId": VENDOR,
     "managedPolicyArns": ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"], "partnerUsers": ["erin"]},
]
# What `pulumi config set --secret` leaves in a stack file with a passphrase provider (the values are opaque here).
ENCRYPTED_EXTERNAL_ID = (f"encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:dGFn\n"
                         f"config:\n  partner-access:{EXTERNAL_ID_KEY}:\n    secure: v1:bm9uY2U=:Y2lwaGVy\n")


def _stack_file(side: str, account: str, *, external_id: bool) -> str:
    head = ENCRYPTED_EXTERNAL_ID if external_id else "config:\n"
    return (f"{head}  partner-access:side: {side}\n  aws:region: eu-west-1\n"
            f"  aws:allowedAccountIds:\n    - \"{account}\"\n")


def _operator_project(directory: Path, *, secret_set_on_partner: bool = True) -> program.Project:
    (directory / "Pulumi.yaml").write_text(
        "name: partner-access\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: .venv\n"
        f"main: {REPO_ROOT}\nconfig:\n  grants:\n    value: {json.dumps(GRANTS)}\n")
    (directory / "Pulumi.host.yaml").write_text(_stack_file("host", HOST, external_id=True))
    (directory / "Pulumi.partner.yaml").write_text(_stack_file("partner", PARTNER, external_id=secret_set_on_partner))
    (directory / "Pulumi.vendor.yaml").write_text(_stack_file("partner", VENDOR, external_id=False))
    return program.load_project(directory)


def _run(project: program.Project, stack: str) -> program.ProgramRun:
    secrets = {key.partition(":")[2]: "an-external-id"
               for key in program.encrypted_keys(program.stack_config(project, stack))}
    return program.run_program(project, stack, secrets=secrets)


@pytest.mark.parametrize(("stack", "resource_type", "names"), [
    ("host", ROLE_TYPE, {"acme-readonly", "acme-deployer", "vendor-support"}),
    ("partner", PARTNER_POLICY_TYPE, {"assume-acme-readonly", "assume-acme-deployer"}),
    ("vendor", PARTNER_POLICY_TYPE, {"assume-vendor-support"}),
])
def test_each_stack_of_an_operators_project_deploys_only_its_own_side(tmp_path, stack, resource_type, names):
    run = _run(_operator_project(tmp_path), stack)
    assert run.error is None, run.error
    assert {resource.inputs.get("name") for resource in run.of_type(resource_type)} == names
    other_side = PARTNER_POLICY_TYPE if resource_type == ROLE_TYPE else ROLE_TYPE
    assert run.of_type(other_side) == []


def test_an_external_id_not_yet_set_on_a_stack_names_the_key_and_the_command(tmp_path):
    run = _run(_operator_project(tmp_path, secret_set_on_partner=False), "partner")
    assert run.error is not None
    assert f"partner-access:{EXTERNAL_ID_KEY}: is not set" in run.error
    assert f"pulumi config set --secret {EXTERNAL_ID_KEY} <external-id>" in run.error


def test_a_still_encrypted_external_id_names_the_option_that_gives_it(tmp_path):
    with pytest.raises(program.ProjectError) as raised:
        program.run_program(_operator_project(tmp_path), "host")
    assert f"--secret partner-access:{EXTERNAL_ID_KEY}=<value>" in str(raised.value)


def test_the_workflows_list_the_new_partner_stack_after_the_hosts(tmp_path):
    _operator_project(tmp_path)
    spec = importlib.util.spec_from_file_location("ci_stacks", REPO_ROOT / "scripts" / "ci_stacks.py")
    assert spec is not None and spec.loader is not None
    ci_stacks = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ci_stacks  # its dataclasses resolve their module while the script loads
    spec.loader.exec_module(ci_stacks)
    outputs = ci_stacks.matrix_outputs(ci_stacks.stack_entries(tmp_path))
    assert [entry["stack"] for entry in json.loads(outputs["hosts"])] == ["host"]
    assert [entry["stack"] for entry in json.loads(outputs["partners"])] == ["partner", "vendor"]
