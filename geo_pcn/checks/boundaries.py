"""Boundary checks: PCNs whose practices lie on both sides of a sub-ICB, ICB or place line,
practices lying outside a layer, and practices whose recorded sub-ICB / ICB code differs
from the area their site actually lies in (code reconciliation). Where each site lies comes
from :mod:`geo_pcn.geography._placement` (a district code, a small-area lookup, else
polygons with their generalisation: a site within it of the line is near the line)."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import shapely
from networkx.utils import UnionFind

from geo_pcn.findings import Finding, Severity
from geo_pcn.partition.keyed import keyed, parts

__all__ = [
    "check_boundaries",
    "boundary_findings",
    "RECORDED_COLUMNS",
    "CodeCrosswalk",
    "code_system",
]

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
        self._classes = UnionFind()
        self._systems_cache: dict[str, set[str]] | None = None  # root -> systems; None: stale

    def __contains__(self, code: str) -> bool:
        """Whether ``code`` has been linked to another code."""
        return str(code).strip().upper() in self._classes.parents

    def link(self, a: str, b: str) -> None:
        """Record that ``a`` and ``b`` name the same area."""
        a, b = str(a).strip().upper(), str(b).strip().upper()
        if a and b and a != b:
            self._classes.union(a, b)
            self._systems_cache = None

    def same(self, a: str, b: str) -> bool:
        a, b = str(a).strip().upper(), str(b).strip().upper()
        known = self._classes.parents
        return a == b or (a in known and b in known and self._classes[a] == self._classes[b])

    def class_of(self, code: str) -> str | None:
        """The class of a linked code (two codes are :meth:`same` when equal or of one
        class); ``None`` for a code never linked."""
        code = str(code).strip().upper()
        return self._classes[code] if code in self._classes.parents else None

    def classes_of(self, codes) -> set[str]:
        """The classes of the linked ones of ``codes``: ``class_of(a) in classes_of(codes)``
        is ``any(same(a, c) for c in codes if c in self)`` for a linked ``a``."""
        return {k for k in map(self.class_of, codes) if k is not None}

    def systems(self, code: str) -> set[str]:
        """The code systems a code can be compared in: its own, and those of its links."""
        code = str(code).strip().upper()
        if code not in self._classes.parents:
            return {code_system(code)}
        if self._systems_cache is None:  # rebuilt only after new links
            by_root: dict[str, set[str]] = {}
            for c in list(self._classes.parents):
                by_root.setdefault(self._classes[c], set()).add(code_system(c))
            self._systems_cache = by_root
        return self._systems_cache.get(self._classes[code], {code_system(code)})

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


#: a recorded code the layer does not hold is matched to the area holding at least this
#: share of its practices (and at least _MIN_PRACTICES of them)
_INFER_SHARE = 0.5
_MIN_PRACTICES = 3


def _infer_links(walk, recorded, placed, actual) -> dict[str, str]:
    """Link recorded codes the layer does not hold (nor any input links to it) to the area
    where most of their practices sit: the map of July 2022 records 2020 CCG codes (06F)
    against 2021 CCG polygons (E38000249, which absorbed it). Returns code -> area."""
    here = pd.Series(
        actual.get("code", pd.Series("", index=placed.index)).to_numpy(dtype=object),
        index=placed.index,
    )
    layer_codes = set(here) - {""}
    for column in actual.values():
        layer_codes |= set(column.to_numpy(dtype=object)) - {""}
    # the first recorded code that is not blank (vectorised: row-wise apply is slow)
    first = np.full(len(recorded), "", dtype=object)
    for column in reversed(list(recorded.columns)):
        values = recorded[column].to_numpy(dtype=object)
        first = np.where(values != "", values, first)
    first = pd.Series(first, index=recorded.index, dtype=object)
    out: dict[str, str] = {}
    frame = pd.DataFrame({"rec": first, "here": here})
    frame = frame[(frame["rec"] != "") & (frame["here"] != "")]
    linked = None  # the crosswalk's classes of the layer's codes (again after a link)
    for code, group in frame.groupby("rec", sort=True):
        if code in layer_codes:
            continue
        if linked is None:
            linked = walk.classes_of(layer_codes)
        if walk.class_of(code) in linked:  # what walk.same(code, c) for any c tells
            continue
        counts = group["here"].value_counts()
        if len(group) >= _MIN_PRACTICES and counts.iloc[0] >= _INFER_SHARE * len(group):
            top = sorted(counts.index[counts == counts.iloc[0]])[0]
            walk.link(code, top)
            linked = None
            out[str(code)] = str(top)
    return out


#: findings of these kinds belong to one practice (in its PCN, at its site)
_PRACTICE_KINDS = {"recorded_code_mismatch", "recorded_code_near_line"}


def check_boundaries(partition) -> list[Finding]:
    """For every boundary layer of the study: PCNs crossing its lines (WARNING, with
    patients on each side), practices outside it (WARNING), and recorded codes that
    disagree with where the practice sits (WARNING). Where a layer's lines come from
    generalised polygons, a crossing or mismatch that rests only on a site within the
    layer's generalisation of the line is a note, ``near_line`` / ``recorded_code_near_line``
    (placement uncertain), instead (see :mod:`geo_pcn.geography._placement`).

    The crossings are the partition's ``crossings`` metric; where each practice's recorded
    code stands against its site is a fact of the study, worked out once
    (:meth:`~geo_pcn.partition.Partition.study_fact`)."""
    return parts(partition.metric(FINDINGS, boundary_findings))


#: the name of the boundaries check's findings (per PCN and practice) among the metrics
FINDINGS = "boundary_findings"


def boundary_findings(partition) -> dict:
    """Updater: for each boundary layer, ``(layer, pcn_code) -> (inputs, [finding])`` for
    each PCN crossing its lines (from its ``crossings`` metric value and label), then
    ``("outside", layer, practice)`` for each practice outside the layer (from its PCN),
    then ``("recorded", layer, i)`` for each recorded-code entry (from the entry and the
    practice's PCN); from a parent holding it, only those whose inputs changed are made
    again (:func:`~geo_pcn.partition.keyed`)."""
    crossings = partition.crossings

    def entries():
        for layer, where in partition.geography.site_areas.items():
            yield from _layer_entries(partition, layer, where, crossings[layer])

    return keyed(partition, FINDINGS, entries())


def _layer_entries(partition, layer: str, where: pd.DataFrame, crossings: dict):
    """The entries (``key, inputs, make``) of one layer for :func:`boundary_findings`."""
    study = partition.study
    assign = partition.configuration.pcn_by_practice
    names = study.practices["practice_name"]
    tolerance = partition.geography.generalisation_m[layer]
    # -- PCNs crossing the layer's lines
    for code, crossing in crossings.items():
        yield (
            (layer, code),
            (crossing, partition.pcn_label(code)),
            lambda c=code, x=crossing, t=tolerance: [_crossing_finding(partition, c, x, t)],
        )
    # -- practices outside every polygon of the layer
    outside = partition.study_fact(  # (where sites lie is the same for every move)
        ("outside_layer", layer), lambda w=where: _outside_layer(study, w)
    )
    for practice in outside:
        pcn = assign.get(practice, "")
        yield (
            ("outside", layer, practice),
            (pcn,),
            lambda p=practice, c=pcn, ly=layer: [
                Finding(
                    check="boundaries",
                    kind="outside_layer",
                    severity=Severity.WARNING,
                    message=(
                        f"{p} ({names[p]}) lies outside every {layer_label(ly)} area of the study."
                    ),
                    pcn_code=c,
                    practice_codes=(p,),
                    details={"layer": ly},
                    geometry=study.practices.geometry[p],
                )
            ],
        )
    # -- recorded code vs the polygon the site lies in (the same for every configuration)
    recorded = partition.study_fact(
        ("recorded_codes", layer),
        lambda w=where, ly=layer, t=tolerance: _recorded_codes(study, ly, w, tolerance=t),
    )
    for i, entry in enumerate(recorded):
        kind, practices = entry[0], entry[1]
        # a practice's own finding (near the line, mismatch) is in its PCN, at its site
        own = kind in _PRACTICE_KINDS
        pcn = assign.get(practices[0], "") if own else ""
        yield (
            ("recorded", layer, i),
            (entry, pcn),
            lambda e=entry, o=own, p=pcn: [_recorded_finding(study, e, o, p)],
        )


def _outside_layer(study, where: pd.DataFrame) -> list[str]:
    """The located practices whose site lies in no area of a layer (``where``)."""
    geoms = study.practices.geometry
    located = pd.Series(~shapely.is_missing(geoms.to_numpy()), index=geoms.index)
    return list(where.index[(where["code"] == "") & located.reindex(where.index).to_numpy()])


def _recorded_finding(study, entry: tuple, own: bool, pcn: str) -> Finding:
    """The finding of one entry of :func:`_recorded_codes` (``own``: a practice's own,
    in its PCN ``pcn`` and at its site)."""
    kind, practices, severity, message, value, threshold, details = entry
    return Finding(
        check="boundaries",
        kind=kind,
        severity=severity,
        message=message,
        pcn_code=pcn,
        practice_codes=practices,
        value=value,
        threshold=threshold,
        details=copy.deepcopy(details),  # (the study's fact stays as it is)
        geometry=study.practices.geometry[practices[0]] if own else None,
    )


def _crossing_finding(partition, code: str, crossing, tolerance: float) -> Finding:
    """The finding of one PCN crossing a layer's lines (its ``crossings`` metric value)."""
    if crossing.near:
        return _near_line(partition, code, crossing, tolerance)
    layer = crossing.layer
    parts = [
        f"{crossing.labels[a]}: {len(d['practices'])} practice"
        f"{'s' * (len(d['practices']) != 1)}, {d['patients']:,} patients"
        for a, d in crossing.sides.items()
    ]
    return Finding(
        check="boundaries",
        kind="crosses_boundary",
        severity=Severity.WARNING,
        message=(
            f"{partition.pcn_label(code)} has practices in {len(crossing.sides)} "
            f"{layer_label(layer)} areas ({'; '.join(parts)})."
        ),
        pcn_code=code,
        practice_codes=crossing.practices,
        value=len(crossing.sides),
        threshold=1,
        details={"layer": layer, "sides": crossing.sides},
    )


def _recorded_codes(study, layer: str, where: pd.DataFrame, *, tolerance: float) -> list[tuple]:
    """Where each practice's recorded code of ``layer`` stands against the area its site
    lies in: ``(kind, practices, severity, message, value, threshold, details)`` for the
    links inferred (no practice), each practice near the line or mismatched (one), and the
    practices whose codes could not be compared."""
    columns = [c for c in RECORDED_COLUMNS.get(layer, (f"{layer}_code",)) if c in study.practices]
    if not columns:
        return []
    names = study.practices["practice_name"]
    placed = where[where["code"] != ""]
    near = placed["near_code"] if "near_code" in placed else pd.Series(dtype=object)
    near_code = {p: c for p, c in near.items() if c}
    recorded = study.practices[columns].fillna("").astype(str).apply(lambda s: s.str.upper())
    recorded = recorded.reindex(placed.index)
    actual = {c: placed[c].astype(str).str.upper() for c in ("code", "nhs_code") if c in placed}
    walk = CodeCrosswalk.from_study(study, layer)
    inferred = _infer_links(walk, recorded, placed, actual)
    out: list[tuple] = [_inferred_entry(layer, inferred)] if inferred else []
    not_comparable: dict[str, str] = {}
    # (columns as object arrays: iterating Arrow text costs a Python call per value)
    cells = [recorded[c].to_numpy(dtype=object) for c in recorded.columns]
    rows = dict(zip(recorded.index, zip(*cells, strict=True), strict=True))
    actual_of = [dict(zip(a.index, a.to_numpy(dtype=object), strict=True)) for a in actual.values()]
    for practice in placed.index:
        values = [v for v in rows[practice] if v]
        if not values:
            continue
        here = {a[practice] for a in actual_of} - {""}
        if any(walk.same(v, h) for v in values for h in here):
            continue
        other = near_code.get(practice, "")
        row = placed.loc[practice]
        said = f"{practice} ({names[practice]}) is recorded in {layer_label(layer)} {values[0]}"
        if other and any(walk.same(v, other) for v in values):
            out.append(_near_line_entry(practice, said, layer, values[0], row, other, tolerance))
            continue
        here_systems = {code_system(h) for h in here}
        if not any(walk.systems(v) & here_systems for v in values):
            not_comparable[practice] = values[0]  # e.g. ODS recorded, ONS-only layer
            continue
        out.append(_mismatch_entry(practice, said, layer, values[0], row))
    if not_comparable:
        out.append(_not_reconciled_entry(layer, not_comparable, placed))
    return out


def _inferred_entry(layer: str, inferred: dict) -> tuple:
    """INFO: recorded codes the layer does not hold, matched to an area (no practice)."""
    return (
        "codes_inferred",
        (),
        Severity.INFO,
        f"{len(inferred)} recorded {layer_label(layer)} code(s) the {layer} layer "
        "does not hold (codes of another vintage?) were matched to the area "
        "holding most of their practices: "
        + ", ".join(f"{k} -> {v}" for k, v in list(inferred.items())[:6])
        + (" ..." if len(inferred) > 6 else "")
        + "; only practices outside that area are reported as mismatches.",
        len(inferred),
        None,
        {"layer": layer, "links": inferred},
    )


def _near_line_entry(practice, said: str, layer: str, recorded: str, row, other, tolerance):
    """INFO: a practice recorded in the area its site lies near, within the layer's
    generalisation of the line (``said``: who it is and the code recorded)."""
    return (
        "recorded_code_near_line",
        (practice,),
        Severity.INFO,
        f"{said}; the {layer} layer's polygons put "
        f"its site in {_label(row)}, {row['near_m']:,.0f} m from {other}, "
        f"within the layer's generalisation (~{tolerance:,.0f} m): "
        "placement uncertain, not a mismatch. Give the layer as a "
        "small-area lookup to place it exactly.",
        float(row["near_m"]),
        tolerance,
        {
            "layer": layer,
            "recorded": recorded,
            "polygon": row["code"],
            "near_code": other,
            "near_m": float(row["near_m"]),
            "generalisation_m": tolerance,
        },
    )


def _mismatch_entry(practice, said: str, layer: str, recorded: str, row) -> tuple:
    """WARNING: a practice recorded in another area than its site lies in."""
    return (
        "recorded_code_mismatch",
        (practice,),
        Severity.WARNING,
        f"{said} but its site lies in {_label(row)}.",
        None,
        recorded,
        {
            "layer": layer,
            "recorded": recorded,
            "actual": row["code"],
            "actual_nhs_code": row.get("nhs_code", ""),
            "actual_name": row.get("name", ""),
        },
    )


def _not_reconciled_entry(layer: str, not_comparable: dict, placed: pd.DataFrame) -> tuple:
    """INFO: practices whose recorded codes and the layer's are in two code systems
    nothing links."""
    sample_rec = sorted(set(not_comparable.values()))[:3]
    sample_layer = sorted(set(placed.loc[list(not_comparable), "code"]))[:3]
    return (
        "codes_not_reconciled",
        tuple(sorted(not_comparable)),
        Severity.INFO,
        f"The recorded {layer_label(layer)} codes of {len(not_comparable):,} "
        f"practices ({', '.join(sample_rec)}...) and the {layer} layer's codes "
        f"({', '.join(sample_layer)}...) are in different code systems and no "
        "input links them, so they were not compared: give the layer an NHS "
        "code column (nhs_code) or the practice file the ONS code column (e.g. "
        "ONS_SUB_ICB_LOCATION_CODE) or the area names.",
        len(not_comparable),
        None,
        {"layer": layer, "recorded": dict(sorted(not_comparable.items()))},
    )


def _near_line(partition, code, crossing, tolerance) -> Finding:
    """A PCN whose practices the layer's polygons put in several areas, though one area
    could hold them all: each practice on another side lies within the layer's
    generalisation of that area (INFO: placement uncertain, not a crossing)."""
    names = partition.study.practices["practice_name"]
    layer = crossing.layer
    shaky = list(crossing.shaky)
    said = "; ".join(
        f"{p} ({names[p]}), placed in {crossing.shaky[p]['code']} "
        f"{crossing.shaky[p]['near_m']:,.0f} m from {crossing.shaky[p]['near_code']},"
        for p in shaky[:4]
    ) + (f" and {len(shaky) - 4} more" if len(shaky) > 4 else "")
    return Finding(
        check="boundaries",
        kind="near_line",
        severity=Severity.INFO,
        message=(
            f"{partition.pcn_label(code)}: the {layer} layer's polygons put its practices in "
            f"{crossing.n_areas} {layer_label(layer)} areas, but only because "
            f"{said} {'lies' if len(shaky) == 1 else 'lie'} within the layer's generalisation "
            f"(~{tolerance:,.0f} m) of the line: placement uncertain, not reported as a "
            "crossing. Give the layer as a "
            "small-area lookup to place the practices exactly."
        ),
        pcn_code=code,
        practice_codes=crossing.practices,
        value=len(shaky),
        threshold=tolerance,
        details={
            "layer": layer,
            "generalisation_m": tolerance,
            "near": {p: dict(crossing.shaky[p]) for p in shaky},
        },
    )
