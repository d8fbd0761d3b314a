"""The output data dictionary: every column of every table a run writes, in words.

Each column gets a :class:`ColumnInfo`: a **label** in words with its unit (the workbook's
header), a **type** (a Frictionless Table Schema type: ``string``, ``integer``, ``number``,
``boolean``, ``any``), a **kind** that fixes its number format (:data:`KINDS`: pounds with
thousands separators, shares as percentages, minutes to one decimal, beds as whole numbers, ...)
and a **description**.

Columns made from data (``beds_<site_id>_<service>``, ``fails_<hurdle>``,
``score_<criterion>``, ``mean_travel_min_<option>``, ``bed_need_<service>_<year>``, an
enumeration's one column per site) are described by **templates** (:class:`Spec`): a column name
with ``{placeholders}``, each standing for a site, service, provider, option, hurdle,
criterion, a number of minutes or a year. With a :class:`Vocabulary` (:func:`vocabulary` of an
appraisal) a placeholder matches exactly the run's sites, services, providers and options, and
the label names them in words (the site's name, the option's letter); without one it matches
any identifier of the right shape (a service is lower case without ``_``, a provider starts
with a capital letter), so a table can be described from its rows alone.

:func:`describe` raises :class:`UnknownColumnError` (one line naming the table, the column and
the fix) for a column no entry describes: a test runs a real appraisal and describes every
column of every table, so a new column cannot ship undocumented. A new table (rows of plain
dicts) is described by adding its list of :class:`Spec` to :data:`TABLE_SPECS` (or passing
``extra`` specs to :func:`describe`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from siteopt.appraisal.benefits import CRITERIA, CRITERION_LABELS
from siteopt.appraisal.shortlist import HURDLES
from siteopt.errors import SiteoptError
from siteopt.outputs.equality_report import EQUALITY_SHEET

if TYPE_CHECKING:  # pragma: no cover - typing only
    from siteopt.appraisal.appraise import Appraisal


# ---------------------------------------------------------------------------------------------
# Kinds: type, unit and number format
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """What a kind of column holds: its Table Schema type, unit and spreadsheet format."""

    type: str
    """Frictionless Table Schema type."""
    unit: str
    """In words, for labels and descriptions ("" when none)."""
    number_format: str
    """Excel/LibreOffice number format code (``General`` for text)."""


GBP_FORMAT = '"£"#,##0;-"£"#,##0'
KINDS: dict[str, Kind] = {
    "text": Kind("string", "", "General"),
    "id": Kind("string", "", "General"),
    "flag": Kind("boolean", "", "General"),
    "any": Kind("any", "", "General"),
    "gbp": Kind("number", "£", GBP_FORMAT),
    "gbp_per_year": Kind("number", "£ a year", GBP_FORMAT),
    "share": Kind("number", "%", "0.0%"),
    "probability": Kind("number", "%", "0.00%"),
    "minutes": Kind("number", "min", "0.0"),
    "beds": Kind("integer", "beds", "0"),
    "beds_fractional": Kind("number", "beds", "0.0"),
    "wards": Kind("integer", "wards", "0"),
    "count": Kind("integer", "", "#,##0"),
    "bed_days": Kind("number", "bed-days", "#,##0"),
    "people": Kind("number", "people", "#,##0"),
    "wte": Kind("number", "WTE", "#,##0.0"),
    "erlangs": Kind("number", "Erlangs", "0.00"),
    "score": Kind("number", "points", "0.00"),
    "ratio": Kind("number", "ratio", "0.00"),
    "number": Kind("number", "", "0.00"),
    "rank": Kind("integer", "", "0"),
}
"""Every kind of column, by name."""
NUMERIC_TYPES = ("number", "integer")


@dataclass(frozen=True)
class ColumnInfo:
    """One column of one table, described."""

    table: str
    name: str
    label: str
    """In words with the unit, e.g. ``Net capital (£)``."""
    kind: str
    description: str

    @property
    def type(self) -> str:
        """Frictionless Table Schema type (``string``, ``integer``, ``number``, ...)."""
        return KINDS[self.kind].type

    @property
    def unit(self) -> str:
        """The unit in words ("" when none)."""
        return KINDS[self.kind].unit

    @property
    def number_format(self) -> str:
        """The spreadsheet number format code."""
        return KINDS[self.kind].number_format

    @property
    def numeric(self) -> bool:
        """True for number and integer columns."""
        return self.type in NUMERIC_TYPES


class UnknownColumnError(SiteoptError, LookupError):
    """A column (or table) the data dictionary does not describe."""


# ---------------------------------------------------------------------------------------------
# Vocabulary: what the placeholders stand for
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vocabulary:
    """The run's sites, services, providers and options (empty: any identifier matches)."""

    services: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    sites: tuple[tuple[str, str], ...] = ()
    """(site_id, site name) pairs."""
    options: tuple[tuple[str, str], ...] = ()
    """(option name, short words) pairs: ``Option D`` for a lettered option, else the name."""

    def site_name(self, site_id: str) -> str:
        """The site's name (its id if unknown)."""
        return dict(self.sites).get(site_id, site_id)

    def option_words(self, option: str) -> str:
        """The option in short words (its name if unknown)."""
        return dict(self.options).get(option, option)


def vocabulary(a: Appraisal) -> Vocabulary:
    """The vocabulary of an appraisal's tables."""
    inst = a.prepared.evaluation_instance
    providers = sorted({p for o in a.options for p in o.measures["beds_by_provider"]})
    letters = a.decision.get("letters", {})
    return Vocabulary(
        services=tuple(inst.services), providers=tuple(providers),
        sites=tuple((s.site_id, s.name) for s in inst.sites),
        options=tuple((o.name, f"Option {letters[o.name]}" if o.name in letters else o.name)
                      for o in a.options))


GENERIC = {
    "service": r"[a-z][a-z0-9]*",
    "provider": r"[A-Z][A-Za-z0-9]*",
    "site": r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*",
    "option": r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*",
    "minutes": r"\d+(?:\.\d+)?",
    "year": r"(?:19|20)\d\d",
    "hurdle": "|".join(HURDLES),
    "criterion": "|".join(CRITERIA),
    "key": r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*",
}
"""The regular expression of each placeholder when the vocabulary does not list its values."""


def alternatives(values: Iterable[str]) -> str:
    """A regex matching exactly one of ``values`` (longest first)."""
    return "|".join(re.escape(v) for v in sorted(values, key=lambda v: (-len(v), v)))


def placeholder_regex(name: str, vocab: Vocabulary) -> str:
    """The regex of one placeholder under ``vocab``."""
    values = {"service": list(vocab.services), "provider": list(vocab.providers),
              "site": [k for k, _ in vocab.sites],
              "option": [k for k, _ in vocab.options]}.get(name, [])
    return alternatives(values) if values else GENERIC[name]


def display(name: str, value: str, vocab: Vocabulary) -> str:
    """A placeholder's value in words for a label."""
    if name == "site":
        return vocab.site_name(value)
    if name == "option":
        return vocab.option_words(value)
    if name == "criterion":
        return CRITERION_LABELS.get(value, value).lower()
    if name == "hurdle":
        return value.replace("_", " ")
    return value


# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Spec:
    """A column name or template (``beds_{site}_{service}``) with its label, kind and
    description (both may use the template's placeholders)."""

    template: str
    label: str
    kind: str
    description: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r} in {self.template!r}")
        unknown = set(PLACEHOLDER.findall(self.template)) - set(GENERIC)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)} in {self.template!r}")

    def match(self, column: str, vocab: Vocabulary) -> dict[str, str] | None:
        """The placeholder values if ``column`` fits this template, else None."""
        if "{" not in self.template:
            return {} if column == self.template else None
        m = compiled(self.template, vocab).fullmatch(column)
        return m.groupdict() if m else None


@functools.lru_cache(maxsize=512)
def compiled(template: str, vocab: Vocabulary) -> re.Pattern[str]:
    """The regex of a template under a vocabulary."""
    parts, pos = [], 0
    for m in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos:m.start()]))
        parts.append(f"(?P<{m.group(1)}>{placeholder_regex(m.group(1), vocab)})")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts))


def with_unit(label: str, kind: str) -> str:
    """``label (unit)``, unless the label already ends in brackets or names the unit's word
    (``Beds: rehab`` needs no ``(beds)``)."""
    unit = KINDS[kind].unit
    if not unit or label.endswith(")") or (unit.isalpha() and unit.lower() in label.lower()):
        return label
    return f"{label} ({unit})"


S = Spec
ACCESS_SPECS = [
    S("people_65_plus", "People aged 65+", "people",
      "Usual residents aged 65+ (ONS Census 2021) in the group or area."),
    S("mean_travel_min", "65+ mean drive to their ward", "minutes",
      "Mean drive time of people aged 65+ to the ward of each service they use, weighted by "
      "each service's share of bed need (the model's objective)."),
    S("p90_travel_min", "65+ drive, 90th percentile", "minutes",
      "The drive time that 90% of people aged 65+ are within (by the same weighting)."),
    S("max_travel_min", "Longest drive", "minutes",
      "The longest drive of anyone aged 65+ to their ward."),
    S("share_within_{minutes}_min", "65+ within {minutes} minutes", "share",
      "Share of people aged 65+ whose drive to their ward is at most {minutes} minutes."),
]
"""The drive-time measures of :func:`siteopt.appraisal.measures.access_summary`."""

OPTION_SPECS = [
    S("option", "Option (key)", "id",
      "The option's key: status_quo (business as usual), do_minimum, stp_2016 (the 2016 "
      "proposal), optimal, pareto_N (a point of the cost/access frontier), next_best_N, or the "
      "name given in an options file."),
    S("label", "Option", "text", "The option's letter (if short-listed) and title in words."),
    S("letter", "Letter", "text", "The option's letter in the short-list table (blank if not "
                                  "in it)."),
    S("title", "What the option does", "text", "What changes at the sites, in words."),
    S("role", "Role in the decision", "text",
      "preferred, runner-up, business as usual, do minimum, 2016 proposal, optimum, your "
      "option or generated."),
    S("sources", "How it entered the long list", "text",
      "Every way the option was found (an option found twice lists both, separated by ';')."),
    S("preferred", "Preferred", "flag", "True for the preferred option."),
    S("runner_up", "Runner-up", "flag", "True for the runner-up."),
    S("in_main_table", "In the short-list table", "flag",
      "True if the option is a row of the report's short-list table."),
    S("on_pareto_frontier", "On the cost/access frontier", "flag",
      "True if no configuration within the limits is both cheaper and closer."),
    S("shortlisted", "Passes every hurdle", "flag", "True if the option passes every hurdle."),
    S("on_short_list", "On the short list", "flag",
      "True if the option is on the short list the decision rule chooses from."),
    S("eligible", "Eligible for the decision rule", "flag",
      "True if the option passes every hurdle and no short-listed option dominates it."),
    S("dominated_by", "Dominated by", "id",
      "The option that beats it on every count (blank if none)."),
    S("status", "Evaluation status", "text",
      "How the configuration was solved or evaluated (optimal, feasible with a gap, ...)."),
    S("sites_with_beds", "Hospitals with inpatient beds", "count",
      "Sites that keep any inpatient beds."),
    S("beds_{service}", "Beds: {service}", "beds", "Inpatient {service} beds in all."),
    S("beds_{provider}_{service}", "Beds: {service}, {provider}", "beds",
      "Inpatient {service} beds run by {provider}."),
    S("bed_need_{service}", "Bed need: {service}", "beds_fractional",
      "Beds of {service} needed in the planning year at the target occupancy."),
    S("bed_need_{service}_{year}", "Bed need: {service}, {year} population", "beds_fractional",
      "Beds of {service} the {year} population would need at the target occupancy."),
    S("paired_sites", "Sites with paired wards", "count",
      "Sites with two or more wards side by side (staff can cover each other)."),
    S("isolated_wards", "Isolated wards", "count", "Wards alone at their site."),
    *ACCESS_SPECS,
    S("mean_travel_change_vs_status_quo_min", "Change in 65+ mean drive vs today", "minutes",
      "The 65+ mean drive less business as usual's (+ is longer)."),
    S("people_65_plus_drive_longer_{minutes}_min",
      "People 65+ driving over {minutes} min longer", "people",
      "People aged 65+ whose neighbourhood's mean drive rises by more than {minutes} minutes "
      "against business as usual."),
    S("capex_gbp", "Capital expenditure", "gbp", "Gross capital of the building schemes "
                                                 "(2016/17 prices)."),
    S("disposals_gbp", "Disposal receipts", "gbp", "Receipts from selling surplus land."),
    S("net_capital_gbp", "Net capital", "gbp", "Capital expenditure less disposal receipts."),
    S("revenue_gbp_per_year", "Running cost", "gbp_per_year",
      "Annual revenue cost of the wards (staff and non-staff)."),
    S("revenue_saving_vs_status_quo_gbp_per_year", "Running-cost saving vs today",
      "gbp_per_year", "Business as usual's annual running cost less this option's."),
    S("capital_charge_gbp_per_year", "Capital charge", "gbp_per_year",
      "Annualised capital (the model's capital term)."),
    S("cost_gbp_per_year", "Annual cost: running plus capital charge", "gbp_per_year",
      "Running cost plus annualised capital: the model's cost axis."),
    S("staff_wte", "Staff", "wte", "Ward staff, whole-time equivalents."),
    S("staff_wte_rn", "Registered nurses", "wte",
      "Registered nurses, whole-time equivalents."),
    S("max_erlang_refusal", "Busiest ward's refusal probability", "probability",
      "The highest Erlang-B probability over the option's wards that a patient arriving finds "
      "no free bed."),
    S("capex_with_optimism_bias_gbp", "Capital with optimism bias", "gbp",
      "Capital expenditure uplifted by the Green Book optimism bias."),
    S("pv_revenue_gbp", "Present value of running costs", "gbp",
      "Running costs over the appraisal period, discounted (Green Book)."),
    S("pv_residual_gbp", "Present value of residual value", "gbp",
      "The discounted residual value of the capital at the end of the appraisal period."),
    S("npc_gbp", "Net present cost", "gbp",
      "Capital with optimism bias less receipts, plus the present value of running costs, "
      "less the residual value."),
    S("npv_vs_status_quo_gbp", "NPV vs business as usual", "gbp",
      "Business as usual's net present cost less this option's (+ is better)."),
    S("capital_schemes", "Capital schemes needed", "count",
      "Building schemes the option needs."),
    S("benefit_score", "Benefit score (0-10)", "score",
      "The weighted non-financial benefit score, 0 to 10."),
    S("npc_per_benefit_point_gbp", "Net present cost per benefit point", "gbp",
      "Net present cost divided by the benefit score (blank if not eligible)."),
    S("score_{criterion}", "Score: {criterion} (0-10)", "score",
      "The {criterion} criterion's score, 0 to 10."),
    S("fails_{hurdle}", "Fails the {hurdle} hurdle: why", "text",
      "Why the option fails the {hurdle} hurdle (blank if it passes)."),
    S("beds_{site}_{service}", "Beds at {site}: {service}", "beds",
      "Inpatient {service} beds at {site}."),
]

CHANGE_SPECS = [
    S("change_mean_change_min", "Change in 65+ mean drive vs today", "minutes",
      "The group's 65+ mean drive less business as usual's (+ is longer)."),
    S("change_people_65_plus_longer_{minutes}_min", "People 65+ over {minutes} min further",
      "people", "People aged 65+ in the group whose neighbourhood's mean drive rises by more "
                "than {minutes} minutes."),
    S("change_people_65_plus_shorter_{minutes}_min", "People 65+ over {minutes} min closer",
      "people", "People aged 65+ in the group whose neighbourhood's mean drive falls by more "
                "than {minutes} minutes."),
    S("change_largest_increase_min", "Largest rise in a neighbourhood's drive", "minutes",
      "The largest rise in any of the group's neighbourhoods' 65+ mean drive."),
]

GROUP_SPECS = [
    S("option", "Option (key)", "id", "The option's key (as in appraisal.csv)."),
    S("group", "Grouping", "id", "local_authority or imd_quintile (1 = most deprived)."),
    S("name", "Group", "text", "The local authority, or the IMD quintile (1 = most deprived)."),
    *ACCESS_SPECS, *CHANGE_SPECS,
]

SITE_SPECS = [
    S("option", "Option (key)", "id", "The option's key (as in appraisal.csv)."),
    S("site_id", "Site (key)", "id", "The site's key (sites.csv)."),
    S("name", "Hospital", "text", "The site's name."),
    S("option_id", "Ward option (key)", "id",
      "The way the site is run in this option (its wards; closed: no inpatient beds)."),
    S("ward_pairing", "Ward pairing", "text", "paired, isolated or blank (no wards)."),
    S("wards_{service}", "Wards: {service}", "wards", "{service} wards at the site."),
    S("beds_{service}", "Beds: {service}", "beds", "{service} beds at the site."),
    S("load_erlangs_{service}", "Offered load: {service}", "erlangs",
      "Mean occupied {service} beds the assigned neighbourhoods need (blank: no beds)."),
    S("refusal_probability_{service}", "Refusal probability: {service}", "probability",
      "Erlang-B probability that a {service} patient finds no free bed (blank: no beds)."),
]

ZONE_SPECS = [
    S("zone_id", "Neighbourhood (LSOA code)", "id", "The zone's code (zones.csv)."),
    S("lad_name", "Local authority", "text", "The zone's local authority."),
    S("imd_quintile", "IMD quintile (1 = most deprived)", "rank",
      "The zone's English Indices of Deprivation quintile."),
    S("people_65_plus", "People aged 65+", "people",
      "Usual residents aged 65+ in the zone (ONS Census 2021)."),
    S("mean_travel_min_{option}", "65+ mean drive, {option}", "minutes",
      "The zone's 65+ mean drive to their ward in option {option}."),
    S("change_min_{option}", "Change in 65+ mean drive, {option}", "minutes",
      "The zone's 65+ mean drive in option {option} less business as usual's (+ is longer)."),
]

ENUMERATION_SPECS = [
    S("mean_travel_min", "65+ mean drive to their ward", "minutes",
      "The configuration's 65+ mean drive (the model's access axis)."),
    S("cost_gbp_per_year", "Annual cost: running plus capital charge", "gbp_per_year",
      "Running cost plus annualised capital (the model's cost axis)."),
    S("net_capital_gbp", "Net capital", "gbp", "Capital expenditure less disposal receipts."),
    S("capex_gbp", "Capital expenditure", "gbp", "Gross capital of the building schemes."),
    S("sites_with_beds", "Hospitals with inpatient beds", "count",
      "Sites that keep any inpatient beds."),
    S("efficient", "On the cost/access frontier", "flag",
      "True if no other configuration is both cheaper and closer."),
    S("beds_{service}", "Beds: {service}", "beds", "Inpatient {service} beds in all."),
    S("{site}", "Ward option at {site}", "id",
      "How {site} is run in this configuration (its wards; closed: no inpatient beds)."),
]

WHY_SPECS = [
    S("option", "Option (key)", "id", "The option whose site loses beds."),
    S("site_id", "Site (key)", "id", "The site that loses beds."),
    S("site_name", "Hospital", "text", "The site's name."),
    S("lad_name", "Local authority", "text", "The site's local authority."),
    S("beds_today_{service}", "Beds today: {service}", "beds", "{service} beds at the site today."),
    S("beds_in_option_{service}", "Beds in the option: {service}", "beds",
      "{service} beds at the site in the option."),
    S("beds_if_kept_{service}", "Beds if kept: {service}", "beds",
      "{service} beds at the site if it kept today's wards (or the do minimum's)."),
    S("extra_cost_gbp_per_year", "Extra annual cost of keeping", "gbp_per_year",
      "Annual cost (running plus capital charge) with the beds kept, less the option's."),
    S("extra_revenue_gbp_per_year", "Extra running cost of keeping", "gbp_per_year",
      "Running cost with the beds kept, less the option's."),
    S("extra_net_capital_gbp", "Extra net capital of keeping", "gbp",
      "Net capital with the beds kept, less the option's."),
    S("people_65_plus_in_lad", "People aged 65+ in the local authority", "people",
      "Usual residents aged 65+ of the site's local authority."),
    S("lad_mean_travel_min_before", "Local authority's 65+ mean drive in the option",
      "minutes", "Without keeping the beds."),
    S("lad_mean_travel_min_after", "Local authority's 65+ mean drive if kept", "minutes",
      "With the beds kept."),
    S("overall_mean_travel_min_after", "65+ mean drive if kept, whole area", "minutes",
      "The whole area's 65+ mean drive with the beds kept."),
    S("people_65_plus_shorter", "People 65+ with a shorter drive if kept", "people",
      "People aged 65+ whose drive gets shorter (by more than 3 seconds) if the beds are kept."),
    S("minutes_shorter", "Mean shortening for them", "minutes",
      "Their mean change in drive time."),
    S("people_65_plus_longer", "People 65+ with a longer drive if kept", "people",
      "People aged 65+ whose drive gets longer (beds elsewhere are shared out again)."),
    S("minutes_longer", "Mean lengthening for them", "minutes",
      "Their mean change in drive time."),
    S("hurdles_failed_if_kept_{hurdle}", "Fails the {hurdle} hurdle if kept: why", "text",
      "Why keeping the beds would fail the {hurdle} hurdle (blank if it would not)."),
    S("net_capital_gbp_if_kept", "Net capital if kept", "gbp",
      "The option's net capital with the beds kept."),
    S("capital_limit_gbp", "Capital limit", "gbp", "The scenario's capital limit (blank: none)."),
    S("isolated_ward_min_beds", "Smallest isolated ward allowed", "beds",
      "An isolated ward below this size fails the resilience hurdle."),
    S("within_capital_limit", "Within the capital limit if kept", "flag",
      "True if keeping the beds stays within the capital limit."),
    S("bed_need_met", "Bed need met if kept", "flag", "True if bed need is still met."),
    S("sentence", "In words", "text", "The row as a sentence."),
]

ASSUMPTION_SPECS = [
    S("key", "Assumption", "id", "The assumptions.toml key (a list item as key[1], key[2], ...)."),
    S("value", "Value", "any", "The value used."),
    S("source", "Source", "text", "Where the value comes from."),
]

EQUALITY_GROUP_SPECS = [
    S("option", "Option (key)", "id", "The option's key (as in appraisal.csv)."),
    S("group", "Group (key)", "id", "The population group's key (age_65_plus: everyone)."),
    S("label", "Group", "text", "The group in words."),
    S("group_label", "Group", "text", "The group in words."),
    S("people", "People aged 65+ in the group (estimate)", "people",
      "An ecological estimate: each zone's people aged 65+ times its share of the group."),
    S("mean_travel_min_before", "65+ mean drive today", "minutes",
      "The group's mean drive in business as usual."),
    S("mean_travel_min_after", "65+ mean drive in the option", "minutes",
      "The group's mean drive in the option."),
    S("mean_change_min", "Change in mean drive", "minutes", "After less before (+ is longer)."),
    S("share_within_{minutes}_min_before", "Within {minutes} min today", "share",
      "Share of the group in zones whose 65+ mean drive is at most {minutes} minutes today."),
    S("share_within_{minutes}_min_after", "Within {minutes} min in the option", "share",
      "Share of the group in zones whose 65+ mean drive is at most {minutes} minutes."),
    S("people_rise_over_{minutes}_min", "People whose drive rises over {minutes} min",
      "people", "The group's people in zones whose drive rises by more than {minutes} minutes."),
    S("ratio_to_population", "Change as a multiple of everyone's", "ratio",
      "The group's mean change over the population's (blank when that is too small)."),
    S("basis", "Disproportion test basis", "id",
      "ratio, own_change or rise_while_population_falls."),
    S("flagged", "Bears a disproportionate rise", "flag",
      "True if the disproportion test flags the group."),
]

MOST_AFFECTED_SPECS = [
    S("option", "Option (key)", "id", "The option's key (as in appraisal.csv)."),
    S("rank", "Rank", "rank", "1 = the largest rise in drive time."),
    S("zone_index", "Zone index", "count", "The zone's position in zones.csv (0-based)."),
    S("zone_id", "Neighbourhood (LSOA code)", "id", "The zone's code."),
    S("neighbourhood_name", "Neighbourhood", "text", "House of Commons Library MSOA name."),
    S("ward_name", "Electoral ward", "text", "The zone's electoral ward."),
    S("lad_name", "Local authority", "text", "The zone's local authority."),
    S("people_65_plus", "People aged 65+", "people", "Usual residents aged 65+ in the zone."),
    S("iod25_imd_decile", "IMD 2025 decile (1 = most deprived)", "rank",
      "English Indices of Deprivation 2025 decile."),
    S("share_households_no_car", "Households without a car", "share",
      "An MSOA estimate (ONS Census 2021)."),
    S("iod25_connectivity_score", "Connectivity score (IoD2025)", "number",
      "The IoD2025 connectivity score."),
    S("change_min", "Rise in 65+ mean drive", "minutes", "After less before."),
    S("mean_travel_min_before", "65+ mean drive today", "minutes", "In business as usual."),
    S("mean_travel_min_after", "65+ mean drive in the option", "minutes", "In the option."),
]

PHASING_SPECS = [
    S("year", "Financial year", "id", "The financial year (2026/27: April 2026 to March 2027)."),
    S("capex_gbp", "Capex", "gbp", "Capital spent in the year (a scheme's capex spread evenly "
      "over its build years)."),
    S("receipts_gbp", "Disposal receipts", "gbp",
      "Disposal receipts realised in the year (their lag after the site is vacated)."),
    S("net_capital_gbp", "Net capital", "gbp", "Capex less receipts in the year."),
    S("envelope_gbp", "Capital envelope", "gbp",
      "The year's capital envelope (blank: no limit), on the basis in envelope_basis."),
    S("envelope_basis", "Envelope basis", "id",
      "net: capex less the year's receipts must stay within the envelope; gross: capex alone."),
    S("usable_beds_{service}", "Usable beds: {service}", "beds_fractional",
      "Usable {service} beds of the wards running in the year."),
    S("need_beds_{service}", "Bed need: {service}", "beds_fractional",
      "The year's {service} bed need (the demand stage with that year as the planning year)."),
    S("shortfall_bed_days", "Bed shortfall (bed-days)", "bed_days",
      "Bed-days of need above the usable beds in the year (0: need met)."),
    S("revenue_gbp", "Running cost in the year", "gbp",
      "Revenue cost of the wards running in the year, double running included."),
    S("double_running_gbp", "Double running in the year", "gbp",
      "Running cost of wards kept open while the ward that takes their beds already runs."),
    S("mean_travel_min", "65+ mean drive to the nearest ward", "minutes",
      "People aged 65+ to the nearest site offering each service, weighted by the services' "
      "shares of need (not the appraisal's capacitated assignment)."),
    S("sites_moving", "Sites whose wards move", "text",
      "Sites (ids) whose wards change to the option's in the year."),
    S("schemes_starting", "Schemes starting", "text",
      "Capital schemes (ids of capital_schemes.csv) whose work starts in the year."),
]
PHASING_TABLE = re.compile(r"phasing_(?P<option>[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*)\.csv")
"""An option's phasing table (``phasing_<option>.csv``), described by :data:`PHASING_SPECS`."""

TABLE_SPECS: dict[str, list[Spec]] = {
    "appraisal.csv": OPTION_SPECS,
    "access_by_group.csv": GROUP_SPECS,
    "sites.csv": SITE_SPECS,
    "zone_change.csv": ZONE_SPECS,
    "enumeration.csv": ENUMERATION_SPECS,
    "why.csv": WHY_SPECS,
    "equality.csv": EQUALITY_GROUP_SPECS,
    "most_affected.csv": MOST_AFFECTED_SPECS,
    "assumptions": ASSUMPTION_SPECS,
}
"""Every table's column specs, tried in order (fixed names first, then templates)."""

TABLE_TITLES: dict[str, str] = {
    "appraisal.csv": "Options",
    "access_by_group.csv": "Access by group",
    "sites.csv": "Sites",
    "zone_change.csv": "Zone change",
    "enumeration.csv": "Enumeration",
    "why.csv": "Why",
    "equality.csv": EQUALITY_SHEET,
    "most_affected.csv": "Most affected",
    "assumptions": "Assumptions",
}
"""Each table's title in words (the workbook's sheet names)."""

TABLE_DESCRIPTIONS: dict[str, str] = {
    "appraisal.csv": "One row per option of the long list: beds, sites, 65+ drive times, "
                     "capital, revenue, staff, Erlang refusal, Green Book NPC/NPV, benefit "
                     "scores and hurdles.",
    "access_by_group.csv": "65+ drive time per option and local authority or IMD quintile, "
                           "and the change from business as usual.",
    "sites.csv": "Wards, beds, offered load and Erlang refusal per option and site.",
    "zone_change.csv": "Each neighbourhood's 65+ mean drive per option and its change from "
                       "business as usual.",
    "enumeration.csv": "Every configuration that meets the scenario's limits and bed need, "
                       "with how each site is run.",
    "why.csv": "For each site an option takes beds from: what keeping them would cost and "
               "change.",
    "equality.csv": "Each population group's drive time per option, before and after, and "
                    "the disproportion test.",
    "most_affected.csv": "The neighbourhoods whose drive time rises most in each option.",
    "assumptions": "Every assumption with its value and source.",
}


def table_title(table: str) -> str:
    """The table's title in words (the file name without ``.csv`` if it has none)."""
    m = PHASING_TABLE.fullmatch(table)
    if m and table not in TABLE_TITLES:
        return f"Phasing {m.group('option')}"
    return TABLE_TITLES.get(table, table.removesuffix(".csv").replace("_", " ").capitalize())


def table_description(table: str) -> str:
    """The table's description in words ("" if it has none)."""
    m = PHASING_TABLE.fullmatch(table)
    if m and table not in TABLE_DESCRIPTIONS:
        return (f"The year-by-year programme of option {m.group('option')} (issue 19): capex, "
                "receipts and net capital against the envelope, beds against need, the "
                "shortfall, running costs with double running, the 65+ mean drive, and the "
                "schemes and moves of each year.")
    return TABLE_DESCRIPTIONS.get(table, "")


def table_specs(table: str) -> list[Spec]:
    """The column specs of a table (:data:`TABLE_SPECS`; a phasing table's
    :data:`PHASING_SPECS`); empty if unknown."""
    if table in TABLE_SPECS:
        return TABLE_SPECS[table]
    return PHASING_SPECS if PHASING_TABLE.fullmatch(table) else []


def describe(table: str, column: str, vocab: Vocabulary | None = None,
             extra: Sequence[Spec] = ()) -> ColumnInfo:
    """The description of one column of one table.

    Parameters
    ----------
    table : str
        The file name (``appraisal.csv``) or ``assumptions``; a key of :data:`TABLE_SPECS`.
    column : str
    vocab : Vocabulary, optional
        The run's sites, services, providers and options (:func:`vocabulary`); without it
        placeholders match any identifier of their shape.
    extra : sequence of Spec
        Specs tried before the table's own (for a table this module does not know yet).

    Raises
    ------
    UnknownColumnError
        If no spec describes the column (or the table is unknown and ``extra`` is empty).
    """
    specs = [*extra, *table_specs(table)]
    if not specs:
        raise UnknownColumnError(
            f"{table}: no entry in the output data dictionary (siteopt/outputs/columns.py): "
            f"add the table's specs to TABLE_SPECS")
    vocab = vocab or Vocabulary()
    for fixed_first in (True, False):
        for spec in specs:
            if ("{" not in spec.template) != fixed_first:
                continue
            values = spec.match(column, vocab)
            if values is None:
                continue
            words = {k: display(k, v, vocab) for k, v in values.items()}
            label = with_unit(spec.label.format(**words), spec.kind)
            return ColumnInfo(table, column, label[:1].upper() + label[1:], spec.kind,
                              spec.description.format(**words))
    raise UnknownColumnError(
        f"{table}: column '{column}' has no entry in the output data dictionary "
        f"(siteopt/outputs/columns.py): add a Spec for it to TABLE_SPECS['{table}']")


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The union of the rows' keys, first-seen order (the CSV header of
    :func:`siteopt.outputs.report.to_csv`)."""
    header: dict[str, None] = {}
    for r in rows:
        header.update(dict.fromkeys(r))
    return list(header)


def describe_table(table: str, rows: Sequence[Mapping[str, Any]],
                   vocab: Vocabulary | None = None,
                   columns: Sequence[str] | None = None) -> list[ColumnInfo]:
    """Every column of a table (``columns``, or the rows' keys), described; raises
    :class:`UnknownColumnError` naming every column not described."""
    out, missing = [], []
    for c in (columns if columns is not None else columns_of(rows)):
        try:
            out.append(describe(table, c, vocab))
        except UnknownColumnError:
            missing.append(c)
    if missing:
        raise UnknownColumnError(
            f"{table}: column(s) {', '.join(repr(m) for m in missing)} have no entry in the "
            f"output data dictionary (siteopt/outputs/columns.py): add a Spec for each to "
            f"TABLE_SPECS['{table}']")
    return out
