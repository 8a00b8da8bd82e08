"""The metrics of a :class:`~geo_pcn.partition.Partition`: one updater per metric.

Each updater is a function of the partition. With a parent that already holds the metric,
it starts from the parent's value and redoes only what the flows touch (a tally adds the
practices that joined a PCN and takes off those that left, ``new = old - out + in``);
otherwise it computes from scratch. Both give the same value (``tests/test_partition.py``).

=====================  =============================================================
``pcn_list_sizes``     pcn_code -> registered patients (a tally of list sizes)
``footprints``         the PCN footprints and their pieces (:func:`update_footprints`)
``pcn_setting``        per PCN: % rural, patient-weighted IMD score and decile
``contiguity``         per PCN: practice groups, the detached ones measured
``exclaves``           per PCN: footprint pieces with none of its practices
``crossings``          per layer and PCN: the areas its practices' sites lie in
``area_coverage``      every small area: residents, winner, PCN, status
``holes``              the study's areas no PCN footprint (nor practice in no PCN) holds
``residents``          the residents table (every resident accounted for)
``footprint_residents``  residents of the footprints registered outside the study
``alignment``          community layers against the footprints (the study-wide part once)
``pcn_area_km2``       pcn_code -> footprint area in km² (the rebuilt ones measured again)
=====================  =============================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.alignment import build_alignment
from geo_pcn.geography import build_footprints, update_footprints
from geo_pcn.geography._codes import positions
from geo_pcn.geography.accounting import (
    STATUS_WORDS,
    account_residents,
    area_status,
    residents_fixed,
)
from geo_pcn.partition._contiguity import contiguity_of, exclaves_of
from geo_pcn.partition._crossings import crossings_of
from geo_pcn.progress import stage
from geo_pcn.settings import POPULATION

__all__ = [
    "UPDATERS",
    "pcn_list_sizes",
    "footprints",
    "pcn_setting",
    "contiguity",
    "exclaves",
    "crossings",
    "area_coverage",
    "holes",
    "residents",
    "footprint_residents",
    "alignment",
    "pcn_area_km2",
    "touched_pcns",
]


def _from_parent(partition, key: str):
    """The parent's value of ``key`` when the parent holds it (else ``None``)."""
    parent = partition.parent
    return parent[key] if parent is not None and parent.holds(key) else None


# -- list sizes: a tally ----------------------------------------------------------------------
def pcn_list_sizes(partition) -> pd.Series:
    """pcn_code -> list size (int64; every PCN of the configuration, 0 when empty)."""
    codes = list(partition.configuration.pcn_codes)
    sizes = partition.list_sizes
    old = _from_parent(partition, "pcn_list_sizes")
    if old is not None:
        moved = list(partition.flows.moved)
        at = sizes.index.get_indexer(moved)
        size = dict(zip(moved, np.where(at >= 0, sizes.to_numpy()[at], 0).tolist(), strict=True))
        if old.index.equals(pd.Index(codes)):  # the same PCNs: only the flows' change
            values = old.to_numpy().copy()
            touched = sorted(partition.flows.pcns)
            for code, i in zip(touched, old.index.get_indexer(touched), strict=True):
                joined, left = partition.flows.by_pcn[code]
                values[i] += sum(size[p] for p in joined) - sum(size[p] for p in left)
            return pd.Series(values, index=old.index, dtype="int64", name=old.name)
        tally = dict(zip(old.index, old.to_numpy().tolist(), strict=True))
        for code, (joined, left) in partition.flows.by_pcn.items():
            if code:
                tally[code] = (
                    tally.get(code, 0) + sum(size[p] for p in joined) - sum(size[p] for p in left)
                )
        index = pd.Index(codes, name=old.index.name)
        values = [tally.get(c, 0) for c in codes]
        return pd.Series(values, index=index, dtype="int64", name=old.name)
    assign = partition.configuration.assignments
    sizes = sizes.reindex(assign.index).fillna(0)
    out = sizes[assign != ""].groupby(assign[assign != ""]).sum().astype("int64")
    return out.reindex(codes, fill_value=0)


# -- footprints -----------------------------------------------------------------------------
def footprints(partition):
    """The PCN footprints (:class:`~geo_pcn.geography.Footprints`): the parent's with only
    the PCNs whose practices or areas change dissolved again."""
    old = _from_parent(partition, "footprints")
    if old is not None:
        return update_footprints(old, partition.configuration)
    with stage("footprints"):
        return build_footprints(
            partition.study, partition.configuration, territories=partition.territories
        )


def touched_pcns(partition) -> set[str] | None:
    """PCNs of the configuration whose practices, name or footprint changed from the
    parent's (``None`` when the footprints were built from scratch: every PCN)."""
    fp = partition.footprints
    if partition.parent is None or fp.recomputed is None:
        return None
    codes = set(partition.configuration.pcn_codes)
    flows = partition.flows
    return (flows.pcns | set(flows.renamed) | set(fp.recomputed)) & codes


# -- PCN setting --------------------------------------------------------------------------------
def pcn_setting(partition) -> pd.DataFrame:
    """Per PCN, where its registered patients live: ``pct_rural`` (of those in a small
    area with a rural-urban class), ``imd_score`` (patient-weighted mean) and
    ``imd_decile`` (patient-weighted median decile; 1 = most deprived); no columns when the
    study has neither ``[areas] rural`` nor ``deprivation``. From a parent, the PCNs no
    practice joined or left keep its rows (the same rows in the same order: the same
    figures as a full computation)."""
    codes = list(partition.configuration.pcn_codes)
    rows = partition.study_fact("setting_rows", lambda: _setting_rows(partition.study))
    if rows is None:
        return pd.DataFrame(index=pd.Index(codes, name="pcn_code"))
    assign = partition.configuration.assignments
    table = _from_parent(partition, "pcn_setting")
    if table is not None and table.index.equals(pd.Index(codes)):
        # the same PCNs: the rows of those practices joined or left replaced in place
        redo = sorted(partition.flows.pcns & set(codes))
        if not redo:
            return table
        fresh = _setting_of(rows, assign, redo)
        out = table.copy()
        at = table.index.get_indexer(redo)
        for column in table.columns:
            values = table[column].array.copy()
            values[at] = fresh[column].astype(table[column].dtype).array
            out[column] = values
        return out
    if table is not None:
        redo = partition.flows.pcns | (set(codes) - set(table.index))
        keep = [c for c in codes if c not in redo]
        fresh = _setting_of(rows, assign, sorted(redo & set(codes)))
        out = pd.concat([table.reindex(keep), fresh]) if len(fresh) else table.reindex(keep)
        out = out.reindex(codes)
        for column in table.columns:
            out[column] = out[column].astype(table[column].dtype)
        out.index.name = "pcn_code"
        return out
    return _setting_of(rows, assign, codes)


def _setting_rows(study) -> dict | None:
    """The small-area registrations of a study with what :func:`pcn_setting` needs of
    each (patients, rural class, IMD score and decile), the row positions of each
    practice's rows, in the registrations' order; ``None`` without rural or deprivation."""
    areas = study.areas
    reg = study.registrations
    if areas is None or reg is None or not {"rural", "imd_score"} & set(areas.columns):
        return None
    rows = reg[(reg["area_kind"] == "small_area").to_numpy()]
    practice, practices = pd.factorize(rows["practice_code"])  # (Arrow text hashed in Arrow)
    area = rows["area_code"]
    out: dict = {
        "practice": practice,  # each row's practice, as a position in "practices"
        "practices": pd.Index(np.asarray(practices, dtype=object), dtype=object),
        "n": rows["n_patients"].astype(float).to_numpy(),
        "by_practice": pd.Series(np.arange(len(rows))).groupby(practice, sort=False).indices,
    }
    at = positions(areas.index, area)  # once, for every column below

    def per_row(column: str) -> np.ndarray:
        if (at < 0).any():
            return areas[column].reindex(area).to_numpy()
        return areas[column].to_numpy()[at]

    if "rural" in areas:
        out["rural"] = per_row("rural")
    if "imd_score" in areas:
        out["imd_score"] = per_row("imd_score").astype(float)
        out["imd_decile"] = per_row("imd_decile")
    return out


def _setting_of(rows: dict, assign: pd.Series, codes: list[str]) -> pd.DataFrame:
    """:func:`pcn_setting` of the PCNs ``codes`` from their practices' rows (the PCNs as
    numbers in code order while grouping: grouping 800,000 rows by text is slow)."""
    out = pd.DataFrame(index=pd.Index(codes, name="pcn_code"))
    ordered = np.asarray(sorted(codes), dtype=object)
    members = assign[assign.isin(codes).to_numpy()] if codes else assign.iloc[:0]
    # practice position -> PCN number (-1: none of these PCNs)
    practices = rows["practices"]
    at = practices.get_indexer(pd.Index(members.index.to_numpy(dtype=object), dtype=object))
    lut = np.full(len(practices) + 1, -1, dtype=np.intp)
    lut[at[at >= 0]] = pd.Index(ordered).get_indexer(members.to_numpy(dtype=object))[at >= 0]
    by_practice = rows["by_practice"]
    picked = [by_practice[i] for i in at[at >= 0] if i in by_practice]
    pos = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.intp)
    pcn = lut[rows["practice"][pos]]
    n = pd.Series(rows["n"][pos])

    def by_code(series: pd.Series) -> pd.Series:
        return pd.Series(series.to_numpy(), index=ordered[series.index.to_numpy(dtype=np.intp)])

    if "rural" in rows:
        rural = rows["rural"][pos]
        known = ~pd.isna(rural)
        flag = rural[known].astype(bool)
        num = by_code((n[known] * flag).groupby(pcn[known]).sum())
        den = by_code(n[known].groupby(pcn[known]).sum())
        out["pct_rural"] = (100 * num / den).round(1).reindex(codes)
    if "imd_score" in rows:
        score = rows["imd_score"][pos]
        known = ~np.isnan(score)
        k = pd.DataFrame({"pcn": pcn[known], "s": score[known], "w": n[known].to_numpy()})
        k = k.assign(sw=k["s"] * k["w"])
        sums = k.groupby("pcn")[["sw", "w"]].sum()
        mean = (sums["sw"] / sums["w"]).round(2)
        out["imd_score"] = by_code(mean).reindex(codes)
        k = k.assign(d=rows["imd_decile"][pos][known]).sort_values(["pcn", "d"])
        cum = k.groupby("pcn")["w"].cumsum() / k["pcn"].map(sums["w"])
        med = k[cum.to_numpy() >= 0.5].groupby("pcn")["d"].first()
        out["imd_decile"] = by_code(med).reindex(codes).astype("Int64")
    return out


# -- contiguity, exclaves, crossings: PCN by PCN ----------------------------------------------
def _changed_boxes(partition) -> shapely.STRtree | None:
    """Boxes round the old and new footprints of the PCNs whose footprint was rebuilt."""
    fp, old = partition.footprints, partition.parent.footprints
    redo = sorted(set(fp.recomputed) | (set(old.pcns.index) - set(fp.pcns.index)))
    geoms = [g for g in (*old.pcns.geometry.reindex(redo), *fp.pcns.geometry.reindex(redo)) if g]
    geoms = [g for g in geoms if not shapely.is_empty(g)]
    if not geoms:
        return None
    bounds = np.asarray(shapely.bounds(np.asarray(geoms, dtype=object)))
    return shapely.STRtree(shapely.box(*bounds.T))


def contiguity(partition) -> dict:
    """pcn_code -> :class:`~geo_pcn.partition._contiguity.PCNContiguity`. From a parent:
    the PCNs whose practices or footprint changed are redone, and those whose detached
    groups' connecting lines run near a changed footprint (the PCNs between may change)."""
    codes = list(partition.configuration.pcn_codes)
    old = _from_parent(partition, "contiguity")
    touched = touched_pcns(partition) if old is not None else None
    if touched is None:
        return contiguity_of(partition, codes)
    tree = _changed_boxes(partition)
    redo = set(touched) | (set(codes) - set(old))
    if tree is not None:
        for code, value in old.items():
            if code in redo or code not in partition.configuration.members:
                continue
            if any(len(tree.query(d.line, predicate="intersects")) for d in value.detached):
                redo.add(code)
    fresh = contiguity_of(partition, redo)
    return {c: fresh[c] if c in redo else old[c] for c in codes}


def exclaves(partition) -> dict:
    """pcn_code -> its exclaves (:class:`~geo_pcn.partition._contiguity.Exclave`), for the
    PCNs that have any. From a parent: the PCNs whose practices or footprint changed are
    redone (a PCN's pieces depend on its own areas only)."""
    codes = list(partition.configuration.pcn_codes)
    old = _from_parent(partition, "exclaves")
    touched = touched_pcns(partition) if old is not None else None
    if touched is None:
        return exclaves_of(partition, codes)
    fresh = exclaves_of(partition, touched)
    keep = set(codes) - touched
    out = {c: v for c, v in old.items() if c in keep}
    out.update(fresh)
    return {c: out[c] for c in sorted(out)}


def crossings(partition) -> dict:
    """layer -> ``pcn_code -> Crossing`` (PCNs whose practices' sites lie in more than one
    area of the layer). From a parent: the PCNs practices joined or left are redone."""
    codes = list(partition.configuration.pcn_codes)
    old = _from_parent(partition, "crossings")
    if old is None:
        return crossings_of(partition, codes)
    known = set(codes)
    redo = partition.flows.pcns & known
    fresh = crossings_of(partition, redo)
    out = {}
    for layer, found in old.items():
        kept = {c: v for c, v in found.items() if c not in redo and c in known}
        kept.update(fresh[layer])
        out[layer] = {c: kept[c] for c in sorted(kept)}
    return out


# -- areas ----------------------------------------------------------------------------------
def _same_areas(partition) -> bool:
    """Whether every area has the same PCN, practice in no PCN and residents at practices
    in no PCN as in the parent (so the area tables are the parent's)."""
    parent = partition.parent
    if parent is None or not parent.holds("footprints"):
        return False
    fp, old = partition.footprints, parent.footprints
    if fp.area_pcn is not old.area_pcn:
        return False
    if set(partition.configuration.unassigned) != set(parent.configuration.unassigned):
        return False
    a, b = fp.area_unassigned, old.area_unassigned
    return (a is None and b is None) or (a is not None and b is not None and a.equals(b))


def area_coverage(partition) -> pd.DataFrame | None:
    """Every small area of the areas layer: population, residents registered at the study's
    practices, at its practices in no PCN and at practices outside the study, the population
    less everyone registered (an estimate difference, with every practice's registrations
    only), who serves it (``study`` / ``outside`` / ``""``), the winning practice, the PCN
    whose footprint holds it, the practice in no PCN that wins it, its ``status`` (see
    :data:`geo_pcn.geography.accounting.STATUS_WORDS`) and why it is left out of the
    region. ``None`` without registrations or areas."""
    if _same_areas(partition) and partition.parent.holds("area_coverage"):
        return partition.parent["area_coverage"]
    study = partition.study
    fp = partition.footprints
    terr = fp.territories
    if terr.residents is None:
        return None
    table = terr.areas
    status = area_status(study, fp)
    areas = study.areas
    out = pd.DataFrame(index=areas.index)
    out["area_name"] = areas.get("area_name", "")
    out[POPULATION] = areas[POPULATION]
    out["n_registered"] = table["n_study"].astype("int64")
    out["n_registered_no_pcn"] = status["n_no_pcn"]
    out["n_registered_outside"] = table["n_outside"].astype("int64")
    if terr.basis == "registrations":
        everyone = table["n_study"] + table["n_outside"]
        out["population_less_registered"] = (
            (table[POPULATION].astype("Float64") - everyone.astype("Float64"))
            .round(0)
            .astype("Int64")
        )
    out["served_from"] = table["served_from"]
    out["practice_code"] = terr.area_winner.reindex(out.index).fillna("")
    out["pcn_code"] = fp.area_pcn.reindex(out.index).fillna("")
    out["practice_in_no_pcn"] = (
        fp.area_unassigned.reindex(out.index).fillna("") if fp.area_unassigned is not None else ""
    )
    out["status"] = status["status"].map(STATUS_WORDS)
    out["why_left_out"] = status["why"]
    return out


def holes(partition) -> dict | None:
    """The study's small areas no PCN footprint holds, other than those a practice in no
    PCN wins: ``codes`` (sorted), ``population`` (``None`` when not known for all),
    ``n_registered_no_pcn``, ``n_places`` (touching areas merged) and ``geometry``;
    ``None`` when there are none."""
    fp = partition.footprints
    found = fp.uncovered_areas
    won = fp.area_unassigned
    if found is not None and won is not None and len(won):
        found = found[~found.index.isin(won.index)]
    parent = partition.parent
    if (
        parent is not None
        and parent.holds("holes")
        and set(partition.configuration.unassigned) == set(parent.configuration.unassigned)
    ):  # the same areas, and the same practices in no PCN registering their residents
        old = parent["holes"]
        if (old is None and (found is None or found.empty)) or (
            old is not None and found is not None and old["codes"] == sorted(found.index)
        ):
            return old
    if found is None or found.empty:
        return None
    table = partition["area_coverage"]
    codes = sorted(found.index)
    study = partition.study
    areas = study.areas.loc[codes]
    pop = table.loc[codes, POPULATION]
    known = bool(pop.notna().all())
    return {
        "codes": codes,
        "population": int(pop.fillna(0).sum()) if known else None,
        "n_population": int(pop.fillna(0).sum()),
        "n_registered_no_pcn": int(table.loc[codes, "n_registered_no_pcn"].sum()),
        "n_places": len(shapely.get_parts(shapely.union_all(found.geometry.to_numpy()))),
        "geometry": shapely.union_all(areas.geometry.to_numpy()),
    }


def _same_status(partition) -> bool:
    """Whether every area has the same status and the same residents at practices in a
    PCN and in no PCN as in the parent (:func:`~geo_pcn.geography.accounting.area_status`
    reads only which areas some PCN's footprint holds, which a practice in no PCN wins and
    which practices are in no PCN): a move between two PCNs that hands areas from one to
    the other keeps them."""
    parent = partition.parent
    if parent is None or not parent.holds("footprints"):
        return False
    if set(partition.configuration.unassigned) != set(parent.configuration.unassigned):
        return False
    fp, old = partition.footprints, parent.footprints
    for a, b in ((fp.area_pcn, old.area_pcn), (fp.area_unassigned, old.area_unassigned)):
        if a is b:
            continue
        if a is None or b is None or not (a.index is b.index or a.index.equals(b.index)):
            return False
    return True


def residents(partition) -> dict | None:
    """The residents table (:func:`~geo_pcn.geography.accounting.account_residents`):
    the parent's when every area keeps its status (:func:`_same_status`)."""
    if _same_status(partition) and partition.parent.holds("residents"):
        return partition.parent["residents"]
    study, fp = partition.study, partition.footprints
    fixed = partition.study_fact("residents_fixed", lambda: residents_fixed(study, fp))
    return account_residents(study, fp, fixed=fixed)


def footprint_residents(partition) -> dict | None:
    """Residents of the PCN footprints by where they are registered: ``by_pcn`` (at
    practices outside the study), ``by_pcn_study`` (at the study's), ``top`` (the outside
    practices serving most of them: ``(practice_code, patients)``) and ``areas`` (the
    footprints' rows of the territories' area table); ``None`` without areas or a basis."""
    parent = partition.parent
    fp = partition.footprints
    if (
        parent is not None
        and parent.holds("footprint_residents")
        and parent.holds("footprints")
        and parent.footprints.area_pcn is fp.area_pcn
    ):
        return parent["footprint_residents"]
    terr = fp.territories
    if terr.areas is None or fp.area_pcn is None or terr.basis == "none":
        return None
    updated = _footprint_residents_from_parent(partition)
    if updated is not None:
        return updated
    pos = fp.area_pcn_position
    # sums by PCN (in code order) over numbers, not text: exact, as the counts are whole
    pcn, codes = pd.factorize(fp.area_pcn.to_numpy(dtype=object), sort=True)
    codes = pd.Index(np.asarray(codes, dtype=object), dtype=object)

    def by_pcn(column: str) -> pd.Series:
        counts = terr.areas[column].to_numpy(dtype="int64")[pos]
        return pd.Series(np.bincount(pcn, weights=counts, minlength=len(codes)), index=codes)

    return {
        "by_pcn": by_pcn("n_outside").astype("int64"),
        "by_pcn_study": by_pcn("n_study").astype("int64"),
        "top": top_outside(terr, fp.area_pcn.index),
        "areas": terr.areas.iloc[pos],
    }


def _footprint_residents_from_parent(partition) -> dict | None:
    """:func:`footprint_residents` from the parent's: the sums of the PCNs whose footprint
    was rebuilt worked out again over their areas (each study area's owner), the rest
    kept; the outside practices and the area rows kept while the same areas are won.
    ``None`` when the parent does not hold what this needs."""
    parent = partition.parent
    if parent is None or not parent.holds("footprint_residents"):
        return None
    old, fp, before = parent["footprint_residents"], partition.footprints, parent.footprints
    if old is None or fp.recomputed is None or not fp.holds("area_owner"):
        return None
    if fp.area_pcn.index is not before.area_pcn.index:  # other areas won: built again
        return None
    terr = fp.territories
    counts = partition.study_fact("footprint_residents_counts", lambda: _study_area_counts(terr))
    if counts is None:
        return None
    owner = fp.area_owner
    if int((owner != "").sum()) != len(fp.area_pcn):  # some won area is no study area
        return None
    redo = set(fp.recomputed) | (set(old["by_pcn"].index) - set(partition.configuration.pcn_codes))
    out = {}
    for key, column in (("by_pcn", "n_outside"), ("by_pcn_study", "n_study")):
        sums = dict(zip(old[key].index, old[key].to_numpy().tolist(), strict=True))
        for code in redo:
            mine = owner == code
            if mine.any():
                sums[code] = int(counts[column][mine].sum())
            else:
                sums.pop(code, None)
        codes = sorted(sums)
        out[key] = pd.Series(
            [sums[c] for c in codes], index=pd.Index(codes, dtype=object), dtype="int64"
        )
    return {**out, "top": old["top"], "areas": old["areas"]}


def _study_area_counts(terr) -> dict | None:
    """``n_outside`` and ``n_study`` of each study area (the territories' area table read
    in the order of the study areas); ``None`` when some study area is not in it."""
    at = terr.study_area_position
    if at is None or (at < 0).any():
        return None
    return {c: terr.areas[c].to_numpy(dtype="int64")[at] for c in ("n_outside", "n_study")}


def top_outside(terr, codes) -> list[tuple[str, int]]:
    """Practices outside the study by their residents in the areas ``codes``, most
    first (then by code)."""
    rows = terr.outside_rows
    if rows is None:
        return []
    area, practice, practices, n = rows
    wanted = np.zeros(len(terr.area_position) + 1, dtype=bool)  # the last: no area
    at = terr.area_position.get_indexer(pd.Index(codes))
    wanted[at[at >= 0]] = True
    hit = wanted[area]
    count = np.bincount(practice[hit], minlength=len(practices))
    total = np.bincount(practice[hit], weights=n[hit], minlength=len(practices))
    present = count > 0
    by = pd.DataFrame({"practice_code": practices[present], "n": total[present].astype("int64")})
    by = by.sort_values(["n", "practice_code"], ascending=[False, True])
    return [(str(p), int(n)) for p, n in zip(by["practice_code"], by["n"], strict=True)]


# -- alignment ------------------------------------------------------------------------------
def alignment(partition):
    """Community layers against the PCN footprints
    (:func:`~geo_pcn.alignment.build_alignment`): its scores are study-wide, so it is
    computed whole; from a parent holding it, a sites layer places again only the sites
    near a rebuilt footprint."""
    old = _from_parent(partition, "alignment")
    before = None
    if old is not None and partition.parent.holds("footprints"):
        before = (partition.parent.footprints, old)
    return build_alignment(
        partition.study,
        partition.configuration,
        footprints=partition.footprints,
        fixed=partition.study_fact("alignment_fixed", dict),
        pcn_sizes=partition.pcn_list_sizes,
        before=before,
    )


# -- footprint areas ----------------------------------------------------------------------
def pcn_area_km2(partition) -> pd.Series:
    """pcn_code -> footprint area in km² (2 decimals); from a parent with the same PCNs,
    only the rebuilt footprints are measured again."""
    fp = partition.footprints
    old = _from_parent(partition, "pcn_area_km2")
    if old is not None and fp.recomputed is not None and old.index.equals(fp.pcns.index):
        redo = list(fp.recomputed)
        values = old.to_numpy().copy()
        geoms = fp.pcns.geometry.to_numpy()[fp.pcns.index.get_indexer(redo)]
        values[old.index.get_indexer(redo)] = np.round(shapely.area(geoms) / 1e6, 2)
        return pd.Series(values, index=old.index, name=old.name)
    return (fp.pcns.geometry.area / 1e6).round(2)


#: name -> updater: the metrics of every partition (in the order the checks read them)
UPDATERS = {
    "pcn_list_sizes": pcn_list_sizes,
    "footprints": footprints,
    "pcn_setting": pcn_setting,
    "contiguity": contiguity,
    "exclaves": exclaves,
    "crossings": crossings,
    "area_coverage": area_coverage,
    "holes": holes,
    "residents": residents,
    "footprint_residents": footprint_residents,
    "alignment": alignment,
    "pcn_area_km2": pcn_area_km2,
}
