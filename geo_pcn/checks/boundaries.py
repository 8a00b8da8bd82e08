"""Boundary checks: PCNs whose practices lie on both sides of a sub-ICB, ICB or place line,
practices lying outside a layer, and practices whose recorded sub-ICB / ICB code differs
from the polygon their site actually lies in (code reconciliation)."""

from __future__ import annotations

import pandas as pd

from geo_pcn.findings import Finding, Severity

__all__ = ["check_boundaries", "RECORDED_COLUMNS"]

#: boundary layer name -> practice-file columns that record the code of that geography
RECORDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sub_icb": ("sub_icb_code", "ons_sub_icb_code"),
    "icb": ("icb_code", "ons_icb_code"),
}


#: how layer names read in messages
LAYER_LABELS = {"sub_icb": "sub-ICB", "icb": "ICB", "place": "place"}


def layer_label(layer: str) -> str:
    """``sub_icb`` -> ``sub-ICB``; other names with underscores as spaces."""
    return LAYER_LABELS.get(layer, layer.replace("_", " "))


def _label(row: pd.Series) -> str:
    code, name, nhs = row["code"], row.get("name", ""), row.get("nhs_code", "")
    shown = f"{nhs} / {code}" if nhs and nhs != code else code
    return f"{shown} {name}".strip() if name and name != code else shown


def check_boundaries(study, configuration, *, context) -> list[Finding]:
    """For every boundary layer of the study: PCNs crossing its lines (WARNING, with
    patients on each side), practices outside it (WARNING), and recorded codes that
    disagree with where the practice sits (WARNING)."""
    findings: list[Finding] = []
    sizes = context.list_sizes
    assign = configuration.assignments
    names = study.practices["practice_name"]
    for layer, where in context.cache.site_areas.items():
        placed = where[where["code"] != ""]
        # -- PCNs crossing the layer's lines
        for code, members in configuration.members.items():
            sides = placed.reindex([p for p in members if p in placed.index])
            if sides["code"].nunique() < 2:
                continue
            parts = []
            detail = {}
            for area_code, group in sides.groupby("code", sort=True):
                n = int(sizes.reindex(group.index).sum())
                first = group.iloc[0]
                detail[area_code] = {
                    "name": first["name"],
                    "nhs_code": first["nhs_code"],
                    "patients": n,
                    "practices": sorted(group.index),
                }
                parts.append(
                    f"{_label(first)}: {len(group)} practice{'s' * (len(group) != 1)}, "
                    f"{n:,} patients"
                )
            findings.append(
                Finding(
                    check="boundaries",
                    kind="crosses_boundary",
                    severity=Severity.WARNING,
                    message=(
                        f"{context.pcn_label(code)} has practices in {len(detail)} "
                        f"{layer_label(layer)} areas ({'; '.join(parts)})."
                    ),
                    pcn_code=code,
                    practice_codes=tuple(sorted(sides.index)),
                    value=len(detail),
                    threshold=1,
                    details={"layer": layer, "sides": detail},
                )
            )
        # -- practices outside every polygon of the layer
        located = study.practices.geometry.notna()
        outside = where.index[(where["code"] == "") & located.reindex(where.index).to_numpy()]
        for practice in outside:
            pcn = assign.get(practice, "")
            findings.append(
                Finding(
                    check="boundaries",
                    kind="outside_layer",
                    severity=Severity.WARNING,
                    message=(
                        f"{practice} ({names[practice]}) lies outside "
                        f"every {layer_label(layer)} area of the study."
                    ),
                    pcn_code=pcn,
                    practice_codes=(practice,),
                    details={"layer": layer},
                    geometry=study.practices.geometry[practice],
                )
            )
        # -- recorded code vs the polygon the site lies in
        columns = [
            c for c in RECORDED_COLUMNS.get(layer, (f"{layer}_code",)) if c in study.practices
        ]
        if not columns:
            continue
        recorded = study.practices[columns].fillna("").astype(str).apply(lambda s: s.str.upper())
        actual = {c: placed[c].astype(str).str.upper() for c in ("code", "nhs_code")}
        for practice in placed.index:
            values = [v for v in recorded.loc[practice] if v]
            if not values:
                continue
            here = {actual["code"][practice], actual["nhs_code"][practice]} - {""}
            if here & set(values):
                continue
            row = placed.loc[practice]
            findings.append(
                Finding(
                    check="boundaries",
                    kind="recorded_code_mismatch",
                    severity=Severity.WARNING,
                    message=(
                        f"{practice} ({names[practice]}) is recorded in "
                        f"{layer_label(layer)} {values[0]} but its site lies in {_label(row)}."
                    ),
                    pcn_code=assign.get(practice, ""),
                    practice_codes=(practice,),
                    value=None,
                    threshold=values[0],
                    details={
                        "layer": layer,
                        "recorded": values[0],
                        "actual": row["code"],
                        "actual_nhs_code": row["nhs_code"],
                        "actual_name": row["name"],
                    },
                    geometry=study.practices.geometry[practice],
                )
            )
    return findings
