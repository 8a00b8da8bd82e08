"""Coverage check: practices in no PCN (their patients are uncovered), residents registered
at practices outside the configuration, and small areas no PCN footprint covers (holes)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo_pcn.findings import Finding, Severity
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, POPULATION, PRACTICE_CODE

__all__ = ["check_coverage", "area_coverage"]


def check_coverage(study, configuration, *, context) -> list[Finding]:
    """Practices in no PCN (ERROR, with the adjacent PCNs expected to serve their patients)
    and holes in the footprints (WARNING, with their population)."""
    findings: list[Finding] = []
    sizes = context.list_sizes
    assign = configuration.assignments
    graph = context.graph
    for practice in configuration.unassigned:
        neighbours = (
            sorted({assign.get(n, "") for n in graph.neighbors(practice)} - {""})
            if practice in graph
            else []
        )
        n = int(sizes.get(practice, 0))
        name = study.practices.at[practice, "practice_name"]
        near = ", ".join(context.pcn_label(c) for c in neighbours) or "none found"
        findings.append(
            Finding(
                check="coverage",
                kind="practice_in_no_pcn",
                severity=Severity.ERROR,
                message=(
                    f"{practice} ({name}) is in no PCN: its {n:,} registered patients are "
                    f"uncovered. Adjacent PCNs: {near}."
                ),
                pcn_code="",
                practice_codes=(practice,),
                value=n,
                details={"patients": n, "adjacent_pcns": neighbours},
                geometry=study.practices.geometry.get(practice),
            )
        )
    findings.extend(_holes(study, context))
    return findings


def area_coverage(study, context) -> pd.DataFrame | None:
    """Per small area of the study: population, residents registered at the study's
    practices, at practices in no PCN, and the PCN whose footprint covers it.

    Returns ``None`` without registrations or areas.
    """
    fp = context.footprints
    terr = fp.territories
    if terr.residents is None:
        return None
    areas = terr.study_areas
    res = terr.residents
    unassigned = res[PRACTICE_CODE].map(context.configuration.assignments).fillna("") == ""
    out = pd.DataFrame(index=areas.index)
    out["area_name"] = areas.get("area_name", "")
    out[POPULATION] = areas[POPULATION]
    out["n_registered"] = (
        res.groupby(AREA_CODE)[N_PATIENTS].sum().reindex(out.index).fillna(0).astype("int64")
    )
    out["n_registered_no_pcn"] = (
        res[unassigned]
        .groupby(AREA_CODE)[N_PATIENTS]
        .sum()
        .reindex(out.index)
        .fillna(0)
        .astype("int64")
    )
    out["practice_code"] = terr.area_winner.reindex(out.index).fillna("")
    out["pcn_code"] = fp.area_pcn.reindex(out.index).fillna("")
    return out


def _holes(study, context) -> list[Finding]:
    holes = context.footprints.uncovered_areas
    if holes is None or holes.empty:
        return []
    table = area_coverage(study, context)
    # touching uncovered areas form one hole
    merged = gpd.GeoSeries(shapely.union_all(holes.geometry.to_numpy()), crs=BNG).explode(
        index_parts=False
    )
    pts = shapely.point_on_surface(holes.geometry.to_numpy())  # holes are few
    findings = []
    for geom in merged:
        codes = sorted(holes.index[shapely.intersects(geom, pts)])
        pop = table.loc[codes, POPULATION]
        known = pop.notna().all()
        n_pop = int(pop.fillna(0).sum())
        n_no_pcn = int(table.loc[codes, "n_registered_no_pcn"].sum())
        pop_text = f"{n_pop:,} residents" if known else "population unknown"
        findings.append(
            Finding(
                check="coverage",
                kind="hole",
                severity=Severity.WARNING,
                message=(
                    f"{len(codes)} small area{'s' * (len(codes) != 1)} ({', '.join(codes[:5])}"
                    f"{' ...' if len(codes) > 5 else ''}; {pop_text}) inside the study boundary "
                    "lie in no PCN footprint: none of their residents is registered at a practice "
                    "of the configuration."
                ),
                value=n_pop if known else None,
                details={
                    "areas": codes,
                    "population": n_pop if known else None,
                    "registered_at_practices_in_no_pcn": n_no_pcn,
                },
                geometry=geom,
            )
        )
    return findings
