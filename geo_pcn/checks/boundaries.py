"""Boundary checks: PCNs whose practices lie on both sides of a sub-ICB, ICB or place line,
practices lying outside a layer, and practices whose recorded sub-ICB / ICB code differs
from the area their site actually lies in (code reconciliation). Where each site lies comes
from :mod:`geo_pcn.geography._placement` (a district code, a small-area lookup, else
polygons with their generalisation: a site within it of the line is near the line)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo_pcn.checks.delta import View, rerun, updates
from geo_pcn.findings import Finding, Severity

__all__ = ["check_boundaries", "RECORDED_COLUMNS", "CodeCrosswalk", "code_system"]

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


#: ONS codes: a letter for the nation and eight digits (E38000175, E54000010).
_ONS = re.compile(r"^[EWSN]\d{8}$")
#: an ODS code at the end of a name: "NHS Staffordshire and Stoke-on-Trent ICB - 05W"
_CODE_IN_NAME = re.compile(r"\s-\s([0-9A-Z]{3,5})\s*$")


def code_system(code: str) -> str:
    """``ons`` for ONS codes (``E38000175``), ``ods`` for anything else (``05W``, ``QNC``)."""
    return "ons" if _ONS.match(code) else "ods"


def _name_key(name: str) -> str:
    """A name reduced to its words: no ``NHS``, ``CCG``, ``ICB``, ``SUB``, punctuation."""
    words = re.sub(r"[^A-Z0-9 ]", " ", str(name).upper().replace("&", " AND ")).split()
    drop = {"NHS", "CCG", "ICB", "SUB", "LOCATION", "THE", "INTEGRATED", "CARE", "BOARD"}
    return " ".join(w for w in words if w not in drop)


class CodeCrosswalk:
    """Which codes name the same area, across the ODS and ONS code systems.

    Built from the inputs themselves: a boundary layer that carries both an ONS code and
    an NHS (ODS) code, a practice file that records both (``SUB_ICB_LOCATION_CODE`` and
    ``ONS_SUB_ICB_LOCATION_CODE``), an ODS code at the end of a layer's area names
    (``"... ICB - 05W"``), and the names a practice file records for its codes matched with
    the layer's names. Codes are linked transitively (union-find).
    """

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def _find(self, code: str) -> str:
        parent = self._parent.setdefault(code, code)
        if parent != code:
            parent = self._parent[code] = self._find(parent)
        return parent

    def link(self, a: str, b: str) -> None:
        """Record that ``a`` and ``b`` name the same area."""
        a, b = str(a).strip().upper(), str(b).strip().upper()
        if a and b and a != b:
            ra, rb = self._find(a), self._find(b)
            if ra != rb:
                self._parent[max(ra, rb)] = min(ra, rb)
            self._version = getattr(self, "_version", 0) + 1

    def same(self, a: str, b: str) -> bool:
        a, b = str(a).strip().upper(), str(b).strip().upper()
        return a == b or (
            a in self._parent and b in self._parent and self._find(a) == self._find(b)
        )

    def systems(self, code: str) -> set[str]:
        """The code systems a code can be compared in: its own, and those of its links."""
        code = str(code).strip().upper()
        if code not in self._parent:
            return {code_system(code)}
        return self._systems_by_root.get(self._find(code), {code_system(code)})

    @property
    def _systems_by_root(self) -> dict[str, set[str]]:
        """root -> the code systems of its class (rebuilt only after new links)."""
        if self.__dict__.get("_systems_n") != getattr(self, "_version", 0):
            by_root: dict[str, set[str]] = {}
            for c in list(self._parent):
                by_root.setdefault(self._find(c), set()).add(code_system(c))
            self.__dict__["_systems_cache"] = by_root
            self.__dict__["_systems_n"] = getattr(self, "_version", 0)
        return self.__dict__["_systems_cache"]

    @classmethod
    def from_study(cls, study, layer: str) -> CodeCrosswalk:
        """The crosswalk for one boundary layer of a study (see the class docstring)."""
        out = cls()
        for frame in study.boundaries.values():
            if "nhs_code" in frame:
                for code, nhs in zip(frame["code"], frame["nhs_code"], strict=True):
                    out.link(code, nhs)
            if "name" in frame:
                for code, name in zip(frame["code"], frame["name"], strict=True):
                    hit = _CODE_IN_NAME.search(str(name).upper())
                    if hit:
                        out.link(code, hit.group(1))
        practices = study.practices
        for ods, ons in (("sub_icb_code", "ons_sub_icb_code"), ("icb_code", "ons_icb_code")):
            if ods in practices and ons in practices:
                pairs = practices[[ods, ons]].fillna("").astype(str).drop_duplicates()
                for a, b in pairs.itertuples(index=False):
                    out.link(a, b)
        name_col = {"sub_icb": "sub_icb_name", "icb": "icb_name"}.get(layer)
        frame = study.boundaries[layer]
        if name_col and name_col in practices and "name" in frame:
            by_name = {}
            for code, name in zip(frame["code"], frame["name"], strict=True):
                by_name.setdefault(_name_key(name), set()).add(str(code))
            codes = [c for c in RECORDED_COLUMNS.get(layer, ()) if c in practices]
            for col in codes:
                pairs = practices[[col, name_col]].fillna("").astype(str).drop_duplicates()
                for code, name in pairs.itertuples(index=False):
                    hit = by_name.get(_name_key(name), set())
                    if code and len(hit) == 1:
                        out.link(code, next(iter(hit)))
        return out


def _crosswalk(study, layer: str, context) -> CodeCrosswalk:
    """A fresh copy of the study's crosswalk for ``layer`` (built once per geography: it
    depends on the study alone; a copy, as inferred links are added to it)."""
    geography = context.geography
    geography = getattr(geography, "_inner", geography)  # an update's view of it
    held = geography.__dict__.setdefault("_crosswalks", {})
    if layer not in held:
        held[layer] = CodeCrosswalk.from_study(study, layer)
    walk = CodeCrosswalk()
    walk._parent = dict(held[layer]._parent)
    if hasattr(held[layer], "_version"):
        walk._version = held[layer]._version
    return walk


#: a recorded code the layer does not hold is matched to the area holding at least this
#: share of its practices (and at least _MIN_PRACTICES of them)
_INFER_SHARE = 0.5
_MIN_PRACTICES = 3


def _infer_links(walk, recorded, placed, actual) -> dict[str, str]:
    """Link recorded codes the layer does not hold (nor any input links to it) to the area
    where most of their practices sit: the map of July 2022 records 2020 CCG codes (06F)
    against 2021 CCG polygons (E38000249, which absorbed it). Returns code -> area."""
    here = pd.Series(
        [a for a in actual.get("code", pd.Series("", index=placed.index))], index=placed.index
    )
    layer_codes = set(here) - {""}
    for column in actual.values():
        layer_codes |= set(column) - {""}
    # the first recorded code that is not blank (vectorised: row-wise apply is slow)
    first = np.full(len(recorded), "", dtype=object)
    for column in reversed(list(recorded.columns)):
        values = recorded[column].to_numpy(dtype=object)
        first = np.where(values != "", values, first)
    first = pd.Series(first, index=recorded.index, dtype=object)
    out: dict[str, str] = {}
    frame = pd.DataFrame({"rec": first, "here": here})
    frame = frame[(frame["rec"] != "") & (frame["here"] != "")]
    for code, group in frame.groupby("rec", sort=True):
        if code in layer_codes or any(walk.same(code, c) for c in layer_codes if c in walk._parent):
            continue
        counts = group["here"].value_counts()
        if len(group) >= _MIN_PRACTICES and counts.iloc[0] >= _INFER_SHARE * len(group):
            top = sorted(counts.index[counts == counts.iloc[0]])[0]
            walk.link(code, top)
            out[str(code)] = str(top)
    return out


def check_boundaries(study, configuration, *, context) -> list[Finding]:
    """For every boundary layer of the study: PCNs crossing its lines (WARNING, with
    patients on each side), practices outside it (WARNING), and recorded codes that
    disagree with where the practice sits (WARNING). Where a layer's lines come from
    generalised polygons, a crossing or mismatch that rests only on a site within the
    layer's generalisation of the line is a note, ``near_line`` / ``recorded_code_near_line``
    (placement uncertain), instead (see :mod:`geo_pcn.geography._placement`)."""
    findings: list[Finding] = []
    sizes = context.list_sizes
    assign = configuration.assignments
    names = study.practices["practice_name"]
    for layer, where in context.geography.site_areas.items():
        placed = where[where["code"] != ""]
        placed_code = dict(zip(placed.index, placed["code"], strict=True))
        # another area within the generalisation of a polygon layer (placement uncertain)
        near = placed["near_code"] if "near_code" in placed else pd.Series(dtype=object)
        near_code = {p: c for p, c in near.items() if c}
        tolerance = float(where.attrs.get("generalisation_m", 0.0) or 0.0)
        # -- PCNs crossing the layer's lines
        for code, members in configuration.members.items():
            here = [p for p in members if p in placed_code]
            if len({placed_code[p] for p in here if not pd.isna(placed_code[p])}) < 2:
                continue  # (a dict lookup per practice: pandas per PCN is ~1 ms nationally)
            sides = placed.reindex(here)
            shared = set.intersection(
                *({placed_code[p], near_code[p]} if p in near_code else {placed_code[p]}
                  for p in here)
            )
            if shared:  # one area could hold them all: only the generalised line splits them
                findings.append(
                    _near_line(context, study, code, layer, sides, near_code, tolerance)
                )
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
        recorded = recorded.reindex(placed.index)  # (an update looks at a few practices)
        actual = {c: placed[c].astype(str).str.upper() for c in ("code", "nhs_code") if c in placed}
        walk = _crosswalk(study, layer, context)
        inferred = _infer_links(walk, recorded, placed, actual)
        if inferred:
            findings.append(
                Finding(
                    check="boundaries",
                    kind="codes_inferred",
                    severity=Severity.INFO,
                    message=(
                        f"{len(inferred)} recorded {layer_label(layer)} code(s) the {layer} layer "
                        "does not hold (codes of another vintage?) were matched to the area "
                        "holding most of their practices: "
                        + ", ".join(f"{k} -> {v}" for k, v in list(inferred.items())[:6])
                        + (" ..." if len(inferred) > 6 else "")
                        + "; only practices outside that area are reported as mismatches."
                    ),
                    value=len(inferred),
                    details={"layer": layer, "links": inferred},
                )
            )
        not_comparable: dict[str, str] = {}
        rows = dict(zip(recorded.index, recorded.itertuples(index=False, name=None), strict=True))
        actual_of = [dict(zip(a.index, a, strict=True)) for a in actual.values()]
        for practice in placed.index:
            values = [v for v in rows[practice] if v]
            if not values:
                continue
            here = {a[practice] for a in actual_of} - {""}
            if any(walk.same(v, h) for v in values for h in here):
                continue
            other = near_code.get(practice, "")
            if other and any(walk.same(v, other) for v in values):
                row = placed.loc[practice]
                findings.append(
                    Finding(
                        check="boundaries",
                        kind="recorded_code_near_line",
                        severity=Severity.INFO,
                        message=(
                            f"{practice} ({names[practice]}) is recorded in "
                            f"{layer_label(layer)} {values[0]}; the {layer} layer's polygons put "
                            f"its site in {_label(row)}, {row['near_m']:,.0f} m from {other}, "
                            f"within the layer's generalisation (~{tolerance:,.0f} m): "
                            "placement uncertain, not a mismatch. Give the layer as a "
                            "small-area lookup to place it exactly."
                        ),
                        pcn_code=assign.get(practice, ""),
                        practice_codes=(practice,),
                        value=float(row["near_m"]),
                        threshold=tolerance,
                        details={
                            "layer": layer,
                            "recorded": values[0],
                            "polygon": row["code"],
                            "near_code": other,
                            "near_m": float(row["near_m"]),
                            "generalisation_m": tolerance,
                        },
                        geometry=study.practices.geometry[practice],
                    )
                )
                continue
            here_systems = {code_system(h) for h in here}
            if not any(walk.systems(v) & here_systems for v in values):
                not_comparable[practice] = values[0]  # e.g. ODS recorded, ONS-only layer
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
                        "actual_nhs_code": row.get("nhs_code", ""),
                        "actual_name": row.get("name", ""),
                    },
                    geometry=study.practices.geometry[practice],
                )
            )
        if not_comparable:
            sample_rec = sorted(set(not_comparable.values()))[:3]
            sample_layer = sorted(set(placed.loc[list(not_comparable), "code"]))[:3]
            findings.append(
                Finding(
                    check="boundaries",
                    kind="codes_not_reconciled",
                    severity=Severity.INFO,
                    message=(
                        f"The recorded {layer_label(layer)} codes of {len(not_comparable):,} "
                        f"practices ({', '.join(sample_rec)}...) and the {layer} layer's codes "
                        f"({', '.join(sample_layer)}...) are in different code systems and no "
                        "input links them, so they were not compared: give the layer an NHS "
                        "code column (nhs_code) or the practice file the ONS code column (e.g. "
                        "ONS_SUB_ICB_LOCATION_CODE) or the area names."
                    ),
                    practice_codes=tuple(sorted(not_comparable)),
                    value=len(not_comparable),
                    details={"layer": layer, "recorded": dict(sorted(not_comparable.items()))},
                )
            )
    return findings


def _near_line(context, study, code, layer, sides, near_code, tolerance) -> Finding:
    """A PCN whose practices the layer's polygons put in several areas, though one area
    could hold them all: each practice on another side lies within the layer's
    generalisation of that area (INFO: placement uncertain, not a crossing)."""
    names = study.practices["practice_name"]
    counts = sides["code"].value_counts()
    main = sorted(counts.index[counts == counts.max()])[0]
    shaky = sorted(p for p in sides.index if p in near_code and sides.at[p, "code"] != main)
    shaky = shaky or sorted(p for p in sides.index if p in near_code)
    said = "; ".join(
        f"{p} ({names[p]}), placed in {sides.at[p, 'code']} {sides.at[p, 'near_m']:,.0f} m "
        f"from {near_code[p]},"
        for p in shaky[:4]
    ) + (f" and {len(shaky) - 4} more" if len(shaky) > 4 else "")
    return Finding(
        check="boundaries",
        kind="near_line",
        severity=Severity.INFO,
        message=(
            f"{context.pcn_label(code)}: the {layer} layer's polygons put its practices in "
            f"{sides['code'].nunique()} {layer_label(layer)} areas, but only because "
            f"{said} {'lies' if len(shaky) == 1 else 'lie'} within the layer's generalisation "
            f"(~{tolerance:,.0f} m) of the line: placement uncertain, not reported as a "
            "crossing. Give the layer as a "
            "small-area lookup to place the practices exactly."
        ),
        pcn_code=code,
        practice_codes=tuple(sorted(sides.index)),
        value=len(shaky),
        threshold=tolerance,
        details={
            "layer": layer,
            "generalisation_m": tolerance,
            "near": {
                p: {"code": sides.at[p, "code"], "near_code": near_code[p],
                    "near_m": float(sides.at[p, "near_m"])}
                for p in shaky
            },
        },
    )


#: findings of these kinds belong to one practice: they change only when it moves
_PRACTICE_KINDS = {"outside_layer", "recorded_code_mismatch", "recorded_code_near_line"}


@updates(check_boundaries)
def update_boundaries(parent, study, configuration, *, context, delta) -> list[Finding]:
    """Boundary findings of a changed configuration: crossings of the touched PCNs and the
    moved practices' own findings checked again (site lookups cut to those practices)."""
    keep = delta.practices
    site_areas = {
        layer: where[where.index.isin(keep)]
        for layer, where in context.geography.site_areas.items()
    }
    view = {"geography": View(context.geography, site_areas=site_areas)}

    def own(f: Finding) -> bool:
        return f.kind in _PRACTICE_KINDS

    # the note on codes that could not be compared depends on the practices only: reused
    fresh = rerun(check_boundaries, study, context, members=delta.redo, context_view=view)
    new = [
        f
        for f in fresh
        if f.kind != "codes_not_reconciled"
        and (f.practice_codes[0] in delta.moved if own(f) else f.pcn_code in delta.redo)
    ]
    old = [
        f
        for f in parent
        if f.kind == "codes_not_reconciled"
        or (f.practice_codes[0] not in delta.moved if own(f) else f.pcn_code not in delta.touched)
    ]
    return old + new
