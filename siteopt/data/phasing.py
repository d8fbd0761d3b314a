"""``scheme_phasing.csv``: how long each capital scheme takes, when it may start, and when its
receipt comes in (issue 19).

One row per scheme of ``capital_schemes.csv`` (the ``not_inpatient`` schemes may be left out):

==========================  ======================================================================
``scheme_id``               a scheme of ``capital_schemes.csv``
``build_years``             financial years from the start of work to the ward opening (the capex
                            is spread evenly over them; an ``on_closure`` scheme is built from
                            the year its site's beds close)
``earliest_start_year``     the first financial year (its first calendar year, 2018 = 2018/19)
                            in which work may start
``receipt_lag_years``       years from the site (or the sites ``receipt_requires_closure``
                            names) being vacated to the disposal receipt
``takes_beds_of``           sites (``;``-separated) whose inpatient beds move to this scheme's
                            ward: they close no earlier than it opens (blank if none)
``stp_start_year``          the year the 2016 plan starts the scheme (optional; for the
                            comparison of a phased 2016 proposal with the STP's order)
``source``                  where the figures come from
==========================  ======================================================================

:func:`read_scheme_phasing` reads and checks the file against the schemes and sites; every
problem is one :class:`~siteopt.errors.Problem` naming the file, the row, the field and the fix.
:func:`check_scheme_phasing` is the check :func:`siteopt.data.load.load_geodata` (so
``siteopt validate`` and every run) makes when the file is present: the same rows, and a row
for every ward scheme of ``capital_schemes.csv`` (kinds :data:`PHASED_KINDS`). The file is
optional: without it phasing (``siteopt phase``, the appraisal's phasing) says what to add.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from siteopt.data import validate as v
from siteopt.errors import DataError, Problem

SCHEME_PHASING_FILE = "scheme_phasing.csv"
PHASED_KINDS = ("replace_space", "new_space", "on_closure")
"""The kinds of ``capital_schemes.csv`` the phasing model schedules (every one needs a row)."""

SCHEME_PHASING = v.TableSchema(SCHEME_PHASING_FILE, (
    v.Column("scheme_id", unique=True, is_id=True, hint="a scheme_id of capital_schemes.csv"),
    v.Column("build_years", "int", min_value=1, max_value=20,
             hint="whole financial years from the start of work to opening, e.g. 1"),
    v.Column("earliest_start_year", "int", min_value=1990, max_value=2100,
             hint="the first financial year work may start, e.g. 2026 for 2026/27"),
    v.Column("receipt_lag_years", "int", min_value=0, max_value=20,
             hint="whole years from vacating the site to the receipt, e.g. 1"),
    v.Column("takes_beds_of", required=False,
             hint="site ids (separated by ';') whose beds move to this scheme's ward"),
    v.Column("stp_start_year", "int", required=False, min_value=1990, max_value=2100,
             header_optional=True),
    v.Column("source", required=False),
))


@dataclass(frozen=True)
class SchemePhasing:
    """One row of ``scheme_phasing.csv``."""

    scheme_id: str
    build_years: int
    earliest_start_year: int
    receipt_lag_years: int
    takes_beds_of: tuple[str, ...]
    stp_start_year: int | None
    source: str


def _sites(raw: object) -> tuple[str, ...]:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return ()
    return tuple(x.strip() for x in str(raw).split(";") if x.strip() and x.strip() != "nan")


def _int_or_none(raw: object) -> int | None:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    return int(float(str(raw)))


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): x for k, x in row.items()} for row in table.to_dict("records")]


def check_scheme_phasing(directory: Path, schemes: pd.DataFrame | None,
                         sites: pd.DataFrame | None) -> list[Problem]:
    """Every problem of ``scheme_phasing.csv`` (none when the file is absent, or when
    ``capital_schemes.csv`` or ``sites.csv`` could not be read: their own problems come first).

    Parameters
    ----------
    directory : Path
        The geodata folder.
    schemes, sites : DataFrame or None
        ``capital_schemes.csv`` and ``sites.csv`` as read.
    """
    if not (Path(directory) / SCHEME_PHASING_FILE).is_file() or schemes is None or sites is None:
        return []
    needed = [str(s) for s, kind in zip(schemes["scheme_id"], schemes["kind"], strict=True)
              if kind in PHASED_KINDS]
    try:
        read_scheme_phasing(directory, dict(zip(schemes["scheme_id"].astype(str),
                                                schemes["site_id"].astype(str), strict=True)),
                            [str(s) for s in sites["site_id"]], needed=needed)
    except DataError as err:
        return list(err.problems)
    return []


def read_scheme_phasing(directory: Path, scheme_sites: Mapping[str, str],
                        site_ids: Sequence[str],
                        needed: Sequence[str] = ()) -> dict[str, SchemePhasing]:
    """Read and check ``scheme_phasing.csv`` of a geodata folder.

    Parameters
    ----------
    directory : Path
        The geodata folder.
    scheme_sites : Mapping[str, str]
        scheme_id -> site_id of every scheme of ``capital_schemes.csv``.
    site_ids : sequence of str
        The sites of ``sites.csv``.
    needed : sequence of str
        Schemes that must have a row (those a phased configuration triggers).

    Returns
    -------
    dict
        scheme_id -> :class:`SchemePhasing`.

    Raises
    ------
    DataError
        Listing every problem (a missing file is one problem saying what to add).
    """
    path = Path(directory) / SCHEME_PHASING_FILE
    if not path.is_file():
        raise DataError([Problem(SCHEME_PHASING_FILE, "not found in the geodata folder; phasing "
                                 "needs it: add one row per capital scheme with scheme_id, "
                                 "build_years, earliest_start_year, receipt_lag_years, "
                                 "takes_beds_of, source (see siteopt/data/phasing.py)")])
    table, problems = v.read_table(path, SCHEME_PHASING)
    out: dict[str, SchemePhasing] = {}
    if table is not None:
        known = set(site_ids)
        for row_no, r in enumerate(_records(table), start=2):
            sid = str(r["scheme_id"])
            if sid not in scheme_sites:
                problems.append(Problem(SCHEME_PHASING_FILE, f"scheme '{sid}' is not in "
                                        "capital_schemes.csv; fix the id or remove the row",
                                        row=row_no, field="scheme_id"))
                continue
            takes = _sites(r.get("takes_beds_of"))
            for site in takes:
                if site not in known or site == scheme_sites[sid]:
                    problems.append(Problem(SCHEME_PHASING_FILE, f"takes_beds_of names '{site}'"
                                            ", which is not another site of sites.csv; give "
                                            "site ids other than the scheme's own",
                                            row=row_no, field="takes_beds_of"))
            out[sid] = SchemePhasing(sid, int(r["build_years"]), int(r["earliest_start_year"]),
                                     int(r["receipt_lag_years"]), takes,
                                     _int_or_none(r.get("stp_start_year")),
                                     str(r.get("source") or ""))
    for sid in needed:
        if table is not None and sid not in out and sid in scheme_sites:
            problems.append(Problem(SCHEME_PHASING_FILE, f"has no row for scheme '{sid}', which "
                                    "capital_schemes.csv lists as a ward scheme; add its "
                                    "build_years, earliest_start_year and receipt_lag_years",
                                    field="scheme_id"))
    if problems:
        raise DataError(problems)
    return out
