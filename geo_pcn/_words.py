"""The words and number formats every output uses for the same figure (a leaf: no geo_pcn
imports).

One place says what a finding's ``value`` and ``threshold`` count (patients, metres, a
percentage...), how a figure of each unit is written, what a summary key or an alignment
score is called, and how moves between PCNs are counted, so that report.md, report.html,
report.xlsx, compare.md and the maps say the same thing the same way.

Examples
--------
>>> with_unit(7849, "patients"), with_unit(250, "m"), with_unit(37.2, "%")
('7,849 patients', '250 m', '37.2%')
>>> finding_units("contiguity", "exclave")
('patients', 'm')
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = [
    "FINDING_UNITS",
    "finding_units",
    "with_unit",
    "number",
    "label",
    "ALIGNMENT_SCORES",
    "alignment_score",
    "MOVE_KINDS",
    "move_kind",
    "count",
]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its unit, singular or plural: ``1 practice``, ``2,300 patients``.

    Examples
    --------
    >>> count(1, "practice"), count(2300, "patient"), count(0, "PCN"), count(2, "entry", "entries")
    ('1 practice', '2,300 patients', '0 PCNs', '2 entries')
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


#: (check, kind) -> (unit of ``value``, unit of ``threshold``); ``None``: not a quantity
#: (a code, or nothing). A finding of a kind not listed shows its numbers bare.
FINDING_UNITS: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("size", "above_band"): ("patients", "patients"),
    ("size", "below_band"): ("patients", "patients"),
    ("size", "exempt"): ("patients", "patients"),
    ("size", "single_practice"): ("practices", "practices"),
    ("size", "no_list_size"): ("practices", None),
    ("contiguity", "detached_group"): ("m", "m"),
    ("contiguity", "exclave"): ("patients", "m"),
    ("contiguity", "footprint_in_pieces"): ("m", "m"),  # its patients; the joining tolerance
    ("coverage", "practice_in_no_pcn"): ("patients", None),
    ("coverage", "practice_not_active"): ("patients", None),
    ("coverage", "hole"): ("residents", None),
    ("coverage", "area_served_from_outside"): ("residents", None),
    ("coverage", "residents_registered_outside"): ("residents", None),
    ("coverage", "residents_not_registered"): ("residents", None),
    ("boundaries", "crosses_boundary"): ("areas", "areas"),
    ("boundaries", "codes_inferred"): ("codes", None),
    ("boundaries", "codes_not_reconciled"): ("codes", None),
    ("boundaries", "recorded_code_mismatch"): (None, None),  # the threshold is the code
    ("alignment", "split_across_areas"): ("%", "%"),
    ("alignment", "site_outside_pcn"): ("m", "m"),
    ("alignment", "site_pcn_unknown"): ("sites", None),
}

_SINGULAR = {
    "patients": "patient",
    "residents": "resident",
    "practices": "practice",
    "areas": "area",
    "codes": "code",
    "sites": "site",
}


def finding_units(check: str, kind: str) -> tuple[str | None, str | None]:
    """The units of a finding's value and threshold (``(None, None)`` when unknown)."""
    return FINDING_UNITS.get((check, kind), (None, None))


def number(value: Any, unit: str | None = None) -> str:
    """A number as every output writes a figure of ``unit``: counts whole with thousands
    separators, metres whole, percentages with one decimal, kilometres with two, anything
    else whole when whole and with one decimal otherwise (``""`` when missing).

    Examples
    --------
    >>> number(1146.94, "m"), number(37.25, "%"), number(61997.0), number(0.5)
    ('1,147', '37.2', '61,997', '0.5')
    """
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Number):
        return "" if value is None else str(value)
    x = float(value)
    if math.isnan(x):
        return ""
    if unit == "%":
        return f"{x:,.1f}"
    if unit == "km":
        return f"{x:,.2f}"
    if unit in _SINGULAR or unit == "m" or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def with_unit(value: Any, unit: str | None) -> str:
    """``value`` written with its unit: ``7,849 patients``, ``1 practice``, ``250 m``,
    ``37.2%``; a non-number (a code) as it is."""
    if value is None:
        return ""
    if not isinstance(value, numbers.Number) or isinstance(value, bool):
        return str(value)
    text = number(value, unit)
    if unit is None:
        return text
    if unit == "%":
        return f"{text}%"
    if unit in _SINGULAR and float(value) == 1:
        return f"{text} {_SINGULAR[unit]}"
    return f"{text} {unit}"


#: Alignment scores (the numeric figures of a community layer's summary) -> (label, unit).
ALIGNMENT_SCORES: dict[str, tuple[str, str | None]] = {
    "n": ("total weight (patients, or km² of footprint)", None),
    "coterminosity": ("coterminosity (share in the PCN's dominant area)", "ratio"),
    "pct_pcns_in_one_area": ("PCNs with >= 95% in one area", "%"),
    "n_pcns_split": ("PCNs cut by the area lines", "PCNs"),
    "n_areas_cutting_pcns": ("areas cutting PCNs", "areas"),
    "n_outside_layer": ("outside every area", None),
    "n_off_docking": ("patients off the suggested docking", "patients"),
    "n_actions": ("docking actions", None),
    "nmi": ("NMI", "ratio"),
    "ari": ("ARI", "ratio"),
    "vi": ("VI (nats)", "ratio"),
    "n_sites": ("sites", None),
    "n_located": ("sites located", None),
    "n_in_footprints": ("sites inside a PCN footprint", None),
    "sites_per_10k": ("sites per 10,000 patients", "ratio2"),
    "median_practice_to_site_m": ("median practice to nearest site", "m"),
    "max_practice_to_site_m": ("farthest practice to nearest site", "m"),
    "n_outside_declared": ("sites outside the PCN they declare", None),
    "n_not_located": ("sites not located", None),
}


def alignment_score(key: str, value: Any) -> tuple[str, str]:
    """An alignment score's label and its value as every output writes it: ratios with 3
    decimals, percentages with 1 and ``%``, metres whole with ``m``, counts whole.

    Examples
    --------
    >>> alignment_score("pct_pcns_in_one_area", 23.0769)
    ('PCNs with >= 95% in one area', '23.1%')
    >>> alignment_score("n_off_docking", 28372)
    ('patients off the suggested docking', '28,372')
    """
    name, unit = ALIGNMENT_SCORES.get(key, (label(key), None))
    if value is None or not isinstance(value, numbers.Number) or isinstance(value, bool):
        return name, "n/a" if value is None else str(value)
    if unit == "ratio":
        return name, f"{float(value):.3f}"
    if unit == "ratio2":
        return name, f"{float(value):.2f}"
    if unit in ("%", "m"):
        return name, with_unit(value, unit)
    return name, number(value)


#: Words for summary keys that the plain rule (underscores to spaces, ``n_`` to "number
#: of", ``pct_`` to "% of") would say badly.
_LABELS = {
    "n_small_areas": "small areas",
    "n_small_areas_served_from_outside_in_region": "small areas of the region served from "
    "outside",
    "n_residents_registered_outside": "residents not registered at the study's practices",
    "decided_by": "decided from",
    "outside_competition_from": "other practices' residents from",
    "registrations_of_other_practices": "registrations of practices outside the study",
    "registrations_outside_areas_read": "registrations outside the areas read (other "
    "practices' residents away from the study)",
    "n_practices": "practices",
    "n_patients": "patients",
    "in_the_study_area": "in the study area",
    "in_small_areas_the_study_does_not_serve": "in small areas served from outside or "
    "beyond the study area",
    "outside_layer": "in English small areas the areas layer does not hold",
    "unknown": "residence unknown (NO2011, CLOSED, EMPTY...)",
    "wales": "in Wales",
    "scotland": "in Scotland",
    "northern_ireland": "in Northern Ireland",
    "crown_dependencies": "in the Crown dependencies",
}


def label(key: str) -> str:
    """A summary key in words: ``n_small_areas`` -> ``small areas``; an unknown key with
    its underscores as spaces and ``n_`` / ``pct_`` spelled out.

    Examples
    --------
    >>> label("n_residents_registered_outside"), label("pct_rural"), label("n_new_thing")
    ("residents not registered at the study's practices", '% rural', 'number of new thing')
    """
    if key in _LABELS:
        return _LABELS[key]
    words = key
    if words.startswith("n_"):
        words = "number of " + words[2:]
    elif words.startswith("pct_"):
        words = "% " + words[4:]
    return words.replace("_", " ")


#: How a practice's change of PCN is counted, the same in compare.md / compare.json,
#: proposal.md / proposal.json and ``geo-pcn rank``: *moved* from one PCN to another,
#: *placed* from no PCN into one, *taken out* of its PCN into none.
MOVE_KINDS = ("moved", "placed", "taken out")


def move_kind(from_pcn: str, to_pcn: str) -> str:
    """``moved``, ``placed`` or ``taken out`` (``""`` is no PCN).

    Examples
    --------
    >>> move_kind("U1", "U2"), move_kind("", "U2"), move_kind("U1", "")
    ('moved', 'placed', 'taken out')
    """
    if not from_pcn:
        return "placed"
    if not to_pcn:
        return "taken out"
    return "moved"
