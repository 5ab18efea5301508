"""partner-access activity: records per second and peak memory, side by side with trailscraper, in one run.

Generates the same multi-Region week the tests use (tests/support/cloudtrail_week.py) at two sizes, then runs, each
as its own process:
- `partner-access activity <logs> --format json` at both sizes, measuring wall time and the process's peak RSS
  (os.wait4's rusage);
- trailscraper (PyPI), the peer, as `trailscraper select --log-dir <logs> | trailscraper generate` on the smaller
  size: its `select` reads the same trail files, `generate` writes its policy. trailscraper's pins do not sit next to
  ours, so it is installed into a throwaway virtualenv this script creates.

A first, unmeasured run builds the IAM action index cache, as any first run on a machine does. Prints records/s of
each, the ratios, and the peak memory ratio from the small to the large input. Goals: at least
10x trailscraper, at least 100,000 records/s, memory flat as the input grows tenfold.

    .venv/bin/python benchmarks/activity_throughput.py [--small 100000] [--large 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.cloudtrail_week import GRANTS_YAML, generate_week

TRAILSCRAPER = "trailscraper==0.10.0"
# The generated week: two users, four sessions each a day for four days, then one a day, and one chained session.
SESSIONS = 2 * 4 * 4 + 2 * 3 + 1


def _generate(folder: Path, records: int) -> int:
    """Writes the logs from a child process: a process started from a large one starts with the large one's
    resident pages, which would count in the measured process's peak RSS."""
    done = subprocess.run([sys.executable, __file__, "--generate", str(folder), str(records)], check=True,
                          capture_output=True, text=True)
    return int(done.stdout)


def _generate_here(folder: Path, records: int) -> None:
    calls = max(1, records // SESSIONS)
    expected = generate_week(folder, sessions_per_user=4, calls_per_session=calls, noise_per_day=200,
                             records_per_file=5_000)
    print(expected.records)


def _run(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (the process and the children it waited for) and peak RSS (MiB) of one process.
    The machine is shared, so CPU seconds are the steadier measure; both are printed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: the report has findings, as the generated week does
        raise SystemExit(f"{command!r} failed ({code}): {stderr[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def _trailscraper(scratch: Path) -> Path:
    venv = scratch / "trailscraper-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", TRAILSCRAPER],
                   check=True)
    return venv / "bin" / "trailscraper"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--generate", nargs=2, metavar=("FOLDER", "RECORDS"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.generate:
        _generate_here(Path(options.generate[0]), int(options.generate[1]))
        return
    command = [str(Path(sys.executable).with_name("partner-access")), "activity"]
    with tempfile.TemporaryDirectory(prefix="activity-bench-") as scratch_text:
        scratch = Path(scratch_text)
        (scratch / "Pulumi.yaml").write_text(GRANTS_YAML)
        window = ["--since", "2026-03-01", "--until", "2026-03-10", "--config", str(scratch / "Pulumi.yaml")]
        # One run first, unmeasured: the first run on a machine derives the IAM action index and caches it.
        warm_up = scratch / "warm-up"
        _generate(warm_up, 1_000)
        _run([*command, str(warm_up), *window, "--format", "json"])
        results = {}
        for label, size in (("small", options.small), ("large", options.large)):
            logs = scratch / label
            records = _generate(logs, size)
            seconds, cpu, peak = _run([*command, str(logs), *window, "--format", "json"])
            results[label] = (records, seconds, peak, cpu)
            print(f"partner-access activity, {records:>9,} records: {seconds:6.2f} s wall, {cpu:6.2f} s CPU, "
                  f"{records / seconds:>10,.0f} records/s ({records / cpu:,.0f} per CPU second), peak RSS {peak} MiB")
        trailscraper = _trailscraper(scratch)
        peers = {}
        for label in ("small", "large"):
            pipeline = (f"{trailscraper} select --log-dir {scratch / label} --from 2026-03-01 --to 2026-03-10 "
                        f"| {trailscraper} generate")
            peer_seconds, peer_cpu, _ = _run(["/bin/sh", "-c", pipeline])
            peers[label] = (peer_seconds, peer_cpu)
            records = results[label][0]
            print(f"trailscraper select | generate, {records:>9,} records: {peer_seconds:6.2f} s wall, "
                  f"{peer_cpu:6.2f} s CPU, {records / peer_seconds:>10,.0f} records/s")
    for label in ("small", "large"):
        records, seconds, _, cpu = results[label]
        peer_seconds, peer_cpu = peers[label]
        print(f"{records:>9,} records: {records / seconds:,.0f} records/s (goal >= 100,000); "
              f"vs trailscraper {peer_seconds / seconds:.1f}x wall, {peer_cpu / cpu:.1f}x CPU (goal >= 10x)")
    print(f"peak RSS from {results['small'][0]:,} to {results['large'][0]:,} records: "
          f"{results['large'][2] / results['small'][2]:.2f}x ({results['small'][2]} -> {results['large'][2]} MiB; "
          "goal: flat)")


if __name__ == "__main__":
    main()
