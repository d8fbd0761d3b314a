"""The offline option explorer (``explorer.html``).

Quick tests: option words, column packing and configuration codes on hand-checkable fixtures.
Slow tests, on one LLR appraisal built once for the module (``next_best`` 0): the packed
enumeration against :class:`~siteopt.appraisal.enumeration.Enumerated`, the NPV against the
appraisal's Green Book case, hand-checked money of the preferred option, and the page in headless
Chromium (driven over the DevTools protocol): changing sites' option selects shows exactly the
enumeration's row, a configuration outside the limits shows its reason, the page's limit check
agrees with :func:`siteopt.appraisal.enumeration.meets_limits` on every configuration, and a
hostile site name renders as text.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from devtools import CHROMIUM, DevToolsPage

from siteopt.appraisal.appraise import Appraisal, appraise
from siteopt.appraisal.economics import economic_case
from siteopt.appraisal.enumeration import configuration_sums, meets_limits
from siteopt.appraisal.settings import AppraisalSettings
from siteopt.catalogue.options import Ward
from siteopt.outputs.explorer import (
    code_dtype,
    configuration_code,
    enumeration_columns,
    enumeration_data,
    explorer_data,
    explorer_html,
    npc_coefficients,
    pack_column,
    strides,
    unpack_column,
    wards_words,
    write_explorer,
)
from siteopt.paths import DEFAULT_GEODATA_DIR
from siteopt.runs.pipeline import prepare


# ---------------------------------------------------------------------------------------------
# Quick, hand-checkable
# ---------------------------------------------------------------------------------------------
def test_wards_in_words() -> None:
    services = ("rehab", "stroke")
    assert wards_words((), services) == "closed"
    assert wards_words((Ward("s1", "rehab", 21),), services) == "1 rehab ward of 21 beds"
    assert wards_words((Ward("s2", "stroke", 24), Ward("s1", "rehab", 24)),
                       services) == "rehab 24 + stroke 24"
    assert wards_words((Ward("a", "rehab", 16), Ward("b", "rehab", 23)),
                       services) == "rehab 23 + rehab 16"


def test_columns_pack_little_endian_and_round_trip_exactly() -> None:
    assert pack_column([1, 258], "<u4") == base64.b64encode(
        bytes([1, 0, 0, 0, 2, 1, 0, 0])).decode()
    values = np.array([17.156352180000001, 0.1 + 0.2, -1e300, 5e-324])
    back = unpack_column(pack_column(values, "<f8"), "<f8")
    assert back.tobytes() == values.astype("<f8").tobytes()


def _toy(sizes: list[int]) -> Any:
    """A stand-in with the ``sites[*].site_id/options[*].option_id`` the coding reads."""
    return SimpleNamespace(sites=[
        SimpleNamespace(site_id=f"s{j}", options=[SimpleNamespace(option_id=f"o{i}")
                                                  for i in range(n)])
        for j, n in enumerate(sizes)])


def test_configuration_codes_are_row_major_mixed_radix() -> None:
    toy = _toy([3, 2, 4])
    assert strides(toy) == [8, 4, 1]
    assert configuration_code(toy, {"s0": "o0", "s1": "o0", "s2": "o0"}) == 0
    assert configuration_code(toy, {"s0": "o2", "s1": "o1", "s2": "o3"}) == 23  # 2*8+1*4+3
    assert configuration_code(toy, {"s0": "o1", "s1": "o0", "s2": "o2"}) == 10
    codes = {configuration_code(toy, {"s0": f"o{a}", "s1": f"o{b}", "s2": f"o{c}"})
             for a in range(3) for b in range(2) for c in range(4)}
    assert codes == set(range(24))
    with pytest.raises(ValueError):
        configuration_code(toy, {"s0": "nope", "s1": "o0", "s2": "o0"})


def test_code_type_fits_the_space() -> None:
    def space(sizes: list[int]) -> Any:  # code_dtype reads only how many options each has
        return SimpleNamespace(sites=[SimpleNamespace(options=range(n)) for n in sizes])

    assert code_dtype(space([2**16, 2**16 - 1])) == "<u4"
    assert code_dtype(space([2**16, 2**16])) == "<f8"
    with pytest.raises(ValueError):
        code_dtype(space([2**27, 2**27]))


# ---------------------------------------------------------------------------------------------
# The LLR appraisal, once for the module
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llr() -> Appraisal:
    prepared = prepare(DEFAULT_GEODATA_DIR)
    settings = AppraisalSettings.from_assumptions(prepared.data.assumptions.values,
                                                  {"appraisal.next_best_options": 0})
    return appraise(prepared, settings)


@pytest.mark.slow
def test_packed_enumeration_equals_the_enumeration(llr: Appraisal) -> None:
    enum = llr.enumeration
    assert enum is not None and enum.n_meeting_limits > 100
    cols = enumeration_columns(llr)
    np.testing.assert_allclose(cols["capex_gbp"], enum.capex_gbp, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(cols["net_capital_gbp"], enum.net_capital_gbp, rtol=1e-12,
                               atol=1e-6)
    np.testing.assert_allclose(cols["cost_gbp_per_year"], enum.cost_gbp_per_year, rtol=1e-12)
    assert len(set(cols["code"].tolist())) == enum.n_meeting_limits
    packed = enumeration_data(llr)
    assert packed is not None
    codes = unpack_column(packed["codes"], packed["code_dtype"])
    travel = unpack_column(packed["mean_travel_min"], "<f8")
    assert np.all(np.diff(codes.astype(np.float64)) > 0)  # sorted, for the binary search
    by_code = dict(zip(codes.tolist(), travel.tolist(), strict=True))
    inst = llr.prepared.evaluation_instance
    for i in (0, enum.n_meeting_limits // 2, enum.n_meeting_limits - 1):
        assert by_code[configuration_code(inst, enum.choices[i])] == enum.mean_travel_min[i]


@pytest.mark.slow
def test_npv_is_the_appraisals_green_book_case(llr: Appraisal) -> None:
    coef = npc_coefficients(llr)
    for capex, disp, rev in ((1.2e7, 3e6, 1.9e7), (0.0, 0.0, 1.0), (5e6, 7e6, 0.0)):
        direct = economic_case(capex, disp, rev, llr.settings)["npc_gbp"]
        linear = coef["capex"] * capex + coef["disposals"] * disp + coef["revenue"] * rev
        assert linear == pytest.approx(direct, rel=1e-12, abs=1e-6)
    cols = enumeration_columns(llr)
    enum = llr.enumeration
    assert enum is not None
    index = {tuple(sorted(c.items())): i for i, c in enumerate(enum.choices)}
    checked = 0
    for r in llr.options:
        i = index.get(tuple(sorted(r.choice.items())))
        if i is not None:
            assert cols["npv_vs_status_quo_gbp"][i] == pytest.approx(
                r.economics["npv_vs_status_quo_gbp"], rel=1e-9, abs=1.0), r.name
            assert cols["mean_travel_min"][i] == pytest.approx(
                r.measures["access"]["mean_travel_min"], abs=1e-6), r.name
            checked += 1
    assert checked >= 5


@pytest.mark.slow
def test_preferred_option_money_by_hand(llr: Appraisal) -> None:
    """The preferred option builds at Evington (7.5m), extends Melton (3.85m) and closes Rutland
    Memorial (1.0m re-provision, 4.758m receipt) and Feilding Palmer (1.35m, 3.0m); Melton's
    extension releases 7.0m only because Rutland Memorial closes."""
    pref = llr.option(llr.preferred)
    assert pref.choice["melton"] == "rehab21" and pref.choice["oakham"] == "closed"
    assert pref.choice["lutterworth"] == "closed"
    cols = enumeration_columns(llr)
    assert llr.enumeration is not None
    i = [dict(c) for c in llr.enumeration.choices].index(pref.choice)
    assert cols["capex_gbp"][i] == pytest.approx(7.5e6 + 3.85e6 + 1.0e6 + 1.35e6)
    assert cols["disposals_gbp"][i] == pytest.approx(4.758e6 + 3.0e6 + 7.0e6)
    data = explorer_data(llr)
    melton = [s["id"] for s in data["sites"]].index("melton")
    oakham = [s["id"] for s in data["sites"]].index("oakham")
    link = next(ln for ln in data["links"] if ln["site"] == melton)
    assert link["receipt"] == 7.0e6 and link["closed"] == [oakham]


@pytest.mark.slow
def test_page_is_self_contained_and_its_data_round_trips(llr: Appraisal, tmp_path: Path
                                                         ) -> None:
    path = write_explorer(llr, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text)  # nothing fetched
    assert "http://www.w3.org/2000/svg" in text  # the SVG namespace, a name not a fetch
    assert text.count("<script") == 2 and text.count("</script>") == 2
    blob = re.search(r"<script id='explorer-data' type='application/json'>(.*?)</script>",
                     text, re.S)
    assert blob is not None
    assert json.loads(blob.group(1)) == json.loads(json.dumps(explorer_data(llr)))
    assert len(text.encode("utf-8")) < 400_000


# ---------------------------------------------------------------------------------------------
# Headless Chromium
# ---------------------------------------------------------------------------------------------
class Browser(DevToolsPage):
    """The shared driver at the explorer's window size."""

    def __init__(self) -> None:
        super().__init__(window_size="1300,1000", ws_timeout_s=60,
                         profile_prefix="siteopt-explorer-")

    def open(self, url: str) -> float:
        """Load ``url``; the seconds until the page has drawn its first configuration."""
        self.events.clear()
        start = time.monotonic()
        self.call("Page.navigate", url=url)
        while time.monotonic() < start + 60:
            if self.evaluate("document.readyState === 'complete' && "
                             "!!window.siteoptExplorerState"):
                return time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError(f"{url}: the explorer did not draw within 60 s")

    def problems(self) -> list[str]:
        """JavaScript errors, console errors, failed loads and dialogs."""
        self.evaluate("1")
        out = []
        for ev in self.events:
            m, p = ev["method"], ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}")
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out

    def choose(self, choice: dict[str, str]) -> None:
        """Change each site's option select that differs from ``choice``, as a user would."""
        self.evaluate(
            "(() => { const c = " + json.dumps(choice) + ";"
            " document.querySelectorAll('select[data-site]').forEach(sel => {"
            "  const want = Array.from(sel.options).find("
            "   o => o.dataset.option === c[sel.dataset.site]);"
            "  if (want && sel.value !== want.value) { sel.focus(); sel.value = want.value;"
            "   sel.dispatchEvent(new Event('change', {bubbles: true})); } }); })()")

    def shown(self) -> dict[str, Any]:
        return dict(self.evaluate(
            "(() => { const v = id => document.getElementById(id);"
            " return {travel: v('mean-travel').dataset.value,"
            " travelText: v('mean-travel').textContent, cost: v('cost').dataset.value,"
            " costText: v('cost').textContent, net: v('net-capital').dataset.value,"
            " netText: v('net-capital').textContent, npv: v('npv').dataset.value,"
            " npvText: v('npv').textContent, status: v('status').className,"
            " head: v('status-head').textContent,"
            " reasons: Array.from(document.querySelectorAll('#reasons li'))"
            "   .map(li => li.textContent),"
            " state: window.siteoptExplorerState}; })()"))


chromium_only = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    pytest.importorskip("websocket", reason="needs websocket-client (test extras)")
    b = Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def page(llr: Appraisal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_explorer(llr, tmp_path_factory.mktemp("explorer"))


def gbp_text(x: float) -> str:
    """The page's whole-pound format (half rounds up, as ``Math.round``)."""
    s = f"£{math.floor(abs(x) + 0.5):,}"
    return ("\u2212" if x < -0.5 else "") + s


def one_site_away(llr: Appraisal, start: dict[str, str], want: Any) -> dict[str, str]:
    """A configuration differing from ``start`` at one site for which ``want(choice)``."""
    for site in llr.prepared.evaluation_instance.sites:
        for o in site.options:
            c = dict(start, **{site.site_id: o.option_id})
            if c != start and want(c):
                return c
    raise AssertionError("no such configuration one site away")


@pytest.mark.slow
@chromium_only
def test_changing_a_site_shows_exactly_the_enumerations_row(
        llr: Appraisal, browser: Browser, page: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    enum = llr.enumeration
    assert enum is not None
    cols = enumeration_columns(llr)
    load_s = browser.open(page.as_uri())
    shots = Path(os.environ.get("SITEOPT_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    browser.screenshot(shots / "explorer.png")
    print(f"explorer.html: {page.stat().st_size:,} bytes, drawn in {load_s:.2f} s")
    assert browser.problems() == []
    rows = {tuple(sorted(c.items())): i for i, c in enumerate(enum.choices)}
    long_keys = {tuple(sorted(r.choice.items())) for r in llr.options}
    start = llr.option(llr.preferred).choice
    first = browser.shown()
    assert first["status"] == "ok"
    assert float(first["travel"]) == enum.mean_travel_min[rows[tuple(sorted(start.items()))]]
    target = one_site_away(llr, start, lambda c: tuple(sorted(c.items())) in rows
                           and tuple(sorted(c.items())) not in long_keys)
    browser.choose(target)
    got = browser.shown()
    i = rows[tuple(sorted(target.items()))]
    assert got["status"] == "ok" and got["reasons"] == []
    assert got["state"]["code"] == configuration_code(llr.prepared.evaluation_instance, target)
    assert float(got["travel"]) == enum.mean_travel_min[i]  # exact: the packed float64
    assert got["travelText"] == f"{enum.mean_travel_min[i]:.2f} min"
    assert float(got["cost"]) == pytest.approx(enum.cost_gbp_per_year[i], rel=1e-13)
    assert float(got["net"]) == pytest.approx(enum.net_capital_gbp[i], rel=1e-13, abs=1e-6)
    assert float(got["npv"]) == pytest.approx(cols["npv_vs_status_quo_gbp"][i], rel=1e-13)
    assert got["costText"] == gbp_text(enum.cost_gbp_per_year[i])
    assert got["netText"] == gbp_text(enum.net_capital_gbp[i])
    assert got["npvText"] == gbp_text(cols["npv_vs_status_quo_gbp"][i])
    assert got["travel"] != first["travel"] or got["cost"] != first["cost"]
    shown_groups = browser.evaluate(
        "Array.from(document.querySelectorAll('#group-means tbody tr'))"
        ".map(tr => tr.lastChild.textContent)")
    groups = {g: t for g, t in getattr(enum, "group_mean_travel_min", {}).items() if g != "all"}
    if groups:  # the enumeration kept each group's mean drive: shown to 0.1 minute
        assert shown_groups == [
            "\u2014" if math.isnan(t[i]) else f"{float(np.float32(t[i])):.1f} min"
            for t in groups.values()]
    else:
        assert shown_groups == []
        assert browser.evaluate("!!document.getElementById('groups-note')")
    assert browser.problems() == []


@pytest.mark.slow
@chromium_only
def test_outside_the_limits_shows_why(llr: Appraisal, browser: Browser, page: Path) -> None:
    browser.open(page.as_uri())
    start = llr.option(llr.preferred).choice
    short = one_site_away(llr, start, lambda c: c["coalville"] == "closed")
    browser.choose(short)
    got = browser.shown()
    assert got["status"] == "out"
    # Coalville's 24 rehab and 24 stroke beds gone: 142 rehab and 30 stroke beds are left
    assert got["reasons"] == ["short of beds: rehab 23.1 beds below the need of 165.1, "
                              "stroke 19.0 beds below the need of 49.0"]
    assert "not computed" in got["travelText"]
    # Rutland Memorial kept open: no 4.758m closure receipt and no 7.0m from Melton's
    # extension, so 12.7m capex less 3.0m receipts is 9.7m net, over the 5.95m limit
    browser.choose(dict(start, oakham="rehab16"))
    got = browser.shown()
    assert got["status"] == "out" and float(got["net"]) == pytest.approx(9.7e6)
    assert got["reasons"] == ["net capital £9.70m exceeds the limit of £5.95m"]
    # business as usual is a long-list option outside the optimiser's catalogue
    browser.evaluate("(() => { const s = document.getElementById('start');"
                     " s.value = '0'; s.dispatchEvent(new Event('change')); })()")
    got = browser.shown()
    assert got["status"] == "out" and any("not offered to the optimiser" in r
                                          for r in got["reasons"])
    assert float(got["travel"]) == llr.option("status_quo").measures["access"]["mean_travel_min"]
    assert browser.problems() == []


@pytest.mark.slow
@chromium_only
def test_within_the_limits_but_not_enumerated_is_the_drive_limit(
        llr: Appraisal, browser: Browser, tmp_path: Path) -> None:
    """In LLR every configuration within the configuration-level limits has an assignment within
    the drive limits (60 minutes, mean 20), so the page is given the enumeration without one
    row: that configuration must show the drive limits as its reason."""
    inst, model = llr.prepared.instance, llr.prepared.scenario.model
    grid = np.indices([len(s.options) for s in inst.sites]).reshape(len(inst.sites), -1).T
    assert llr.enumeration is not None
    assert int(meets_limits(inst, model, grid, configuration_sums(inst, grid)).sum()) == (
        llr.enumeration.n_meeting_limits)
    enum = llr.enumeration
    start = llr.option(llr.preferred).choice
    drop = next(i for i, c in enumerate(enum.choices)
                if c != start and sum(c[k] != start[k] for k in c) == 1)
    keep = np.array([i != drop for i in range(enum.n_meeting_limits)])
    fewer = dataclasses.replace(
        enum, n_meeting_limits=enum.n_meeting_limits - 1,
        choices=[c for i, c in enumerate(enum.choices) if i != drop],
        mean_travel_min=enum.mean_travel_min[keep], cost_gbp_per_year=enum.cost_gbp_per_year[keep],
        net_capital_gbp=enum.net_capital_gbp[keep], capex_gbp=enum.capex_gbp[keep],
        beds={v: b[keep] for v, b in enum.beds.items()}, sites_with_beds=enum.sites_with_beds[keep])
    path = write_explorer(dataclasses.replace(llr, enumeration=fewer), tmp_path)
    browser.open(path.as_uri())
    browser.choose(enum.choices[drop])
    got = browser.shown()
    assert got["status"] == "out"
    assert got["reasons"] == [
        "the assignment of zones is infeasible within the drive limit: no assignment of "
        "neighbourhoods to these wards keeps every neighbourhood within 60 minutes of its ward "
        "and the 65+ mean drive within 20 minutes"]
    assert browser.problems() == []


@pytest.mark.slow
@chromium_only
def test_page_limits_and_hurdles_agree_with_the_appraisal(llr: Appraisal, browser: Browser,
                                                          page: Path) -> None:
    """The page's limit check equals meets_limits on every configuration of the optimiser's
    space; its own hurdles and NPV equal the appraisal's for every long-list option."""
    browser.open(page.as_uri())
    inst_eval = llr.prepared.evaluation_instance
    inst, model = llr.prepared.instance, llr.prepared.scenario.model
    grid = np.indices([len(s.options) for s in inst.sites]).reshape(len(inst.sites), -1).T
    keep = meets_limits(inst, model, grid, configuration_sums(inst, grid))
    st = strides(inst_eval)
    to_eval = [np.array([[o.option_id for o in ev.options].index(o.option_id)
                         for o in s.options]) for s, ev in zip(inst.sites, inst_eval.sites,
                                                               strict=True)]
    codes = np.zeros(len(grid), dtype=np.int64)
    for j in range(len(st)):
        codes += st[j] * to_eval[j][grid[:, j]]
    expected = sorted(int(c) for c in codes[keep])
    within = browser.evaluate(
        "(() => { const X = window.siteoptExplorer, S = X.data.sites, out = [];"
        " const offered = S.map(s => s.options.map((o, i) => o.offered ? i : -1)"
        "   .filter(i => i >= 0));"
        " const pos = S.map(() => 0), idx = S.map(() => 0);"
        " while (true) { for (let j = 0; j < S.length; j++) pos[j] = offered[j][idx[j]];"
        "  if (X.limitReasons(pos).length === 0) out.push(X.codeOf(pos));"
        "  let j = S.length - 1; while (j >= 0 && ++idx[j] === offered[j].length) {"
        "   idx[j] = 0; j--; } if (j < 0) break; }"
        " return out.sort((a, b) => a - b); })()")
    assert len(expected) > 0 and within == expected
    for r in llr.options:
        code = configuration_code(inst_eval, r.choice)
        ev = browser.evaluate(
            f"(() => {{ const X = window.siteoptExplorer, e = X.evaluate(X.posOf({code}));"
            " const h = {}; for (const k in e.computedHurdles) h[k] = e.computedHurdles[k] ==="
            " undefined ? 'undefined' : e.computedHurdles[k];"
            " return {h: h, npv: e.f.npv, long: e.longList && e.longList.name}; })()")
        assert ev["long"] == r.name or tuple(sorted(r.choice.items())) in {
            tuple(sorted(o.choice.items())) for o in llr.options if o.name == ev["long"]}
        assert ev["npv"] == pytest.approx(r.economics["npv_vs_status_quo_gbp"], rel=1e-9,
                                          abs=1.0), r.name
        for k in ("bed_need", "capital", "staffing", "access", "resilience"):
            assert ev["h"][k] == r.hurdles[k], (r.name, k)
        assert ev["h"]["equity"] == "undefined"
    assert browser.problems() == []


@pytest.mark.slow
@chromium_only
def test_hostile_site_name_is_text(llr: Appraisal, browser: Browser, tmp_path: Path) -> None:
    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    p = llr.prepared
    cat = p.catalogue
    ev = cat.evaluation_instance
    sites = (dataclasses.replace(ev.sites[0], name=evil), *ev.sites[1:])
    cat2 = dataclasses.replace(cat, evaluation_instance=dataclasses.replace(ev, sites=sites))
    a2 = dataclasses.replace(llr, prepared=dataclasses.replace(p, catalogue=cat2))
    path = tmp_path / "explorer.html"
    path.write_text(explorer_html(a2), encoding="utf-8")
    browser.open(path.as_uri())
    got = browser.evaluate(
        "({label: document.querySelector('label[for=site-0]').title,"
        " imgs: document.querySelectorAll('img').length,"
        " scripts: document.querySelectorAll('script').length})")
    assert got == {"label": evil, "imgs": 0, "scripts": 2}
    assert browser.problems() == []
