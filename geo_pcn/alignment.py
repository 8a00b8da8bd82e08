"""Community services against PCN footprints: how well team areas and sites line up.

Two kinds of community layer (``[community.NAME]`` in the study file):

* **areas** (team, neighbourhood or local-authority footprints, polygons). Each PCN's
  patients are shared out over the service areas they live in, **patient-weighted** when
  the study has registrations (each small area's patients of each PCN go to the service
  area holding the small area's representative point) and **area-weighted** otherwise
  (PCN footprints intersected with the service areas, weighted by km²). From that
  contingency table (PCN x service area) come per-PCN and per-area shares, a suggested
  docking (each PCN to its dominant service area), the pairs that do not fit it, and
  whole-study agreement scores between the two partitions (see :func:`partition_scores`).

  A PCN is **split across areas** when the service-area lines cut its *footprint*: at
  least two service areas each hold :data:`MIN_SHARE` (5 %) or more of the footprint,
  weighted by registered residents (registrations) or by area (voronoi). The footprint,
  not the patient list, decides: patients registering across a line is normal and shows
  up as docking actions, while a line through the PCN's territory is a planning problem.

* **sites** (clinics, bases, pharmacies: points or geocoded postcodes). Sites per PCN
  footprint and per 10,000 patients, PCNs with none, sites outside the footprint of the
  PCN they declare (with the distance), and each practice's distance to its nearest site.
  Sites that could not be located are listed, never dropped.

:func:`build_alignment` runs every community layer of a study and returns an
:class:`Alignment`; results are cached per configuration's footprints.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> alignment = build_alignment(demo())
>>> sorted(alignment.layers)
['sites', 'teams']
>>> round(alignment.layers["teams"].summary["coterminosity"], 3)
0.943
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_pcn._spatial import polygon_of
from geo_pcn.configuration import Configuration
from geo_pcn.geography import Footprints, build_footprints
from geo_pcn.settings import (
    AREA_CODE,
    GUESSED_SITE,
    LIST_SIZE,
    N_PATIENTS,
    PCN_CODE,
    PRACTICE_CODE,
)

__all__ = [
    "MIN_SHARE",
    "ONE_AREA_SHARE",
    "Alignment",
    "AreaAlignment",
    "SiteAlignment",
    "build_alignment",
    "align_areas",
    "align_sites",
    "partition_scores",
]

#: A service area "holds" part of a PCN (or a PCN part of an area) from this share up.
MIN_SHARE = 0.05
#: A PCN is "in one service area" when that area holds at least this share of its patients.
ONE_AREA_SHARE = 0.95


# ---------------------------------------------------------------------------------------
# partition agreement
# ---------------------------------------------------------------------------------------


def _entropy(weights: np.ndarray, total: float) -> float:
    p = weights[weights > 0] / total
    return float(-(p * np.log(p)).sum())


def partition_scores(contingency: pd.DataFrame | pd.Series | np.ndarray) -> dict[str, float]:
    """Agreement between two partitions of the same items, from their contingency table.

    The items are patients (or km² for area weighting): cell ``(i, j)`` holds how many
    items are in class ``i`` of the first partition (PCNs) and class ``j`` of the second
    (service areas).

    * ``nmi``: normalised mutual information ``I(U; V) / mean(H(U), H(V))`` (arithmetic
      mean, scikit-learn's default); 1 for identical partitions, 0 for independent ones;
      1 when both partitions have a single class.
    * ``ari``: adjusted Rand index (Hubert & Arabie), pair counting with
      ``C(n, 2) = n (n - 1) / 2`` on the (weighted) counts; 1 for identical partitions,
      about 0 for chance agreement, negative below chance. 1 when undefined (both
      partitions trivial), as scikit-learn does.
    * ``vi``: variation of information ``H(U | V) + H(V | U)`` in nats (natural log); 0 for
      identical partitions, at most ``log(n_items)``.

    Parameters
    ----------
    contingency
        A 2-D table (DataFrame or array, rows one partition, columns the other) or a long
        Series indexed by ``(row, column)`` pairs. Weights must be >= 0.

    Returns
    -------
    dict
        ``nmi``, ``ari``, ``vi``, ``mutual_information``, ``entropy_rows``,
        ``entropy_columns`` (nats) and ``n`` (the total weight). NaN scores when empty.

    Examples
    --------
    >>> import math
    >>> s = partition_scores(np.array([[2, 0, 0], [0, 1, 1]]).T)  # [0,0,1,2] vs [0,0,1,1]
    >>> round(s["nmi"], 6), round(s["ari"], 6), round(s["vi"] / math.log(2), 6)
    (0.8, 0.571429, 0.5)
    """
    if isinstance(contingency, pd.Series):
        frame = contingency.reset_index()
        values = frame.iloc[:, -1].to_numpy(dtype=float)
        rows = pd.factorize(frame.iloc[:, 0])[0]
        cols = pd.factorize(frame.iloc[:, 1])[0]
    else:
        table = np.asarray(contingency, dtype=float)
        rows, cols = np.nonzero(table)
        values = table[rows, cols]
    keep = values > 0
    values, rows, cols = values[keep], rows[keep], cols[keep]
    total = float(values.sum())
    if total <= 0:
        nan = float("nan")
        return {"nmi": nan, "ari": nan, "vi": nan, "mutual_information": nan,
                "entropy_rows": nan, "entropy_columns": nan, "n": 0.0}  # fmt: skip
    a = np.bincount(rows, weights=values)
    b = np.bincount(cols, weights=values)
    h_u, h_v = _entropy(a, total), _entropy(b, total)
    mi = float((values / total * np.log(values * total / (a[rows] * b[cols]))).sum())
    mi = max(0.0, min(mi, h_u, h_v))
    mean_h = (h_u + h_v) / 2
    nmi = 1.0 if mean_h == 0 else mi / mean_h

    def comb2(x: np.ndarray | float) -> Any:
        return x * (x - 1) / 2

    index = float(comb2(values).sum())
    sum_a, sum_b = float(comb2(a).sum()), float(comb2(b).sum())
    n_pairs = comb2(total)
    expected = sum_a * sum_b / n_pairs if n_pairs else 0.0
    maximum = (sum_a + sum_b) / 2
    ari = 1.0 if np.isclose(maximum, expected) else (index - expected) / (maximum - expected)
    vi = max(0.0, h_u + h_v - 2 * mi)
    return {
        "nmi": float(min(max(nmi, 0.0), 1.0)),
        "ari": float(ari),
        "vi": float(vi),
        "mutual_information": mi,
        "entropy_rows": h_u,
        "entropy_columns": h_v,
        "n": total,
    }


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AreaAlignment:
    """How a community ``areas`` layer lines up with the PCN footprints.

    Attributes
    ----------
    layer
        The community layer's name.
    weight
        ``"patients"`` (registrations) or ``"km2"`` (area overlap, voronoi footprints).
    contingency
        Long table ``pcn_code, area_code, n`` (``n`` in ``weight`` units): the PCN's
        patients living in the service area (or km² of its footprint there). Only pairs
        with ``n > 0``.
    footprint
        Long table ``pcn_code, area_code, n``: the PCN's *footprint* in each service
        area, weighted by registered residents (all study practices) or km².
    pcns
        One row per PCN: ``n`` (patients living in the layer's areas), ``n_outside``
        (in none of them), the dominant and second service areas and their shares
        (``pct_`` are percentages), ``n_areas`` (any patients) and ``n_areas_5pct``,
        ``in_one_area`` (dominant >= 95 %), footprint shares and ``split``.
    areas
        One row per service area that concerns the study (its representative point is in
        the study boundary, or it holds patients or footprint): ``n``, ``n_pcns`` (any
        patients), ``n_pcns_5pct``,
        dominant PCN and its share, ``docked_pcn_codes`` (PCNs whose dominant area it is),
        ``cut_pcn_codes`` (split PCNs whose footprint it cuts), ``why_no_pcn`` (why an area
        that hosts no PCN hosts none: see :func:`_why_no_pcn`); ``declared_pcn_code`` and
        ``pct_declared_pcn`` (its share of the area) when the layer has a ``pcn_code``.
    actions
        PCN/area pairs that do not fit the docking and hold >= 5 % of the PCN's patients:
        ``pcn_code, area_code, n, pct, docked_area_code, action``.
    summary
        Whole-study figures (see :meth:`to_dict`).
    small_areas
        Registrations method: ``area_code -> service area code`` of every small area of
        the study (``""`` when in none); ``None`` for area weighting.
    """

    layer: str
    weight: str
    contingency: pd.DataFrame
    footprint: pd.DataFrame
    pcns: pd.DataFrame
    areas: pd.DataFrame
    actions: pd.DataFrame
    summary: dict[str, Any]
    small_areas: pd.Series | None = None
    kind: str = "areas"

    @property
    def docking(self) -> pd.Series:
        """``pcn_code -> area_code``: each PCN docked to its dominant service area."""
        d = self.pcns.set_index(PCN_CODE)["dominant_area_code"]
        return d[d != ""]

    @property
    def split_pcns(self) -> pd.DataFrame:
        """The PCNs whose footprint the service-area lines cut."""
        return self.pcns[self.pcns["split"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``kind, weight, summary, pcns, areas, actions``."""
        return {
            "kind": self.kind,
            "weight": self.weight,
            "summary": _plain(self.summary),
            "pcns": _records(self.pcns),
            "areas": _records(self.areas),
            "actions": _records(self.actions),
        }


@dataclass(frozen=True, eq=False)
class SiteAlignment:
    """How a community ``sites`` layer lines up with the PCN footprints.

    Attributes
    ----------
    layer
        The community layer's name.
    sites
        One row per site (located or not): ``code, name, postcode, declared_pcn_code,
        located, locate_method, footprint_pcn_code`` (the footprint it lies in),
        ``distance_to_declared_m`` (0 inside; NaN when no declared PCN, unknown PCN or
        not located), ``outside_declared`` and ``declared_pcn_known``.
    pcns
        One row per PCN: ``list_size``, ``n_sites`` (in its footprint), ``sites_per_10k``,
        ``n_declared_sites``, ``n_declared_outside``, practices' nearest-site distance
        (``max_/median_practice_to_site_m``).
    practices
        One row per located practice: ``practice_code, pcn_code, nearest_site_code,
        distance_m, site_guessed`` (the distance is from a guessed site: the practice was
        placed at its registered residents' centre; the summary's
        ``practices_site_guessed`` names them).
    summary
        Counts (see :meth:`to_dict`).
    """

    layer: str
    sites: pd.DataFrame
    pcns: pd.DataFrame
    practices: pd.DataFrame
    summary: dict[str, Any]
    kind: str = "sites"

    @property
    def not_located(self) -> pd.DataFrame:
        """Sites that could not be placed (listed, never dropped)."""
        return self.sites[~self.sites["located"]]

    @property
    def outside_declared(self) -> pd.DataFrame:
        """Sites lying outside the footprint of the PCN they declare."""
        return self.sites[self.sites["outside_declared"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``kind, summary, pcns, sites_outside_declared, not_located,
        practices``."""
        cols = ["code", "name", "postcode", "declared_pcn_code", "footprint_pcn_code"]
        return {
            "kind": self.kind,
            "summary": _plain(self.summary),
            "pcns": _records(self.pcns),
            "sites_outside_declared": _records(
                self.outside_declared[[*cols, "distance_to_declared_m"]]
            ),
            "not_located": _records(self.not_located[["code", "name", "postcode"]]),
            "practices": _records(self.practices),
        }


@dataclass(frozen=True, eq=False)
class Alignment:
    """Every community layer of a study against one configuration's PCN footprints.

    Attributes
    ----------
    layers
        ``name -> AreaAlignment | SiteAlignment``, in study-file order.
    """

    layers: dict[str, AreaAlignment | SiteAlignment]

    def pcn_table(self) -> pd.DataFrame:
        """Per PCN per layer (long: a ``layer`` and ``kind`` column first)."""
        frames = [
            r.pcns.assign(layer=name, kind=r.kind, weight=getattr(r, "weight", ""))[
                ["layer", "kind", "weight", *r.pcns.columns]
            ].convert_dtypes()
            for name, r in self.layers.items()
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def area_table(self) -> pd.DataFrame:
        """Per service area of every ``areas`` layer (a ``layer`` column first)."""
        frames = [
            r.areas.assign(layer=name, weight=r.weight)[
                ["layer", "weight", *r.areas.columns]
            ].convert_dtypes()
            for name, r in self.layers.items()
            if isinstance(r, AreaAlignment)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """``layer -> dict`` (see the layers' ``to_dict``)."""
        return {name: r.to_dict() for name, r in self.layers.items()}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} ({v.kind})" for k, v in self.layers.items())
        return f"<Alignment: {parts or 'no community layers'}>"


def _plain(summary: dict[str, Any]) -> dict[str, Any]:
    """NaN figures as ``None`` (valid JSON)."""
    return {
        k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in summary.items()
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_dict(orient="records")


# ---------------------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------------------

def build_alignment(
    study,
    configuration: Configuration | None = None,
    *,
    footprints: Footprints | None = None,
    fixed: dict | None = None,
) -> Alignment:
    """Align every community layer of a study with the PCN footprints.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        Default: the study's own.
    footprints
        The configuration's footprints, when already built (a
        :class:`~geo_pcn.partition.Partition` keeps the result as its ``alignment``
        metric, so the check and the report share one computation).
    fixed
        A dict the caller keeps for the study: the parts of each layer's alignment no
        configuration with the same PCN codes changes are kept in it (see
        :func:`align_sites`).

    Returns
    -------
    Alignment

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> build_alignment(demo())
    <Alignment: teams (areas), sites (sites)>
    """
    configuration = study.configuration if configuration is None else configuration
    if footprints is None:
        footprints = build_footprints(study, configuration)
    layers: dict[str, AreaAlignment | SiteAlignment] = {}
    for name, layer in study.community.items():
        if layer.kind == "areas":
            layers[name] = align_areas(study, layer, footprints)
        else:
            layers[name] = align_sites(study, layer, footprints, fixed=fixed)
    return Alignment(layers=layers)


def _pcn_sizes(study, configuration: Configuration) -> pd.Series:
    assign = configuration.assignments
    assign = assign[assign != ""]
    sizes = study.practices[LIST_SIZE].fillna(0).astype("int64").reindex(assign.index).fillna(0)
    out = sizes.groupby(assign).sum().astype("int64")
    return out.reindex(list(configuration.pcn_codes), fill_value=0)


def _point_in(polygons, points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Code of the polygon each point lies in (``""`` when none; on overlaps the smallest
    code)."""
    at = polygon_of(polygons, points, keys=codes)
    out = np.full(len(at), "", dtype=object)
    out[at >= 0] = np.asarray(codes, dtype=object)[at[at >= 0]]
    return out


def _shares(table: pd.DataFrame, by: str, other: str) -> pd.DataFrame:
    """Per ``by``: total ``n``, the largest and second ``other`` and their shares, how many
    ``other`` have any weight and >= MIN_SHARE."""
    columns = ["n", "first", "pct_first", "second", "pct_second", "n_any", "n_5pct"]
    if table.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("first", "second") else float) for c in columns}
        )
    ordered = table.sort_values([by, "n", other], ascending=[True, False, True])
    total = ordered.groupby(by, sort=False)["n"].sum()
    rank = ordered.groupby(by, sort=False).cumcount()
    share = ordered["n"] / ordered[by].map(total)
    first = ordered[rank == 0].set_index(by)
    second = ordered[rank == 1].set_index(by)
    out = pd.DataFrame({"n": total})
    out["first"] = first[other]
    out["pct_first"] = (100 * first["n"] / total).round(1)
    out["second"] = second[other].reindex(out.index)
    out["pct_second"] = (100 * second["n"] / total).reindex(out.index).round(1)
    out["n_any"] = ordered.groupby(by, sort=False).size()
    out["n_5pct"] = (share >= MIN_SHARE).groupby(ordered[by], sort=False).sum()
    return out


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


#: Sites this close to the study area (metres) still count as the study's.
SITE_MARGIN_M = 1_000.0


def _postcode_district(postcodes: pd.Series) -> pd.Series:
    """``ST16 2HE`` -> ``ST16`` (the outward code; ``""`` when there is none)."""
    text = postcodes.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    return text.str.extract(r"^([A-Z]{1,2}\d[A-Z\d]?)\d[A-Z]{2}$")[0].fillna("")


def _sites_in_study(study, data, footprints: Footprints, fp_codes) -> np.ndarray:
    """Which sites of a community layer concern the study (see :func:`align_sites`)."""
    boundary = footprints.territories.region
    points = data.geometry.to_numpy()
    located = ~shapely.is_missing(points)
    keep = np.zeros(len(data), dtype=bool)
    if boundary is not None and not shapely.is_empty(boundary):
        near = shapely.buffer(boundary, SITE_MARGIN_M)
        shapely.prepare(near)
        keep[located] = shapely.intersects(near, points[located])
    else:
        keep[located] = True
    if PCN_CODE in data:
        keep |= np.isin(data[PCN_CODE].fillna("").astype(str).to_numpy(), fp_codes)
    if "postcode" in data and (~located).any():
        districts = set(_postcode_district(study.practices["postcode"])) - {""}
        site_district = _postcode_district(data["postcode"]).to_numpy()
        keep |= ~located & (np.isin(site_district, list(districts)) | (site_district == ""))
    elif (~located).any():
        keep |= ~located
    return keep


def _positions(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in ``codes`` of each value (``-1`` for ``""`` or a code not there)."""
    return pd.Index(codes, dtype=object).get_indexer(pd.Index(values, dtype=object))


def _site_facts(study, layer, footprints: Footprints, fp_codes) -> dict:
    """What :func:`align_sites` finds the same for every configuration with the PCN codes
    ``fp_codes``: the sites that concern the study and their points, declared PCNs and
    table columns; each located practice's nearest site."""
    data = layer.data.reset_index(drop=True)
    # the study area bounds what is counted: a national file (every pharmacy in England)
    # is cut to the sites in or near the study area, those in a footprint and those that
    # declare one of its PCNs; an unplaced site is kept when its postcode district is one
    # of the practices' (ST16 2HE with a practice in ST16); the rest are only counted
    n_all = len(data)
    keep = _sites_in_study(study, data, footprints, fp_codes)
    data = data[keep].reset_index(drop=True)
    points = data.geometry.to_numpy()
    located = ~shapely.is_missing(points)
    declared = (
        data[PCN_CODE].fillna("").astype(str).to_numpy(dtype=object)
        if PCN_CODE in data
        else np.full(len(data), "", dtype=object)
    )
    known = np.isin(declared, fp_codes) & (declared != "")
    declared_at = _positions(fp_codes, declared)
    sites = pd.DataFrame(
        {
            "code": data["code"].to_numpy(),
            "name": data["name"].to_numpy(),
            "postcode": data["postcode"].to_numpy() if "postcode" in data else "",
            "status": data["status"].to_numpy() if "status" in data else "",
            "declared_pcn_code": declared,
            "declared_pcn_known": known | (declared == ""),
            "located": located,
            "locate_method": data["locate_method"].to_numpy() if "locate_method" in data else "",
            "easting": np.round(shapely.get_x(points), 1),
            "northing": np.round(shapely.get_y(points), 1),
            "footprint_pcn_code": "",
            "distance_to_declared_m": np.nan,
            "outside_declared": False,
        }
    )
    practices = study.practices
    p_pts = practices.geometry
    has = p_pts.notna().to_numpy()
    site_pts = points[located]
    site_codes = sites["code"].to_numpy()[located]
    method = practices.get("locate_method", pd.Series("", index=practices.index))
    nearest = pd.DataFrame(
        {
            PRACTICE_CODE: practices.index[has],
            PCN_CODE: "",
            "nearest_site_code": "",
            "distance_m": np.nan,
            # measured from a guessed site (the practice's residents' centre): said so
            "site_guessed": (method == GUESSED_SITE).to_numpy()[has],
        }
    )
    if len(site_pts) and has.any():
        tree = shapely.STRtree(site_pts)
        (p_idx, s_idx), dist = tree.query_nearest(
            p_pts.to_numpy()[has], return_distance=True, all_matches=False
        )
        nearest.loc[p_idx, "nearest_site_code"] = site_codes[s_idx]
        nearest.loc[p_idx, "distance_m"] = np.round(dist, 1)
    return {
        "data": data,
        "n_all": n_all,
        "points": points,
        "located": located,
        "declared": declared,
        "known": known,
        "declared_at": declared_at,
        "sites": sites,
        "has": has,
        "nearest": nearest,
    }


def align_sites(
    study, layer, footprints: Footprints, *, fixed: dict | None = None
) -> SiteAlignment:
    """Align a community ``sites`` layer with the PCN footprints (see module docstring).

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study`.
    layer
        A :class:`~geo_pcn.study.CommunityLayer` of kind ``sites``.
    footprints
        The configuration's PCN footprints.
    fixed
        A dict kept by the caller for the study (a partition's study facts): what no
        configuration with the same PCN codes changes (the sites that concern the study,
        each practice's nearest site) is kept in it, so a move re-measures only the rest.

    Returns
    -------
    SiteAlignment
    """
    configuration = footprints.configuration
    pcns = footprints.pcns
    pcn_codes = list(configuration.pcn_codes)
    fp_codes = pcns.index.to_numpy(dtype=object)
    key = (layer.name, tuple(fp_codes))
    facts = fixed.get(("sites", layer.name)) if fixed is not None else None
    if facts is None or facts["key"] != key:
        facts = _site_facts(study, layer, footprints, fp_codes)
        facts["key"] = key
        if fixed is not None:
            fixed[("sites", layer.name)] = facts
    data, points, located = facts["data"], facts["points"], facts["located"]
    declared, known, n_all = facts["declared"], facts["known"], facts["n_all"]
    where = _point_in(pcns, points, fp_codes)
    distance = np.full(len(data), np.nan)
    check = known & located
    inside = check & (where == declared)
    distance[inside] = 0.0
    measure = check & ~inside
    if measure.any():
        geoms = pcns.geometry.reindex(declared[measure]).to_numpy()
        distance[measure] = np.round(shapely.distance(points[measure], geoms), 1)
    outside = measure & (distance > 0)
    sites = facts["sites"].copy()
    sites["footprint_pcn_code"] = where
    sites["distance_to_declared_m"] = distance
    sites["outside_declared"] = outside

    # -- per PCN (counted over positions in the PCN codes: the footprints' own order)
    n_pcns = len(pcn_codes)
    sizes = _pcn_sizes(study, configuration)
    at = pcns.index.get_indexer(pd.Index(pcn_codes))
    in_fp = _positions(fp_codes, where)
    n_sites = np.bincount(in_fp[in_fp >= 0], minlength=n_pcns)[at]
    n_declared = np.bincount(facts["declared_at"][known], minlength=n_pcns)[at]
    n_declared_out = np.bincount(facts["declared_at"][outside], minlength=n_pcns)[at]

    practices = study.practices
    assign = configuration.assignments.reindex(practices.index).fillna("")
    nearest = facts["nearest"].copy()
    nearest[PCN_CODE] = assign.to_numpy()[facts["has"]]
    by_pcn = nearest[nearest[PCN_CODE] != ""].groupby(PCN_CODE)["distance_m"]
    pcn_table = pd.DataFrame(
        {
            PCN_CODE: pcn_codes,
            "pcn_name": [configuration.name_of(c) for c in pcn_codes],
            "list_size": sizes.to_numpy(),
            "n_sites": n_sites.astype("int64"),
            "sites_per_10k": np.where(
                sizes.to_numpy() > 0,
                np.round(1e4 * n_sites / np.where(sizes.to_numpy() == 0, 1, sizes.to_numpy()), 2),
                np.nan,
            ),
            "n_declared_sites": n_declared.astype("int64"),
            "n_declared_outside": n_declared_out.astype("int64"),
            "max_practice_to_site_m": by_pcn.max().reindex(pcn_codes).to_numpy(),
            "median_practice_to_site_m": by_pcn.median().round(1).reindex(pcn_codes).to_numpy(),
        }
    )
    without = pcn_table.loc[pcn_table["n_sites"] == 0, PCN_CODE].tolist()
    summary = {
        "layer": layer.name,
        "n_sites": len(sites),
        "n_outside_study": n_all - len(sites),
        "n_located": int(located.sum()),
        "n_not_located": int((~located).sum()),
        "not_located": sites.loc[~located, "code"].tolist(),
        "n_in_footprints": int((where != "").sum()),
        "n_outside_footprints": int((located & (where == "")).sum()),
        "n_pcns_without_sites": len(without),
        "pcns_without_sites": without,
        "median_sites_per_pcn": float(np.median(n_sites)) if len(n_sites) else float("nan"),
        "sites_per_10k": round(1e4 * int(n_sites.sum()) / int(sizes.sum()), 2)
        if int(sizes.sum())
        else float("nan"),
        "has_declared_pcn": bool(PCN_CODE in data),
        "n_declared": int((declared != "").sum()),
        "n_declared_unknown": int(((declared != "") & ~known).sum()),
        "n_outside_declared": int(outside.sum()),
        "median_practice_to_site_m": float(nearest["distance_m"].median())
        if nearest["distance_m"].notna().any()
        else float("nan"),
        "max_practice_to_site_m": float(nearest["distance_m"].max())
        if nearest["distance_m"].notna().any()
        else float("nan"),
        "practices_site_guessed": nearest.loc[nearest["site_guessed"], PRACTICE_CODE].tolist(),
    }
    return SiteAlignment(
        layer=layer.name, sites=sites, pcns=pcn_table, practices=nearest, summary=summary
    )
