"""`--authorization-details FILE`: the JSON the AWS CLI writes, built here from moto's own API output."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from partner_access.audit.account_collection import ENTITY_FILTER
from partner_access.cli import main

from .conftest import MANAGEMENT_ACCOUNT, account_session
from .iam_fixture import (
    EXPECTED,
    MFA_POLICY,
    SESSION_POLICY,
    audit_config,
    populate,
    root,
    trust,
    verdicts,
)

PARTNER = "222222222222"
VENDOR = "333333333333"


def cli_output(session: boto3.Session) -> dict[str, Any]:
    """What `aws iam get-account-authorization-details --filter User Role Group LocalManagedPolicy` prints: the
    pages merged (the CLI's paginator's full result), documents decoded by botocore, timestamps in ISO 8601."""
    paginator = session.client("iam").get_paginator("get_account_authorization_details")
    result = paginator.paginate(Filter=ENTITY_FILTER).build_full_result()
    return json.loads(json.dumps(result, default=lambda value: value.isoformat() if isinstance(value, datetime)
                                 else str(value)))


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document, indent=2))
    return str(path)


def audit(capsys, *arguments: str) -> tuple[int, dict[str, Any] | str, str]:
    code = main(["audit", *arguments])
    captured = capsys.readouterr()
    try:
        return code, json.loads(captured.out), captured.err
    except ValueError:
        return code, captured.out, captured.err


def test_cli_output_files_get_the_live_verdicts_except_session_length(moto_aws, tmp_path, capsys):
    accounts = (MANAGEMENT_ACCOUNT, PARTNER, VENDOR)
    sessions = {a: boto3.Session() if a == MANAGEMENT_ACCOUNT else account_session(a) for a in accounts}
    populate(accounts, sessions.__getitem__)
    files = [write(tmp_path / f"{account}.json", cli_output(sessions[account])) for account in accounts]
    config = write(tmp_path / "config.json", audit_config(VENDOR))
    arguments = [argument for path in files for argument in ("--authorization-details", path)]

    code, report, err = audit(capsys, *arguments, "--format", "json", "--policy-pack-config", config)

    assert err == ""
    assert [account["account"] for account in report["accounts"]] == list(accounts)
    # The authorization details carry no MaxSessionDuration, so the session-length policy cannot decide offline.
    assert verdicts(report, accounts) == {
        key: {(policy, code) for policy, code in findings if policy != SESSION_POLICY}
        for key, findings in EXPECTED.items()
    }
    assert code == 1


def test_offline_and_live_reports_agree_on_every_finding_message(moto_aws, tmp_path, capsys):
    populate((MANAGEMENT_ACCOUNT, PARTNER, VENDOR),
             lambda a: boto3.Session() if a == MANAGEMENT_ACCOUNT else account_session(a))
    path = write(tmp_path / "host.json", cli_output(boto3.Session()))

    _, live, _ = audit(capsys, "--format", "json")
    _, offline, _ = audit(capsys, "--format", "json", "--authorization-details", path)

    def messages(report: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {(role["arn"], finding["policy"], finding["message"])
                for account in report["accounts"] for role in account["roles"] for finding in role["findings"]
                if finding["policy"] != SESSION_POLICY}

    assert messages(offline) == messages(live)


def details(*roles: dict[str, Any], **lists: list[Any]) -> dict[str, Any]:
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": list(roles), "Policies": [], **lists}


def role_entry(name: str, document: object, account: str = MANAGEMENT_ACCOUNT) -> dict[str, Any]:
    return {"Path": "/", "RoleName": name, "RoleId": f"AROA{name.upper()}",
            "Arn": f"arn:aws:iam::{account}:role/{name}", "CreateDate": "2026-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": document, "InstanceProfileList": [],
            "RolePolicyList": [], "AttachedManagedPolicies": [], "Tags": [], "RoleLastUsed": {}}


def test_a_document_the_cli_could_not_decode_is_reported_as_the_pack_reports_a_malformed_trust(tmp_path, capsys):
    # The CLI prints a document it cannot decode as the URL-encoded string IAM returned.
    path = write(tmp_path / "a.json", details(role_entry("broken", "%7B%22Statement%22%3A%20%5B"),
                                              role_entry("fine", json.loads(trust(root(MANAGEMENT_ACCOUNT))))))

    code, report, _ = audit(capsys, "--format", "json", "--authorization-details", path)

    roles = {role["name"]: role["findings"] for role in report["accounts"][0]["roles"]}
    assert roles["fine"] == []
    (finding,) = roles["broken"]
    assert (finding["policy"], finding["level"], finding["code"]) == (MFA_POLICY, "mandatory", "DOC-001")
    assert finding["message"].startswith("DOC-001: ")
    assert code == 1


def test_aws_managed_policies_in_a_file_are_not_audited_as_the_accounts_own(tmp_path, capsys):
    aws_policy = {"PolicyName": "AWSAssumeAnything", "Arn": "arn:aws:iam::aws:policy/AWSAssumeAnything",
                  "DefaultVersionId": "v1", "PolicyVersionList": [
                      {"VersionId": "v1", "IsDefaultVersion": True, "Document": {
                          "Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}}]}
    path = write(tmp_path / "a.json", details(role_entry("fine", json.loads(trust(root(MANAGEMENT_ACCOUNT)))),
                                              Policies=[aws_policy]))

    code, report, _ = audit(capsys, "--format", "json", "--authorization-details", path)

    assert [role["name"] for role in report["accounts"][0]["roles"]] == ["fine"]
    assert code == 0


def test_bad_files_are_reported_by_name_and_the_good_ones_still_audited(tmp_path, capsys):
    good = write(tmp_path / "good.json", details(role_entry("no-mfa", json.loads(trust(root(PARTNER))))))
    not_json = tmp_path / "not-json.json"
    not_json.write_text("{")
    wrong_shape = write(tmp_path / "shape.json", {"RoleDetailList": {"not": "a list"}})
    missing_arn = write(tmp_path / "arn.json", details({"RoleName": "x", "AssumeRolePolicyDocument": {}}))
    mixed = write(tmp_path / "mixed.json", details(role_entry("a", {}), role_entry("b", {}, account=PARTNER)))
    arguments = [arg for path in (good, str(not_json), wrong_shape, missing_arn, mixed, str(tmp_path / "gone.json"))
                 for arg in ("--authorization-details", path)]

    code, report, err = audit(capsys, *arguments, "--format", "json")

    accounts = report["accounts"]
    assert accounts[0]["account"] == MANAGEMENT_ACCOUNT and accounts[0]["roles"][0]["findings"]
    errors = [account["errors"] for account in accounts[1:]]
    assert [account["account"] for account in accounts[1:]] == [None] * 5
    assert "not-json.json: not JSON" in errors[0][0]
    assert "shape.json" in errors[1][0] and "RoleDetailList is an object, not a list" in errors[1][0]
    assert "arn.json" in errors[2][0] and "RoleDetailList[0].Arn is missing" in errors[2][0]
    assert "mixed.json" in errors[3][0] and "several accounts" in errors[3][0]
    assert "gone.json: cannot read" in errors[4][0]
    assert code == 2 and "Traceback" not in err


def test_files_and_organization_together_are_a_usage_error(tmp_path, capsys):
    code, out, err = audit(capsys, "--organization", "--authorization-details", str(tmp_path / "a.json"))

    assert (code, out) == (2, "")
    assert "cannot be combined" in err


def test_a_cli_file_with_every_field_the_cli_writes(tmp_path, capsys, monkeypatch):
    # tests/audit/fixtures/cli-authorization-details.json is shaped as the AWS CLI prints the output (botocore's
    # IAM model: RoleDetail with RoleLastUsed, PermissionsBoundary, Tags and InstanceProfileList holding the role
    # again; UserDetail with GroupList; ManagedPolicyDetail with every PolicyVersionList entry; AWS managed
    # policies, as written without --filter), documents decoded to objects. Only the default version of a
    # managed policy counts: its older version allows sts:AssumeRole on "*", the default does not.
    monkeypatch.chdir(Path(__file__).parent / "fixtures")
    code = main(["audit", "--authorization-details", "cli-authorization-details.json", "--format", "json"])
    (account,) = json.loads(capsys.readouterr().out)["accounts"]
    assert account["account"] == "111111111111" and account["errors"] == []
    assert {entry["arn"].split(":", 5)[5]: [finding["code"] for finding in entry["findings"]]
            for entry in account["roles"]} == {
        "role/partner-mfa": [],
        "role/legacy/partner-no-mfa": ["MFA-001", "ADMIN-001"],
        "role/app-instance": [],
        "user/deployer": ["WILDCARD-001"],
    }
    assert code == 1


@pytest.mark.parametrize("option", [["--audit-role-name", "auditor"], ["--max-workers", "4"],
                                    ["--organization-accounts-are-own"]])
def test_organization_options_without_organization_are_usage_errors(tmp_path, capsys, option):
    code, out, err = audit(capsys, "--authorization-details", str(tmp_path / "a.json"), *option)

    assert (code, out) == (2, "")
    assert f"{option[0]} needs --organization" in err
