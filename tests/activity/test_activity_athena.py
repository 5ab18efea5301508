"""The aggregation in Athena, against moto: the command submits the shipped SQL unchanged to the workgroup and
database given, and turns Athena's text rows into the same report the embedded engine gives. moto does not run
queries; it returns the rows it is given, so the rows are the embedded engine's own result of the same SQL over the
generated week, as Athena returns rows (a header, then text, NULL as a missing value)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends

from partner_access.activity.aggregation import COLUMNS, athena_sql, records_read
from partner_access.activity.build import AthenaTarget, build_report
from partner_access.activity.embedded import aggregate_files
from partner_access.activity.grants_config import ActivityError, load_grants
from partner_access.activity.inputs import local_log_files
from support.cloudtrail_week import GRANTS_YAML, HOST, generate_week

WEEK = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
FAKE_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
MOTO_ACCOUNT = "123456789012"


def _athena_row(values) -> dict:
    return {"Data": [{} if value is None else {"VarCharValue": str(value)} for value in values]}


def test_athena_runs_the_shipped_sql_and_gives_the_embedded_report(tmp_path):
    generate_week(tmp_path / "week")
    (tmp_path / "Pulumi.yaml").write_text(GRANTS_YAML)
    grants = load_grants(str(tmp_path / "Pulumi.yaml"))
    files, _ = local_log_files([str(tmp_path / "week")])
    embedded = aggregate_files(files, [HOST], *WEEK)
    assert records_read(embedded.rows) == embedded.records
    embedded_report = build_report(grants, [str(tmp_path / "week")], *WEEK, tmp_path / "scratch")
    rows = [_athena_row(COLUMNS)] + [_athena_row(getattr(row, name) for name in COLUMNS) for row in embedded.rows]
    with mock.patch.dict(os.environ, FAKE_ENVIRONMENT), mock_aws():
        athena_backends[MOTO_ACCOUNT]["eu-west-1"].query_results_queue.append(
            QueryResults(rows=rows, column_info=[{"Name": name, "Type": "varchar"} for name in COLUMNS]))
        report = build_report(grants, [], *WEEK, tmp_path / "scratch2",
                              athena=AthenaTarget("trails", "cloudtrail_logs", "primary", "s3://results/", "eu-west-1"))
        (execution_id,) = athena_backends[MOTO_ACCOUNT]["eu-west-1"].executions
        execution = boto3.client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == athena_sql("cloudtrail_logs", *WEEK)
    assert execution["QueryExecutionContext"] == {"Database": "trails"}
    assert execution["WorkGroup"] == "primary"
    assert report.to_json() == embedded_report.to_json()
    assert report.records == embedded_report.records


def test_athena_refuses_names_that_are_not_identifiers(tmp_path):
    with mock.patch.dict(os.environ, FAKE_ENVIRONMENT), mock_aws(), pytest.raises(ActivityError,
                                                                                  match="--athena-table"):
        build_report((), [], *WEEK, tmp_path, athena=AthenaTarget("trails", "x; DROP", "primary", None, None))
