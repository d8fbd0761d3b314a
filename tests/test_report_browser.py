"""The HTML report in headless Chromium: it renders, logs no console errors, every image loads.

Skipped (with the reason) only if no chromium binary is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from siteopt.appraisal.appraise import appraise
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.outputs.report import write_report
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,  # headless Chromium
    pytest.mark.skipif(CHROMIUM is None,
                       reason="chromium is not installed (apt-get install chromium)"),
]

REDUCED = ["catalogue.allow_existing_as_is=false",
           'model.fixed_options={coalville="status_quo", loughborough="status_quo"}']

CHECK_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var pre = document.createElement('pre');
  pre.id = 'siteopt-check';
  pre.textContent = 'IMAGES ' + ok + '/' + imgs.length;
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    prepared = prepare(DEFAULT_GEODATA_DIR, overrides=REDUCED)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 1})
    write_report(appraise(prepared, settings), out)
    return out / "report.html"


def test_report_renders_without_console_errors_and_images_load(report: Path,
                                                               tmp_path: Path) -> None:
    html_text = report.read_text(encoding="utf-8")
    n_images = len(re.findall(r"<img ", html_text))
    # three charts, and the timelines of the preferred option and the 2016 proposal's phasing
    assert len(re.findall(r"<figure><img alt='Phasing of ", html_text)) == 2
    assert n_images == 3 + 2
    assert "<script" not in html_text  # the report itself is static
    probe = tmp_path / "probe.html"
    probe.write_text(html_text.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    res = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"IMAGES {n_images}/{n_images}" in res.stdout
    assert "Options appraisal" in res.stdout or "options appraisal" in res.stdout
    console = [line for line in res.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    # the report as delivered: no console output either
    res2 = _chromium(["--virtual-time-budget=10000", "--dump-dom", report.as_uri()], tmp_path)
    assert res2.returncode == 0
    assert [line for line in res2.stderr.splitlines() if "CONSOLE" in line] == []


def test_report_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1200,1600",
                     "--virtual-time-budget=10000", report.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1200, 1600)
        colours = im.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # text, tables and colour, not blank
