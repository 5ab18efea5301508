"""The shapes CloudTrail records come in besides a trail's own files, the folders a trail (or an organization trail)
writes with its digest files beside the logs, and input that must give a clear error instead of a traceback.

The exports: `aws cloudtrail lookup-events` prints the LookupEvents response, `{"Events": [...]}` with each record as
JSON text in `CloudTrailEvent` (CloudTrail API Reference, LookupEvents and Event); a single record as the console's
event view shows it; a list of records; JSON Lines, one record a line. An organization trail writes
`AWSLogs/<organization id>/<account>/CloudTrail/...` (CloudTrail User Guide, "Finding your CloudTrail log
files"); digest files go to `AWSLogs/<account>/CloudTrail-Digest/...` (CloudTrail User Guide, "CloudTrail
digest file structure")."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partner_access.activity import findings as codes
from partner_access.activity.build import build_report
from partner_access.activity.embedded import aggregate_files
from partner_access.activity.grants_config import ActivityError, load_grants
from partner_access.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = FIXTURES / "console-switch.Pulumi.yaml"
HOST = "776613361644"
DAY = (datetime(2020, 9, 17, tzinfo=UTC), datetime(2020, 9, 18, tzinfo=UTC))
SAMPLE = next((FIXTURES / "console-switch").rglob("*.json.gz"))
RECORDS = json.loads(gzip.decompress(SAMPLE.read_bytes()))["Records"]


def _report(tmp_path: Path, sources: list[str]):
    return build_report(load_grants(str(CONFIG)), sources, *DAY, tmp_path / "scratch")


@pytest.fixture(scope="module")
def trail_report(tmp_path_factory):
    return _report(tmp_path_factory.mktemp("trail"), [str(FIXTURES / "console-switch")])


EXPORTS = {
    "lookup-events.json": json.dumps({"Events": [
        {"EventId": record["eventID"], "EventName": record["eventName"], "EventSource": record["eventSource"],
         "CloudTrailEvent": json.dumps(record)} for record in RECORDS]}, indent=4),
    "records-list.json": json.dumps(RECORDS),
    "records.jsonl": "".join(json.dumps(record) + "\n" for record in RECORDS),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_exported_records_give_the_trails_report(tmp_path, trail_report, name):
    (tmp_path / name).write_text(EXPORTS[name])
    report = _report(tmp_path, [str(tmp_path / name)])
    assert report.skipped == ()
    assert report.to_json() == trail_report.to_json()


def test_one_record_on_its_own_is_read(tmp_path):
    call = next(record for record in RECORDS if record["eventName"] == "CreateUser")
    (tmp_path / "record.json").write_text(json.dumps(call, indent=2))
    report = _report(tmp_path, [str(tmp_path / "record.json")])
    assert report.skipped == () and report.records == 1
    (person,) = report.people
    assert [(action.event_name, action.count) for action in person.actions] == [("CreateUser", 1)]


def test_an_export_record_that_is_not_one_is_named_and_the_rest_kept(tmp_path):
    lines = EXPORTS["records.jsonl"].splitlines()
    (tmp_path / "records.jsonl").write_text("\n".join([lines[0], '"not a record"', *lines[1:]]) + "\n")
    events = json.loads(EXPORTS["lookup-events.json"])
    events["Events"][1]["CloudTrailEvent"] = "{truncated"
    (tmp_path / "lookup-events.json").write_text(json.dumps(events))
    report = _report(tmp_path, [str(tmp_path / "records.jsonl"), str(tmp_path / "lookup-events.json")])
    reasons = {Path(item.where).name: item.reason for item in report.skipped}
    assert "line 2" in reasons["records.jsonl"]
    assert "Events[1].CloudTrailEvent" in reasons["lookup-events.json"]
    assert report.records == 2 * len(RECORDS) - 1


def test_organization_trail_folders_and_digest_files(tmp_path, trail_report):
    day = "CloudTrail/us-east-1/2020/09/17"
    organization = tmp_path / "AWSLogs" / "o-a1b2c3d4e5"
    (organization / HOST / day).mkdir(parents=True)
    (organization / HOST / day / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    (organization / "444444444444" / day).mkdir(parents=True)
    (organization / "444444444444" / day / "x.json.gz").write_bytes(SAMPLE.read_bytes())
    (organization / "444444444444" / day / "y.json.gz").write_bytes(SAMPLE.read_bytes())
    digest_folder = organization / HOST / "CloudTrail-Digest" / "us-east-1" / "2020" / "09" / "17"
    digest_folder.mkdir(parents=True)
    digest = digest_folder / f"{HOST}_CloudTrail-Digest_us-east-1_trail_us-east-1_20200917T200000Z.json.gz"
    digest.write_bytes(gzip.compress(json.dumps({"awsAccountId": HOST, "logFiles": []}).encode()))
    report = _report(tmp_path, [str(tmp_path / "AWSLogs"), str(digest)])  # the digest also named on its own
    (skipped,) = report.skipped  # another account's folder is named once, however many files it holds
    assert skipped.where == str(organization / "444444444444") + "/"
    assert "2 log file(s) logged by account 444444444444" in skipped.reason
    assert report.to_json()["people"] == trail_report.to_json()["people"]


def test_nothing_to_read_is_an_error_and_an_empty_folder_beside_logs_is_named(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["activity", str(tmp_path / "empty"), "--config", str(CONFIG)])
    error = capsys.readouterr().err
    assert code == 2 and str(tmp_path / "empty") in error and "no log file" in error and "Traceback" not in error
    report = _report(tmp_path, [str(tmp_path / "empty"), str(FIXTURES / "console-switch")])
    (finding,) = [f for f in report.findings if f.code == codes.INPUT_SKIPPED]
    assert str(tmp_path / "empty") in finding.message
    with pytest.raises(ActivityError, match="no such file"):
        _report(tmp_path, [str(tmp_path / "missing")])


def test_records_without_event_source_or_account_are_aggregated_or_named(tmp_path):
    bare = {"eventTime": "2020-09-17T10:00:00Z", "recipientAccountId": HOST,
            "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{HOST}:assumed-role/r/s"}}
    (tmp_path / "bare.json").write_text(json.dumps({"Records": [bare]}))
    unowned = {**bare, "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets"}
    del unowned["recipientAccountId"]
    (tmp_path / "unowned.json").write_text(json.dumps({"Records": [unowned]}))
    result = aggregate_files([str(tmp_path / "bare.json"), str(tmp_path / "unowned.json")], [HOST], *DAY)
    assert result.records == 1
    (skipped,) = result.skipped
    assert skipped.where.endswith("unowned.json") and "without recipientAccountId" in skipped.reason


def test_an_output_file_that_cannot_be_written_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "missing-folder" / "report.json"
    code = main(["activity", str(FIXTURES / "console-switch"), "--config", str(CONFIG), "--since", "2020-09-17",
                 "--until", "2020-09-18", "--output", str(target)])
    error = capsys.readouterr().err
    assert code == 2 and str(target) in error and "Traceback" not in error


def test_help_examples_are_commands_the_parser_accepts(capsys):
    import shlex

    from partner_access.cli import build_parser

    with pytest.raises(SystemExit):
        main(["activity", "--help"])
    text = capsys.readouterr().out
    examples = [line.split("partner-access ", 1)[1].split(">")[0] for line in text.splitlines()
                if "  partner-access activity " in line]
    assert len(examples) >= 4
    for example in examples:
        assert build_parser().parse_args(shlex.split(example)).command == "activity"
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("options", [["--regions", "eu-west-1"], ["--athena-output", "s3://results/"]])
def test_options_that_would_be_ignored_are_usage_errors(capsys, options):
    code = main(["activity", str(FIXTURES / "console-switch"), "--config", str(CONFIG), *options])
    error = capsys.readouterr().err
    assert code == 2 and options[0] in error and "Traceback" not in error
