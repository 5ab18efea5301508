"""Where the records come from: local files, an S3 bucket (key pruning by account, region and day), or CloudTrail's
event history (LookupEvents, per region). Remote records are brought to a scratch folder as trail files, so one
engine reads every source."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from partner_access.activity.grants_config import ActivityError
from partner_access.activity.inputs import Skipped, days_between, is_log_file, prune

S3_SCHEME = "s3://"


def split_s3_url(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
    if not bucket:
        raise ActivityError(f"{url}: not an S3 location (s3://bucket/prefix)")
    return bucket, prefix


# A prefix that already names one account's folder (or one of its regions) of a trail or an organization trail.
ACCOUNT_PREFIX = re.compile(
    r"(?P<account_root>(?:.*/)?AWSLogs/(?:o-[a-z0-9]{10,32}/)?(?P<account>\d{12})/)"
    r"(?:CloudTrail/(?P<region>[a-z0-9-]+)/)?"
)


def _trail_prefixes(s3: Any, bucket: str, prefix: str, host_accounts: Sequence[str]) -> list[str]:
    """The CloudTrail/<region>/ folders of each host account under the prefix (organization trails add a level).
    The prefix may be the bucket's (or the trail's key prefix), AWSLogs/, an organization's folder, one account's
    folder, or one of its regions."""
    base = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    named = ACCOUNT_PREFIX.match(base)
    if named is not None:
        if named["account"] not in host_accounts:
            return []
        if named["region"]:
            return [f"{named['account_root']}CloudTrail/{named['region']}/"]
        return _folders(s3, bucket, named["account_root"] + "CloudTrail/")
    roots = [base] if base.endswith("AWSLogs/") or "AWSLogs/" in base else [base + "AWSLogs/"]
    account_roots: list[str] = []
    for root in roots:
        children = _folders(s3, bucket, root)
        for child in children:
            name = child[len(root):].strip("/")
            if name in host_accounts:
                account_roots.append(child)
            elif name.startswith("o-"):
                account_roots.extend(f"{child}{account}/" for account in host_accounts)
    regions: list[str] = []
    for account_root in account_roots:
        regions.extend(_folders(s3, bucket, account_root + "CloudTrail/"))
    return regions


def _folders(s3: Any, bucket: str, prefix: str) -> list[str]:
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        folders.extend(entry["Prefix"] for entry in page.get("CommonPrefixes", []))
    return folders


def download_s3(url: str, host_accounts: Sequence[str], since: datetime, until: datetime, scratch: Path,
                session: Any = None) -> tuple[list[str], list[Skipped]]:
    """The trail's files for the window's days in every region, downloaded into `scratch` under their keys."""
    import boto3
    import botocore.exceptions

    bucket, prefix = split_s3_url(url)
    s3 = (session or boto3.Session()).client("s3")
    try:
        region_prefixes = _trail_prefixes(s3, bucket, prefix, host_accounts)
        keys: list[str] = []
        for region_prefix in region_prefixes:
            for day in days_between(since, until):
                day_prefix = f"{region_prefix}{day:%Y/%m/%d}/"
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=day_prefix):
                    keys.extend(entry["Key"] for entry in page.get("Contents", []) if is_log_file(entry["Key"]))
        kept, skipped = prune(keys, host_accounts, since, until)
        if not region_prefixes:
            skipped.append(Skipped(url, "no AWSLogs/[<org id>/]<account>/CloudTrail/<region>/ folder of a host "
                                        f"account ({', '.join(host_accounts)}) under this prefix"))
        files = []
        for key in kept:
            target = scratch / bucket / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            files.append(str(target))
    except botocore.exceptions.BotoCoreError as error:
        raise ActivityError(f"{url}: {error}") from None
    except botocore.exceptions.ClientError as error:
        raise ActivityError(f"{url}: {error.response['Error'].get('Code')}: "
                            f"{error.response['Error'].get('Message')}") from None
    return files, skipped


def lookup_events(regions: Sequence[str], since: datetime, until: datetime, scratch: Path,
                  session: Any = None) -> list[str]:
    """Event history (90 days, management events only) of each region, written as one trail-shaped file each."""
    import boto3
    import botocore.exceptions

    files = []
    for region in regions:
        client = (session or boto3.Session()).client("cloudtrail", region_name=region)
        records: list[Any] = []
        try:
            for page in client.get_paginator("lookup_events").paginate(StartTime=since, EndTime=until):
                records.extend(json.loads(event["CloudTrailEvent"]) for event in page.get("Events", [])
                               if "CloudTrailEvent" in event)
        except botocore.exceptions.ClientError as error:
            raise ActivityError(f"LookupEvents in {region}: {error.response['Error'].get('Code')}: "
                                f"{error.response['Error'].get('Message')}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise ActivityError(f"LookupEvents in {region}: {error}") from None
        target = scratch / f"event-history-{region}.json.gz"
        target.write_bytes(gzip.compress(json.dumps({"Records": records}).encode("utf-8")))
        files.append(str(target))
    return files
