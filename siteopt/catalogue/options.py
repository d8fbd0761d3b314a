"""The option catalogue: every way each site can be run, with its beds, capital, staff and cost.

Rules (data in ``ward_spaces.csv``, ``capital_schemes.csv``, ``wards.csv``, ``assumptions.toml``):

1. A site's **ward spaces** are its existing spaces that are available in the future, plus the
   spaces a ``new_space`` scheme would build.
2. Each space holds at most one ward: empty; a **standard module** of a service the space can
   host (its ``services``; module beds from ``[services.<s>] module_beds``: 21 rehab, 15 stroke)
   if it fits the space's ``beds_max``, or if a ``replace_space``/``new_space`` scheme makes it
   fit (then the scheme's capex and linked disposal are counted); or **the existing ward as it
   is** (today's service and beds, e.g. Loughborough's 24 beds or Lutterworth's 10).
3. An option is one choice per space. Options with the same wards and beds per service are the
   same option to the model; the one with the least net capital is kept, counting only the
   receipts that do not depend on other sites (rule 7): a receipt that may never be realised
   does not make an option win.
4. An option with no ward at a site that has wards today is a **closure**: the site's
   ``on_closure`` schemes count (re-provision capex and disposal receipts).
5. **Staff**: per ward, ``wte_per_ward + wte_per_bed * beds`` (registered nurses and others, by
   service); an **isolated ward** (exactly one ward on the site) needs ``extra_rn_wte`` more
   (night cover). **Revenue** = staff x pay + non-pay per bed + a fixed cost per inpatient site.
   **Annualised capital** = capex x the annuity factor of ``costs.capital_annuity_rate`` over
   ``costs.capital_asset_life_years``. Disposal receipts count against the capital limit (net
   basis) and in the Green Book appraisal, not in the annual cost: a one-off sale is not a
   running saving.
6. **Named configurations** in ``wards.csv`` (``status_quo``, ``stp_2016``, or a user's own)
   become options too, with their schemes derived the same way (a ward in a space bigger than
   its ``beds_max`` needs that space's scheme). Those using spaces not available in the future
   (the UHL stroke ward at the General) can be evaluated but are not offered to the optimiser.
7. **Receipts that need other sites to close**: a scheme whose ``receipt_requires_closure`` names
   sites (e.g. Melton's extension takes Oakham's beds, so its 7.0m receipt needs Oakham's
   inpatient beds to close) books its receipt only in a configuration in which every named site
   keeps no inpatient ward. Such a receipt is not in the option's ``disposal_gbp`` but an
   :class:`~siteopt.wards.instance.LinkedReceipt` of the instance, which the model, the
   verifier, the enumerations and :func:`siteopt.wards.results.totals` count when it is
   realised; :func:`scheme_lines` lists every scheme of a configuration with what it realises.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from siteopt.catalogue.capacity import with_capacity_model
from siteopt.catalogue.demand import Demand
from siteopt.data.load import GeoData, records
from siteopt.errors import DataError, Problem
from siteopt.wards.instance import Instance, LinkedReceipt, Site, SiteOption, Zones

CLOSED = "closed"


@dataclass(frozen=True)
class Ward:
    """One ward in one space: its service and beds, and the scheme it needs (if any)."""

    space_id: str
    service: str
    beds: int
    scheme_id: str | None = None


@dataclass(frozen=True)
class CatalogueSettings:
    """Scenario inputs of the catalogue; ``None`` means "as in the assumptions"."""

    module_beds: dict[str, int] = field(default_factory=dict)
    """Per service: the standard ward size (e.g. ``{"rehab": 24}``)."""
    allow_existing_as_is: bool = True
    """Offer each existing ward at its current size as well as the standard module."""
    capacity_model: str | None = None
    """``occupancy`` or ``erlang``."""
    refusal_probability: float | None = None


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The optimiser's instance and the option each named configuration picks at each site."""

    instance: Instance
    configurations: dict[str, dict[str, str]]
    """configuration name -> site_id -> option_id (in :attr:`evaluation_instance`)."""
    evaluation_instance: Instance
    """The instance plus the named options the optimiser may not choose."""
    wards: dict[str, dict[str, tuple[Ward, ...]]]
    """site_id -> option_id -> the wards of that option (which space, which scheme)."""
    schemes: dict[str, dict[str, tuple[str, ...]]]
    """site_id -> option_id -> the scheme ids it triggers."""
    scheme_records: dict[str, Scheme] = field(default_factory=dict)
    """scheme_id -> the scheme as capital_schemes.csv gives it."""


@dataclass(frozen=True)
class Scheme:
    """A capital scheme of ``capital_schemes.csv``."""

    scheme_id: str
    site_id: str
    kind: str
    capex_gbp: float
    receipt_gbp: float
    requires_closure: tuple[str, ...]
    """Sites that must keep no inpatient ward for the receipt to count (empty: none)."""
    description: str

    def unconditional_receipt_gbp(self) -> float:
        """The receipt if it needs no other site closed, else 0 (it is a linked receipt)."""
        return 0.0 if self.requires_closure else self.receipt_gbp


@dataclass(frozen=True)
class SchemeLine:
    """One scheme a configuration triggers, with the receipt it realises there."""

    scheme_id: str
    site_id: str
    kind: str
    capex_gbp: float
    receipt_gbp: float
    """The scheme's full disposal receipt."""
    receipt_realised_gbp: float
    """What counts in this configuration (0 if a site it needs closed keeps beds)."""
    requires_closure: tuple[str, ...]
    description: str

    @property
    def net_gbp(self) -> float:
        """Capex less the realised receipt."""
        return self.capex_gbp - self.receipt_realised_gbp


def annuity_factor(rate: float, years: int) -> float:
    """Equal annual payment per pound of capital over ``years`` at ``rate``."""
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def build_catalogue(
    data: GeoData,
    demand: Demand,
    travel_min: npt.NDArray[np.float64],
    settings: CatalogueSettings | None = None,
    weight_column: str = "pop_65_plus",
) -> Catalogue:
    """Build the model instance from the geodata, the demand and a travel-time matrix.

    Parameters
    ----------
    data : GeoData
    demand : Demand
        Bed need per zone (rows in ``data.zones`` order).
    travel_min : ndarray, shape (n_zones, n_sites)
        Drive minutes, rows in ``data.zones`` order and columns in ``data.sites`` order.
    settings : CatalogueSettings, optional
    weight_column : str
        The zones.csv column that weights the access measures (default: people aged 65+).
    """
    settings = settings or CatalogueSettings()
    a = data.assumptions
    services = tuple(a.services)
    problems: list[Problem] = []
    module = {s: int(settings.module_beds.get(s, a[f"services.{s}.module_beds"]))
              for s in services}
    for s in sorted(set(settings.module_beds) - set(services)):
        problems.append(Problem("scenario", f"unknown service '{s}'; services are "
                                            f"{', '.join(services)}", field="module_beds"))
    for s, m in module.items():
        if not 1 <= m <= 60:
            problems.append(Problem("scenario", f"module size {m} for {s} must be 1-60 beds",
                                    field=f"module_beds.{s}"))
    if weight_column not in data.zones.columns:
        problems.append(Problem("scenario", f"unknown weight column '{weight_column}'",
                                field="weight"))
    n_zones, n_sites = len(data.zones), len(data.sites)
    if travel_min.shape != (n_zones, n_sites):
        problems.append(Problem("travel matrix", f"has shape {travel_min.shape}; expected "
                                                 f"({n_zones} zones, {n_sites} sites)"))
    if demand.zone_ids != tuple(data.zones["zone_id"]):
        problems.append(Problem("demand", "zones differ from zones.csv; recompute the demand"))
    if problems:
        raise DataError(problems)

    costing = _Costing.from_assumptions(data)
    sites: list[Site] = []
    eval_sites: list[Site] = []
    configurations: dict[str, dict[str, str]] = {c: {} for c in data.configurations}
    ward_map: dict[str, dict[str, tuple[Ward, ...]]] = {}
    scheme_map: dict[str, dict[str, tuple[str, ...]]] = {}
    for rec in records(data.sites):
        site_id = str(rec["site_id"])
        generated = _generated_options(data, site_id, module, settings.allow_existing_as_is)
        options: dict[str, tuple[Ward, ...]] = {}
        signature_of: dict[tuple[object, ...], str] = {}
        for wards in sorted(generated, key=lambda w: _sort_key(w, data, site_id)):
            sig = _signature(wards, services)
            if sig in signature_of:
                continue
            oid = _option_id(wards, services)
            signature_of[sig] = oid
            options[oid] = wards
        offered = dict(options)
        extra: dict[str, tuple[Ward, ...]] = {}
        for config in data.configurations:
            wards = _named_wards(data, site_id, config)
            sig = _signature(wards, services)
            if sig in signature_of and _schemes(data, site_id, wards) == _schemes(
                    data, site_id, offered[signature_of[sig]]):
                configurations[config][site_id] = signature_of[sig]
                continue
            oid = config if config not in options else f"{config}_named"
            configurations[config][site_id] = oid
            if _available(data, wards):
                offered[oid] = wards
                signature_of.setdefault(sig, oid)
            else:
                extra[oid] = wards
        site_opts = tuple(costing.option(data, site_id, oid, w, services)
                          for oid, w in offered.items())
        extra_opts = tuple(costing.option(data, site_id, oid, w, services)
                           for oid, w in extra.items())
        current = configurations.get("status_quo", {}).get(site_id)
        name, lad = str(rec["name"]), str(rec["lad_name"])
        wards_today = {**offered, **extra}.get(current) if current is not None else None
        today = (None if wards_today is None
                 else {v: sum(1 for w in wards_today if w.service == v) for v in services})
        sites.append(Site(site_id, name, site_opts, lad,
                          current if current in offered else None, today))
        eval_sites.append(Site(site_id, name, site_opts + extra_opts, lad, current, today))
        all_wards = {**offered, **extra}
        ward_map[site_id] = all_wards
        scheme_map[site_id] = {oid: _schemes(data, site_id, w) for oid, w in all_wards.items()}

    zones = Zones(
        zone_ids=tuple(str(z) for z in data.zones["zone_id"]),
        demand_beds=np.asarray(demand.demand_beds, dtype=np.float64),
        weight=data.zones[weight_column].to_numpy(dtype=np.float64),
        lad_name=tuple(str(x) for x in data.zones["lad_name"]),
        imd_quintile=data.zones["imd_quintile"].to_numpy(dtype=np.int64),
    )
    travel = np.asarray(travel_min, dtype=np.float64)
    scheme_records = schemes_of(data)
    instance = Instance(services, tuple(sites), zones, travel, name=str(a["meta.region"]),
                        linked_receipts=linked_receipts(sites, scheme_map, scheme_records))
    evaluation = Instance(services, tuple(eval_sites), zones, travel, name=instance.name,
                          linked_receipts=linked_receipts(eval_sites, scheme_map,
                                                          scheme_records))
    model = settings.capacity_model or str(a["capacity.model"])
    if model != "occupancy":
        refusal = settings.refusal_probability or float(a["capacity.target_refusal_probability"])
        kwargs = {"model": model, "target_occupancy": demand.target_occupancy,
                  "refusal_probability": refusal}
        instance = with_capacity_model(instance, **kwargs)  # type: ignore[arg-type]
        evaluation = with_capacity_model(evaluation, **kwargs)  # type: ignore[arg-type]
    return Catalogue(instance, configurations, evaluation, ward_map, scheme_map, scheme_records)


def linked_receipts(sites: Sequence[Site], scheme_map: Mapping[str, Mapping[str, Sequence[str]]],
                    scheme_records: Mapping[str, Scheme]) -> tuple[LinkedReceipt, ...]:
    """The receipts of ``scheme_records`` that need other sites closed, for ``sites``.

    Parameters
    ----------
    sites : sequence of Site
        The instance's sites (their options are the triggering candidates).
    scheme_map : Mapping
        site_id -> option_id -> the scheme ids the option triggers.
    scheme_records : Mapping[str, Scheme]
    """
    pos = {site.site_id: i for i, site in enumerate(sites)}
    out = []
    for sch in sorted(scheme_records.values(), key=lambda x: x.scheme_id):
        if not sch.requires_closure or sch.site_id not in pos or sch.receipt_gbp <= 0:
            continue
        site = sites[pos[sch.site_id]]
        triggers = tuple(o.option_id for o in site.options
                         if sch.scheme_id in scheme_map.get(site.site_id, {}).get(o.option_id, ()))
        if not triggers:
            continue
        out.append(LinkedReceipt(sch.scheme_id, pos[sch.site_id], triggers,
                                 tuple(pos[k] for k in sch.requires_closure), sch.receipt_gbp))
    return tuple(out)


def scheme_lines(catalogue: Catalogue, choice: Mapping[str, str]) -> list[SchemeLine]:
    """Every scheme a configuration triggers, with its capex, its receipt and what it realises.

    A receipt that needs other sites closed (``receipt_requires_closure``) is realised only if
    each of them keeps no inpatient ward in ``choice``; the others always are. The lines sum to
    the configuration's capex and disposals in :func:`siteopt.wards.results.totals`.

    Parameters
    ----------
    catalogue : Catalogue
    choice : Mapping[str, str]
        site_id -> option_id of every site (options of :attr:`Catalogue.evaluation_instance`,
        e.g. ``catalogue.configurations["stp_2016"]``).

    Returns
    -------
    list of SchemeLine
        In site order, then by scheme id.
    """
    inst = catalogue.evaluation_instance
    closed = {site.site_id: not site.option(choice[site.site_id]).inpatient
              for site in inst.sites}
    lines = []
    for site in inst.sites:
        for sid in catalogue.schemes[site.site_id][choice[site.site_id]]:
            sch = catalogue.scheme_records[sid]
            realised = all(closed[k] for k in sch.requires_closure)
            lines.append(SchemeLine(sch.scheme_id, sch.site_id, sch.kind, sch.capex_gbp,
                                    sch.receipt_gbp, sch.receipt_gbp if realised else 0.0,
                                    sch.requires_closure, sch.description))
    return lines


# ---------------------------------------------------------------------------------------------
# Generating options
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Space:
    space_id: str
    beds_max: int
    """Beds today (0 for a space a scheme would build)."""
    available: bool
    services: frozenset[str]


def _spaces(data: GeoData, site_id: str) -> list[_Space]:
    """A site's ward spaces, schemes' new spaces last; services include what schemes add."""
    spaces = data.ward_spaces[data.ward_spaces["site_id"] == site_id]
    schemes = data.capital_schemes
    site_schemes = schemes[(schemes["site_id"] == site_id)
                           & schemes["kind"].isin(["new_space", "replace_space"])]
    extra: dict[str, set[str]] = {}
    for r in records(site_schemes):
        extra.setdefault(str(r["space_id"]), set()).update(str(r["services"] or "").split(";"))
    out = [_Space(str(r["space_id"]), int(r["beds_max"]), bool(r["available_in_future"]),
                  frozenset(set(str(r["services"]).split(";"))
                            | extra.get(str(r["space_id"]), set())))
           for r in records(spaces)]
    for r in records(site_schemes[site_schemes["kind"] == "new_space"]):
        out.append(_Space(str(r["space_id"]), 0, True, frozenset(str(r["services"]).split(";"))))
    return out


def _space_schemes(data: GeoData, site_id: str, space_id: str,
                   service: str) -> list[tuple[str, int]]:
    """(scheme_id, beds_max after the scheme) of the schemes that build or rebuild a space for
    ``service``."""
    s = data.capital_schemes
    rows = s[(s["site_id"] == site_id) & (s["space_id"] == space_id)
             & s["kind"].isin(["new_space", "replace_space"])]
    return [(str(r["scheme_id"]), int(r["beds_max"])) for r in records(rows)
            if service in str(r["services"] or "").split(";")]


def _fit(data: GeoData, site_id: str, space: _Space, service: str, beds: int) -> str | None:
    """'' if a ward of ``beds`` fits the space as it is, else the cheapest scheme id that makes
    it fit, or None if nothing does."""
    if service not in space.services:
        return None
    if beds <= space.beds_max and space.beds_max > 0:
        return ""
    fits = [(sid, cap) for sid, cap in _space_schemes(data, site_id, space.space_id, service)
            if beds <= cap]
    if not fits:
        return None
    s = schemes_of(data)
    return min(fits, key=lambda f: (s[f[0]].capex_gbp - s[f[0]].unconditional_receipt_gbp(),
                                    f[0]))[0]


def _generated_options(data: GeoData, site_id: str, module: Mapping[str, int],
                       allow_as_is: bool) -> list[tuple[Ward, ...]]:
    today = data.wards[(data.wards["configuration"] == "status_quo")
                       & (data.wards["site_id"] == site_id)]
    as_is = {str(r["space_id"]): (str(r["service"]), int(r["beds"]))
             for r in records(today)}
    choices: list[list[Ward | None]] = []
    for space in _spaces(data, site_id):
        if not space.available:
            continue
        here: list[Ward | None] = [None]
        for service, beds in module.items():
            scheme = _fit(data, site_id, space, service, beds)
            if scheme is not None:
                here.append(Ward(space.space_id, service, beds, scheme or None))
        if allow_as_is and space.space_id in as_is:
            service, beds = as_is[space.space_id]
            if beds != module.get(service):
                here.append(Ward(space.space_id, service, beds, None))
        choices.append(here)
    return [tuple(w for w in combo if w is not None) for combo in itertools.product(*choices)]


def _named_wards(data: GeoData, site_id: str, config: str) -> tuple[Ward, ...]:
    rows = data.wards[(data.wards["configuration"] == config)
                      & (data.wards["site_id"] == site_id)]
    spaces = {sp.space_id: sp for sp in _spaces(data, site_id)}
    wards = []
    for r in records(rows):
        space_id, beds, service = str(r["space_id"]), int(r["beds"]), str(r["service"])
        scheme = _fit(data, site_id, spaces[space_id], service, beds)
        wards.append(Ward(space_id, service, beds, scheme or None))
    return tuple(wards)


def _available(data: GeoData, wards: Iterable[Ward]) -> bool:
    future = dict(zip(data.ward_spaces["space_id"], data.ward_spaces["available_in_future"],
                      strict=True))
    return all(bool(future.get(w.space_id, True)) for w in wards)


def _signature(wards: Sequence[Ward], services: Sequence[str]) -> tuple[object, ...]:
    return tuple(tuple(sorted(w.beds for w in wards if w.service == s)) for s in services)


def _option_id(wards: Sequence[Ward], services: Sequence[str]) -> str:
    if not wards:
        return CLOSED
    parts = [f"{s}{b}" for s in services for b in sorted(
        (w.beds for w in wards if w.service == s), reverse=True)]
    return "+".join(parts)


def _schemes(data: GeoData, site_id: str, wards: Sequence[Ward]) -> tuple[str, ...]:
    """The scheme ids an option triggers: its wards' schemes, or the closure schemes."""
    ids = {w.scheme_id for w in wards if w.scheme_id}
    if not wards and _has_wards_today(data, site_id):
        s = data.capital_schemes
        ids |= set(s.loc[(s["site_id"] == site_id) & (s["kind"] == "on_closure"), "scheme_id"])
    return tuple(sorted(str(i) for i in ids))


def _has_wards_today(data: GeoData, site_id: str) -> bool:
    w = data.wards
    return bool(((w["configuration"] == "status_quo") & (w["site_id"] == site_id)).any())


def scheme_table(data: GeoData) -> dict[str, dict[str, Any]]:
    """Capital schemes by id."""
    return {str(r["scheme_id"]): r for r in records(data.capital_schemes)}


def _site_list(raw: object) -> tuple[str, ...]:
    """``a;b`` -> ``("a", "b")``; blank, None or NaN -> ``()``."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return ()
    return tuple(x.strip() for x in str(raw).split(";") if x.strip() and x.strip() != "nan")


def schemes_of(data: GeoData) -> dict[str, Scheme]:
    """Capital schemes by id as :class:`Scheme` records (``receipt_requires_closure`` blank if
    the file has no such column)."""
    return {
        str(r["scheme_id"]): Scheme(
            scheme_id=str(r["scheme_id"]),
            site_id=str(r["site_id"]),
            kind=str(r["kind"]),
            capex_gbp=float(r["capex_gbp"] or 0.0),
            receipt_gbp=float(r["disposal_gbp"] or 0.0),
            requires_closure=_site_list(r.get("receipt_requires_closure")),
            description=str(r.get("description") or ""),
        )
        for r in records(data.capital_schemes)
    }


def _sort_key(wards: Sequence[Ward], data: GeoData, site_id: str) -> tuple[float, int, str]:
    """Cheapest net capital first (receipts that need other sites closed left out, rule 3), then
    fewest schemes, so duplicates keep the cheapest."""
    s = schemes_of(data)
    ids = _schemes(data, site_id, wards)
    net = sum(s[i].capex_gbp - s[i].unconditional_receipt_gbp() for i in ids)
    return net, len(ids), repr(wards)


# ---------------------------------------------------------------------------------------------
# Costing
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Costing:
    rn_per_ward: dict[str, float]
    rn_per_bed: dict[str, float]
    other_per_ward: dict[str, float]
    other_per_bed: dict[str, float]
    isolated_extra_rn: float
    rn_gbp: float
    other_gbp: float
    non_pay_gbp_per_bed: float
    site_gbp: float
    annuity: float
    schemes: dict[str, Scheme]

    @classmethod
    def from_assumptions(cls, data: GeoData) -> _Costing:
        a = data.assumptions
        svcs = a.services
        return cls(
            rn_per_ward={s: float(a[f"staffing.{s}.rn_wte_per_ward"]) for s in svcs},
            rn_per_bed={s: float(a[f"staffing.{s}.rn_wte_per_bed"]) for s in svcs},
            other_per_ward={s: float(a[f"staffing.{s}.other_wte_per_ward"]) for s in svcs},
            other_per_bed={s: float(a[f"staffing.{s}.other_wte_per_bed"]) for s in svcs},
            isolated_extra_rn=float(a["staffing.isolated_ward.extra_rn_wte"]),
            rn_gbp=float(a["costs.rn_gbp_per_wte"]),
            other_gbp=float(a["costs.other_gbp_per_wte"]),
            non_pay_gbp_per_bed=float(a["costs.non_pay_gbp_per_bed"]),
            site_gbp=float(a["costs.inpatient_site_gbp_per_year"]),
            annuity=annuity_factor(float(a["costs.capital_annuity_rate"]),
                                   int(a["costs.capital_asset_life_years"])),
            schemes=schemes_of(data),
        )

    def option(self, data: GeoData, site_id: str, option_id: str, wards: Sequence[Ward],
               services: Sequence[str]) -> SiteOption:
        rn = sum(self.rn_per_ward[w.service] + self.rn_per_bed[w.service] * w.beds
                 for w in wards)
        other = sum(self.other_per_ward[w.service] + self.other_per_bed[w.service] * w.beds
                    for w in wards)
        if len(wards) == 1:
            rn += self.isolated_extra_rn
        beds_total = sum(w.beds for w in wards)
        revenue = (rn * self.rn_gbp + other * self.other_gbp
                   + beds_total * self.non_pay_gbp_per_bed + (self.site_gbp if wards else 0.0))
        ids = _schemes(data, site_id, wards)
        capex = sum(self.schemes[i].capex_gbp for i in ids)
        disposal = sum(self.schemes[i].unconditional_receipt_gbp() for i in ids)
        beds = {s: sum(w.beds for w in wards if w.service == s) for s in services}
        return SiteOption(
            option_id=option_id,
            wards={s: sum(1 for w in wards if w.service == s) for s in services},
            beds=beds,
            usable_beds={s: float(b) for s, b in beds.items()},
            capex_gbp=capex,
            disposal_gbp=disposal,
            staff_wte_rn=round(rn, 6),
            staff_wte_total=round(rn + other, 6),
            revenue_gbp_per_year=round(revenue, 2),
            capital_gbp_per_year=round(capex * self.annuity, 2),
        )
