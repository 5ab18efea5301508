"""The counting rules end to end (files -> shipped SQL in DuckDB -> attribution -> JSON) on one day built to be
awkward: a console session whose calls use other access keys than AssumeRole returned, tied by creationDate; a CLI
session of the same person that chains, under another session name, into a host role no grant names; a switch
refused for lack of MFA; an account no grant names; each denial errorCode next to NoSuchBucketPolicy; host noise."""

from __future__ import annotations

import gzip
import json

from partner_access.cli import main

HOST, PARTNER, OTHER = "111111111111", "222222222222", "333333333333"
ROLE = f"arn:aws:iam::{HOST}:role/ex-for-aws-b"
CONSOLE_CREATED = "2026-03-02T10:00:01Z"  # the console credentials' creationDate, a second after the switch


def assume(time: str, account: str, session: str, key: str | None, role: str = ROLE, error: str | None = None,
           identity: dict | None = None, source_ip: str = "AWS Internal") -> dict:
    """The host's copy of an AssumeRole into `role` (AWSAccount caller unless `identity` says who chained)."""
    record = {
        "eventVersion": "1.08", "eventTime": time, "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
        "awsRegion": "us-east-1", "sourceIPAddress": source_ip, "recipientAccountId": HOST,
        "eventType": "AwsApiCall",
        "userIdentity": identity or {"type": "AWSAccount", "principalId": "AIDA" + session.upper(),
                                     "accountId": account},
        "requestParameters": {"roleArn": role, "roleSessionName": session},
        "responseElements": None if error else {"credentials": {"accessKeyId": key}},
    }
    if error:
        record.update(errorCode=error, errorMessage="not authorized to perform: sts:AssumeRole")
    return record


def role_identity(role: str, session: str, key: str, created: str) -> dict:
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session}",
            "arn": f"arn:aws:sts::{HOST}:assumed-role/{role}/{session}", "accountId": HOST, "accessKeyId": key,
            "sessionContext": {"attributes": {"mfaAuthenticated": "true", "creationDate": created},
                               "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{HOST}:role/{role}"}}}


def call(time: str, role: str, session: str, key: str, created: str, source: str, name: str,
         error: str | None = None) -> dict:
    record = {"eventVersion": "1.08", "eventTime": time, "eventSource": source, "eventName": name,
              "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.7", "recipientAccountId": HOST,
              "eventType": "AwsApiCall", "userIdentity": role_identity(role, session, key, created)}
    if error:
        record["errorCode"] = error
    return record


def console(time: str, source: str, name: str, error: str | None = None) -> dict:
    return call(time, "ex-for-aws-b", "alice", "ASIACONSOLE2", CONSOLE_CREATED, source, name, error)


SWITCH = {"eventVersion": "1.08", "eventTime": "2026-03-02T10:00:00Z", "eventSource": "signin.amazonaws.com",
          "eventName": "SwitchRole", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
          "recipientAccountId": HOST, "eventType": "AwsConsoleSignIn",
          "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice", "accountId": HOST,
                           "arn": f"arn:aws:sts::{HOST}:assumed-role/ex-for-aws-b/alice"},
          "responseElements": {"SwitchRole": "Success"},
          "additionalEventData": {"SwitchFrom": f"arn:aws:iam::{PARTNER}:user/alice"}}
RECORDS = [
    SWITCH,
    assume("2026-03-02T10:00:00Z", PARTNER, "alice", "ASIAALICEISSUED"),
    call("2026-03-02T10:01:00Z", "ex-for-aws-b", "alice", "ASIACONSOLE1", CONSOLE_CREATED, "s3.amazonaws.com",
         "ListBuckets"),
    console("2026-03-02T10:02:00Z", "s3.amazonaws.com", "GetBucketPolicy", "NoSuchBucketPolicy"),
    console("2026-03-02T10:03:00Z", "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation"),
    console("2026-03-02T10:04:00Z", "ec2.amazonaws.com", "StopInstances", "UnauthorizedOperation"),
    console("2026-03-02T10:05:00Z", "iam.amazonaws.com", "CreateUser", "AccessDenied"),
    console("2026-03-02T10:06:00Z", "lambda.amazonaws.com", "ListFunctions20150331", "AccessDeniedException"),
    assume("2026-03-02T11:00:00Z", PARTNER, "alice", "ASIAALICECLI", source_ip="198.51.100.7"),
    call("2026-03-02T11:00:30Z", "ex-for-aws-b", "alice", "ASIAALICECLI", "2026-03-02T11:00:00Z",
         "sts.amazonaws.com", "GetCallerIdentity"),
    assume("2026-03-02T11:01:00Z", HOST, "admin-work", "ASIACHAINED", role=f"arn:aws:iam::{HOST}:role/host-admin",
           identity=role_identity("ex-for-aws-b", "alice", "ASIAALICECLI", "2026-03-02T11:00:00Z"),
           source_ip="198.51.100.7"),
    call("2026-03-02T11:02:00Z", "host-admin", "admin-work", "ASIACHAINED", "2026-03-02T11:01:00Z",
         "iam.amazonaws.com", "ListRoles"),
    assume("2026-03-02T12:00:00Z", PARTNER, "bob", None, error="AccessDenied", source_ip="198.51.100.8"),
    assume("2026-03-02T13:00:00Z", OTHER, "mallory", None, error="AccessDenied", source_ip="192.0.2.66"),
    {"eventVersion": "1.08", "eventTime": "2026-03-02T14:00:00Z", "eventSource": "ec2.amazonaws.com",
     "eventName": "DescribeInstances", "awsRegion": "eu-west-1", "sourceIPAddress": "ec2.amazonaws.com",
     "recipientAccountId": HOST, "userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}},
]
GRANTS_YAML = """name: partner-access
runtime: python
config:
  grants:
    value:
      - roleName: ex-for-aws-b
        hostAccountId: "111111111111"
        partnerAccountId: "222222222222"
        partnerUsers: [alice]
        partnerGroup: {name: ops, members: [bob]}
"""
WINDOW = ["--since", "2026-03-01", "--until", "2026-03-05"]


def test_awkward_day_counts_as_the_rules_say(tmp_path, capsys):
    day = tmp_path / "AWSLogs" / HOST / "CloudTrail" / "us-east-1" / "2026" / "03" / "02"
    day.mkdir(parents=True)
    (day / f"{HOST}_CloudTrail_us-east-1_20260302T1405Z_abc.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": RECORDS}).encode()))
    (tmp_path / "Pulumi.yaml").write_text(GRANTS_YAML)
    code = main(["activity", str(tmp_path / "AWSLogs"), "--config", str(tmp_path / "Pulumi.yaml"), "--format",
                 "json", *WINDOW])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    people = {(person["account"], person["name"]): person for person in report["people"]}
    assert set(people) == {(PARTNER, "alice"), (PARTNER, "bob"), (OTHER, "mallory")}
    alice = people[(PARTNER, "alice")]
    assert [(s["start"], s["roleArn"].rsplit("/", 1)[1], s["sessionName"], s["mfa"], s["sourceIp"])
            for s in alice["sessions"]] == [
        ("2026-03-02T10:00:00Z", "ex-for-aws-b", "alice", True, "203.0.113.9"),  # the console's, from SwitchRole
        ("2026-03-02T11:00:00Z", "ex-for-aws-b", "alice", True, "198.51.100.7"),
        ("2026-03-02T11:01:00Z", "host-admin", "admin-work", True, "198.51.100.7"),  # chained: still alice's
    ]
    actions = {(a["eventSource"].split(".")[0], a["eventName"]): (a["count"], a["denied"]) for a in alice["actions"]}
    assert actions == {
        ("signin", "SwitchRole"): (1, 0),
        ("sts", "AssumeRole"): (3, 0),  # two host copies of her own, one chained call
        ("s3", "ListBuckets"): (1, 0),
        ("s3", "GetBucketPolicy"): (1, 0),  # NoSuchBucketPolicy: a call, not a denial
        ("ec2", "RunInstances"): (1, 1),
        ("ec2", "StopInstances"): (1, 1),
        ("iam", "CreateUser"): (1, 1),
        ("lambda", "ListFunctions20150331"): (1, 1),
        ("sts", "GetCallerIdentity"): (1, 0),
        ("iam", "ListRoles"): (1, 0),
    }
    assert people[(PARTNER, "bob")]["sessions"] == []
    assert people[(PARTNER, "bob")]["actions"] == [
        {"eventSource": "sts.amazonaws.com", "eventName": "AssumeRole", "count": 1, "denied": 1}]
    found = {(f["code"], f["account"], f["name"]) for f in report["findings"]}
    assert found == {
        ("ACT-001", PARTNER, "bob"), ("ACT-001", OTHER, "mallory"),
        ("ACT-004", PARTNER, "alice"),
        ("ACT-005", PARTNER, "alice"), ("ACT-005", PARTNER, "bob"), ("ACT-005", OTHER, "mallory"),
        ("ACT-006", OTHER, None),
    }
    assert "host-admin" in next(f["message"] for f in report["findings"] if f["code"] == "ACT-004")
    refusals = {f["name"]: f["message"] for f in report["findings"] if f["code"] == "ACT-001"}
    assert "MFA" in refusals["bob"] and f"no grant names account {OTHER}" in refusals["mallory"]
    (policy,) = report["proposedPolicies"].values()
    assert policy["Statement"][0]["Action"] == ["s3:GetBucketPolicy", "s3:ListAllMyBuckets", "sts:AssumeRole",
                                               "sts:GetCallerIdentity"]
