"""`--format sarif`: valid SARIF 2.1.0 (the OASIS schema, vendored in tests/audit/schemas) with what GitHub code
scanning needs: every result names a rule of the run and a relative artifact URI."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from iam_trust_policies.policies import POLICIES
from partner_access.cli import main

from .iam_fixture import MFA, root

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
OWN = "111111111111"
PARTNER = "222222222222"


def role(name: str, trust_document: object) -> dict:
    return {"RoleName": name, "Arn": f"arn:aws:iam::{OWN}:role/{name}", "Path": "/", "RoleId": "AROA" + name,
            "AssumeRolePolicyDocument": trust_document,
            "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess",
                                         "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]}


def trust_document(condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": root(PARTNER), "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [{**statement, **({"Condition": condition} if condition else {})}]}


def sarif_of(capsys, monkeypatch, tmp_path, *files: dict | str) -> tuple[int, dict]:
    monkeypatch.chdir(tmp_path)
    arguments = []
    for number, content in enumerate(files):
        name = f"account-{number}.json"
        (tmp_path / name).write_text(content if isinstance(content, str) else json.dumps(content))
        arguments += ["--authorization-details", name]
    code = main(["audit", "--format", "sarif", *arguments])
    return code, json.loads(capsys.readouterr().out)


def test_findings_are_valid_sarif_for_code_scanning(capsys, monkeypatch, tmp_path):
    details = {"RoleDetailList": [role("no-mfa", trust_document()), role("mfa", trust_document(MFA))]}

    code, sarif = sarif_of(capsys, monkeypatch, tmp_path, details)

    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    (run,) = sarif["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == [policy.name for policy in POLICIES]
    results = run["results"]
    assert {(r["ruleId"], r["properties"]["code"], r["level"]) for r in results} == {
        ("cross-account-trust-requires-mfa", "MFA-001", "error"),
        ("cross-account-role-not-admin", "ADMIN-001", "warning"),
    }
    for result in results:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "account-0.json"
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith(f"arn:aws:iam::{OWN}:role/")
        assert result["message"]["text"].startswith(result["properties"]["code"] + ": ")
        assert result["partialFingerprints"]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert code == 1


def test_errors_are_tool_notifications_and_the_run_is_marked_unsuccessful(capsys, monkeypatch, tmp_path):
    code, sarif = sarif_of(capsys, monkeypatch, tmp_path, {"RoleDetailList": [role("mfa", trust_document(MFA))]},
                           "not json")

    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    (run,) = sarif["runs"]
    assert run["results"][0]["ruleId"] == "cross-account-role-not-admin"
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error" and "account-1.json: not JSON" in notification["message"]["text"]
    assert code == 2


def test_each_result_has_what_github_requires_and_points_at_the_entity_in_the_file(capsys, monkeypatch, tmp_path):
    # GitHub Docs, "SARIF support for code scanning": rules need help.text; a result's physicalLocation needs
    # artifactLocation.uri and region.startLine; code scanning uses only partialFingerprints.primaryLocationLineHash.
    details = {"RoleDetailList": [role("mfa", trust_document(MFA)), role("no-mfa", trust_document())]}
    monkeypatch.chdir(tmp_path)
    (tmp_path / "account.json").write_text(json.dumps(details, indent=4))  # as the CLI prints it

    main(["audit", "--format", "sarif", "--authorization-details", "account.json"])
    first = json.loads(capsys.readouterr().out)
    main(["audit", "--format", "sarif", "--authorization-details", str(tmp_path / "account.json")])
    absolute = json.loads(capsys.readouterr().out)

    jsonschema.Draft4Validator(SCHEMA).validate(first)
    (run,) = first["runs"]
    assert all(rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])
    lines = (tmp_path / "account.json").read_text().splitlines()
    hashes = []
    for result in run["results"]:
        arn = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        region = result["locations"][0]["physicalLocation"]["region"]
        line = lines[region["startLine"] - 1]
        assert line[region["startColumn"] - 1:region["endColumn"] - 1] == f'"Arn": "{arn}"'
        hashes.append(result["partialFingerprints"]["primaryLocationLineHash"])
    assert len(set(hashes)) == len(hashes) == 3  # MFA-001 and ADMIN-001 on no-mfa, ADMIN-001 on mfa
    (absolute_run,) = absolute["runs"]
    uri = absolute_run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == (tmp_path / "account.json").as_uri()
    assert [r["partialFingerprints"] for r in absolute_run["results"]] == [r["partialFingerprints"]
                                                                           for r in run["results"]]


def test_live_results_have_a_region_too(moto_aws, capsys):
    import boto3

    boto3.client("iam").create_role(RoleName="no-mfa", AssumeRolePolicyDocument=json.dumps(trust_document()))
    main(["audit", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    (result, *_) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].startswith("aws-iam/") and location["region"]["startLine"] == 1
    assert result["partialFingerprints"]["primaryLocationLineHash"]
