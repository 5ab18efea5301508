"""The one aggregation, shipped as `activity.sql` (Athena's dialect), and the rows it returns.

Both engines run the same text: Athena as written, DuckDB with one macro (`DUCKDB_MACROS`) for the one function
whose name differs. The attribution (`attribution.py`) works only on the rows defined here, so both engines give
one report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

# What CloudTrail writes in errorCode when IAM refused a call. Other errors (NoSuchBucketPolicy, ThrottlingException)
# are calls that were authorized, not denials.
DENIAL_CODES = ("AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation", "UnauthorizedOperation")
SQL_RESOURCE = "activity.sql"
# Trino's json_extract_scalar is DuckDB's json_extract_string (for the scalar paths the query reads).
DUCKDB_MACROS = ("CREATE MACRO json_extract_scalar(document, path) AS json_extract_string(document, path)",)
# A table name the query may be pointed at: Athena's [catalog.]database.table, each part a plain identifier.
TABLE_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


@dataclass(frozen=True)
class AggregateRow:
    """One row of the aggregation; `kind` is 'assume', 'switch', 'calls' or 'other' (see activity.sql)."""

    kind: str
    event_time: str | None
    region: str | None
    source_ip: str | None
    error_code: str | None
    recipient_account: str | None
    identity_type: str | None
    identity_account: str | None
    principal_id: str | None
    access_key: str | None
    caller_role: str | None
    caller_session: str | None
    credentials_created: str | None
    role_arn: str | None
    session_name: str | None
    source_identity: str | None
    issued_key: str | None
    switch_from: str | None
    event_source: str | None
    event_name: str | None
    records: int
    denied: int
    mfa_true: int
    mfa_false: int


COLUMNS = tuple(field.name for field in fields(AggregateRow))


def row_from_values(values: tuple[Any, ...]) -> AggregateRow:
    """A row from the query's columns, in COLUMNS order; empty strings (split_part on NULL in some engines) and
    Athena's text counts normalised."""
    items = dict(zip(COLUMNS, values, strict=True))
    for name in ("records", "denied", "mfa_true", "mfa_false"):
        items[name] = int(items[name] or 0)
    for name, value in items.items():
        if value == "":
            items[name] = None
    return AggregateRow(**items)


# Rows of these kinds are sums over their group, so runs over separate batches of files merge into one run's rows.
SUMMED_KINDS = ("calls", "other")
_SUMS = ("records", "denied", "mfa_true", "mfa_false")
_GROUP_COLUMNS = tuple(name for name in COLUMNS if name not in (*_SUMS, "event_time", "source_ip"))


class RowMerger:
    """Merges the aggregation's rows from batches of files: a group's counts add up, and it keeps the earliest
    time and the source IP that came with it; 'assume' and 'switch' rows are one per record and stay as they are."""

    def __init__(self) -> None:
        self._groups: dict[tuple[object, ...], AggregateRow] = {}
        self._records: list[AggregateRow] = []

    def add(self, row: AggregateRow) -> None:
        if row.kind not in SUMMED_KINDS:
            self._records.append(row)
            return
        key = tuple(getattr(row, name) for name in _GROUP_COLUMNS)
        seen = self._groups.get(key)
        if seen is None:
            self._groups[key] = row
            return
        earliest = row if (row.event_time or "") < (seen.event_time or "") else seen
        self._groups[key] = replace(seen, event_time=earliest.event_time, source_ip=earliest.source_ip,
                                    **{name: getattr(seen, name) + getattr(row, name) for name in _SUMS})

    def rows(self) -> list[AggregateRow]:
        return [*self._records, *self._groups.values()]


def records_read(rows: list[AggregateRow]) -> int:
    """How many records the rows stand for. A chained AssumeRole (or a host principal's) is both an 'assume' row and
    a call of its caller, so only cross-account callers' 'assume' rows add to the calls."""
    return sum(row.records for row in rows
               if row.kind != "assume" or row.identity_type == "AWSAccount")


def cloudtrail_time(moment: datetime) -> str:
    """CloudTrail's eventTime text (UTC, seconds, 'Z'), which sorts as the times do."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@cache
def athena_sql_template() -> str:
    return resources.files(__package__).joinpath(SQL_RESOURCE).read_text(encoding="utf-8")


def athena_sql(table: str, since: datetime, until: datetime) -> str:
    """The aggregation over `table` for records in [since, until), in Athena's dialect."""
    if not TABLE_NAME_PATTERN.fullmatch(table):
        raise ValueError(f"{table!r} is not a table name ([catalog.]database.table of letters, digits and _)")
    return athena_sql_template().format(
        table=table,
        since=cloudtrail_time(since),
        until=cloudtrail_time(until),
        denial_codes=", ".join(f"'{code}'" for code in DENIAL_CODES),
    )
