"""What-if: solve several scenarios on the same data and say what changes against the first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siteopt.data.load import load_inputs
from siteopt.errors import SiteoptError
from siteopt.runs.pipeline import Prepared, optimise_scenario, prepare, travel_times
from siteopt.wards.results import Solution, access_measures, totals

MEASURES = (
    ("sites_with_beds", "sites with beds", "{:.0f}"),
    ("beds_rehab", "rehab beds", "{:.0f}"),
    ("beds_stroke", "stroke beds", "{:.0f}"),
    ("mean_travel_min", "mean drive, 65+ (min)", "{:.1f}"),
    ("max_travel_min", "longest drive (min)", "{:.1f}"),
    ("share_within_30_min", "65+ within 30 min", "{:.1%}"),
    ("capex_gbp", "capex (£m)", "£{:.2f}m"),
    ("net_capital_gbp", "net capital (£m)", "£{:.2f}m"),
    ("revenue_gbp_per_year", "revenue (£m/yr)", "£{:.2f}m"),
    ("staff_wte", "staff WTE", "{:.1f}"),
    ("staff_wte_rn", "registered nurse WTE", "{:.1f}"),
)
"""(key, label, format) of the measures compared; money keys are shown in £m."""


@dataclass(frozen=True)
class Outcome:
    """One scenario's result: a solution, or the reason there is none."""

    name: str
    prepared: Prepared | None
    solution: Solution | None
    error: str = ""

    def measures(self) -> dict[str, float]:
        """The compared measures (empty if the scenario failed)."""
        if self.solution is None or self.prepared is None:
            return {}
        inst = self.prepared.instance
        t = totals(inst, self.solution.choice)
        acc = access_measures(inst, self.solution.assignment)
        out = {"sites_with_beds": float(t["sites_with_beds"]),
               "mean_travel_min": acc["mean_travel_min"],
               "max_travel_min": acc["max_travel_min"],
               "share_within_30_min": acc["share_within_30_min"]}
        out.update({f"beds_{v}": float(b) for v, b in t["beds"].items()})
        for key in ("capex_gbp", "net_capital_gbp", "revenue_gbp_per_year", "staff_wte",
                    "staff_wte_rn"):
            out[key] = float(t[key])
        return out

    def beds_by_site(self) -> dict[str, dict[str, int]]:
        if self.solution is None or self.prepared is None:
            return {}
        return {s.name: {v: int(b) for v, b in s.option(self.solution.choice[s.site_id])
                         .beds.items()} for s in self.prepared.instance.sites}


def run_whatif(geodata_dir: Path, scenario_paths: Sequence[Path],
               travel_csv: Path | None = None, *,
               cache_dir: Path | None = None) -> list[Outcome]:
    """Solve each scenario, loading the inputs and travel times once.

    Parameters
    ----------
    geodata_dir : Path
        The region's geodata folder.
    scenario_paths : sequence of Path
        Scenario TOML files; the first is the one the others are compared against.
    travel_csv : Path, optional
        A precomputed matrix instead of the road graph.
    cache_dir : Path, optional
        Where road-graph matrices are cached (default
        :func:`siteopt.travel.matrix.default_cache_dir`).
    """
    inputs = load_inputs(geodata_dir, travel_csv=travel_csv)
    travel = travel_times(inputs, cache_dir=cache_dir)
    outcomes = []
    for path in scenario_paths:
        prepared = prepare(geodata_dir, path, inputs=inputs, travel=travel)
        try:
            solution = optimise_scenario(prepared)
        except SiteoptError as err:
            outcomes.append(Outcome(prepared.scenario.name, prepared, None, str(err)))
            continue
        outcomes.append(Outcome(prepared.scenario.name, prepared, solution))
    return outcomes


def _fmt(fmt: str, key: str, value: float) -> str:
    return fmt.format(value / 1e6 if key.endswith("_gbp") or key.endswith("_per_year")
                      else value)


def compare_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """A table of measures per scenario and, per later scenario, what changed."""
    names = [o.name for o in outcomes]
    width = max(12, *(len(n) for n in names))
    lines = ["what-if against " + names[0], ""]
    lines.append(f"{'measure':<24}" + "".join(f"{n:>{width + 2}}" for n in names))
    values = [o.measures() for o in outcomes]
    for key, label, fmt in MEASURES:
        row = f"{label:<24}"
        for v in values:
            row += f"{(_fmt(fmt, key, v[key]) if key in v else '-'):>{width + 2}}"
        lines.append(row)
    lines.append(f"{'status':<24}" + "".join(
        f"{(o.solution.status_text if o.solution else 'infeasible'):>{width + 2}}"
        for o in outcomes))
    base = outcomes[0]
    for o in outcomes[1:]:
        lines += ["", f"{o.name} against {base.name}:"]
        if o.solution is None:
            lines.append(f"  no solution: {o.error}")
            continue
        if base.solution is None:
            lines.append("  the first scenario has no solution to compare with")
            continue
        changed = _site_changes(base.beds_by_site(), o.beds_by_site())
        lines += [f"  {c}" for c in changed] or ["  the same sites and beds"]
        mv, bv = o.measures(), base.measures()
        for key, label, fmt in MEASURES:
            delta = mv[key] - bv[key]
            if abs(delta) > 1e-6:
                sign = "+" if delta > 0 else "-"
                lines.append(f"  {label}: {_fmt(fmt, key, bv[key])} -> "
                             f"{_fmt(fmt, key, mv[key])} ({sign}{_fmt(fmt, key, abs(delta))})")
    return lines


def _site_changes(before: dict[str, dict[str, int]],
                  after: dict[str, dict[str, int]]) -> list[str]:
    out = []
    for site, beds in before.items():
        new = after.get(site, {})
        if beds != new:
            def text(b: dict[str, int]) -> str:
                parts = [f"{v} {n}" for v, n in b.items() if n]
                return ", ".join(parts) or "no beds"
            out.append(f"{site}: {text(beds)} -> {text(new)}")
    return out


def outcome_dict(o: Outcome) -> dict[str, Any]:
    """JSON-friendly summary of an outcome."""
    return {"name": o.name, "status": o.solution.status_text if o.solution else "infeasible",
            "error": o.error, "measures": o.measures(), "beds_by_site": o.beds_by_site()}
