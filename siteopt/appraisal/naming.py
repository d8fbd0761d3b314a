"""Options named in words and lettered, for the main table, the maps and the JSON.

An option's **title** says what changes: ``"6 sites: inpatient beds close at Rutland Memorial
and Feilding Palmer"`` or ``"8 sites: every site keeps inpatient beds"``; its **beds** phrase
gives the beds per service (``"166 rehab, 54 stroke beds"``). The main table's options are
lettered A, B, C, ... in table order (business as usual first).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from siteopt.solver_core import GBP_PER_M

SITE_NAME_SUFFIXES = (" Community Hospital", " Hospital", " Centre")
"""Dropped from site names in titles (``Rutland Memorial Hospital`` -> ``Rutland Memorial``)."""

ROLE_LABELS = {
    "status_quo": "Business as usual (today's beds)",
    "do_minimum": "Do minimum",
    "stp_2016": "2016 STP proposal",
    "optimal": "Optimum for the scenario",
}


def gbp_m(x: float) -> str:
    """Pounds in millions, the sign before the pound sign: ``£13.70m``, ``-£1.06m``."""
    sign = "-" if x < -0.005 * GBP_PER_M else ""
    return f"{sign}£{abs(x) / GBP_PER_M:,.2f}m"


def short_site_name(name: str) -> str:
    """``Rutland Memorial Hospital`` -> ``Rutland Memorial`` (the Evington Centre keeps its
    name when nothing would be left)."""
    for suffix in SITE_NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            base = name[: -len(suffix)]
            return base if " " in base or suffix != " Centre" else name
    return name


def join_words(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def scheme_phrase(kind: str, site_name: str, beds_max: int, services: str) -> str:
    """``Melton Mowbray ward enlarged to 21 beds``, ``new stroke ward at Evington``."""
    site = short_site_name(site_name)
    if kind == "new_space":
        return f"new {services.replace(';', '/')} ward at {site}"
    return f"{site} ward enlarged to {beds_max} beds"


def option_title(m: Mapping[str, Any], today: Mapping[str, Any],
                 schemes: Sequence[str] = ()) -> str:
    """What the option does to the sites, in words, from its and today's measures, with the
    building ``schemes`` it adds (phrases of :func:`scheme_phrase`)."""
    n = int(m["sites_with_beds"])
    closing = [short_site_name(str(s["name"])) for sid, s in m["sites"].items()
               if not s["inpatient"] and today["sites"][sid]["inpatient"]]
    opening = [short_site_name(str(s["name"])) for sid, s in m["sites"].items()
               if s["inpatient"] and not today["sites"][sid]["inpatient"]]
    parts = []
    if closing:
        parts.append(f"inpatient beds close at {join_words(closing)}")
    if opening:
        parts.append(f"new inpatient beds at {join_words(opening)}")
    if not parts:
        parts.append("the same sites as today keep inpatient beds")
    if schemes:
        parts.append(join_words(list(schemes)))
    return f"{n} site{'s' if n != 1 else ''}: " + "; ".join(parts)


def beds_phrase(m: Mapping[str, Any]) -> str:
    """``166 rehab, 54 stroke beds``."""
    return ", ".join(f"{b} {svc}" for svc, b in m["beds"].items()) + " beds"


def letters(names: Sequence[str]) -> dict[str, str]:
    """Option name -> ``A``, ``B``, ... (``AA``, ``AB``, ... after ``Z``)."""
    out = {}
    alphabet = string.ascii_uppercase
    for i, name in enumerate(names):
        out[name] = alphabet[i] if i < 26 else alphabet[i // 26 - 1] + alphabet[i % 26]
    return out
