"""The HTML report rendered in headless Chromium (Debian's chromium package): it must load with no network and
paint the timeline. Skipped, with the reason, where chromium is not installed."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partner_access.activity.build import build_report
from partner_access.activity.grants_config import load_grants
from partner_access.activity.render_html import render_html
from support.cloudtrail_week import GRANTS_YAML, generate_week

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def test_html_report_renders_in_headless_chromium(tmp_path):
    generate_week(tmp_path / "week", sessions_per_user=2, calls_per_session=5, noise_per_day=5)
    (tmp_path / "Pulumi.yaml").write_text(GRANTS_YAML)
    report = build_report(load_grants(str(tmp_path / "Pulumi.yaml")), [str(tmp_path / "week")],
                          datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC), tmp_path)
    page = tmp_path / "activity.html"
    html = render_html(report)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    page.write_text(html, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "<svg" in dom and "Sessions over time" in dom and "maintenance" in dom
    screenshot = tmp_path / "activity.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={screenshot}", "--window-size=1100,900", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000
    keep = Path("/tmp/partner-access-activity.png")
    shutil.copy(screenshot, keep)
