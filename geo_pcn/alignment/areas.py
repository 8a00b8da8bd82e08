"""Aligning a community **areas** layer (team or neighbourhood footprints) with the PCN
footprints: :func:`align_areas` (see :mod:`geo_pcn.alignment`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.alignment._shared import _point_in, _shares
from geo_pcn.alignment.results import AreaAlignment
from geo_pcn.alignment.scores import MIN_SHARE, ONE_AREA_SHARE, partition_scores
from geo_pcn.geography import Footprints
from geo_pcn.settings import (
    AREA_CODE,
    N_PATIENTS,
    PCN_CODE,
    PRACTICE_CODE,
)


def align_areas(study, layer, footprints: Footprints) -> AreaAlignment:
    """Align a community ``areas`` layer with the PCN footprints (see module docstring).

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study`.
    layer
        A :class:`~geo_pcn.study.CommunityLayer` of kind ``areas``.
    footprints
        The configuration's PCN footprints.

    Returns
    -------
    AreaAlignment
    """
    configuration = footprints.configuration
    services = layer.data
    codes = services["code"].to_numpy(dtype=object)
    pcn_codes = list(configuration.pcn_codes)
    if footprints.territories.method == "registrations":
        weight = "patients"
        both, foot, service_of = _by_patients(footprints, services, codes)
    else:
        weight = "km2"
        both, foot, service_of = _by_km2(footprints, services, codes)
    both = both[both["n"] > 0]
    foot = foot[foot["n"] > 0]
    in_layer = both[both[AREA_CODE] != ""].reset_index(drop=True)
    foot_in = foot[foot[AREA_CODE] != ""].reset_index(drop=True)
    n_outside = both[both[AREA_CODE] == ""].groupby(PCN_CODE)["n"].sum()

    by_pcn = _shares(in_layer, PCN_CODE, AREA_CODE).reindex(pcn_codes)
    by_foot = _shares(foot_in, PCN_CODE, AREA_CODE).reindex(pcn_codes)
    names = services.set_index("code")["name"]
    pcn_table = _pcn_table(configuration, by_pcn, by_foot, n_outside, names, weight)
    docked = pcn_table.set_index(PCN_CODE)["dominant_area_code"]
    pairs = in_layer.assign(
        pct=(100 * in_layer["n"] / in_layer[PCN_CODE].map(by_pcn["n"]).astype(float)).round(1),
        docked_area_code=in_layer[PCN_CODE].map(docked).to_numpy(),
    )
    actions = _actions(pairs, configuration, weight)
    area_table = _area_table(
        services, codes, in_layer, foot_in, by_foot, pcn_table, footprints.territories, weight
    )
    summary = _area_summary(layer, weight, services, in_layer, pairs, pcn_table, area_table)
    summary["n_outside_layer"] = (
        round(float(n_outside.sum()), 3) if weight == "km2" else int(n_outside.sum())
    )
    summary["n_actions"] = len(actions)
    return AreaAlignment(
        layer=layer.name,
        weight=weight,
        contingency=in_layer,
        footprint=foot_in,
        pcns=pcn_table,
        areas=area_table,
        actions=actions[[PCN_CODE, AREA_CODE, "n", "pct", "docked_area_code", "action"]].rename(
            columns={AREA_CODE: "area_code"}
        ),
        summary=summary,
        small_areas=service_of,
    )


def _by_patients(footprints: Footprints, services, codes):
    """Registered patients by (PCN, service area), and the footprints' residents by the same:
    each small area in the service area holding its representative point."""
    configuration = footprints.configuration
    terr = footprints.territories
    service_of = pd.Series(
        _point_in(services, terr.area_points, codes), index=terr.study_areas.index
    )
    res = terr.residents
    pcn = res[PRACTICE_CODE].map(configuration.assignments).fillna("")
    patients = pd.DataFrame(
        {
            PCN_CODE: pcn.to_numpy(),
            AREA_CODE: res[AREA_CODE].map(service_of).to_numpy(),
            "n": res[N_PATIENTS].to_numpy(),
        }
    )
    patients = patients[patients[PCN_CODE] != ""]
    both = patients.groupby([PCN_CODE, AREA_CODE], as_index=False, sort=True)["n"].sum()
    # footprint: each small area's registered residents (all study practices), by the PCN
    # whose footprint holds it and the service area holding its point
    residents = res.groupby(AREA_CODE)[N_PATIENTS].sum()
    area_pcn = footprints.area_pcn
    fp = pd.DataFrame(
        {
            PCN_CODE: area_pcn.to_numpy(),
            AREA_CODE: service_of.reindex(area_pcn.index).fillna("").to_numpy(),
            "n": residents.reindex(area_pcn.index).fillna(0).to_numpy(),
        }
    )
    foot = fp.groupby([PCN_CODE, AREA_CODE], as_index=False, sort=True)["n"].sum()
    return both, foot, service_of


def _by_km2(footprints: Footprints, services, codes):
    """Footprint area (km²) by (PCN, service area); the part in no service area under ``""``."""
    pcns = footprints.pcns
    geoms = pcns.geometry.to_numpy()
    f_idx, s_idx = services.sindex.query(geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(geoms[f_idx], services.geometry.to_numpy()[s_idx]))
    both = pd.DataFrame(
        {PCN_CODE: pcns.index.to_numpy()[f_idx], AREA_CODE: codes[s_idx], "n": inter / 1e6}
    )
    both = both.groupby([PCN_CODE, AREA_CODE], as_index=False, sort=True)["n"].sum()
    inside = both.groupby(PCN_CODE)["n"].sum()
    outside = (
        pd.Series(shapely.area(geoms) / 1e6, index=pcns.index)
        - inside.reindex(pcns.index, fill_value=0.0)
    ).clip(lower=0)
    both = pd.concat(
        [both, pd.DataFrame({PCN_CODE: outside.index, AREA_CODE: "", "n": outside.to_numpy()})],
        ignore_index=True,
    )
    return both, both, None


def _pcn_table(configuration, by_pcn, by_foot, n_outside, names, weight) -> pd.DataFrame:
    """One row per PCN: its dominant and second service areas, shares, split or not."""
    pcn_codes = list(configuration.pcn_codes)
    split = by_foot["n_5pct"].fillna(0) >= 2
    table = pd.DataFrame(
        {
            PCN_CODE: pcn_codes,
            "pcn_name": [configuration.name_of(c) for c in pcn_codes],
            "n": by_pcn["n"].fillna(0).to_numpy(),
            "n_outside": n_outside.reindex(pcn_codes, fill_value=0).to_numpy(),
            "dominant_area_code": by_pcn["first"].fillna("").to_numpy(),
            "dominant_area_name": by_pcn["first"].map(names).fillna("").to_numpy(),
            "pct_dominant": by_pcn["pct_first"].to_numpy(),
            "second_area_code": by_pcn["second"].fillna("").to_numpy(),
            "pct_second": by_pcn["pct_second"].to_numpy(),
            "n_areas": by_pcn["n_any"].fillna(0).astype(int).to_numpy(),
            "n_areas_5pct": by_pcn["n_5pct"].fillna(0).astype(int).to_numpy(),
            "in_one_area": (by_pcn["pct_first"] >= 100 * ONE_AREA_SHARE).to_numpy(),
            "footprint_dominant_area_code": by_foot["first"].fillna("").to_numpy(),
            "pct_footprint_dominant": by_foot["pct_first"].to_numpy(),
            "footprint_second_area_code": by_foot["second"].fillna("").to_numpy(),
            "pct_footprint_second": by_foot["pct_second"].to_numpy(),
            "n_footprint_areas_5pct": by_foot["n_5pct"].fillna(0).astype(int).to_numpy(),
            "split": split.to_numpy(),
        }
    )
    for col in ("n", "n_outside"):
        table[col] = table[col].astype("int64") if weight == "patients" else table[col].round(3)
    return table


def _actions(pairs: pd.DataFrame, configuration, weight: str) -> pd.DataFrame:
    """The (PCN, service area) pairs that do not fit the docking, as actions, largest first."""
    off = pairs[(pairs[AREA_CODE] != pairs["docked_area_code"]) & (pairs["pct"] >= 100 * MIN_SHARE)]
    off = off.sort_values(["n", PCN_CODE, AREA_CODE], ascending=[False, True, True])
    unit = "patients" if weight == "patients" else "km² of the footprint"
    actions = off.reset_index(drop=True)
    actions["action"] = [
        (
            f"move {_fmt(n, weight)} {unit} of {configuration.name_of(p)} ({p}) living in "
            f"{a}, or agree that {a} serves them"
            if weight == "patients"
            else f"{_fmt(n, weight)} {unit} of {configuration.name_of(p)} ({p}) lies in {a}: "
            f"move it, or agree that {a} serves it"
        )
        for p, a, n in zip(actions[PCN_CODE], actions[AREA_CODE], actions["n"], strict=True)
    ]
    actions["n"] = actions["n"].astype("int64") if weight == "patients" else actions["n"].round(3)
    return actions


def _area_table(
    services, codes, in_layer, foot_in, by_foot, pcn_table, terr, weight
) -> pd.DataFrame:
    """One row per service area that concerns the study: PCNs docked to it, PCNs it cuts."""
    by_area = _shares(in_layer, AREA_CODE, PCN_CODE).reindex(codes)
    docked = pcn_table.set_index(PCN_CODE)["dominant_area_code"]
    docked_here = docked[docked != ""]
    docked_lists = docked_here.groupby(docked_here).apply(lambda s: ";".join(sorted(s.index)))
    split_pcns = set(pcn_table.loc[pcn_table["split"], PCN_CODE])
    cut = foot_in[
        foot_in[PCN_CODE].isin(split_pcns)
        & (foot_in["n"] / foot_in[PCN_CODE].map(by_foot["n"]).astype(float) >= MIN_SHARE)
    ]
    cut_lists = cut.groupby(AREA_CODE)[PCN_CODE].apply(lambda s: ";".join(sorted(s)))
    table = pd.DataFrame(
        {
            "area_code": codes,
            "area_name": services["name"].to_numpy(),
            "n": by_area["n"].fillna(0).to_numpy(),
            "n_pcns": by_area["n_any"].fillna(0).astype(int).to_numpy(),
            "n_pcns_5pct": by_area["n_5pct"].fillna(0).astype(int).to_numpy(),
            "dominant_pcn_code": by_area["first"].fillna("").to_numpy(),
            "pct_dominant_pcn": by_area["pct_first"].to_numpy(),
            "docked_pcn_codes": docked_lists.reindex(codes).fillna("").to_numpy(),
            "cut_pcn_codes": cut_lists.reindex(codes).fillna("").to_numpy(),
        }
    )
    table["n_docked"] = table["docked_pcn_codes"].map(lambda s: len(s.split(";")) if s else 0)
    table["n_cut"] = table["cut_pcn_codes"].map(lambda s: len(s.split(";")) if s else 0)
    table["why_no_pcn"] = _why_no_pcn(table, in_layer, by_area, pcn_table, weight)
    if PCN_CODE in services:
        declared = services[PCN_CODE].fillna("").astype(str).to_numpy()
        held_n = in_layer.set_index([AREA_CODE, PCN_CODE])["n"]
        n_declared = held_n.reindex(pd.MultiIndex.from_arrays([codes, declared])).fillna(0)
        table["declared_pcn_code"] = declared
        table["pct_declared_pcn"] = np.where(
            (declared != "") & (table["n"].to_numpy() > 0),
            np.round(100 * n_declared.to_numpy() / table["n"].replace(0, 1).to_numpy(), 1),
            np.nan,
        )
    table["n"] = table["n"].astype("int64") if weight == "patients" else table["n"].round(3)
    # a national layer used for one region: keep the areas that concern the study
    boundary = terr.boundary
    shapely.prepare(boundary)
    inside = shapely.intersects(boundary, shapely.point_on_surface(services.geometry.to_numpy()))
    held = set(in_layer[AREA_CODE]) | set(foot_in[AREA_CODE])
    table = table[inside | table["area_code"].isin(held).to_numpy()]
    return table.reset_index(drop=True)


def _why_no_pcn(table, in_layer, by_area, pcn_table, weight) -> np.ndarray:
    """Why a service area hosts no PCN: none of the PCNs' patients (or footprint) is in
    it, or no PCN has most of its patients there (the largest there is named, with its
    share here and in the area it docks to); ``""`` for an area that hosts a PCN."""
    why = np.full(len(table), "", dtype=object)
    none = table["n_docked"].to_numpy() == 0
    if not none.any():
        return why
    unit = "patients" if weight == "patients" else "km² of footprint"
    pcns = pcn_table.set_index(PCN_CODE)
    total = in_layer.groupby(PCN_CODE)["n"].sum()
    for i in np.flatnonzero(none):
        area = table["area_code"].iat[i]
        n = table["n"].iat[i]
        pcn = table["dominant_pcn_code"].iat[i]
        if not pcn or not n:
            why[i] = f"none of the PCNs' {unit} is in it"
            continue
        here = in_layer.loc[(in_layer[AREA_CODE] == area) & (in_layer[PCN_CODE] == pcn), "n"].sum()
        docked = pcns.at[pcn, "dominant_area_code"]
        why[i] = (
            f"no PCN has most of its {unit} here: the largest here, "
            f"{pcns.at[pcn, 'pcn_name']} ({pcn}, {table['pct_dominant_pcn'].iat[i]:.1f}% of "
            f"the area's {_fmt(n, weight)}), has {100 * here / total[pcn]:.1f}% of its "
            f"{unit} here and {pcns.at[pcn, 'pct_dominant']:.1f}% in {docked}, where it docks"
        )
    return why


def _area_summary(layer, weight, services, in_layer, pairs, pcn_table, area_table) -> dict:
    """Whole-study figures: coterminosity, the partition scores, counts."""
    scores = partition_scores(in_layer.set_index([PCN_CODE, AREA_CODE])["n"])
    total = float(in_layer["n"].sum())
    kept = float(pairs.loc[pairs[AREA_CODE] == pairs["docked_area_code"], "n"].sum())
    with_patients = pcn_table[pcn_table["n"] > 0]
    return {
        "layer": layer.name,
        "weight": weight,
        "n_areas": len(area_table),
        "n_areas_in_layer": len(services),
        "n_pcns": int(len(with_patients)),
        "n_pcns_not_in_layer": int((pcn_table["n"] <= 0).sum()),
        "n": round(total, 3) if weight == "km2" else int(total),
        "n_outside_layer": None,
        "coterminosity": kept / total if total else float("nan"),
        "pct_pcns_in_one_area": float(100 * with_patients["in_one_area"].mean())
        if len(with_patients)
        else float("nan"),
        "n_pcns_split": int(pcn_table["split"].sum()),
        "n_areas_cutting_pcns": int((area_table["n_cut"] > 0).sum()),
        "n_off_docking": round(total - kept, 3) if weight == "km2" else int(total - kept),
        "n_actions": None,
        "nmi": scores["nmi"],
        "ari": scores["ari"],
        "vi": scores["vi"],
        "nmi_normalisation": "arithmetic mean of the two entropies",
        "vi_unit": "nats",
        "min_share": MIN_SHARE,
        "one_area_share": ONE_AREA_SHARE,
    }


def _fmt(n: float, weight: str) -> str:
    return f"{int(round(n)):,}" if weight == "patients" else f"{n:,.2f}"
