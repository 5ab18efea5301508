"""The remote sources: a trail's bucket in moto S3 (key pruning by account, region and day) and event history
through LookupEvents, driven by botocore's Stubber (which checks every request and response against the
CloudTrail service model)."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from partner_access.activity import sources
from partner_access.activity.build import build_report
from partner_access.activity.grants_config import ActivityError, load_grants
from support.cloudtrail_week import GRANTS_YAML, HOST, PARTNER, generate_week

WEEK = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
FAKE_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def grants(tmp_path):
    config = tmp_path / "Pulumi.yaml"
    config.write_text(GRANTS_YAML)
    return load_grants(str(config))


def test_bucket_source_reads_every_region_and_prunes_days_and_accounts(tmp_path, grants):
    local = tmp_path / "week"
    expected = generate_week(local)
    with mock.patch.dict(os.environ, FAKE_ENVIRONMENT), mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="trail-bucket")
        for file in local.rglob("*.json.gz"):
            s3.upload_file(str(file), "trail-bucket", "org/" + str(file.relative_to(local)))
        s3.put_object(Bucket="trail-bucket", Key=f"org/AWSLogs/{PARTNER}/CloudTrail/us-east-1/2026/03/02/x.json.gz",
                      Body=b"never read: another account")
        since, until = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
        files, skipped = sources.download_s3("s3://trail-bucket/org", [HOST], since, until, tmp_path / "scratch")
        assert skipped == []
        days = {Path(file).parent.relative_to(tmp_path / "scratch" / "trail-bucket" / "org").as_posix()
                .split("/", 3)[3] for file in files}
        assert days == {f"{region}/2026/03/{day}" for region in ("us-east-1", "eu-west-1", "ap-southeast-2")
                        for day in ("02", "03")}
        report = build_report(grants, ["s3://trail-bucket/org"], *WEEK, tmp_path / "scratch2")
    assert {(p.account, p.name) for p in report.people} == set(expected.actions)


def test_bucket_errors_name_the_location(tmp_path):
    with mock.patch.dict(os.environ, FAKE_ENVIRONMENT), mock_aws(), pytest.raises(ActivityError,
                                                                                  match="s3://missing"):
        sources.download_s3("s3://missing/AWSLogs", [HOST], *WEEK, tmp_path)


def _event(record: dict) -> dict:
    return {"EventId": record["eventID"], "EventName": record["eventName"], "CloudTrailEvent": json.dumps(record)}


def test_lookup_events_per_region_feeds_the_same_report(tmp_path, grants):
    week_folder = tmp_path / "week"
    generate_week(week_folder, sessions_per_user=1, calls_per_session=2, noise_per_day=2)
    by_region: dict[str, list[dict]] = {}
    for file in week_folder.rglob("*.json.gz"):
        region = file.parts[-5]
        by_region.setdefault(region, []).extend(json.loads(gzip.decompress(file.read_bytes()))["Records"])
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    clients = {}
    for region, records in by_region.items():
        client = session.client("cloudtrail", region_name=region)
        stubber = Stubber(client)
        half = len(records) // 2
        stubber.add_response("lookup_events", {"Events": [_event(r) for r in records[:half]], "NextToken": "page2"},
                             {"StartTime": WEEK[0], "EndTime": WEEK[1]})
        stubber.add_response("lookup_events", {"Events": [_event(r) for r in records[half:]]},
                             {"StartTime": WEEK[0], "EndTime": WEEK[1], "NextToken": "page2"})
        stubber.activate()
        clients[region] = (client, stubber)
    fake_session = mock.Mock()
    fake_session.client.side_effect = lambda service, region_name: clients[region_name][0]
    files = sources.lookup_events(sorted(by_region), *WEEK, tmp_path, session=fake_session)
    for _, stubber in clients.values():
        stubber.assert_no_pending_responses()
    from partner_access.activity.embedded import aggregate_files

    result = aggregate_files(files, [HOST], *WEEK)
    assert result.records == sum(len(records) for records in by_region.values())
    assert result.skipped == []


def test_lookup_events_errors_name_the_region(tmp_path):
    client = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t").client("cloudtrail",
                                                                                      region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_client_error("lookup_events", "AccessDeniedException", "not allowed")
    stubber.activate()
    fake_session = mock.Mock()
    fake_session.client.return_value = client
    with pytest.raises(ActivityError, match="LookupEvents in eu-west-1: AccessDeniedException"):
        sources.lookup_events(["eu-west-1"], *WEEK, tmp_path, session=fake_session)


@pytest.mark.parametrize("prefix", [
    "org/AWSLogs/o-a1b2c3d4e5/", f"org/AWSLogs/o-a1b2c3d4e5/{HOST}",
    f"org/AWSLogs/o-a1b2c3d4e5/{HOST}/CloudTrail/eu-west-1/",
])
def test_bucket_prefix_may_name_the_organization_the_account_or_a_region(tmp_path, prefix):
    local = tmp_path / "week"
    generate_week(local, sessions_per_user=1, calls_per_session=2, noise_per_day=2)
    with mock.patch.dict(os.environ, FAKE_ENVIRONMENT), mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="trail-bucket")
        for file in local.rglob("*.json.gz"):
            key = str(file.relative_to(local)).replace("AWSLogs/", "AWSLogs/o-a1b2c3d4e5/", 1)
            s3.upload_file(str(file), "trail-bucket", "org/" + key)
        files, skipped = sources.download_s3(f"s3://trail-bucket/{prefix}", [HOST], *WEEK, tmp_path / "scratch")
        regions = {Path(file).parts[-5] for file in files}
        assert skipped == [] and files
        assert regions == ({"eu-west-1"} if prefix.endswith("eu-west-1/") else {"us-east-1", "eu-west-1",
                                                                                "ap-southeast-2"})
        files, skipped = sources.download_s3("s3://trail-bucket/org/AWSLogs/o-a1b2c3d4e5/999999999999/", [HOST],
                                             *WEEK, tmp_path / "scratch")
        assert files == [] and "no AWSLogs/" in skipped[0].reason
