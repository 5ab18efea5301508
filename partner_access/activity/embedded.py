"""The embedded engine: DuckDB over the trail's files, streaming, in a bounded amount of memory.

Files are read in batches straight from their gzip into a table of the shape AWS documents for CloudTrail in
Athena; the one aggregation runs over each batch and the batch is dropped, and the batches' rows merge (sums per
group), so memory stays flat however many records there are. A damaged file is found by reading its batch again
file by file, diagnosed in Python (truncated gzip, not JSON, not a CloudTrail log file, a record that is not an
object), and left out; its good records are kept where the file itself could be read.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from partner_access.activity.aggregation import (
    DUCKDB_MACROS,
    AggregateRow,
    RowMerger,
    athena_sql,
    cloudtrail_time,
    row_from_values,
)
from partner_access.activity.grants_config import ActivityError
from partner_access.activity.inputs import Skipped

TABLE = "cloudtrail"
BATCH_FILES = 256
# A batch is also bounded by the size of its JSON text, which bounds the memory one aggregation run needs.
BATCH_BYTES = 48 * 1024 * 1024
MEMORY_LIMIT = "1GB"
# One trail file is one JSON object; CloudTrail's are megabytes, this bounds a hostile one.
MAXIMUM_OBJECT_BYTES = 64 * 1024 * 1024

# Only the fields the aggregation reads, all of them in AWS's documented CloudTrail table for Athena, with their
# names as CloudTrail writes them (DuckDB matches them to the table's lower-case names, as Athena does).
# requestParameters, responseElements and additionalEventData stay JSON text, as in Athena's table. Each file is
# one JSON object; json_transform reads it into this shape in one pass (far faster than read_json's own
# nested-struct path), missing keys as NULL.
_SESSION_CONTEXT = {"attributes": {"mfaAuthenticated": "VARCHAR", "creationDate": "VARCHAR"}}
_USER_IDENTITY = {"type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR", "accountId": "VARCHAR",
                  "accessKeyId": "VARCHAR", "sessionContext": _SESSION_CONTEXT}
_RECORD = {"eventTime": "VARCHAR", "eventSource": "VARCHAR", "eventName": "VARCHAR", "awsRegion": "VARCHAR",
           "sourceIPAddress": "VARCHAR", "errorCode": "VARCHAR", "recipientAccountId": "VARCHAR",
           "userIdentity": _USER_IDENTITY, "requestParameters": "JSON", "responseElements": "JSON",
           "additionalEventData": "JSON"}
LOG_FILE_STRUCTURE = json.dumps({"Records": [_RECORD]})


def _sql_type(structure: object) -> str:
    if isinstance(structure, dict):
        return "STRUCT(" + ", ".join(f"{name} {_sql_type(value)}" for name, value in structure.items()) + ")"
    return str(structure)


CREATE_TABLE = f"""
CREATE TABLE {TABLE} (
    source_file VARCHAR, eventtime VARCHAR, eventsource VARCHAR, eventname VARCHAR, awsregion VARCHAR,
    sourceipaddress VARCHAR, errorcode VARCHAR, recipientaccountid VARCHAR, useridentity {_sql_type(_USER_IDENTITY)},
    requestparameters VARCHAR, responseelements VARCHAR, additionaleventdata VARCHAR
)"""
INSERT_FILES = f"""
INSERT INTO {TABLE}
SELECT filename, r.eventTime, r.eventSource, r.eventName, r.awsRegion, r.sourceIPAddress, r.errorCode,
       r.recipientAccountId, r.userIdentity, CAST(r.requestParameters AS VARCHAR),
       CAST(r.responseElements AS VARCHAR), CAST(r.additionalEventData AS VARCHAR)
FROM (
    SELECT filename, unnest(json_transform(json, '{LOG_FILE_STRUCTURE}').Records) AS r
    FROM read_json_objects(?, format='unstructured', filename=true, maximum_object_size={MAXIMUM_OBJECT_BYTES})
)
WHERE (r.eventTime >= ? AND r.eventTime < ?) OR r.eventTime IS NULL"""
# json_transform turns what is not a record into NULLs; such rows are kept only until their file is diagnosed.


@dataclass(frozen=True)
class EngineResult:
    rows: list[AggregateRow]
    skipped: list[Skipped]
    records: int


Progress = Callable[[int, int], None]


def aggregate_files(
    files: Sequence[str],
    host_accounts: Sequence[str],
    since: datetime,
    until: datetime,
    progress: Progress | None = None,
) -> EngineResult:
    """Loads the files, drops (and reports) records of accounts that are not a host's, and aggregates the rest."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="partner-access-activity-") as scratch:
        connection = duckdb.connect(":memory:")
        try:
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{Path(scratch) / 'spill'}'")
            connection.execute("SET preserve_insertion_order = false")
            connection.execute("SET enable_progress_bar = false")
            # DuckDB 2.0's statistics propagation folds the aggregation's filters on a batch where a column is NULL
            # throughout (e.g. records without eventSource) into an expression its binder then rejects ("did not
            # return a BoundFunctionExpression"). Without it the plan is the same and as fast on trail files.
            connection.execute("SET disabled_optimizers = 'statistics_propagation'")
            connection.execute(CREATE_TABLE)
            for macro in DUCKDB_MACROS:
                connection.execute(macro)
            loader = _Loader(connection, scratch, cloudtrail_time(since), cloudtrail_time(until))
            aggregation = athena_sql(TABLE, since, until)
            merger = RowMerger()
            skipped: list[Skipped] = []
            records = 0
            done = 0
            for batch in batches(files):
                loader.load_batch(batch)
                skipped += _drop_foreign_records(connection, host_accounts)
                records += connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
                try:
                    aggregated = connection.execute(aggregation).fetchall()
                except duckdb.Error as error:
                    raise ActivityError(f"the aggregation failed on the batch of {len(batch)} file(s) from "
                                        f"{batch[0]}: {str(error).splitlines()[0]}") from None
                for values in aggregated:
                    merger.add(row_from_values(values))
                connection.execute(f"DELETE FROM {TABLE}")
                done += len(batch)
                if progress is not None:
                    progress(done, len(files))
            skipped = loader.skipped + skipped
            rows = merger.rows()
        finally:
            connection.close()
    return EngineResult(rows=rows, skipped=skipped, records=records)


def _text_size(file: str) -> int:
    """The JSON text's size: a gzip member ends with it (modulo 4 GiB, RFC 1952 ISIZE); else the file's size."""
    try:
        with open(file, "rb") as stream:
            if stream.read(2) != b"\x1f\x8b":
                return os.path.getsize(file)
            stream.seek(-4, os.SEEK_END)
            return int.from_bytes(stream.read(4), "little")
    except OSError:
        return 0  # reported when it is read


def batches(files: Sequence[str]) -> Iterator[list[str]]:
    """Consecutive groups of at most BATCH_FILES files and, past the first file, at most BATCH_BYTES of JSON."""
    batch: list[str] = []
    size = 0
    for file in files:
        file_size = _text_size(file)
        if batch and (len(batch) >= BATCH_FILES or size + file_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += file_size
    if batch:
        yield batch


class _Loader:
    def __init__(self, connection: Any, scratch: str, since: str, until: str) -> None:
        self.connection = connection
        self.scratch = Path(scratch)
        self.since = since
        self.until = until
        self.skipped: list[Skipped] = []
        self.salvaged = 0

    def _insert(self, files: list[str]) -> None:
        self.connection.execute(INSERT_FILES, [files, self.since, self.until])

    def load_batch(self, files: list[str]) -> None:
        import duckdb

        try:
            self.connection.execute("BEGIN")
            self._insert(files)
            self.connection.execute("COMMIT")
        except duckdb.Error:
            self.connection.execute("ROLLBACK")
            for file in files:
                self._load_one(file)
            return
        self._check_files(files)

    def _load_one(self, file: str) -> None:
        import duckdb

        try:
            self._insert([file])
        except duckdb.Error as error:
            self._salvage(file, str(error).splitlines()[0])
            return
        self._check_files([file])

    def _check_files(self, files: list[str]) -> None:
        # A file that gave no rows is an empty (or out-of-window) log, or not a CloudTrail log at all; one with rows
        # without an eventTime holds something that is not a record. Python says which, naming the record.
        malformed_by_file = dict(self.connection.execute(
            f"SELECT source_file, count(*) FILTER (WHERE eventtime IS NULL) FROM {TABLE} GROUP BY source_file"
        ).fetchall())
        if any(malformed_by_file.values()):
            self.connection.execute(f"DELETE FROM {TABLE} WHERE eventtime IS NULL")
        for file in files:
            if malformed_by_file.get(file, 1):
                diagnosis = _diagnose(file)
                if diagnosis.other_shape and diagnosis.records:
                    self._salvage(file, "")
                elif diagnosis.problem is not None:
                    self.skipped.append(Skipped(file, diagnosis.problem))

    def _salvage(self, file: str, engine_message: str) -> None:
        diagnosis = _diagnose(file)
        problem, good_records = diagnosis.problem, diagnosis.records
        if good_records is None:
            self.skipped.append(Skipped(file, problem or engine_message))
            return
        if problem is not None:
            self.skipped.append(Skipped(file, problem))
        self.salvaged += 1
        # Named like the original (plus a counter), so the report can still say which file records came from.
        rewritten = self.scratch / f"salvaged-{self.salvaged}.json"
        rewritten.write_text(json.dumps({"Records": good_records}), encoding="utf-8")
        import duckdb

        try:
            self._insert([str(rewritten)])
        except duckdb.Error as error:
            self.skipped.append(Skipped(file, f"its records do not have CloudTrail's shape ({error})"))
            return
        self.connection.execute(f"DELETE FROM {TABLE} WHERE eventtime IS NULL")
        self.connection.execute(f"UPDATE {TABLE} SET source_file = ? WHERE source_file = ?", [file, str(rewritten)])


def _read_text(file: str) -> str:
    raw = Path(file).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


@dataclass(frozen=True)
class _Diagnosis:
    """What is wrong with a file (None if nothing), its usable records (None if it cannot be read at all), and
    whether they came in another shape than a trail's log file (so the engine, which reads that shape, saw none)."""

    problem: str | None
    records: list[dict[str, Any]] | None
    other_shape: bool = False


def _json_lines(text: str) -> list[object] | str:
    """Every non-blank line as one JSON value, or what is wrong with the first line that is not one."""
    values: list[object] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as error:
                return f"is not JSON Lines (line {number}, column {error.colno}: {error.msg})"
    return values


def _records_of(document: object) -> tuple[list[object], str, bool] | None:
    """The records a document holds and how to name one, in each shape CloudTrail's records come in: a trail's
    log file ({"Records": [...]}), what `aws cloudtrail lookup-events` prints ({"Events": [{"CloudTrailEvent":
    "<record as JSON text>"}, ...]}), a list of records, or one record on its own."""
    if isinstance(document, dict) and isinstance(document.get("Records"), list):
        return document["Records"], "Records[{}]", False
    if isinstance(document, dict) and isinstance(document.get("Events"), list):
        records: list[object] = []
        for event in document["Events"]:
            text = event.get("CloudTrailEvent") if isinstance(event, dict) else None
            try:
                records.append(json.loads(text) if isinstance(text, str) else None)
            except json.JSONDecodeError:
                records.append(None)
        return records, "Events[{}].CloudTrailEvent", True
    if isinstance(document, list):
        return document, "[{}]", True
    if isinstance(document, dict) and "eventTime" in document and "eventSource" in document:
        return [document], "the record", True
    return None


def _diagnose(file: str) -> _Diagnosis:
    try:
        text = _read_text(file)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        return _Diagnosis(f"cannot be read as gzip ({error or 'truncated'}); the file is damaged or still being "
                          "written", None)
    except UnicodeDecodeError as error:
        return _Diagnosis(f"is not UTF-8 text ({error.reason} at byte {error.start})", None)
    except OSError as error:
        return _Diagnosis(f"cannot be read ({error.strerror or error})", None)
    try:
        found = _records_of(json.loads(text))
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            return _Diagnosis(f"is not JSON (line {error.lineno}, column {error.colno}: {error.msg})", None)
        lines = _json_lines(text)  # more than one JSON value: JSON Lines, one record a line
        if isinstance(lines, str):
            return _Diagnosis(lines, None)
        found = (lines, "line {}", True)
        if not any(isinstance(line, dict) for line in lines):
            found = None
    if found is None:
        return _Diagnosis("is not a CloudTrail log file (neither a trail's {\"Records\": [...]}, nor "
                          "lookup-events output {\"Events\": [...]}, nor records as a list, one record or JSON "
                          "Lines)", None)
    records, name, other_shape = found
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for index, record in enumerate(records):
        if isinstance(record, dict) and isinstance(record.get("eventTime"), str) and isinstance(
                record.get("userIdentity", {}), dict):
            good.append(record)
        else:
            bad.append(name.format(index + 1 if name == "line {}" else index))
    if bad:
        return _Diagnosis(f"{len(bad)} record(s) are not CloudTrail records (an object with eventTime and "
                          f"userIdentity): {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}; the other "
                          f"{len(good)} are kept", good, other_shape)
    return _Diagnosis(None, good, other_shape)


def _drop_foreign_records(connection: Any, host_accounts: Sequence[str]) -> list[Skipped]:
    """Records logged by an account that no grant names as its host are not this report's; say which and drop them."""
    rows = connection.execute(
        f"SELECT source_file, recipientaccountid, count(*) FROM {TABLE} "
        f"WHERE recipientaccountid IS NULL OR recipientaccountid NOT IN (SELECT unnest(?)) "
        f"GROUP BY ALL ORDER BY 1, 2", [list(host_accounts)]).fetchall()
    connection.execute(f"DELETE FROM {TABLE} WHERE recipientaccountid IS NULL OR recipientaccountid NOT IN "
                       f"(SELECT unnest(?))", [list(host_accounts)])
    return [Skipped(file, f"{count} record(s) without recipientAccountId, so no host account logged them"
                    if account is None else
                    f"{count} record(s) logged by account {account}, which no grant's hostAccountId names "
                    f"({', '.join(host_accounts)})") for file, account, count in rows]
