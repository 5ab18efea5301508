"""`partner-access audit` against live accounts in the moto server: one account, and an organization."""

from __future__ import annotations

import json

import boto3
import requests

from partner_access.cli import main

from .conftest import MANAGEMENT_ACCOUNT, account_session
from .iam_fixture import EXPECTED, HOST, MFA_POLICY, audit_config, populate, trust, verdicts

PARTNER = "222222222222"
VENDOR = "333333333333"
AUDIT_ROLE = "partner-access-audit"
READ_IAM = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:GetAccountAuthorizationDetails", "iam:ListRoles"], "Resource": "*"}]})


def audit(capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(["audit", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def config_file(tmp_path, vendor: str) -> str:
    path = tmp_path / "policy-pack-config.json"
    path.write_text(json.dumps(audit_config(vendor)))
    return str(path)


def test_live_account_gets_the_pack_verdict_on_every_role_user_and_policy(moto_aws, tmp_path, capsys):
    accounts = (MANAGEMENT_ACCOUNT, PARTNER, VENDOR)
    populate(accounts, lambda account: boto3.Session() if account == MANAGEMENT_ACCOUNT else account_session(account))

    code, out, err = audit(capsys, "--format", "json", "--policy-pack-config", config_file(tmp_path, VENDOR))

    assert err == ""
    report = json.loads(out)
    assert [account["account"] for account in report["accounts"]] == [MANAGEMENT_ACCOUNT]
    expected_host = {key: value for key, value in EXPECTED.items() if key[0] == HOST}
    assert verdicts(report, accounts) == expected_host
    assert code == 1  # the MFA policy is mandatory and reports


def test_json_report_has_exactly_the_documented_shape(moto_aws, tmp_path, capsys):
    populate((MANAGEMENT_ACCOUNT, PARTNER, VENDOR),
             lambda account: boto3.Session() if account == MANAGEMENT_ACCOUNT else account_session(account))

    _, out, _ = audit(capsys, "--format", "json", "--policy-pack-config", config_file(tmp_path, VENDOR))

    report = json.loads(out)
    assert set(report) == {"accounts"}
    for account in report["accounts"]:
        assert set(account) == {"account", "roles", "errors"}
        assert account["errors"] == []
        for entry in account["roles"]:
            assert set(entry) == {"arn", "name", "findings"}
            assert entry["arn"].startswith(f"arn:aws:iam::{account['account']}:")
            for finding in entry["findings"]:
                assert set(finding) == {"policy", "level", "code", "message"}
                assert finding["level"] in ("mandatory", "advisory")
                assert finding["message"].startswith(f"{finding['code']}: ")
    mfa = [f for a in report["accounts"] for r in a["roles"] for f in r["findings"] if f["policy"] == MFA_POLICY]
    assert {finding["level"] for finding in mfa} == {"mandatory"}


def test_no_mandatory_finding_exits_zero_and_the_table_groups_by_account(moto_aws, tmp_path, capsys):
    boto3.client("iam").create_role(RoleName="partner-mfa", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{PARTNER}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))

    code, out, _ = audit(capsys)

    assert code == 0
    assert out.splitlines()[0].startswith(f"Account {MANAGEMENT_ACCOUNT} (live): 1 role, 0 with findings")


def test_disabled_policy_reports_nothing_and_a_bad_config_is_a_usage_error(moto_aws, tmp_path, capsys):
    boto3.client("iam").create_role(RoleName="partner-no-mfa", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{PARTNER}:root"}))
    disabled = tmp_path / "disabled.json"
    disabled.write_text(json.dumps({MFA_POLICY: "disabled"}))
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({MFA_POLICY: {"exemptAccountIds": ["not-an-account"]}}))

    code, out, _ = audit(capsys, "--format", "json", "--policy-pack-config", str(disabled))
    assert code == 0
    assert json.loads(out)["accounts"][0]["roles"][0]["findings"] == []

    code, out, err = audit(capsys, "--policy-pack-config", str(invalid))
    assert (code, out) == (2, "")
    assert str(invalid) in err and MFA_POLICY in err and "exemptAccountIds.0" in err


def test_no_credentials_is_an_access_error_without_a_traceback(moto_aws, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    code, out, err = audit(capsys)

    assert (code, out) == (2, "")
    assert "sts:GetCallerIdentity" in err and "Traceback" not in err


def test_organization_without_an_organization_is_an_access_error_not_an_empty_pass(moto_aws, capsys):
    code, out, err = audit(capsys, "--organization")

    assert (code, out) == (2, "")
    assert "organizations:ListAccounts" in err and "not in an AWS Organization" in err


def make_organization(member_count: int) -> list[str]:
    organizations = boto3.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
        ["CreateAccountStatus"]["AccountId"]
        for n in range(member_count)
    ]
    return [MANAGEMENT_ACCOUNT, *members]


def grant_audit_role(account: str, policy: str = READ_IAM) -> None:
    iam = account_session(account).client("iam")
    iam.create_role(RoleName=AUDIT_ROLE, AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    iam.put_role_policy(RoleName=AUDIT_ROLE, PolicyName="read-iam", PolicyDocument=policy)


def test_organization_audits_every_account_through_the_audit_role(moto_aws, tmp_path, capsys):
    accounts = tuple(make_organization(2))
    populate(accounts, lambda a: boto3.Session() if a == MANAGEMENT_ACCOUNT else account_session(a))

    code, out, _ = audit(capsys, "--organization", "--format", "json", "--max-workers", "2",
                         "--policy-pack-config", config_file(tmp_path, accounts[2]))

    report = json.loads(out)
    assert [account["account"] for account in report["accounts"]] == list(accounts)
    found = verdicts(report, accounts)
    # moto creates OrganizationAccountAccessRole in each new member, trusting the management account without MFA.
    org_access = {key: found.pop(key) for key in list(found) if key[1] == "OrganizationAccountAccessRole"}
    assert found == EXPECTED
    assert org_access and all(findings == {(MFA_POLICY, "MFA-001")} for findings in org_access.values())
    assert code == 1


def test_organization_accounts_can_count_as_own(moto_aws, tmp_path, capsys):
    accounts = tuple(make_organization(2))
    populate(accounts, lambda a: boto3.Session() if a == MANAGEMENT_ACCOUNT else account_session(a))

    _, out, _ = audit(capsys, "--organization", "--organization-accounts-are-own", "--format", "json")

    found = verdicts(json.loads(out), accounts)
    # Only the open trust is still cross-account: every other trust names an account of the organization.
    flagged = {key for key, findings in found.items() if (MFA_POLICY, "MFA-001") in findings}
    assert flagged == {(HOST, "anyone")}


def test_access_denied_in_one_member_is_reported_and_the_others_are_audited(moto_aws, monkeypatch, capsys):
    accounts = make_organization(2)
    reachable, denied = accounts[1], accounts[2]
    grant_audit_role(reachable)
    grant_audit_role(denied, policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    iam = boto3.client("iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "organizations:ListAccounts", "sts:AssumeRole", "sts:GetCallerIdentity",
            "iam:GetAccountAuthorizationDetails", "iam:ListRoles"]}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    requests.post(f"{moto_aws}/moto-api/reset-auth", data=b"0", timeout=30).raise_for_status()
    try:
        code, out, err = audit(capsys, "--organization", "--format", "json")
    finally:
        requests.post(f"{moto_aws}/moto-api/reset-auth", data=b"inf", timeout=30).raise_for_status()

    report = {account["account"]: account for account in json.loads(out)["accounts"]}
    assert list(report) == accounts
    assert report[MANAGEMENT_ACCOUNT]["errors"] == [] and report[reachable]["errors"] == []
    assert {role["name"] for role in report[reachable]["roles"]} >= {AUDIT_ROLE}
    assert report[denied]["roles"] == []
    (error,) = report[denied]["errors"]
    assert "iam:GetAccountAuthorizationDetails" in error and "AccessDenied" in error
    assert code == 2 and "Traceback" not in err
