"""Trail log files as CloudTrail delivers them, found on disk, and what the report says about input it skipped.

A trail writes `AWSLogs/[<organization id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz`, and its digest
files (`CloudTrail-Digest`, for integrity validation, no records) beside them; an export or a sample may be plain
`.json` or JSON Lines (`.jsonl`). The path names the account and the day, so files outside the window or of another
account are skipped without opening them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

LOG_FILE_SUFFIXES = (".json.gz", ".json", ".jsonl.gz", ".jsonl")
DIGEST_FILE_MARK = "CloudTrail-Digest"
TRAIL_PATH_PATTERN = re.compile(
    r"AWSLogs/(?:o-[a-z0-9]{10,32}/)?(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
)


@dataclass(frozen=True)
class Skipped:
    """Input left out of the report, and why; `where` names the file (and the record, when one is at fault)."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class TrailLocation:
    """What a trail's file path says: the account that logged it, the region and the day."""

    account: str
    region: str
    day: date
    # Where the account's folder ends in the path (just past `<account>/`).
    account_end: int


def trail_location(path: str) -> TrailLocation | None:
    match = TRAIL_PATH_PATTERN.search(path.replace("\\", "/"))
    if match is None:
        return None
    try:
        day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
    return TrailLocation(account=match["account"], region=match["region"], day=day,
                         account_end=match.end("account") + 1)


def is_log_file(name: str) -> bool:
    return name.endswith(LOG_FILE_SUFFIXES) and DIGEST_FILE_MARK not in name


def days_between(since: datetime, until: datetime) -> list[date]:
    """Every UTC day the window touches. A trail files a record under the day of its delivery, which can follow the
    event by some minutes, so the day after the window is included too."""
    first, last = since.date(), (until + timedelta(hours=1)).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def prune(
    names: Iterable[str], host_accounts: Sequence[str], since: datetime, until: datetime
) -> tuple[list[str], list[Skipped]]:
    """The log files worth opening: trail files of a host account within the window's days, and any file whose path
    is not a trail's (an export or a sample), which the records' own account and time then decide."""
    wanted_days = set(days_between(since, until))
    kept: list[str] = []
    # Other accounts' folders (an organization trail holds every member's) are named once each, not file by file.
    foreign: dict[str, tuple[str, int]] = {}
    for name in names:
        location = trail_location(name)
        if location is None:
            kept.append(name)
        elif location.account not in host_accounts:
            folder = name[:location.account_end]
            account, files = foreign.get(folder, (location.account, 0))
            foreign[folder] = (account, files + 1)
        elif location.day in wanted_days:
            kept.append(name)
    skipped = [Skipped(folder, f"{files} log file(s) logged by account {account}, which no grant's hostAccountId "
                               f"names ({', '.join(host_accounts)})") for folder, (account, files) in foreign.items()]
    return kept, skipped


def local_log_files(paths: Sequence[str]) -> tuple[list[str], list[Skipped]]:
    """Every log file under the given files and folders, in a stable order. Digest files are not logs and are left
    out, even when named one by one; paths that do not exist and folders without a log file are skipped."""
    found: list[str] = []
    missing: list[Skipped] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(str(file) for file in _walk(path))
            found.extend(files)
            if not files:
                missing.append(Skipped(given, f"no log file ({', '.join('*' + s for s in LOG_FILE_SUFFIXES)}) in "
                                              "this folder or below it"))
        elif path.is_file():
            if DIGEST_FILE_MARK not in path.name:
                found.append(str(path))
        else:
            missing.append(Skipped(given, "no such file or folder"))
    return found, missing


def _walk(folder: Path) -> Iterator[Path]:
    for file in folder.rglob("*"):
        if file.is_file() and is_log_file(file.name):
            yield file
