"""zizmor (a static analyser for GitHub Actions, run offline) finds nothing high in any workflow or in the docs'
example caller of the reusable workflow: no movable action reference, no template injection, no credentials left
on disk, no dangerous trigger."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ci.workflow_model import REPO_ROOT, WORKFLOW_DIR, doc_yaml_blocks

ZIZMOR = Path(sys.executable).with_name("zizmor")
PIPELINE_DOC = REPO_ROOT / "docs" / "pipeline.md"


def zizmor_findings(*paths: Path) -> list[dict[str, Any]]:
    """Every finding of zizmor's default (regular) persona, as its JSON output lists them."""
    completed = subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "json", *map(str, paths)],
                               capture_output=True, text=True, timeout=120, check=False)
    # zizmor exits 0 without findings and 10-14 with them (by the highest severity); anything else is its error.
    assert completed.returncode in (0, 10, 11, 12, 13, 14), completed.stderr
    return json.loads(completed.stdout)


def high(findings: list[dict[str, Any]]) -> list[str]:
    return [f"{finding['ident']}: {finding['desc']}" for finding in findings
            if finding["determinations"]["severity"] == "High"]


@pytest.fixture(scope="module")
def example_caller_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    [caller] = [block for block in doc_yaml_blocks(PIPELINE_DOC.read_text())
                if isinstance(block, dict) and "jobs" in block]
    directory = tmp_path_factory.mktemp("caller") / ".github" / "workflows"
    directory.mkdir(parents=True)
    path = directory / "partner-access-policy.yml"
    path.write_text(yaml.safe_dump(caller, sort_keys=False))
    return path


def test_no_high_finding_in_any_workflow():
    assert high(zizmor_findings(WORKFLOW_DIR)) == []


def test_no_high_finding_in_the_documented_example_caller(example_caller_file):
    assert high(zizmor_findings(example_caller_file)) == []


def test_zizmor_reports_a_tag_pinned_action_as_high(tmp_path):
    workflow = tmp_path / "unpinned.yml"
    workflow.write_text("on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - uses: actions/checkout@v7\n        with:\n          persist-credentials: false\n")
    assert [line.split(":", 1)[0] for line in high(zizmor_findings(workflow))] == ["unpinned-uses"]
