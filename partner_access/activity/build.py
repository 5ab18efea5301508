"""One report from any source: gather the records, run the one aggregation, attribute, find, propose."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from components.grant_model import Grant
from partner_access.activity.aggregation import AggregateRow, records_read
from partner_access.activity.attribution import attribute
from partner_access.activity.findings import findings
from partner_access.activity.grants_config import ActivityError
from partner_access.activity.inputs import Skipped, local_log_files, prune
from partner_access.activity.least_privilege import preload, propose
from partner_access.activity.report import Report
from partner_access.activity.sources import S3_SCHEME, download_s3, lookup_events


@dataclass(frozen=True)
class AthenaTarget:
    database: str
    table: str
    workgroup: str
    output_location: str | None
    region: str | None


def host_accounts(grants: Sequence[Grant]) -> list[str]:
    return sorted({grant.host_account_id for grant in grants})


def report_from_rows(rows: Sequence[AggregateRow], grants: Sequence[Grant], skipped: Sequence[Skipped],
                     records: int, preloading: threading.Thread | None = None) -> Report:
    attribution = attribute(rows, grants)
    if preloading is not None:
        preloading.join()
    return Report(
        people=attribution.people(),
        findings=findings(attribution, grants, skipped),
        proposed_policies=propose(grants, attribution.used_by_role),
        skipped=tuple(skipped),
        records=records,
        other_records=dict(attribution.other_records),
    )


def build_report(grants: Sequence[Grant], sources: Sequence[str], since: datetime, until: datetime, scratch: Path,
                 lookup_regions: Sequence[str] = (), athena: AthenaTarget | None = None,
                 progress: Callable[[int, int], None] | None = None, progress_min_files: int = 0) -> Report:
    accounts = host_accounts(grants)
    # The IAM database loads while the engine works (DuckDB and Athena's polling leave the interpreter free).
    preloading = threading.Thread(target=preload, name="iam-database", daemon=True)
    preloading.start()
    if athena is not None:
        from partner_access.activity.athena import aggregate_in_athena

        rows = aggregate_in_athena(athena.database, athena.table, athena.workgroup, athena.output_location,
                                   athena.region, since, until)
        return report_from_rows(rows, grants, (), records_read(rows), preloading)
    from partner_access.activity.embedded import aggregate_files

    local = [source for source in sources if not source.startswith(S3_SCHEME)]
    files, skipped = local_log_files(local)
    remote = len(local) < len(sources) or bool(lookup_regions)
    if local and not files and not remote:
        raise ActivityError("nothing to read: " + "; ".join(str(item) for item in skipped))
    files, pruned = prune(files, accounts, since, until)
    skipped += pruned
    for url in (source for source in sources if source.startswith(S3_SCHEME)):
        downloaded, s3_skipped = download_s3(url, accounts, since, until, scratch)
        files += downloaded
        skipped += s3_skipped
    files += lookup_events(lookup_regions, since, until, scratch) if lookup_regions else []
    result = aggregate_files(files, accounts, since, until,
                             progress if progress and len(files) >= progress_min_files else None)
    return report_from_rows(result.rows, grants, skipped + result.skipped, result.records, preloading)
