"""Open every HTML map of the LLR appraisal in headless Chromium, offline.

The browser is driven through the DevTools protocol (``--remote-debugging-port`` and a
websocket): the test fails on any JavaScript exception, any ``console.error``/``console.assert``,
any browser log entry of level error except the OpenStreetMap tiles (which cannot load offline),
any dialog (an ``alert`` would mean injected script ran), or if the markers and SVG paths in the
DOM are not the ones the map was built with. It saves a screenshot of each page for people to look
at (``SITEOPT_SCREENSHOT_DIR``, default a temporary folder).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devtools import CHROMIUM, DevToolsPage

TILE_HOSTS = ("tile.openstreetmap.org",)
"""The only URLs allowed to fail: background tiles, fetched from the web."""

pytestmark = [
    pytest.mark.slow,  # headless Chromium
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"),
]

websocket = pytest.importorskip("websocket", reason="needs websocket-client (test extras)")


class Browser(DevToolsPage):
    """The shared driver, with the Network domain on (so requests leaving file:// show)."""

    def __init__(self) -> None:
        super().__init__(domains=("Page", "Runtime", "Log", "Network"))

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self.evaluate("document.readyState === 'complete' && "
                                  "typeof window.L !== 'undefined'")
            if ready:
                # the hospital labels are placed after load and fonts (leaflet.py)
                self.evaluate("(typeof siteoptLabelsReady === 'undefined' ? Promise.resolve()"
                              " : siteoptLabelsReady).then(() => new Promise("
                              "r => requestAnimationFrame(() => r(true))))")
                return
            time.sleep(0.1)
        raise AssertionError(f"{url}: Leaflet did not load within 30 s")

    def problems(self) -> list[str]:
        """JavaScript errors, console errors, dialogs and failed loads other than tiles."""
        self.evaluate("1")  # drain pending events
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')} "
                           f"{p['exceptionDetails'].get('exception', {}).get('description')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: "
                           + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                entry = p["entry"]
                if not any(h in (entry.get("url") or "") for h in TILE_HOSTS):
                    out.append(f"log: {entry.get('text')} {entry.get('url', '')}")
            elif m == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out

    def requests(self) -> list[str]:
        """The URLs the page asked for since it was opened."""
        self.evaluate("1")  # drain pending events
        return [ev["params"]["request"]["url"] for ev in self.events
                if ev["method"] == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("SITEOPT_SCREENSHOT_DIR")
    if env:
        path = Path(env)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def llr() -> Any:
    from siteopt.paths import DEFAULT_GEODATA_DIR
    from siteopt.runs.pipeline import evaluate_configuration, optimise_scenario, prepare
    prepared = prepare(DEFAULT_GEODATA_DIR)
    solutions = {"status_quo": evaluate_configuration(prepared, "status_quo"),
                 "stp_2016": evaluate_configuration(prepared, "stp_2016"),
                 "optimal": optimise_scenario(prepared)}
    return prepared, solutions


def test_every_llr_map_renders_offline(llr: Any, browser: Browser, tmp_path: Path,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    from siteopt.outputs import leaflet, maps
    prepared, solutions = llr
    shots = screenshot_dir(tmp_path_factory)
    plan = maps.map_plan(list(solutions))
    assert len(plan) == 8
    for kind, names in plan:
        if kind == "option":
            obj: Any = maps.option_map(prepared, solutions, names[0])
        elif kind == "change":
            obj = maps.change_map(prepared, solutions, names[0])
        else:
            obj = maps.comparison_map(prepared, solutions, names[0], names[1])
        name = maps.page_name(kind, names)
        path = leaflet.write_page(obj, tmp_path / name)
        expected = maps.page_counts(obj)
        browser.open(path.as_uri())
        got = browser.evaluate(
            "({markers: document.querySelectorAll('.leaflet-marker-icon').length,"
            " paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,"
            " maps: document.querySelectorAll('.leaflet-container').length,"
            " layersControls: document.querySelectorAll('.leaflet-control-layers').length,"
            " legend: document.querySelectorAll('aside.siteopt-legend').length,"
            " tables: document.querySelectorAll('#tables table').length})")
        browser.screenshot(shots / name.replace(".html", ".png"))
        assert browser.problems() == [], name
        n_maps = len(maps.page_maps(obj))
        assert got["markers"] == expected["markers"] > 0, name
        assert got["paths"] == expected["paths"] > 0, name
        assert got["maps"] == got["layersControls"] == n_maps, name
        assert got["legend"] == 1 and got["tables"] >= 2, name
        # Nothing leaves file:// (the background tiles are off unless asked for).
        assert [u for u in browser.requests() if not u.startswith(("file:", "data:"))] == [], name
        check_choropleth(browser, name, n_maps, len(prepared.data.sites))
        if kind == "option":
            check_keyboard(browser, name)


def check_choropleth(browser: Browser, name: str, n_maps: int, n_sites: int) -> None:
    """Each map's opening view holds every neighbourhood polygon; every hospital's name is a
    permanent label inside the map, not over another label; the scale bar is inside the map
    and clear of the attribution."""
    got = browser.evaluate("""(() => {
      const maps = Object.keys(window).filter(k => /^map_[0-9]+$/.test(k))
        .map(k => window[k]).filter(m => m instanceof L.Map);
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
        && b.top < a.bottom;
      return maps.map(m => {
        const view = m.getBounds(), polygons = [];
        m.eachLayer(l => { if (l instanceof L.Polygon) { polygons.push(l); } });
        const frame = m.getContainer().getBoundingClientRect();
        const labels = Array.from(m.getContainer().querySelectorAll(
          '.leaflet-tooltip.siteopt-label')).map(e => e.getBoundingClientRect());
        const scale = m.getContainer().querySelector('.leaflet-control-scale')
          .getBoundingClientRect();
        const attribution = m.getContainer().querySelector('.leaflet-control-attribution')
          .getBoundingClientRect();
        return {polygons: polygons.length,
                outside: polygons.filter(p => !view.contains(p.getBounds())).length,
                labels: labels.length,
                labelsInside: labels.every(r => r.left >= frame.left && r.right <= frame.right
                  && r.top >= frame.top && r.bottom <= frame.bottom),
                labelOverlaps: labels.filter((a, i) => labels.some((b, j) => j > i && hit(a, b)))
                  .length,
                scaleInside: scale.width > 20 && scale.left >= frame.left
                  && scale.bottom <= frame.bottom,
                scaleClear: !hit(scale, attribution)};
      });
    })()""")
    assert len(got) == n_maps, name
    for m in got:
        # 634 neighbourhoods and 9 local authorities, all inside the opening view
        assert m["polygons"] == 634 + 9 and m["outside"] == 0, (name, m)
        assert m["labels"] == n_sites and m["labelsInside"], (name, m)
        assert m["labelOverlaps"] == 0, (name, m)
        assert m["scaleInside"] and m["scaleClear"], (name, m)


def test_tiles_only_when_asked(llr: Any, browser: Browser, tmp_path: Path) -> None:
    """With ``tiles=True`` the map opens on the OpenStreetMap background (which asks the web
    for tiles); by default it does not, and the choice is labelled "needs internet"."""
    from siteopt.outputs import leaflet, maps
    prepared, solutions = llr
    for tiles in (False, True):
        path = leaflet.write_page(maps.option_map(prepared, solutions, "stp_2016", tiles=tiles),
                                  tmp_path / f"tiles_{tiles}.html")
        browser.open(path.as_uri())
        got = browser.evaluate(
            "({tiles: document.querySelectorAll('.leaflet-tile-pane img').length,"
            " choice: Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
            "   .map(e => e.innerText.trim())})")
        web = [u for u in browser.requests() if u.startswith(("http:", "https:"))]
        assert "OpenStreetMap background (needs internet)" in got["choice"]
        assert "Plain background (works offline)" in got["choice"]
        if tiles:
            assert got["tiles"] > 0 and web and all("tile.openstreetmap.org" in u for u in web)
        else:
            assert got["tiles"] == 0 and web == []


def check_keyboard(browser: Browser, name: str) -> None:
    """Hospital symbols are buttons in the tab order with a name; Enter opens their details;
    the layer control's inputs and the zoom buttons are focusable."""
    got = browser.evaluate(
        "(() => { const icons = Array.from(document.querySelectorAll('.leaflet-marker-icon'));"
        " return {focusable: icons.every(e => e.tabIndex === 0 && e.getAttribute('role') ==="
        " 'button' && e.title.length > 10),"
        " inputs: document.querySelectorAll('.leaflet-control-layers input').length,"
        " zoom: document.querySelectorAll('a.leaflet-control-zoom-in[role=button]').length,"
        " popups: document.querySelectorAll('.leaflet-popup').length}; })()")
    assert got["focusable"] and got["inputs"] >= 5 and got["zoom"] == 1, (name, got)
    assert got["popups"] == 0, name
    browser.evaluate("document.querySelector('.leaflet-marker-icon').focus()")
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                     windowsVirtualKeyCode=13, nativeVirtualKeyCode=13,
                     **({"text": "\r"} if kind == "keyDown" else {}))
    popup = browser.evaluate(
        "(() => { const p = document.querySelector('.leaflet-popup-content');"
        " return p ? p.innerText : ''; })()")
    assert "Inpatient beds" in popup, (name, popup)


def test_harness_catches_errors(browser: Browser, tmp_path: Path) -> None:
    """The checks above can fail: a script error, a console error and a dialog are all seen."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><head><script>window.L = {};</script></head><body>"
                    "<script>console.error('boom');</script>"
                    "<script>alert('injected');</script>"
                    "<script>undefinedFunction();</script></body></html>", encoding="utf-8")
    browser.open(page.as_uri())
    problems = browser.problems()
    assert any("boom" in p for p in problems)
    assert any("dialog: injected" in p for p in problems)
    assert any("undefinedFunction" in p for p in problems)


def test_hostile_names_render_as_text(llr: Any, browser: Browser, geodata_copy: Path,
                                      tmp_path: Path) -> None:
    """A site named ``<script>alert(1)</script>`` shows as that text and runs nothing."""
    import csv

    from siteopt.outputs import leaflet, maps
    from siteopt.runs.pipeline import evaluate_configuration, prepare
    evil = "<script>alert(1)</script>"
    path = geodata_copy / "sites.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["name"] = evil
    rows[1]["name"] = "`${alert(2)}`<img src=x onerror=alert(3)>"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    prepared = prepare(geodata_copy, travel=llr[0].travel)
    solutions = {"status_quo": evaluate_configuration(prepared, "status_quo"),
                 "stp_2016": evaluate_configuration(prepared, "stp_2016")}
    page = leaflet.write_page(maps.option_map(prepared, solutions, "stp_2016"),
                           tmp_path / "evil.html")
    browser.open(page.as_uri())
    got = browser.evaluate(
        "({text: document.body.innerText.includes('<script>alert(1)</script>'),"
        " title: Array.from(document.querySelectorAll('.leaflet-marker-icon'))"
        "        .some(e => e.title.startsWith('<script>alert(1)</script>')),"
        " imgs: document.querySelectorAll('img[src=x]').length,"
        " markers: document.querySelectorAll('.leaflet-marker-icon').length})")
    assert browser.problems() == []  # no alert dialog, no script error
    assert got == {"text": True, "title": True, "imgs": 0, "markers": 9}
