"""Coverage check: who is left uncovered.

* practices in no PCN, with their patients (ERROR);
* practices in a PCN that are not active (dormant, closed...), with their patients (WARNING);
* practices whose site is a guess: no coordinates and no postcode found, so loading placed
  them at their registered residents' centre (WARNING, one per PCN naming them);
* small areas of the study's region that no PCN footprint covers: *served from outside*
  when most of their registered residents use practices outside the study (WARNING),
  *holes* otherwise (WARNING); each kind is one finding with the count;
* residents of the PCN footprints registered at practices outside the study, with the
  outside practices that serve most of them (INFO), and the population estimate of the
  footprints against everyone registered there, net and area by area (INFO, when the
  registrations hold every practice and the areas a population).

"Practices outside the study" are those that are not the study's practices (the other
practices of a national registrations file); "the study's practices" are its practices in
PCNs and in no PCN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.findings import Finding, Severity
from geo_pcn.partition.updaters import top_outside
from geo_pcn.settings import GUESSED_SITE, POPULATION

__all__ = ["check_coverage"]


def _s(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def check_coverage(partition) -> list[Finding]:
    """Practices in no PCN (ERROR, with the adjacent PCNs expected to serve their patients),
    practices in a PCN that are not active (WARNING), areas of the study's region served from
    outside or in no footprint (WARNING), residents registered outside (INFO); from the
    partition's ``footprints``, ``holes`` and ``footprint_residents`` metrics."""
    study, configuration = partition.study, partition.configuration
    findings: list[Finding] = []
    sizes = partition.list_sizes
    assign = configuration.assignments
    graph = partition.graph
    unassigned = list(configuration.unassigned)
    if unassigned:  # plain dicts: pandas lookups per practice cost ~100 us each nationally
        assign = configuration.pcn_by_practice
        picked = study.practices.loc[unassigned]
        list_size = dict(zip(unassigned, picked["list_size"], strict=True))
        practice_name = dict(zip(unassigned, picked["practice_name"], strict=True))
        site = dict(zip(unassigned, picked.geometry, strict=True))
    won = partition.footprints.area_unassigned
    won_by = (
        {p: sorted(g.index) for p, g in won.groupby(won, sort=True)}
        if won is not None and len(won)
        else {}
    )
    for practice in unassigned:
        neighbours = (
            sorted({assign.get(n, "") for n in graph.neighbors(practice)} - {""})
            if practice in graph
            else []
        )
        known = pd.notna(list_size[practice])
        n = int(sizes.get(practice, 0)) if known else None
        name = practice_name[practice]
        near = ", ".join(partition.pcn_label(c) for c in neighbours) or "none found"
        whose = (
            f"its {n:,} registered patients are uncovered"
            if known
            else "its patients are uncovered (no list size known: no registrations)"
        )
        areas = won_by.get(practice, [])
        served = (
            f" It has most of the registered residents of {_s(len(areas), 'small area')} "
            f"({', '.join(areas[:5])}{' ...' if len(areas) > 5 else ''}), which no PCN "
            "footprint holds."
            if areas
            else ""
        )
        findings.append(
            Finding(
                check="coverage",
                kind="practice_in_no_pcn",
                severity=Severity.ERROR,
                message=f"{practice} ({name}) is in no PCN: {whose}. Adjacent PCNs: {near}."
                + served,
                pcn_code="",
                practice_codes=(practice,),
                value=n,
                details={"patients": n, "adjacent_pcns": neighbours, "areas": areas},
                geometry=site[practice],
            )
        )
    findings.extend(_not_active(partition))
    findings.extend(_site_guessed(partition))
    findings.extend(
        partition.study_fact("served_from_outside", lambda: _served_from_outside(partition))
    )
    findings.extend(_holes(partition))
    findings.extend(_registered_outside(partition))
    return findings


def _not_active(partition) -> list[Finding]:
    """Practices the configuration places in a PCN whose recorded status is not active."""
    study, configuration = partition.study, partition.configuration
    status = study.practices.get("status")
    if status is None:
        return []
    odd = partition.study_fact(  # (a study fact: comparing the status column each move)
        "status_not_active",
        lambda: list(status[(status != "") & (status != "active")].items()),
    )
    assign = configuration.pcn_by_practice
    out = []
    for practice, word in odd:
        if assign.get(practice, "") == "":
            continue
        n = int(partition.list_sizes.get(practice, 0))
        name = study.practices.at[practice, "practice_name"]
        out.append(
            Finding(
                check="coverage",
                kind="practice_not_active",
                severity=Severity.WARNING,
                message=(
                    f"{practice} ({name}) is recorded as {word} but is in "
                    f"{partition.pcn_label(assign[practice])}, with {n:,} registered patients: "
                    "confirm it still serves them, or move its patients' cover."
                ),
                pcn_code=assign[practice],
                practice_codes=(practice,),
                value=n,
                details={"status": word, "patients": n},
                geometry=study.practices.geometry.get(practice),
            )
        )
    return out


def _guessed_table(partition) -> pd.DataFrame | None:
    """The practices whose site is guessed, with what their finding says of them (the
    same for every configuration); ``None`` when there are none."""
    practices = partition.study.practices
    method = practices.get("locate_method")
    if method is None:
        return None
    guessed = practices[(method == GUESSED_SITE).to_numpy()]
    if guessed.empty:
        return None
    return pd.DataFrame(
        {
            "practice_code": guessed.index,
            "practice_name": guessed["practice_name"].fillna("").astype(str).to_numpy(),
            "postcode": guessed["postcode"].fillna("").astype(str).to_numpy(),
            "easting": shapely.get_x(guessed.geometry.to_numpy()),
            "northing": shapely.get_y(guessed.geometry.to_numpy()),
            "patients": [int(partition.list_sizes.get(c, 0)) for c in guessed.index],
        }
    )


def _site_guessed(partition) -> list[Finding]:
    """Practices placed at the patient-weighted centre of their registered residents
    (loading found no coordinates and no live postcode): one WARNING per PCN naming them,
    as where a practice sits decides its sub-ICB, ICB and place, its co-location and the
    distances measured from it."""
    table = partition.study_fact("guessed_site_table", lambda: _guessed_table(partition))
    if table is None:
        return []
    codes = partition.study_fact("guessed_site_codes", lambda: table["practice_code"].tolist())
    pcn_of = partition.configuration.pcn_by_practice
    by_pcn: dict[str, list[int]] = {}
    for i in sorted(range(len(codes)), key=lambda i: (pcn_of.get(codes[i], ""), codes[i])):
        by_pcn.setdefault(pcn_of.get(codes[i], ""), []).append(i)
    # a PCN's finding says only its practices and its label: a move reuses the others'
    made = partition.study_fact("site_guessed_findings", dict)
    out, used = [], {}
    for pcn in sorted(by_pcn):
        rows = by_pcn[pcn]
        key = (pcn, partition.pcn_label(pcn) if pcn else "", tuple(codes[i] for i in rows))
        finding = made.get(key)
        if finding is None:
            finding = _site_guessed_finding(partition, pcn, table.iloc[rows].assign(pcn_code=pcn))
        used[key] = finding
        out.append(finding)
    made.clear()
    made.update(used)
    return out


def _site_guessed_finding(partition, pcn: str, group: pd.DataFrame) -> Finding:
    """The ``site_guessed`` finding of one PCN's practices (``group``: their rows of the
    guessed-site table, by code)."""
    said = [
        f"{r.practice_code} ({r.practice_name}: no coordinates, "
        + (
            f"postcode {r.postcode} not found: no longer live, or no postcode lookup given"
            if r.postcode
            else "no postcode"
        )
        + ")"
        for r in group.itertuples()
    ]
    one = len(group) == 1
    where = f"of {partition.pcn_label(pcn)}" if pcn else "in no PCN"
    message = (
        f"{'The site of 1 practice' if one else f'The sites of {len(group)} practices'} "
        f"{where} {'is' if one else 'are'} not known: {', '.join(said)}. "
        f"{'It is' if one else 'They are'} placed at the patient-weighted centre of "
        f"{'its' if one else 'their'} registered residents, so the sub-ICB, ICB and place "
        f"{'it is' if one else 'they are'} put in and every distance from "
        f"{'its site' if one else 'their sites'} are guesses: give coordinates in a "
        "locations file, or a live postcode and a postcode lookup."
    )
    n = int(group["patients"].sum())
    points = shapely.points(group[["easting", "northing"]].to_numpy())
    return Finding(
        check="coverage",
        kind="site_guessed",
        severity=Severity.WARNING,
        message=message,
        pcn_code=pcn,
        practice_codes=tuple(group["practice_code"]),
        value=n,
        details={
            "patients": n,
            "practices": group.drop(columns=["pcn_code", "practice_name"]).to_dict("records"),
        },
        geometry=points[0] if one else shapely.multipoints(points),
    )


def _merged_parts(geoms: np.ndarray) -> list[shapely.Geometry]:
    """Touching polygons merged: one geometry per connected group."""
    return list(shapely.get_parts(shapely.union_all(geoms)))


def _areas_finding(kind: str, codes: list[str], study, message: str, **extra):
    areas = study.areas.loc[codes]
    pop = areas[POPULATION]
    known = bool(pop.notna().all())
    n_pop = int(pop.fillna(0).sum())
    geom = shapely.union_all(areas.geometry.to_numpy())
    return Finding(
        check="coverage",
        kind=kind,
        severity=Severity.WARNING,
        message=message,
        value=n_pop if known else None,
        details={"areas": codes, "population": n_pop if known else None, **extra},
        geometry=geom,
    )


def _served_from_outside(partition) -> tuple[Finding, ...]:
    """One finding for every area of the study's region that practices outside the
    configuration serve (most of its registered residents are registered there): the same
    for every configuration of the study."""
    study = partition.study
    terr = partition.territories
    if terr.areas is None:
        return ()
    table = terr.areas
    hit = table[(table["served_from"] == "outside") & table["in_region"]]
    if hit.empty:
        return ()
    codes = sorted(hit.index)
    pop = study.areas.loc[codes, POPULATION]
    known = bool(pop.notna().all())
    n_out = int(hit["n_outside"].sum())
    n_in = int(hit["n_study"].sum())
    groups = _merged_parts(study.areas.loc[codes].geometry.to_numpy())
    top = top_outside(terr, codes)
    who = "; most at " + ", ".join(f"{p} ({n:,})" for p, n in top[:3]) if top else ""
    basis = (
        "registered at practices outside the study"
        if terr.basis == "registrations"
        else "not registered at the study's practices (population less its patients)"
    )
    largest = max(codes, key=lambda c: (int(hit.at[c, "n_outside"]), c))
    pop_text = f"{int(pop.sum()):,} residents" if known else "population unknown"
    message = (
        f"{_s(len(codes), 'small area')} of the study's region ({', '.join(codes[:5])}"
        f"{' ...' if len(codes) > 5 else ''}; {pop_text}; {_s(len(groups), 'place')}) lie in "
        f"no PCN footprint: {n_out:,} of their residents are {basis}{who}, against {n_in:,} "
        f"at the study's practices. Largest: {largest}."
    )
    finding = _areas_finding(
        "area_served_from_outside",
        codes,
        study,
        message,
        n_registered_outside=n_out,
        n_registered_study=n_in,
        n_places=len(groups),
        largest_area=largest,
        top_outside_practices=[{"practice_code": p, "patients": n} for p, n in top[:10]],
    )
    return (finding,)


def _holes(partition) -> list[Finding]:
    """Areas of the study no PCN footprint holds, other than those a practice in no PCN
    wins (its own finding names them): the partition's ``holes``."""
    holes = partition.holes
    if holes is None:
        return []
    codes = holes["codes"]
    n_no_pcn = holes["n_registered_no_pcn"]
    known = holes["population"] is not None
    pop_text = f"{holes['n_population']:,} residents" if known else "population unknown"
    why = (
        f"{n_no_pcn:,} of their registered residents are at practices in no PCN"
        if n_no_pcn
        else "none of their residents is registered at a practice of the study"
    )
    message = (
        f"{_s(len(codes), 'small area')} ({', '.join(codes[:5])}{' ...' if len(codes) > 5 else ''}"
        f"; {pop_text}; {_s(holes['n_places'], 'place')}) inside the study area lie in no PCN "
        f"footprint: {why}."
    )
    return [
        Finding(
            check="coverage",
            kind="hole",
            severity=Severity.WARNING,
            message=message,
            value=holes["population"],
            details={
                "areas": list(codes),
                "population": holes["population"],
                "registered_at_practices_in_no_pcn": n_no_pcn,
                "n_places": holes["n_places"],
            },
            geometry=holes["geometry"],
        )
    ]


def _registered_outside(partition) -> list[Finding]:
    """Residents of the PCN footprints registered at practices outside the study
    (or, with only the study's registrations, not registered at its practices): the
    partition's ``footprint_residents``."""
    counts = partition.footprint_residents
    if counts is None:
        return []
    terr = partition.territories
    per_pcn = counts["by_pcn"]
    per_pcn_in = counts["by_pcn_study"]
    total = int(per_pcn.sum())
    if not total:
        return []
    everyone = total + int(per_pcn_in.sum())
    pct = 100 * total / everyone if everyone else 0.0
    top = counts["top"]
    who = ("; most at " + ", ".join(f"{p} ({n:,})" for p, n in top[:3])) if top else ""
    if terr.basis == "registrations":
        what = "are registered at practices outside the study"
    else:
        what = (
            "are not registered at the study's practices (the areas' population "
            "less their registered patients: registered elsewhere or not at all)"
        )
    worst = (per_pcn / (per_pcn + per_pcn_in)).sort_values(ascending=False, kind="stable")
    w = worst.index[0]
    message = (
        f"{total:,} residents of the PCN footprints ({pct:.1f}%) {what}{who}. Highest share: "
        f"{partition.pcn_label(w)} {100 * worst.iloc[0]:.1f}%."
    )
    details = {
        "patients": total,
        "pct": round(pct, 2),
        "basis": terr.basis,
        "by_pcn": {str(k): int(v) for k, v in per_pcn.items()},
        "top_outside_practices": [{"practice_code": p, "patients": n} for p, n in top[:10]],
    }
    out = [
        Finding(
            check="coverage",
            kind="residents_registered_outside",
            severity=Severity.INFO,
            message=message,
            value=total,
            details=details,
        )
    ]
    table = counts["areas"]
    if terr.basis == "registrations" and table[POPULATION].notna().any():
        out.extend(_population_vs_registrations(table))
    return out


def _population_vs_registrations(table: pd.DataFrame) -> list[Finding]:
    """The population estimate of the footprints' small areas against everyone registered
    there (every practice's registrations): net, and summed over the areas where the
    estimate is the higher. A difference between two estimates, not people with no GP."""
    has = table[POPULATION].notna().to_numpy()
    pop = table[POPULATION].to_numpy(dtype=float)[has]
    registered = (table["n_study"] + table["n_outside"]).to_numpy(dtype=float)[has]
    diff = pop - registered
    higher = diff > 0
    above = int(round(diff[higher].sum()))
    net = int(round(diff.sum()))
    if not above:  # registrations everywhere at or above the estimate: the table says so
        return []
    if net >= 0:
        overall = f"the estimate exceeds the registrations by {net:,} net"
    else:
        overall = f"the registrations exceed the estimate by {-net:,} net"
    message = (
        f"The population estimate of the {_s(int(has.sum()), 'small area')} of the PCN "
        f"footprints is {int(round(pop.sum())):,} and {int(registered.sum()):,} people are "
        f"registered there at any practice: {overall}; in the "
        f"{_s(int(higher.sum()), 'area')} where the estimate is the higher, it is higher by "
        f"{above:,} in all (area by area in areas.csv, population_less_registered). This "
        "is a difference between two estimates (a census or mid-year population against GP "
        "lists, which keep people who have moved away or registered twice), not a count of "
        "people with no GP."
    )
    return [
        Finding(
            check="coverage",
            kind="population_vs_registrations",
            severity=Severity.INFO,
            message=message,
            value=above,
            details={
                "population": int(round(pop.sum())),
                "registered": int(registered.sum()),
                "net": net,
                "n_areas": int(has.sum()),
                "n_areas_population_higher": int(higher.sum()),
                "population_higher_by": above,
                "registrations_higher_by": int(round(-diff[diff < 0].sum())),
            },
        )
    ]
