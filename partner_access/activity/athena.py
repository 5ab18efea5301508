"""The same aggregation in Athena, over the trail's table, for organization trails beyond one machine.

Athena runs `activity.sql` as shipped; its rows (text, NULL as a missing value, a header row first) become the
same AggregateRow values the embedded engine gives, so the attribution and the report are the same.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from partner_access.activity.aggregation import COLUMNS, TABLE_NAME_PATTERN, AggregateRow, athena_sql, row_from_values
from partner_access.activity.grants_config import ActivityError

POLL_SECONDS = 1.0
FINISHED_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


def aggregate_in_athena(database: str, table: str, workgroup: str, output_location: str | None, region: str | None,
                        since: datetime, until: datetime, session: Any = None) -> list[AggregateRow]:
    import boto3
    import botocore.exceptions

    for setting, value in (("--athena-database", database), ("--athena-table", table)):
        if not TABLE_NAME_PATTERN.fullmatch(value) or "." in value:
            raise ActivityError(f"{setting} {value!r} is not an Athena name (letters, digits and _)")
    client = (session or boto3.Session()).client("athena", region_name=region)
    request: dict[str, Any] = {"QueryString": athena_sql(table, since, until),
                               "QueryExecutionContext": {"Database": database}, "WorkGroup": workgroup}
    if output_location:
        request["ResultConfiguration"] = {"OutputLocation": output_location}
    where = f"Athena {database}.{table} (workgroup {workgroup})"
    try:
        execution_id = client.start_query_execution(**request)["QueryExecutionId"]
        status = _wait(client, execution_id)
        if status["State"] != "SUCCEEDED":
            raise ActivityError(f"{where}: the query {status['State'].lower()}: "
                                f"{status.get('StateChangeReason', 'no reason given')}")
        return _rows(client, execution_id, where)
    except botocore.exceptions.ClientError as error:
        raise ActivityError(f"{where}: {error.response['Error'].get('Code')}: "
                            f"{error.response['Error'].get('Message')}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise ActivityError(f"{where}: {error}") from None


def _wait(client: Any, execution_id: str) -> dict[str, Any]:
    while True:
        status = client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
        if status["State"] in FINISHED_STATES:
            return status
        time.sleep(POLL_SECONDS)


def _rows(client: Any, execution_id: str, where: str) -> list[AggregateRow]:
    rows: list[AggregateRow] = []
    header: list[str | None] | None = None
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        for row in page["ResultSet"]["Rows"]:
            values = [datum.get("VarCharValue") for datum in row["Data"]]
            if header is None:
                header = values
                if tuple(header) != COLUMNS:
                    raise ActivityError(f"{where}: the result's columns {header} are not the aggregation's")
                continue
            rows.append(row_from_values(tuple(values)))
    return rows
