"""Alignment check: community services against PCN footprints.

Findings (all from :func:`geo_pcn.alignment.build_alignment`):

* ``split_across_areas`` (WARNING): the lines of a community ``areas`` layer cut a PCN's
  footprint: two or more service areas each hold at least 5 %
  (:data:`~geo_pcn.alignment.MIN_SHARE`) of it. The finding names the service areas that
  cut it (so "service areas that cut PCNs" is the same finding seen from the other side,
  not a second one) and gives the shares of the footprint and of the PCN's patients.
* ``site_outside_pcn`` (WARNING): a community site lies outside the footprint of the PCN
  it declares, with the distance in metres.
* ``site_pcn_unknown`` (INFO): a site declares a PCN that is not in the configuration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.alignment import MIN_SHARE, AreaAlignment, SiteAlignment
from geo_pcn.findings import Finding, Severity
from geo_pcn.settings import AREA_CODE, PCN_CODE, POPULATION

__all__ = ["check_alignment"]


def check_alignment(partition) -> list[Finding]:
    """PCNs cut by community service areas, and sites outside the PCN they declare.

    Parameters
    ----------
    partition
        A :class:`~geo_pcn.partition.Partition`: its ``alignment`` metric is read.

    Returns
    -------
    list of Finding
        Empty when the study has no community layers.
    """
    study = partition.study
    if not study.community:
        return []
    findings: list[Finding] = []
    for name, result in partition.alignment.layers.items():
        if isinstance(result, AreaAlignment):
            findings.extend(_split_findings(study, partition, name, result))
        elif isinstance(result, SiteAlignment):
            findings.extend(_site_findings(study, partition, name, result))
    return findings


def _area_label(names, code: str) -> str:
    name = names.get(code, "")
    return f"{name} ({code})" if name and name != code else code


def _by_pcn(table, pcns: set[str]) -> dict[str, list[tuple[str, float]]]:
    """``pcn_code -> [(area_code, n), ...]`` largest first (ties by code), built once."""
    rows = table[table[PCN_CODE].isin(pcns)].sort_values(
        [PCN_CODE, "n", AREA_CODE], ascending=[True, False, True]
    )
    out: dict[str, list[tuple[str, float]]] = {}
    for pcn, area, n in zip(
        rows[PCN_CODE].tolist(), rows[AREA_CODE].tolist(), rows["n"].tolist(), strict=True
    ):
        out.setdefault(pcn, []).append((area, n))
    return out


def _split_findings(study, partition, layer: str, result: AreaAlignment) -> list[Finding]:
    split = result.split_pcns
    if split.empty:
        return []
    cfg = partition.configuration
    names = study.community[layer].data.set_index("code")["name"].to_dict()
    codes = set(split[PCN_CODE])
    patients_weighted = result.weight == "patients"
    foot_by = _by_pcn(result.footprint, codes)
    pats_by = _by_pcn(result.contingency, codes)
    population: dict[str, dict[str, int]] = {}
    held = partition.footprints.area_pcn
    if result.small_areas is not None and study.areas is not None:
        mine = held[held.isin(codes)]
        pop = study.areas[POPULATION].reindex(mine.index)
        if pop.notna().any():
            frame = pd.DataFrame(
                {
                    PCN_CODE: mine.to_numpy(),
                    AREA_CODE: result.small_areas.reindex(mine.index).fillna("").to_numpy(),
                    "n": pop.fillna(0).astype("int64").to_numpy(),
                }
            )
            frame = frame[frame[AREA_CODE] != ""]
            for (pcn, area), n in frame.groupby([PCN_CODE, AREA_CODE])["n"].sum().items():
                population.setdefault(pcn, {})[area] = int(n)
    geoms = partition.footprints.pcns.geometry
    findings = []
    for code, value in zip(split[PCN_CODE], split["pct_footprint_second"], strict=True):
        foot_rows = foot_by.get(code, [])
        total = sum(n for _, n in foot_rows)
        foot = {a: round(100 * n / total, 1) for a, n in foot_rows}
        cutting = [a for a, n in foot_rows if n >= MIN_SHARE * total]
        details: dict = {
            "layer": layer,
            "weight": result.weight,
            "areas": cutting,
            "pct_footprint_by_area": foot,
            "footprint_by_area": {
                a: int(n) if patients_weighted else round(n, 3) for a, n in foot_rows
            },
        }
        pct_pat: dict[str, float] = {}
        if patients_weighted:
            pat_rows = pats_by.get(code, [])
            n_pat = sum(n for _, n in pat_rows)
            pct_pat = {a: round(100 * n / n_pat, 1) for a, n in pat_rows}
            details["patients_by_area"] = {a: int(n) for a, n in pat_rows}
            details["pct_patients_by_area"] = pct_pat
            if code in population:
                details["footprint_population_by_area"] = population[code]
        verb = "live" if patients_weighted else "lies"
        shares = [f"{foot[a]:g}% in {_area_label(names, a)}" for a in cutting]
        shares[0] = f"{foot[cutting[0]]:g}% {verb} in {_area_label(names, cutting[0])}"
        what = "registered residents" if patients_weighted else "area"
        lead = f"of the {what} of its footprint, {' and '.join(shares)}"
        tail = ""
        if patients_weighted:
            rest = 100 - sum(pct_pat.get(a, 0.0) for a in cutting)
            pat_text = " / ".join(f"{pct_pat.get(a, 0.0):g}%" for a in cutting)
            tail = f"; of its registered patients {pat_text}"
            tail += f" ({rest:.1f}% live elsewhere)" if rest >= 0.05 else ""
        findings.append(
            Finding(
                check="alignment",
                kind="split_across_areas",
                severity=Severity.WARNING,
                message=(
                    f"{partition.pcn_label(code)} is cut by the boundaries of community layer "
                    f"{layer!r}: {lead}{tail}. Agree which area serves it, or redraw the line."
                ),
                pcn_code=code,
                practice_codes=tuple(sorted(cfg.members.get(code, ()))),
                value=float(value),
                threshold=100 * MIN_SHARE,
                details=details,
                geometry=geoms.get(code),
            )
        )
    return findings


def _site_findings(study, partition, layer: str, result: SiteAlignment) -> list[Finding]:
    """Sites outside the PCN they declare: one finding per PCN with the count and the
    farthest site; sites declaring a PCN the configuration does not have (INFO)."""
    sites = result.sites
    out = sites[sites["outside_declared"].to_numpy()]
    unknown = sites[~sites["declared_pcn_known"].to_numpy()]
    # the points of the sites named (a layer may hold thousands), by row position
    named = np.union1d(out.index.to_numpy(), unknown.index.to_numpy()).astype(np.intp)
    points = np.full(len(sites), None, dtype=object)
    if len(named):
        xy = sites[["easting", "northing"]].to_numpy(dtype=float)[named]
        points[named] = shapely.points(xy)
        points[named[~sites["located"].to_numpy()[named]]] = None
    return [
        *_outside_findings(partition, layer, out, points),
        *_unknown_findings(layer, unknown, points),
    ]


def _outside_findings(partition, layer: str, out: pd.DataFrame, points) -> list[Finding]:
    """WARNING per declared PCN: its sites outside its footprint, the farthest named."""
    findings = []
    for pcn, group in out.groupby("declared_pcn_code", sort=True):
        group = group.sort_values(["distance_to_declared_m", "code"], ascending=[False, True])
        row = group.iloc[0]
        here = row["footprint_pcn_code"]
        where = f"in {partition.pcn_label(here)}" if here else "in no PCN footprint"
        label = f"{row['name']} ({row['code']})" if row["name"] else row["code"]
        far = f"{row['distance_to_declared_m']:,.0f} m"
        if len(group) == 1:
            message = (
                f"{label} (community layer {layer!r}) declares {partition.pcn_label(pcn)} but "
                f"lies {far} outside that PCN's footprint, {where}."
            )
        else:
            message = (
                f"{len(group)} sites of community layer {layer!r} declare "
                f"{partition.pcn_label(pcn)} but lie outside its footprint; the farthest, "
                f"{label}, is {far} away, {where}."
            )
        findings.append(
            Finding(
                check="alignment",
                kind="site_outside_pcn",
                severity=Severity.WARNING,
                message=message,
                pcn_code=pcn,
                value=float(row["distance_to_declared_m"]),
                threshold=0.0,
                details={
                    "layer": layer,
                    "n_sites": len(group),
                    "site_code": row["code"],
                    "distance_m": float(row["distance_to_declared_m"]),
                    "footprint_pcn_at_site": here or None,
                    "sites": [
                        {
                            "site_code": r.code,
                            "distance_m": float(r.distance_to_declared_m),
                            "footprint_pcn_at_site": r.footprint_pcn_code or None,
                        }
                        for r in group.itertuples()
                    ],
                },
                geometry=shapely.multipoints(points[group.index.to_numpy()])
                if len(group) > 1
                else points[group.index[0]],
            )
        )
    return findings


def _unknown_findings(layer: str, unknown: pd.DataFrame, points) -> list[Finding]:
    """INFO per PCN code sites declare that is not in the configuration."""
    findings = []
    for pcn, group in unknown.groupby("declared_pcn_code", sort=True):
        codes = group["code"].tolist()
        findings.append(
            Finding(
                check="alignment",
                kind="site_pcn_unknown",
                severity=Severity.INFO,
                message=(
                    f"{len(codes)} site(s) of community layer {layer!r} ({', '.join(codes[:5])}"
                    f"{'...' if len(codes) > 5 else ''}) declare PCN {pcn}, which is not in "
                    "this configuration."
                ),
                pcn_code="",
                value=len(codes),
                details={"layer": layer, "declared_pcn_code": pcn, "site_codes": codes},
                geometry=shapely.multipoints(
                    [g for g in points[group.index.to_numpy()] if g is not None]
                )
                if group["located"].any()
                else None,
            )
        )
    return findings
