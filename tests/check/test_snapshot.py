"""Reading `pulumi stack export` files as `pulumi policy analyze --file` does: which resources it sends, with which
properties and provider, how secrets arrive, and the errors for files it cannot use."""

from __future__ import annotations

import json

import pytest

from partner_access.check.engine import secret
from partner_access.check.program import SECRET_SIGNATURE, SECRET_SIGNATURE_KEY
from partner_access.check.snapshot import ExportError, export_stack, read_export, snapshot_from_export
from partner_access.check.stack import preview_from_program_run
from support.program_runner import run_program

STACK_URN = "urn:pulumi:prod::team::pulumi:pulumi:Stack::team-prod"
PROVIDER_URN = "urn:pulumi:prod::team::pulumi:providers:aws::default_7_51_1"
ROLE_URN = "urn:pulumi:prod::team::aws:iam/role:Role::ops"


def export(*resources: dict) -> dict:
    return {"version": 3, "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3"},
                                         "resources": list(resources)}}


def role(**fields: object) -> dict:
    return {"urn": ROLE_URN, "custom": True, "type": "aws:iam/role:Role", "id": "ops",
            "provider": f"{PROVIDER_URN}::0f1e", "parent": STACK_URN, **fields}


BASE = [
    {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {"side": "host"}},
    {"urn": PROVIDER_URN, "custom": True, "id": "0f1e", "type": "pulumi:providers:aws",
     "inputs": {"region": "us-east-1", "allowedAccountIds": '["111111111111"]'}},
]


def test_resources_in_state_order_with_inputs_for_analyze_and_outputs_for_the_stack_policies():
    snapshot = snapshot_from_export(export(*BASE, role(inputs={"name": "ops"}, outputs={"name": "ops", "arn": "a"}),
                                           {**role(), "urn": ROLE_URN + "-old", "delete": True}))
    assert [r.urn for r in snapshot.resources] == [STACK_URN, PROVIDER_URN, ROLE_URN]  # the deleted one is left out
    analyzed = snapshot.resources[2]
    assert (analyzed.name, analyzed.properties, analyzed.parent) == ("ops", {"name": "ops"}, STACK_URN)
    assert analyzed.provider is not None and analyzed.provider.urn == PROVIDER_URN
    assert analyzed.provider.properties == {"region": "us-east-1", "allowedAccountIds": '["111111111111"]'}
    assert snapshot.stack_resources[2].properties == {"name": "ops", "arn": "a"}
    assert snapshot.root_urn == STACK_URN


def test_plaintext_secrets_are_read_and_ciphertext_is_redacted():
    document = {"Version": "2012-10-17", "Statement": []}
    inputs = {
        "assumeRolePolicy": {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "plaintext": json.dumps(json.dumps(document))},
        "tags": {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "ciphertext": "v1:abc:def"},
    }
    [*_, analyzed] = snapshot_from_export(export(*BASE, role(inputs=inputs))).resources
    assert analyzed.properties == {"assumeRolePolicy": secret(json.dumps(document)), "tags": secret("[secret]")}


def test_a_deployed_stack_round_trips_through_its_export():
    deployed = preview_from_program_run(run_program("host", preview=False))
    snapshot = snapshot_from_export(json.loads(json.dumps(export_stack(deployed, encrypt_secrets=False))))
    assert [(r.urn, r.properties) for r in snapshot.resources] == [(r.urn, r.properties) for r in deployed.resources]
    assert [r.properties for r in snapshot.stack_resources] == [r.properties for r in deployed.stack_resources]
    with pytest.raises(ValueError, match="a preview leaves no state"):
        export_stack(preview_from_program_run(run_program("host")), encrypt_secrets=False)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"deployment": {}}, "deployment version None is not supported"),
        ([], "is not a `pulumi stack export` file"),
        (export({"urn": "not-a-urn", "type": "aws:iam/role:Role"}), r"deployment.resources\[0\]: invalid URN"),
        (export(*BASE, role(inputs={"x": {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE}})),
         r"deployment.resources\[2\].inputs.x: malformed secret value"),
        (export(*BASE, role(inputs=[1])), r"deployment.resources\[2\].inputs: must be an object"),
    ],
)
def test_files_the_cli_would_refuse_are_refused_naming_the_place(tmp_path, document, message):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ExportError, match=f"^{tmp_path}/state.json: .*{message}"):
        read_export(path)


def test_a_missing_or_non_json_file_is_named(tmp_path):
    with pytest.raises(ExportError, match=r"state\.json: no such stack export file"):
        read_export(tmp_path / "state.json")
    (tmp_path / "state.json").write_text("{")
    with pytest.raises(ExportError, match=r"state.json: is not JSON \(line 1"):
        read_export(tmp_path / "state.json")
