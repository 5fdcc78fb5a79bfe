"""The HTML analysis report opened in a real browser (headless Chromium), with no network.

Chromium is driven from the command line (``--screenshot``, ``--dump-dom``), so the test
needs no WebDriver package; it is skipped, saying why, where Chromium is not installed.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from complaints.reporting.render import render_html
from tests.sample_figures import TEMPLATES, figures

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1200, 2400

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"{CHROMIUM} is not installed: this test opens the report in a real headless browser",
)


def chromium(tmp_path: Path, name: str, *arguments: str) -> subprocess.Popen[str]:
    """Chromium with a profile of its own, so two runs at once do not share a lock."""
    return subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp_path / f'profile-{name}'}",
            f"--window-size={WIDTH},{HEIGHT}",
            *arguments,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, err[-2000:]
    return out


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_monthly_report_opens_offline_with_its_figures_and_three_charts(
    tmp_path: Path,
) -> None:
    page = tmp_path / "monthly-analysis.html"
    page.write_text(render_html(figures(), TEMPLATES), encoding="utf-8")
    screenshot = tmp_path / "monthly-analysis.png"

    shooting = chromium(tmp_path, "shot", f"--screenshot={screenshot}", page.as_uri())
    dumping = chromium(tmp_path, "dom", "--dump-dom", page.as_uri())
    dom = finish(dumping)
    finish(shooting)

    assert png_size(screenshot) == (WIDTH, HEIGHT)
    assert screenshot.stat().st_size > 50_000  # a blank page compresses to a few kilobytes
    assert dom.count("<svg") == 3
    assert "月度投诉分析报告" in dom
    for figure in ("48", "+20.0%", "−4.0%", "87.5%", "82.5%", "93.0%", "85.4%", "12 分钟"):
        assert figure in dom, figure
    assert "✗ 未达标" in dom and "✓ 达标" in dom
    assert "138****5678" in dom and "13812345678" not in dom
