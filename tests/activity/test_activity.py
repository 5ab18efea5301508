"""partner-access activity on real record samples, a generated week, damaged input, S3 (moto) and LookupEvents
(botocore's Stubber).

Samples (each record as published, session tokens shortened):
- tests/activity/fixtures/console-switch/...: a console switch across accounts (the host's AssumeRole copy,
  SwitchRole, and a call signed with the console's own access key), from repository davxiao/davidxiao-web,
  path content/post/how-to-audit-user-activities-using-aws-cloudtrail-part-2/index.md.
- tests/activity/fixtures/aws-docs-cross-account-assume-role.json: the assumed role account's copy of a
  cross-account AssumeRole with a source identity, from AWS's IAM User Guide, repository awsdocs/iam-user-guide,
  path doc_source/cloudtrail-integration.md ("Example cross-account AWS STS API events"); recipientAccountId, which
  every delivered record carries and that excerpt leaves out, is added.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlglot

from partner_access.activity import findings as codes
from partner_access.activity.aggregation import athena_sql
from partner_access.activity.build import build_report
from partner_access.activity.grants_config import ActivityError, load_grants
from partner_access.cli import main
from support.cloudtrail_week import (
    DENIED_CALL,
    GRANTS_YAML,
    HOST,
    HOST_SESSION_CALLS,
    PARTNER,
    STRANGER,
    generate_week,
)

FIXTURES = Path(__file__).parent / "fixtures"
WEEK = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))


def _report(tmp_path: Path, config: Path, sources: list[str], since: datetime, until: datetime):
    return build_report(load_grants(str(config)), sources, since, until, tmp_path)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    folder = tmp_path_factory.mktemp("week")
    expected = generate_week(folder)
    (folder / "Pulumi.yaml").write_text(GRANTS_YAML)
    report = build_report(load_grants(str(folder / "Pulumi.yaml")), [str(folder / "AWSLogs")], *WEEK,
                          tmp_path_factory.mktemp("scratch"))
    return folder, expected, report


def test_console_switch_sample_is_one_person_one_session_three_actions(tmp_path):
    report = _report(tmp_path, FIXTURES / "console-switch.Pulumi.yaml", [str(FIXTURES / "console-switch")],
                     datetime(2020, 9, 17, tzinfo=UTC), datetime(2020, 9, 18, tzinfo=UTC))
    document = report.to_json()
    assert set(document) == {"people", "findings", "proposedPolicies"}
    (person,) = document["people"]
    assert (person["account"], person["name"]) == ("203016562928", "bob@example.com")
    (session,) = person["sessions"]
    # The host's AssumeRole copy says "AWS Internal"; the switch and the call name the browser's address.
    assert session == {"start": "2020-09-17T19:04:10Z",
                       "roleArn": "arn:aws:iam::776613361644:role/assume-admin-role-example",
                       "sessionName": "bob@example.com", "sourceIdentity": None, "mfa": True,
                       "sourceIp": "75.15.154.15"}
    assert {(a["eventSource"], a["eventName"], a["count"], a["denied"]) for a in person["actions"]} == {
        ("sts.amazonaws.com", "AssumeRole", 1, 0), ("signin.amazonaws.com", "SwitchRole", 1, 0),
        ("iam.amazonaws.com", "CreateUser", 1, 0)}
    assert document["findings"] == []
    policy = document["proposedPolicies"]["arn:aws:iam::776613361644:role/assume-admin-role-example"]
    assert policy["Statement"][0]["Action"] == ["iam:CreateUser"]
    (proposal,) = report.proposed_policies
    assert proposal.granted_unused == ("iam:ListUsers",)


def test_source_identity_names_the_person_and_the_session_name_is_checked(tmp_path):
    report = _report(tmp_path, FIXTURES / "aws-docs.Pulumi.yaml",
                     [str(FIXTURES / "aws-docs-cross-account-assume-role.json")],
                     datetime(2014, 7, 18, tzinfo=UTC), datetime(2014, 7, 19, tzinfo=UTC))
    (person,) = report.people
    assert (person.account, person.name) == ("777788889999", "JohnDoe")
    assert person.sessions[0].source_identity == "JohnDoe"
    assert person.sessions[0].mfa is None  # no calls in the sample, so nothing says
    assert [f.code for f in report.findings] == [codes.UNKNOWN_SESSION_NAME]
    assert report.to_json()["proposedPolicies"] == {}  # no call was made with the role: nothing to propose


def test_generated_week_counts_every_persons_records(week):
    _, expected, report = week
    people = {(p.account, p.name): p for p in report.people}
    assert set(people) == set(expected.actions)
    for key, actions in expected.actions.items():
        assert {(a.event_source, a.event_name): a.count for a in people[key].actions} == dict(actions)
        assert sum(a.denied for a in people[key].actions) == expected.denied[key]
        assert len(people[key].sessions) == expected.sessions.get(key, 0)
    # Host noise (the host's user, its session in the partner's role, AWS services) is nobody's.
    assert report.other_records == {"IAMUser": 175 + 1, "AWSService": 175, "host role sessions": HOST_SESSION_CALLS}


def test_chained_session_belongs_to_the_person_who_created_it(week):
    _, _, report = week
    bob = next(p for p in report.people if p.name == "bob")
    chained = [s for s in bob.sessions if s.chained_from]
    assert [(s.role_arn, s.session_name) for s in chained] == [(f"arn:aws:iam::{HOST}:role/host-admin",
                                                                "maintenance")]
    assert f"arn:aws:iam::{HOST}:role/host-admin" in bob.roles


def test_generated_week_findings(week):
    _, _, report = week
    found = {(f.code, f.account, f.name) for f in report.findings}
    assert (codes.FAILED_SWITCH, PARTNER, "mallory") in found
    assert (codes.FAILED_SWITCH, STRANGER, "eve") in found
    assert (codes.UNKNOWN_ACCOUNT, STRANGER, None) in found
    assert (codes.CHAINED_INTO_UNKNOWN_ROLE, PARTNER, "bob") in found
    assert {(codes.DENIED_CALLS, PARTNER, "alice"), (codes.DENIED_CALLS, PARTNER, "bob")} <= found
    # Known users with MFA, and NoSuchBucketPolicy is a call, not a denial.
    assert not [f for f in report.findings if f.code in (codes.UNKNOWN_SESSION_NAME, codes.SESSION_WITHOUT_MFA)]
    # The host engineer's session in the partner's role is not a partner session missing from the logs.
    assert not [f for f in report.findings if f.code == codes.SESSION_NOT_IN_LOGS]


def test_least_privilege_maps_event_names_to_iam_actions(week):
    _, _, report = week
    (proposal,) = report.proposed_policies
    # sts:AssumeRole: bob's chained switch into host-admin was a call made with the grant's role.
    assert proposal.used_actions == ("ec2:DescribeInstances", "iam:ListRoles", "lambda:ListFunctions",
                                     "s3:GetBucketPolicy", "s3:ListAllMyBuckets", "sts:AssumeRole")
    assert f"{DENIED_CALL[0].split('.')[0]}:{DENIED_CALL[1]}" not in proposal.used_actions
    assert any("ReadOnlyAccess" in spot for spot in proposal.blind_spots)


def test_json_output_has_exactly_the_documented_shape(week, capsys):
    folder, _, _ = week
    code = main(["activity", str(folder / "AWSLogs"), "--config", str(folder / "Pulumi.yaml"), "--since",
                 "2026-03-01", "--until", "2026-03-10", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1  # there are findings
    assert set(document) == {"people", "findings", "proposedPolicies"}
    person = document["people"][0]
    assert set(person) == {"account", "name", "roles", "sessions", "actions"}
    assert set(person["sessions"][0]) == {"start", "roleArn", "sessionName", "sourceIdentity", "mfa", "sourceIp"}
    assert set(person["actions"][0]) == {"eventSource", "eventName", "count", "denied"}
    assert set(document["findings"][0]) == {"code", "account", "name", "message"}


@pytest.mark.parametrize("output_format", ["table", "csv", "markdown", "html"])
def test_every_format_renders(week, capsys, output_format):
    folder, _, _ = week
    main(["activity", str(folder / "AWSLogs"), "--config", str(folder / "Pulumi.yaml"), "--since", "2026-03-01",
          "--until", "2026-03-10", "--format", output_format])
    text = capsys.readouterr().out
    assert "alice" in text and "bob" in text


def test_damaged_input_is_skipped_and_named_and_the_rest_reported(tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(FIXTURES / "console-switch", logs)
    day = logs / "AWSLogs" / "776613361644" / "CloudTrail" / "us-east-1" / "2020" / "09" / "17"
    good = next(day.iterdir()).read_bytes()
    (day / "truncated.json.gz").write_bytes(good[: len(good) // 2])
    (day / "not-cloudtrail.json").write_text(json.dumps({"hello": "world"}))
    other = json.loads(gzip.decompress(good))
    for record in other["Records"]:
        record["recipientAccountId"] = "333333333333"
    (day / "other-account.json").write_text(json.dumps(other))
    mixed = {"Records": [*json.loads(gzip.decompress(good))["Records"][:1], "not a record"]}
    (day / "one-bad-record.json").write_text(json.dumps(mixed))
    foreign_path = logs / "AWSLogs" / "444444444444" / "CloudTrail" / "us-east-1" / "2020" / "09" / "17"
    foreign_path.mkdir(parents=True)
    (foreign_path / "x.json.gz").write_bytes(good)
    report = _report(tmp_path, FIXTURES / "console-switch.Pulumi.yaml", [str(logs)],
                     datetime(2020, 9, 17, tzinfo=UTC), datetime(2020, 9, 18, tzinfo=UTC))
    skipped = {Path(item.where).name: item.reason for item in report.skipped}
    assert "gzip" in skipped["truncated.json.gz"]
    assert "not a CloudTrail log file" in skipped["not-cloudtrail.json"]
    assert "333333333333" in skipped["other-account.json"]
    assert "Records[1]" in skipped["one-bad-record.json"]
    assert "1 log file(s) logged by account 444444444444" in skipped["444444444444"]  # the folder, once
    assert sum(1 for f in report.findings if f.code == codes.INPUT_SKIPPED) == len(report.skipped)
    (person,) = report.people  # the good file, and the good record of the mixed one, still count
    assert {(a.event_name, a.count) for a in person.actions} >= {("CreateUser", 2)}


def test_bad_config_is_a_clear_error_naming_the_file(tmp_path, capsys):
    config = tmp_path / "Pulumi.yaml"
    config.write_text("name: x\nconfig:\n  grants:\n    value:\n      - roleName: r\n")
    code = main(["activity", str(FIXTURES / "console-switch"), "--config", str(config)])
    error = capsys.readouterr().err
    assert code == 2
    assert str(config) in error and "hostAccountId" in error and "Traceback" not in error
    with pytest.raises(ActivityError, match="no such file"):
        load_grants(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("dialect", ["athena", "trino", "presto"])
def test_shipped_sql_parses_in_athenas_dialects(dialect):
    sql = athena_sql("cloudtrail_logs.trail", *WEEK)
    (statement,) = sqlglot.parse(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    assert statement is not None


def test_batches_of_files_merge_into_the_same_report(week, tmp_path, monkeypatch):
    folder, _, whole = week
    from partner_access.activity import embedded

    monkeypatch.setattr(embedded, "BATCH_FILES", 1)  # every file its own aggregation run
    batched = build_report(load_grants(str(folder / "Pulumi.yaml")), [str(folder / "AWSLogs")], *WEEK, tmp_path)
    assert batched.to_json() == whole.to_json()
    assert batched.records == whole.records


def test_progress_bar_counts_files_on_standard_error(capsys):
    from partner_access.activity.command import _progress_bar

    assert _progress_bar(False) is None
    show = _progress_bar(True)
    show(128, 256)
    show(256, 256)
    error = capsys.readouterr().err
    assert "128/256 files" in error and error.endswith("256/256 files\n")
