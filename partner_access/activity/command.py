"""partner-access activity: who did what in the host account, from its CloudTrail logs.

Reads trail log files and folders as a trail delivers them
  AWSLogs/[<org id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz (digest files are ignored),
plain .json or JSON Lines files (a trail's {"Records": [...]}, `aws cloudtrail lookup-events`
output, a list of records or one record), an S3 bucket (s3://bucket/prefix), CloudTrail's event
history (--lookup-events) or the trail's Athena table (--athena-database/--athena-table). It
attributes every record to a partner person and session, reports findings with stable codes
(ACT-001...) and proposes a least-privilege inlinePolicy per granted role. The grants come from
the project's Pulumi.yaml. Exit code: 0 no findings, 1 findings, 2 the input could not be read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from partner_access.activity.grants_config import ActivityError

FORMATS = ("table", "json", "csv", "markdown", "html")
DEFAULT_DAYS = 7
# Below this many files the table needs no progress bar.
PROGRESS_MIN_FILES = 20


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


EXAMPLES = """examples:
  partner-access activity AWSLogs/ --since 2026-03-01 --until 2026-03-08
  partner-access activity s3://my-trail-bucket/prefix --format json --output activity.json
  partner-access activity --lookup-events --regions us-east-1,eu-west-1 --format html > a.html
  partner-access activity --athena-database trails --athena-table cloudtrail --regions eu-west-1
  aws cloudtrail lookup-events --region eu-west-1 > events.json; partner-access activity events.json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXAMPLES
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="trail log files or folders (.json.gz, .json, .jsonl), or s3://bucket/prefix of a "
                             "trail's bucket")
    parser.add_argument("--config", default="Pulumi.yaml", metavar="FILE",
                        help="the project file with the grants (default: %(default)s)")
    parser.add_argument("--since", type=_moment, metavar="TIME",
                        help=f"start of the window, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC (default: "
                             f"{DEFAULT_DAYS} days before --until)")
    parser.add_argument("--until", type=_moment, metavar="TIME",
                        help="end of the window, not included, as --since (default: now)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), json, csv, markdown or a self-contained html page")
    parser.add_argument("--output", metavar="FILE", help="write the report to this file instead of standard output")
    parser.add_argument("--lookup-events", action="store_true",
                        help="read CloudTrail event history (90 days, management events) in --regions")
    parser.add_argument("--regions", default="", metavar="REGION,...",
                        help="comma-separated regions: each is read with --lookup-events; with --athena-database "
                             "the first is Athena's region")
    parser.add_argument("--athena-database", metavar="DB",
                        help="run the aggregation in Athena, over a table in this database")
    parser.add_argument("--athena-table", metavar="TABLE",
                        help="the trail's Athena table (AWS's documented CloudTrail table)")
    parser.add_argument("--athena-workgroup", default="primary", metavar="WG",
                        help="Athena workgroup (default: %(default)s)")
    parser.add_argument("--athena-output", metavar="S3_URL",
                        help="s3:// location for Athena's results, if the workgroup sets none")


def _renderer(name: str) -> Callable[..., str]:
    from partner_access.activity import render_csv, render_html, render_text

    return {"table": render_text.render_table, "json": render_text.render_json, "csv": render_csv.render_csv,
            "markdown": render_text.render_markdown, "html": render_html.render_html}[name]


def _progress_bar(enabled: bool) -> Callable[[int, int], None] | None:
    if not enabled:
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def run(options: argparse.Namespace) -> int:
    try:
        return _run(options)
    except ActivityError as error:
        print(f"partner-access activity: {error}", file=sys.stderr)
        return 2


def _run(options: argparse.Namespace) -> int:
    from partner_access.activity.build import AthenaTarget, build_report
    from partner_access.activity.grants_config import load_grants

    until = options.until or datetime.now(UTC).replace(microsecond=0)
    since = options.since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise ActivityError(f"--since {since:%Y-%m-%dT%H:%M:%SZ} is not before --until {until:%Y-%m-%dT%H:%M:%SZ}")
    regions = [region.strip() for region in options.regions.split(",") if region.strip()]
    athena = options.athena_database or options.athena_table
    if athena and not (options.athena_database and options.athena_table):
        raise ActivityError("--athena-database and --athena-table go together")
    if athena and (options.sources or options.lookup_events):
        raise ActivityError("Athena reads the trail's table itself: give no SOURCE or --lookup-events with it")
    if not (options.sources or options.lookup_events or athena):
        raise ActivityError("give trail log files or folders, s3://bucket/prefix, --lookup-events with --regions, "
                            "or --athena-database with --athena-table")
    if options.lookup_events and not regions:
        raise ActivityError("--lookup-events reads event history per region: list them with --regions")
    if regions and not (options.lookup_events or athena):
        raise ActivityError("--regions is for --lookup-events or Athena; trail files and buckets are read in every "
                            "region they hold")
    if options.athena_output and not athena:
        raise ActivityError("--athena-output goes with --athena-database and --athena-table")
    grants = load_grants(options.config)
    with tempfile.TemporaryDirectory(prefix="partner-access-sources-") as scratch:
        report = build_report(
            grants=grants, sources=options.sources, since=since, until=until, scratch=Path(scratch),
            lookup_regions=regions if options.lookup_events else [],
            athena=AthenaTarget(options.athena_database, options.athena_table, options.athena_workgroup,
                                options.athena_output, regions[0] if regions else None) if athena else None,
            progress=_progress_bar(options.format == "table" and sys.stderr.isatty()),
            progress_min_files=PROGRESS_MIN_FILES,
        )
    text = _renderer(options.format)(report)
    if options.output:
        try:
            Path(options.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise ActivityError(f"--output {options.output}: cannot be written ({error.strerror or error})") from None
    else:
        sys.stdout.write(text)
    for skipped in report.skipped:
        print(f"partner-access activity: skipped {skipped}", file=sys.stderr)
    return 1 if report.findings else 0
