"""scripts/preview_report.py on event logs in the shape the Pulumi CLI writes with `--event-log` (apitype.EngineEvent
JSON lines, as in pulumi/pulumi's engine lifecycle test event streams), carrying this pack's real messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ci.workflow_model import REPO_ROOT, REPORT_SCRIPT

FIXTURES = Path(__file__).with_name("fixtures")
HOST_MANDATORY = FIXTURES / "host-mfa-removed.events.jsonl"
PARTNER_ADVISORY = FIXTURES / "partner-wildcard-advisory.events.jsonl"
HOST_CONFIG_ERROR = FIXTURES / "host-config-error.events.jsonl"
ROLE_URN = ("urn:pulumi:host::partner-access::partner-access:index:PartnerAccessGrant$aws:iam/role:Role::"
            "ex-for-aws-b-role")


def report(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO_ROOT / REPORT_SCRIPT), *arguments], capture_output=True,
                          text=True, timeout=30, check=False)


def stack(tmp_path: Path, name: str, outcome: str, events: Path) -> tuple[dict, str, str]:
    """(result JSON, summary Markdown, annotations) of one stack's report."""
    result, summary = tmp_path / "results" / f"{name}.json", tmp_path / f"{name}-summary.md"
    completed = report("stack", "--stack", name, "--outcome", outcome, "--events", str(events),
                       "--result", str(result), "--summary", str(summary))
    assert completed.returncode == 0, completed.stderr
    return json.loads(result.read_text()), summary.read_text(), completed.stdout


def test_a_mandatory_violation_is_reported_with_its_resource_and_an_error_annotation(tmp_path):
    result, summary, annotations = stack(tmp_path, "host", "failure", HOST_MANDATORY)

    [violation] = result["violations"]
    assert (violation["policy"], violation["level"], violation["resource_urn"]) == (
        "cross-account-trust-requires-mfa", "mandatory", ROLE_URN)
    assert violation["message"].startswith("IAM roles that principals outside the role's own account can assume")
    assert "<{%" not in violation["message"]  # the CLI's colour directives are gone
    assert result["engine_result"] == "failed"
    assert summary.startswith("#### `host`: preview failed: 1 mandatory violation, 0 advisory findings\n")
    assert "| mandatory | `cross-account-trust-requires-mfa` | `aws:iam/role:Role::ex-for-aws-b-role` |" in summary
    [annotation] = annotations.splitlines()
    assert annotation.startswith("::error title=host%3A cross-account-trust-requires-mfa (mandatory)::"
                                 "aws:iam/role:Role::ex-for-aws-b-role: IAM roles")
    assert "\n" not in annotation and "%0AStatement" in annotation  # one command, its newlines escaped


def test_an_advisory_finding_on_a_passing_preview_is_a_warning(tmp_path):
    result, summary, annotations = stack(tmp_path, "partner", "success", PARTNER_ADVISORY)

    assert [(v["policy"], v["level"]) for v in result["violations"]] == [
        ("assume-role-on-wildcard-resource", "advisory")]
    assert summary.startswith("#### `partner`: preview passed: 0 mandatory violations, 1 advisory finding\n")
    assert "Resources: create 5, same 3" in summary
    assert annotations.startswith("::warning title=partner%3A assume-role-on-wildcard-resource (advisory)::")


def test_a_failure_without_a_violation_shows_the_programs_error(tmp_path):
    result, summary, annotations = stack(tmp_path, "host", "failure", HOST_CONFIG_ERROR)

    assert result["violations"] == []
    assert annotations == ""
    assert "The preview failed without a mandatory violation:" in summary
    assert "partner-access:grants[0].maxSessionDurationSeconds: 60 must be a whole number" in summary


def test_no_event_log_means_the_engine_never_ran(tmp_path):
    result, summary, _ = stack(tmp_path, "host", "failure", tmp_path / "missing.jsonl")
    assert result["events_found"] is False
    assert "No engine events: the preview stopped before the engine ran" in summary


def test_a_log_cut_off_mid_event_keeps_what_came_before(tmp_path):
    lines = HOST_MANDATORY.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:-2]) + "\n" + lines[-2][:40])  # the summary event half written
    result, _, _ = stack(tmp_path, "host", "cancelled", cut)
    assert [v["policy"] for v in result["violations"]] == ["cross-account-trust-requires-mfa"]
    assert result["errors"] == ["the event log ends in an incomplete event (the run was interrupted)"]


def test_the_comment_has_the_marker_first_and_every_expected_stack(tmp_path):
    stack(tmp_path, "host", "failure", HOST_MANDATORY)
    stack(tmp_path, "partner", "success", PARTNER_ADVISORY)
    stacks = json.dumps([{"stack": name, "side": name, "region": "us-east-1"} for name in ("host", "partner", "c")])
    body = tmp_path / "body.md"

    completed = report("comment", "--results", str(tmp_path / "results"), "--stacks", stacks, "--output", str(body))

    assert completed.returncode == 0, completed.stderr
    text = body.read_text()
    assert text.splitlines()[0] == "<!-- partner-access: preview report -->"
    sections = [line for line in text.splitlines() if line.startswith("#### ")]
    assert sections == [
        "#### `host`: preview failed: 1 mandatory violation, 0 advisory findings",
        "#### `partner`: preview passed: 0 mandatory violations, 1 advisory finding",
        "#### `c`: no result",
    ]


def test_a_comment_without_results_says_why(tmp_path):
    body = tmp_path / "body.md"
    completed = report("comment", "--results", str(tmp_path / "none"), "--stacks", "", "--note",
                       "The tests failed, so no stack was previewed.", "--output", str(body))
    assert completed.returncode == 0, completed.stderr
    assert "The tests failed, so no stack was previewed." in body.read_text()


def test_table_cells_cannot_break_the_table(tmp_path):
    event = {"policyEvent": {"resourceUrn": ROLE_URN, "message": "a | b\nc", "policyName": "p|q",
                             "policyPackName": "pack", "enforcementLevel": "advisory"}}
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(event) + "\n")
    _, summary, _ = stack(tmp_path, "host", "success", events)
    assert "| advisory | `p\\|q` | `aws:iam/role:Role::ex-for-aws-b-role` | a \\| b<br>c |" in summary
