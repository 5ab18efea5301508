"""`partner-access check`: the local CI policy check, as an operator runs it, on the fixture project.

Each run goes through the console entry (`partner_access.cli.main`): the program under mocks, the real pack over
gRPC from its own virtualenv. Bad input (a stack without a stack file, a malformed file, a missing pack virtualenv)
gets exit 2 and one line naming the file or stack, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from partner_access.check.snapshot import export_stack
from partner_access.check.stack import preview_from_program_run
from partner_access.cli import main
from support.program_runner import FIXTURE_PROJECT, REPO_ROOT, run_program

PACK_DIR = REPO_ROOT / "policypack"
ROLE_URN_SUFFIX = "::partner-access:index:PartnerAccessGrant$aws:iam/role:Role::ex-for-aws-b-role"


def check(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["check", "--project", str(FIXTURE_PROJECT), "--policy-pack", str(PACK_DIR), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fixture_stacks_pass_and_the_summary_counts_what_was_analyzed(capsys):
    for stack in ("host", "partner"):
        code, out, err = check(capsys, "--stack", stack, "--policy-pack-config",
                               str(FIXTURE_PROJECT / "policy-pack-config.json"))
        assert (code, err) == (0, "")
        assert re.search(rf"stack {stack} \(as `pulumi preview`\): \d+ resources analyzed; 0 violations, 0 mandatory",
                         out)
    code, out, _ = check(capsys, "--stack", "host", "--up")
    assert code == 0 and "as `pulumi up`" in out


def _export(tmp_path: Path, *, without_mfa: bool, encrypt_secrets: bool, grants: list | None = None,
            secrets: dict | None = None) -> Path:
    run = run_program("host", preview=False, config_overrides={"grants": grants} if grants else None,
                      secrets=secrets)
    deployed = preview_from_program_run(run)
    if without_mfa:
        [role] = [r for r in deployed.resources if r.type == "aws:iam/role:Role"]
        trust = json.loads(role.properties["assumeRolePolicy"])
        del trust["Statement"][0]["Condition"]["Bool"]
        deployed = deployed.with_resource_properties(role.urn, {**role.properties,
                                                                "assumeRolePolicy": json.dumps(trust)})
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export_stack(deployed, encrypt_secrets=encrypt_secrets)))
    return path


def test_a_mandatory_violation_is_listed_with_policy_level_and_resource_and_exits_1(capsys, tmp_path):
    export = _export(tmp_path, without_mfa=True, encrypt_secrets=False)
    code, out, _ = check(capsys, "--analyze-file", str(export))
    assert code == 1
    assert "[mandatory, high] cross-account-trust-requires-mfa: ex-for-aws-b-role" in out
    assert f"    resource: urn:pulumi:host::partner-access{ROLE_URN_SUFFIX}" in out
    assert "1 mandatory" in out


def test_a_redacted_trust_is_listed_as_not_checked_and_passes(capsys, tmp_path):
    grant = {"roleName": "ex-for-aws-b", "hostAccountId": "111111111111", "partnerAccountId": "222222222222",
             "partnerUsers": ["alice"], "externalIdSecret": "partnerBExternalId"}
    export = _export(tmp_path, without_mfa=False, encrypt_secrets=True, grants=[grant],
                     secrets={"partnerBExternalId": "partner-b-ext-2026"})
    code, out, _ = check(capsys, "--analyze-file", str(export))
    assert code == 0
    assert "[advisory, low] trust-not-checked: ex-for-aws-b-role" in out
    assert "SKIP-001: " in out
    assert "0 mandatory" in out


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, project)
    text = (project / "Pulumi.yaml").read_text()
    (project / "Pulumi.yaml").write_text(text.replace("main: ../../..", f"main: {REPO_ROOT}"))
    return project


@pytest.mark.parametrize(
    ("arguments", "edit", "message"),
    [
        (["--stack", "staging"], None, "stack 'staging' has no Pulumi.staging.yaml in {project} (stacks there: host, "
                                       "partner)"),
        (["--stack", "host"], ("Pulumi.yaml", "name: [unclosed\n"), "{project}/Pulumi.yaml: is not valid YAML at line"),
        (["--stack", "host"], ("Pulumi.host.yaml", "config: [a, b]\n"),
         "{project}/Pulumi.host.yaml: `config:` must be a mapping"),
        (["--stack", "host"], ("Pulumi.host.yaml", "config:\n  partner-access:side: host\n  partner-access:extId:\n"
                                                   "    secure: v1:abc\n"),
         "{project}/Pulumi.host.yaml: partner-access:extId is encrypted (secure:)"),
        (["--stack", "host", "--policy-pack-config", "{project}/missing.json"], None,
         "{project}/missing.json: no such policy pack config file"),
        (["--stack", "host", "--policy-pack-config", "{project}/bad.json"], ("bad.json", "{not json"),
         "{project}/bad.json: is not JSON (line 1"),
        (["--stack", "host", "--policy-pack-config", "{project}/bad.json"],
         ("bad.json", '{"cross-account-trust-requires-mfa": {"exemptAccountIds": ["12"]}}'),
         "{project}/bad.json: validating policy config: cross-account-trust-requires-mfa: exemptAccountIds.0"),
        (["--analyze-file", "{project}/export.json"], ("export.json", '{"version": 1, "deployment": {}}'),
         "{project}/export.json: deployment version 1 is not supported"),
        (["--stack", "host", "--secret", "novalue"], None, "--secret 'novalue': expected KEY=VALUE"),
    ],
    ids=["unknown-stack", "malformed-project", "malformed-stack-file", "encrypted-secret", "missing-pack-config",
         "malformed-pack-config", "invalid-pack-config", "old-export", "bad-secret-flag"],
)
def test_unusable_input_exits_2_naming_the_file_or_stack(capsys, tmp_path, arguments, edit, message):
    project = _copy_project(tmp_path)
    if edit is not None:
        (project / edit[0]).write_text(edit[1])
    code = main(["check", "--project", str(project), "--policy-pack", str(PACK_DIR),
                 *[argument.format(project=project) for argument in arguments]])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("partner-access check: " + message.format(project=project)), captured.err
    assert "Traceback" not in captured.err


def test_a_program_that_refuses_its_settings_fails_the_check_with_its_message(capsys, tmp_path):
    project = _copy_project(tmp_path)
    (project / "Pulumi.host.yaml").write_text("config:\n  partner-access:side: hots\n  aws:region: us-east-1\n"
                                              "  aws:allowedAccountIds: ['111111111111']\n")
    code = main(["check", "--project", str(project), "--policy-pack", str(PACK_DIR), "--stack", "host"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("stack host: the program fails before the pack runs:")
    assert "partner-access:side: 'hots' is not a side" in err


def test_a_pack_without_its_virtualenv_is_refused_with_how_to_create_it(capsys, tmp_path):
    pack = tmp_path / "policypack"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    code = main(["check", "--project", str(FIXTURE_PROJECT), "--policy-pack", str(pack), "--stack", "host"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{pack}/PulumiPolicy.yaml names the virtualenv 'venv', but {pack}/venv/bin/python does not exist" in err
    assert "pulumi install" in err


def test_the_console_entry_runs_without_pythonpath(tmp_path):
    executable = Path(sys.executable).parent / "partner-access"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run([str(executable), "check", "--project", str(FIXTURE_PROJECT), "--stack", "partner",
                                "--policy-pack", str(PACK_DIR)], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "0 mandatory" in completed.stdout
