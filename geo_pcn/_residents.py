"""The residents table (every resident of the areas given accounted for) in words: the one
layout that ``geo-pcn info``, report.md, report.html and report.xlsx share.

The table comes from :func:`geo_pcn.geography.accounting.account_residents` (``summary
["residents"]`` in report.json). Strings from the inputs (area names, codes) are escaped by
the caller's escaper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["residents_header", "residents_grid", "residents_notes", "TITLE"]

TITLE = "Every resident accounted for"

_OUTSIDE = {
    "registrations": "at practices outside the study",
    "population": "not at the study's practices (population less its registrations)",
    "none": "at practices outside the study (unknown: no population, no other registrations)",
}
_ALL = {
    "registrations": "registered anywhere",
    "population": "residents (registered, or the population where it is higher)",
    "none": "all",
}


def residents_header(table: dict[str, Any]) -> list[str]:
    """Column headings of the residents grid."""
    basis = table["basis"]
    return [
        "where they live",
        "small areas",
        "at the study's PCN practices",
        "at its practices in no PCN",
        _OUTSIDE.get(basis, _OUTSIDE["registrations"]),
        _ALL.get(basis, _ALL["registrations"]),
    ]


def residents_grid(table: dict[str, Any]) -> list[list[Any]]:
    """Rows of the grid (numbers as ``int``, ``None`` where unknown or not applicable): one
    per kind of area (the study's region subtotalled when areas are left out of it), the
    areas given, then the study's patients living in no area given and all of them."""
    rows: list[list[Any]] = []
    for r in table["rows"]:
        rows.append(
            [
                r["label"],
                r["n_areas"],
                r["at_pcn_practices"],
                r["at_practices_in_no_pcn"],
                r["at_outside_practices"],
                r["all"],
            ]
        )
    given = table["rows"][-1]
    pcn, no_pcn = given["at_pcn_practices"], given["at_practices_in_no_pcn"]
    for r in table["not_in_areas"]:
        rows.append(
            [
                f"the study's patients {r['label']}",
                None,
                r["at_pcn_practices"],
                r["at_practices_in_no_pcn"],
                None,
                None,
            ]
        )
        pcn += r["at_pcn_practices"]
        no_pcn += r["at_practices_in_no_pcn"]
    if table["not_in_areas"]:
        rows.append(["all the study's registered patients", None, pcn, no_pcn, None, None])
    away = table.get("not_read")
    if away:  # a region study: other practices' registrations away from it, counted once
        rows.append(
            [
                f"registrations outside the areas read: {away['n_rows']:,} rows at "
                f"{away['n_practices']:,} practices",
                away["n_areas"],
                None,
                None,
                away["n_patients"],
                away["n_patients"],
            ]
        )
    return rows


def residents_notes(table: dict[str, Any], esc: Callable[[str], str] = str) -> list[str]:
    """Sentences under the grid: the areas left out of the region (named, with who serves
    them and why) and the population estimate against the registrations."""
    notes = []
    if table["basis"] == "population":
        notes.append(
            "Only the study's practices are in the registrations: the residents not at its "
            "practices are each area's population less the study's registered residents "
            "(none where the study has more)."
        )
    left = table["left_out"]
    if left["n_areas"]:
        notes.append(
            f"{left['n_areas']:,} small area{'s' * (left['n_areas'] != 1)} where the study's "
            f"practices have {left['n_at_study_practices']:,} registered residents "
            f"({left['n_residents']:,} residents in all) are left out of the region"
            + (", most of the study's patients first:" if left["named"] else ".")
        )
        for a in left["named"]:
            who = ", ".join(
                f"{esc(p['practice_code'])} ({p['patients']:,})" for p in a["served_by"]
            )
            name = f" {esc(a['area_name'])}" if a["area_name"] else ""
            notes.append(
                f"{esc(a['area_code'])}{name}: {a['residents']:,} residents, "
                f"{a['at_study_practices']:,} at the study's practices"
                + (
                    f"; lies in {esc(a['lies_in'])}"
                    if a["lies_in"] and a["lies_in"] not in a["why"]
                    else ""
                )
                + (f"; served by {who}" if who else "")
                + f"; left out: {esc(a['why'])}."
            )
        rest = left["n_areas"] - len(left["named"])
        if rest > 0:
            notes.append(f"... and {rest:,} more (every area, with its status, is in areas.csv).")
    pop = table.get("population")
    if pop:
        net = pop["net"]
        overall = (
            f"the estimate is higher by {net:,} net"
            if net >= 0
            else f"the registrations are higher by {-net:,} net"
        )
        notes.append(
            f"Population estimate of the areas given: {pop['population']:,}; registered "
            f"there at any practice: {pop['registered']:,}: {overall}; area by area, the "
            f"estimate is higher by {pop['population_higher_by']:,} in all in "
            f"{pop['n_areas_population_higher']:,} areas and the registrations by "
            f"{pop['registrations_higher_by']:,} in {pop['n_areas_registrations_higher']:,}. "
            "A difference between two estimates, not people with no GP (areas.csv: "
            "population_less_registered)."
        )
    return notes
