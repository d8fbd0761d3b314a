"""The long list beyond the optimum: user options from a CSV and the next
best options by no-good cuts.

* **user options** (:func:`read_user_options`): the wards and beds a user lists per site and
  service, matched to the options of each site's catalogue;
* **next best N** (:func:`next_best`): re-solves with a *no-good cut* per option found so far.
  Two options are the same if every site has the same number of wards of each service, so each
  new option differs in which sites keep beds or how many wards they run (bed counts alone do
  not make an option new). Objectives are non-decreasing by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from siteopt.appraisal.measures import ward_signature
from siteopt.appraisal.settings import RESERVED_NAMES
from siteopt.errors import DataError, InfeasibleError, Problem
from siteopt.runs.pipeline import Prepared
from siteopt.travel.speeds import Record, read_csv_records
from siteopt.wards.instance import Instance
from siteopt.wards.model import SiteModel
from siteopt.wards.results import (
    Solution,
)
from siteopt.wards.solve import SolverOptions, optimise

# ---------------------------------------------------------------------------------------------
# User options file
# ---------------------------------------------------------------------------------------------
USER_OPTION_COLUMNS = ("option", "site_id", "service", "wards", "beds")


Wanted = dict[str, dict[str, dict[str, tuple[int, int]]]]
"""option name -> site_id -> service -> (wards, beds), as a user's options file lists them."""


OPTIONS_FORMAT = "`siteopt appraise --help`, option --options"
"""Where the options file's format is described (for the fix of a missing or empty file)."""
SiteRows = dict[str, dict[str, int]]
"""option name -> site_id -> the first row that lists the site in the option."""


def read_user_options(path: Path, prepared: Prepared) -> dict[str, dict[str, str]]:
    """Read a user's options file: option name -> site_id -> option_id.

    The CSV has columns ``option, site_id, service, wards, beds``: one row per option, site and
    service with the number of wards and the total beds of that service at that site. Sites
    an option does not list have no inpatient beds in it. Each site's wards and beds must match
    an option of the site's catalogue (the ward spaces limit what a site can hold). Every
    malformed row (unreadable file, missing column or field, unknown site or service, a site
    and service listed twice, a built-in name, wards and beds no catalogue option has) is
    reported with the file, row and field; nothing is evaluated if any is found. Whether a
    well-formed option meets the bed need is not judged here but by the appraisal.
    """
    name = Path(path).name
    problems: list[Problem] = []
    records = open_user_options(Path(path), problems)
    reserved = set(prepared.catalogue.configurations) | set(RESERVED_NAMES)
    wanted, site_rows = wanted_wards(records, name, prepared.evaluation_instance, reserved,
                                     problems)
    if not wanted and not problems:
        problems.append(Problem(name, "the file lists no options", row=2))
    problems += services_offered(wanted, site_rows, name, prepared.evaluation_instance.services)
    out = {opt_name: catalogue_choice(prepared.evaluation_instance, name, opt_name,
                                      sites_wanted, site_rows[opt_name], problems)
           for opt_name, sites_wanted in wanted.items()}
    if problems:
        raise DataError(problems)
    return out


def services_offered(wanted: Wanted, site_rows: SiteRows, name: str,
                     services: Iterable[str]) -> list[Problem]:
    """An option must offer every service at some site: with no ward of a service anywhere,
    nobody's drive to it can be measured. (An option with too few beds is measured on the share
    of the need it can hold and short-listed out by the bed need hurdle, like the 2016 proposal.)
    """
    problems = []
    for opt_name, sites in wanted.items():
        have = {svc for per in sites.values() for svc, (w, b) in per.items() if w > 0 and b > 0}
        for svc in services:
            if svc not in have:
                problems.append(Problem(
                    name, f"option '{opt_name}' has no {svc} ward at any site, so nobody's "
                    f"drive to a {svc} ward can be measured; add at least one {svc} ward (a row "
                    f"'{opt_name},<site_id>,{svc},1,<beds>')",
                    row=min(site_rows[opt_name].values()), field="service"))
    return problems


def open_user_options(path: Path, problems: list[Problem]) -> list[Record]:
    """The data rows of a user's options file, its header checked.

    A file that cannot be used at all (not found, not UTF-8, empty, another separator than
    commas, a missing column of :data:`USER_OPTION_COLUMNS`, no data rows) adds one problem and
    gives no rows; a row with too many or too few fields adds a problem too.
    """
    return read_csv_records(path, USER_OPTION_COLUMNS, path.name, problems,
                            format_doc=OPTIONS_FORMAT) or []


def wanted_wards(records: Iterable[Record], name: str, instance: Instance,
                 reserved: set[str], problems: list[Problem]) -> tuple[Wanted, SiteRows]:
    """The wards and beds each option asks for at each site and service.

    Parameters
    ----------
    records : iterable of (row, record)
        The file's data rows with their row numbers (the header is row 1).
    name : str
        The file's name, for the problems.
    instance : Instance
        The evaluation instance (its sites and services).
    reserved : set of str
        Option names taken by built-in options.
    problems : list of Problem
        Every bad row is appended here (in place) and skipped.

    Returns
    -------
    Wanted
        option -> site_id -> service -> (wards, beds).
    SiteRows
        option -> site_id -> the first row that lists it.
    """
    wanted: Wanted = {}
    site_rows: SiteRows = {}
    for i, rec in records:
        row = parse_option_row(rec, i, name, instance, reserved, problems)
        if row is None:
            continue
        opt_name, site_id, svc, wards, beds = row
        site_rows.setdefault(opt_name, {}).setdefault(site_id, i)
        per_site = wanted.setdefault(opt_name, {}).setdefault(site_id, {})
        if svc in per_site:
            problems.append(Problem(name, f"option '{opt_name}' lists {site_id} {svc} twice "
                                          f"(first in row {site_rows[opt_name][site_id]}); "
                                          "keep one row", row=i, field="service"))
            continue
        per_site[svc] = (wards, beds)
    return wanted, site_rows


def parse_option_row(rec: Mapping[str, str | None], i: int, name: str, instance: Instance,
                     reserved: set[str], problems: list[Problem]
                     ) -> tuple[str, str, str, int, int] | None:
    """One row of a user's options file: (option, site_id, service, wards, beds).

    Returns None, with every problem of the row appended to ``problems``, if the row is bad.
    """
    opt_name = (rec.get("option") or "").strip()
    site_id = (rec.get("site_id") or "").strip()
    svc = (rec.get("service") or "").strip()
    bad = False
    if not opt_name or not all(c.isalnum() or c in "_-" for c in opt_name):
        problems.append(Problem(name, "option must be a name of letters, digits, _ or -",
                                row=i, field="option"))
        bad = True
    elif opt_name in reserved or opt_name.startswith(("next_best_", "pareto_")):
        problems.append(Problem(name, f"option name '{opt_name}' is taken by a built-in "
                                "option; choose another", row=i, field="option"))
        bad = True
    if site_id not in set(instance.site_ids):
        problems.append(Problem(name, f"unknown site '{site_id}'", row=i, field="site_id"))
        bad = True
    if svc not in set(instance.services):
        problems.append(Problem(name, f"unknown service '{svc}'; services are "
                                f"{', '.join(instance.services)}", row=i, field="service"))
        bad = True
    nums: dict[str, int] = {}
    for col in ("wards", "beds"):
        raw = (rec.get(col) or "").strip()
        try:
            nums[col] = int(raw)
            if nums[col] < 0:
                raise ValueError
        except ValueError:
            problems.append(Problem(name, f"{col} must be a whole number >= 0, got "
                                    f"'{raw}'", row=i, field=col))
            bad = True
    if not bad and (nums["wards"] == 0) != (nums["beds"] == 0):
        problems.append(Problem(name, "wards and beds must both be 0 or both be positive",
                                row=i, field="beds"))
        bad = True
    if bad:
        return None
    return opt_name, site_id, svc, nums["wards"], nums["beds"]


def catalogue_choice(instance: Instance, name: str, opt_name: str,
                     sites_wanted: Mapping[str, Mapping[str, tuple[int, int]]],
                     rows: Mapping[str, int], problems: list[Problem]) -> dict[str, str]:
    """site_id -> the catalogue option with exactly the wards and beds an option asks for.

    Sites the option does not list get no inpatient beds. A site with no such option is left
    out of the choice and a problem is appended to ``problems``, at the site's first row in
    ``rows`` (site_id -> row), or at the option's first row for a site it does not list.
    """
    choice: dict[str, str] = {}
    for site in instance.sites:
        req = sites_wanted.get(site.site_id, {})
        target = {v: req.get(v, (0, 0)) for v in instance.services}
        match = [o.option_id for o in site.options
                 if all((int(o.wards.get(v, 0)), int(o.beds.get(v, 0))) == target[v]
                        for v in instance.services)]
        if not match:
            have = "; ".join(
                ", ".join(f"{v} {o.wards.get(v, 0)}x/{o.beds.get(v, 0)} beds"
                          for v in instance.services) for o in site.options[:12])
            problems.append(Problem(
                name, f"option '{opt_name}': {site.site_id} cannot hold "
                + ", ".join(f"{v} {w} ward(s)/{b} beds" for v, (w, b) in target.items())
                + f"; its options are: {have}",
                row=rows.get(site.site_id, min(rows.values(), default=2)), field="beds"))
            continue
        # prefer an option the optimiser may choose, then the least net capital
        choice[site.site_id] = match[0]
    return choice


# ---------------------------------------------------------------------------------------------
# Generating options with the optimiser
# ---------------------------------------------------------------------------------------------
def no_good_cuts(instance: Instance, found: Sequence[Mapping[str, str]]
                 ) -> Callable[[SiteModel], None]:
    """An ``extra_constraints`` hook excluding every configuration with the ward signature of
    one already found (same number of wards of each service at every site)."""
    sigs = [ward_signature(instance, c) for c in found]

    def hook(model: SiteModel) -> None:
        n_sites = instance.n_sites
        for i, sig in enumerate(sigs):
            terms = []
            for j, site in enumerate(instance.sites):
                for opt in site.options:
                    if tuple(int(opt.wards.get(v, 0)) for v in instance.services) == sig[j]:
                        terms.append(model.y[(site.site_id, opt.option_id)])
            model.prob.addConstraint(sum(terms) <= n_sites - 1, f"nogood_{i}")

    return hook


def next_best(prepared: Prepared, first: Solution, n: int, options: SolverOptions
              ) -> list[Solution]:
    """The next ``n`` best distinct options after ``first`` (fewer if the space runs out)."""
    inst = prepared.instance
    found: list[Mapping[str, str]] = [first.choice]
    out: list[Solution] = []
    for _ in range(n):
        try:
            sol = optimise(inst, prepared.scenario.model, options,
                           extra_constraints=no_good_cuts(inst, found))
        except InfeasibleError:
            break
        out.append(sol)
        found.append(sol.choice)
    return out
