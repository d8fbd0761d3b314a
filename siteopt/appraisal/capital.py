"""Capital reconciled with the STP's published programme, and each option's schemes.

``stp_capital_programme.csv`` (in the geodata folder; optional) lists the STP's published
capital lines by scheme and component (``capex`` or ``receipt``), with their source. For the
``stp_2016`` option, :func:`reconcile` sets siteopt's figures per line (from
:func:`siteopt.catalogue.options.scheme_lines`: the capex and the receipts the configuration
realises) beside the STP's. The STP prints the community inpatient reconfiguration as £19.95m
capex, £14.0m disposals, £5.95m net; siteopt's 2016 option also triggers the Oakham and
Lutterworth ambulatory schemes (£2.35m capex, £4.758m disposal, net -£2.408m), which the STP
prints as a separate programme: the reconciliation shows both lines, so the totals agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from siteopt.catalogue.options import SchemeLine, scheme_lines
from siteopt.errors import DataError, Problem
from siteopt.runs.pipeline import Prepared

PROGRAMME_FILE = "stp_capital_programme.csv"
PROGRAMME_COLUMNS = ("line_id", "line", "scheme_id", "component", "stp_gbp", "source")
COMPONENTS = ("capex", "receipt")


def read_programme(path: Path, scheme_ids: set[str]) -> list[dict[str, Any]]:
    """The published programme's rows, checked (every problem at once, one line each).

    Raises
    ------
    DataError
        Naming the file, row and field of each problem.
    """
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError([Problem(name, f"cannot be read ({err}); save it as UTF-8 CSV")]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in PROGRAMME_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError([Problem(name, f"missing column '{c}'; the header must have: "
                                       f"{', '.join(PROGRAMME_COLUMNS)}", field=c)
                         for c in missing])
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, r in enumerate(reader, start=2):
        if r["scheme_id"] not in scheme_ids:
            problems.append(Problem(name, f"scheme '{r['scheme_id']}' is not in "
                                          "capital_schemes.csv", i, "scheme_id"))
        if r["component"] not in COMPONENTS:
            problems.append(Problem(name, f"component must be capex or receipt, got "
                                          f"'{r['component']}'", i, "component"))
        try:
            value = float(r["stp_gbp"])
            if not 0 <= value <= 1e10:
                raise ValueError
        except ValueError:
            problems.append(Problem(name, f"stp_gbp must be pounds >= 0, got '{r['stp_gbp']}'",
                                    i, "stp_gbp"))
            continue
        rows.append({**r, "stp_gbp": value})
    if problems:
        raise DataError(problems)
    return rows


def reconcile(prepared: Prepared, option: str = "stp_2016") -> list[dict[str, Any]] | None:
    """Per published line: the STP's capex, receipts and net, and siteopt's for ``option``.

    Returns None when the geodata has no programme file or no such option. The last row is the
    total. siteopt's figures count only the scheme components the line lists (a scheme may sit
    in two lines, e.g. Lutterworth's disposal in the inpatient line and its clinic rooms in the
    ambulatory line).
    """
    path = prepared.data.directory / PROGRAMME_FILE
    choice = prepared.catalogue.configurations.get(option)
    if not path.is_file() or choice is None:
        return None
    ids = {str(s) for s in prepared.data.capital_schemes["scheme_id"]}
    programme = read_programme(path, ids)
    lines = {ln.scheme_id: ln for ln in scheme_lines(prepared.catalogue, choice)}
    out: list[dict[str, Any]] = []
    for line_id in dict.fromkeys(r["line_id"] for r in programme):
        rows = [r for r in programme if r["line_id"] == line_id]
        stp = {c: sum(r["stp_gbp"] for r in rows if r["component"] == c) for c in COMPONENTS}
        ours = {c: sum(component(lines.get(r["scheme_id"]), c) for r in rows
                       if r["component"] == c) for c in COMPONENTS}
        out.append({"line_id": line_id, "line": rows[0]["line"],
                    "schemes": sorted({r["scheme_id"] for r in rows}),
                    "stp_capex_gbp": stp["capex"], "stp_receipts_gbp": stp["receipt"],
                    "stp_net_gbp": stp["capex"] - stp["receipt"],
                    "siteopt_capex_gbp": ours["capex"], "siteopt_receipts_gbp": ours["receipt"],
                    "siteopt_net_gbp": ours["capex"] - ours["receipt"],
                    "sources": sorted({r["source"] for r in rows})})
    total = {k: sum(r[k] for r in out) for k in out[0] if k.endswith("_gbp")} if out else {}
    out.append({"line_id": "total", "line": "Total", "schemes": [], "sources": [], **total})
    return out


def component(line: SchemeLine | None, which: str) -> float:
    """A scheme line's capex or realised receipt (0 if the configuration does not trigger it)."""
    if line is None:
        return 0.0
    return line.capex_gbp if which == "capex" else line.receipt_realised_gbp


def option_schemes(prepared: Prepared, choice: Mapping[str, str]) -> list[dict[str, Any]]:
    """The schemes a configuration triggers, each with its capex, receipt, whether the receipt
    is realised and which closures it depends on."""
    names = dict(zip(prepared.data.sites["site_id"], prepared.data.sites["name"], strict=True))
    return [{"scheme_id": ln.scheme_id, "site_id": ln.site_id, "site_name": names[ln.site_id],
             "kind": ln.kind, "capex_gbp": ln.capex_gbp, "receipt_gbp": ln.receipt_gbp,
             "receipt_realised_gbp": ln.receipt_realised_gbp,
             "requires_closure": [names.get(s, s) for s in ln.requires_closure],
             "description": ln.description}
            for ln in scheme_lines(prepared.catalogue, choice)]
