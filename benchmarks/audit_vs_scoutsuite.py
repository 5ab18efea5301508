"""`partner-access audit` vs ScoutSuite's IAM collection and rules, side by side over one moto account of 2,000 roles.

One run: a moto server (its own process) gets 2,000 roles whose trust policies cycle through shapes the MFA question
tells apart; then each tool runs as a fresh process against it through `AWS_ENDPOINT_URL`:
- `partner-access audit --format json` (the pack's policies, collection included);
- `scout aws --services iam` (ScoutSuite's IAM collection and its default ruleset), installed in a throwaway
  virtualenv this script creates once (under ~/.cache), so its dependencies never touch ours.
Prints each tool's wall time, the ratio, and what each flags: on the MFA question, against the answer each shape has.

    .venv/bin/python benchmarks/audit_vs_scoutsuite.py [--roles 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from pathlib import Path

import boto3
import requests

SCOUTSUITE = "scoutsuite==5.14.0"
SCOUT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "partner-access" / "scoutsuite-5.14.0"
# ScoutSuite's rule for trusts without MFA (or an External ID), in its default ruleset.
SCOUT_MFA_RULE = "iam-assume-role-lacks-external-id-and-mfa"
MFA_POLICY = "cross-account-trust-requires-mfa"
PARTNER = "222222222222"
VENDOR = "333333333333"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}


def statement(principal: object, condition: dict | None = None) -> dict:
    body = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return {**body, "Condition": condition} if condition else body


# (shape, trust statement, whether someone outside the account can get in without MFA: the pack's question)
SHAPES: list[tuple[str, dict, bool]] = [
    ("partner, no condition", statement({"AWS": f"arn:aws:iam::{PARTNER}:root"}), True),
    ("partner, MFA", statement({"AWS": f"arn:aws:iam::{PARTNER}:root"},
                               {"Bool": {"aws:MultiFactorAuthPresent": "true"}}), False),
    ("partner, BoolIfExists MFA", statement({"AWS": f"arn:aws:iam::{PARTNER}:root"},
                                            {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}), True),
    ("partner, MFA age", statement({"AWS": f"arn:aws:iam::{PARTNER}:root"},
                                   {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}), False),
    ("vendor, External ID only", statement({"AWS": f"arn:aws:iam::{VENDOR}:root"},
                                           {"StringEquals": {"sts:ExternalId": "vendor-1"}}), True),
    ("anyone", statement("*"), True),
    ("own account", statement({"AWS": "arn:aws:iam::123456789012:root"}), False),
    ("service", statement({"Service": "lambda.amazonaws.com"}), False),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{endpoint}/moto-api/", timeout=1)
            return process, endpoint
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto server did not start")


def populate(endpoint: str, count: int) -> dict[str, str]:
    """role ID -> shape name, for `count` roles."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    shapes: dict[str, str] = {}
    for index in range(count):
        shape, trust_statement, _ = SHAPES[index % len(SHAPES)]
        role = iam.create_role(RoleName=f"role-{index:05d}", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [trust_statement]}))["Role"]
        shapes[role["RoleId"]] = shape
    return shapes


def scout_python() -> Path:
    python = SCOUT_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {SCOUT_VENV} with {SCOUTSUITE} (once)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(SCOUT_VENV)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", SCOUTSUITE],
                       check=True)
    return python


def run_audit(environment: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "partner_access.cli", "audit", "--format", "json"],
                               env=environment, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({completed.returncode}): {completed.stderr}")
    return elapsed, json.loads(completed.stdout)


def run_scout(environment: dict[str, str], report_dir: Path) -> tuple[float, dict]:
    scout = scout_python().parent / "scout"
    started = time.perf_counter()
    completed = subprocess.run(
        [str(scout), "aws", "--services", "iam", "--no-browser", "--quiet", "--result-format", "json", "--force",
         "--report-dir", str(report_dir), "--access-keys", "--access-key-id", "testing", "--secret-access-key",
         "testing", "-r", "us-east-1"],
        env=environment, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"scout failed ({completed.returncode}): {completed.stderr[-2000:]}")
    (results,) = (report_dir / "scoutsuite-results").glob("scoutsuite_results_aws-*.js")
    text = results.read_text()
    return elapsed, json.loads(text[text.index("{"):])


def tally(label: str, flagged_ids: set[str], shapes: dict[str, str]) -> None:
    should = {shape for shape, _, risky in SHAPES if risky}
    per_shape = Counter(shapes[role_id] for role_id in flagged_ids if role_id in shapes)
    total = Counter(shapes.values())
    wrong = sum(per_shape[s] for s in total if s not in should) + sum(total[s] - per_shape[s] for s in should)
    print(f"  {label}: {len(flagged_ids)} roles flagged, {wrong} wrong on the MFA question "
          f"({100 * (len(shapes) - wrong) / len(shapes):.0f}% right)")
    for shape, _, risky in SHAPES:
        print(f"    {shape:28} {per_shape[shape]:5}/{total[shape]:<5} flagged ({'should' if risky else 'should not'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=2000)
    options = parser.parse_args()
    scout_python()  # install before timing anything
    moto, endpoint = start_moto()
    try:
        started = time.perf_counter()
        shapes = populate(endpoint, options.roles)
        print(f"{options.roles} roles created in moto in {time.perf_counter() - started:.1f}s")
        environment = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_CREDENTIALS,
                       "AWS_ENDPOINT_URL": endpoint}
        audit_seconds, audit_report = run_audit(environment)
        with tempfile.TemporaryDirectory() as report_dir:
            scout_seconds, scout_report = run_scout(environment, Path(report_dir))
    finally:
        moto.kill()
        moto.wait()

    role_ids = dict(scout_report["services"]["iam"]["roles"])
    id_of_arn = {role["arn"]: role_id for role_id, role in role_ids.items()}
    audit_findings = [(role["arn"], finding) for account in audit_report["accounts"] for role in account["roles"]
                      for finding in role["findings"]]
    audit_mfa = {id_of_arn[arn] for arn, finding in audit_findings if finding["policy"] == MFA_POLICY}
    scout_findings = scout_report["services"]["iam"]["findings"]
    scout_mfa = {item.split(".")[2] for item in scout_findings.get(SCOUT_MFA_RULE, {}).get("items", [])}
    scout_flagged_total = sum(rule.get("flagged_items", 0) for rule in scout_findings.values())

    print(f"\naudit of {len(role_ids)} roles, one process each, collection included:")
    print(f"  partner-access audit: {audit_seconds:6.2f}s, {len(audit_findings)} findings "
          f"({dict(Counter(f['policy'] for _, f in audit_findings))})")
    print(f"  ScoutSuite (iam):     {scout_seconds:6.2f}s, {scout_flagged_total} flagged items over "
          f"{sum(1 for rule in scout_findings.values() if rule.get('flagged_items'))} rules")
    print(f"  ratio audit/ScoutSuite time: {audit_seconds / scout_seconds:.2f}")
    print(f"\nWho can get in from outside the account without MFA (the pack's question), by {MFA_POLICY} and by "
          f"ScoutSuite's {SCOUT_MFA_RULE} (which asks for MFA or an External ID, so it passes the External ID shape "
          "by design):")
    tally("partner-access audit", audit_mfa, shapes)
    tally("ScoutSuite", scout_mfa, shapes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
