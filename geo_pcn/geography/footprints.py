"""PCN footprints of a configuration, built on a study's practice territories.

Each small area of the study goes to the PCN with most registered residents there (ties to
the smaller code), a practice in no PCN competing on its own: an area it wins is in no
footprint (it is served by a practice in no PCN, :attr:`Footprints.area_unassigned`). A PCN
whose practices win no area has an empty footprint (one area is in one footprint only). A
footprint is in *pieces* (its areas joined within the adjacency tolerance,
:attr:`Footprints.area_piece`), as territories are. A scenario's
footprints are updated from its parent's, re-dissolving only the PCNs a change touches
(:func:`update_footprints`). :func:`pcn_shares` gives the soft shares and
:func:`build_catchments` the minimum-share footprints (5% by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn.configuration import Configuration
from geo_pcn.geography._pieces import area_pieces, repiece
from geo_pcn.geography._unions import _dissolve, _union_groups
from geo_pcn.geography.territories import Territories, build_territories
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE, PRACTICE_CODE

__all__ = [
    "Footprints",
    "build_footprints",
    "update_footprints",
    "pcn_shares",
    "build_catchments",
]


@dataclass(frozen=True, eq=False)
class Footprints:
    """PCN footprints of one configuration, built on a study's territories.

    ``recomputed`` names the PCNs whose footprint was rebuilt when the footprints were
    updated from another configuration's (:func:`update_footprints`); ``None`` when every
    footprint was built.
    """

    territories: Territories
    configuration: Configuration
    pcns: gpd.GeoDataFrame
    area_pcn: pd.Series | None
    recomputed: tuple[str, ...] | None = None
    #: area_code -> practice in no PCN that wins the area (registrations method)
    area_unassigned: pd.Series | None = None

    def holds(self, name: str) -> bool:
        """Whether the derived value ``name`` (a cached property) was worked out already."""
        return name in self.__dict__

    def _given(self, **values) -> None:
        """Take derived values (cached properties) carried over from the footprints these
        were updated from (:func:`update_footprints`), so they are not worked out again.
        Only the footprints themselves fill their cache."""
        for name, value in values.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise AttributeError(f"Footprints.{name} is not a derived value")
            self.__dict__[name] = value

    @cached_property
    def area_piece(self) -> np.ndarray | None:
        """The footprint piece of each study area (label; -1 where no PCN wins it): a PCN's
        areas joined where they touch or lie within the adjacency tolerance, as territory
        pieces are (registrations method; ``None`` for voronoi)."""
        terr = self.territories
        if self.area_pcn is None or terr.area_links is None:
            return None
        return area_pieces(terr.area_links, self.area_owner)

    @cached_property
    def area_owner(self) -> np.ndarray | None:
        """The PCN whose footprint holds each study area (object array in the order of the
        study areas; ``""`` where none)."""
        terr = self.territories
        if self.area_pcn is None or terr.study_areas is None:
            return None
        owner = np.full(len(terr.study_areas), "", dtype=object)
        at = pd.Index(terr.study_areas.index).get_indexer(self.area_pcn.index)
        owner[at[at >= 0]] = self.area_pcn.to_numpy(dtype=object)[at >= 0]
        return owner

    @cached_property
    def uncovered_areas(self) -> gpd.GeoDataFrame | None:
        """Small areas in the study boundary that no PCN footprint covers (holes)."""
        areas = self.territories.study_areas
        if areas is None:
            return None
        position = self.area_pcn_position
        if position is not None and self.territories.areas is not None:
            won = np.zeros(len(self.territories.area_position) + 1, dtype=bool)
            won[position[position >= 0]] = True
            at = self.territories.study_area_position
            covered = won[at] & (at >= 0)
        else:
            covered = self.area_pcn.index.get_indexer(areas.index) >= 0  # hash lookup, fast
        return areas[~covered]

    @cached_property
    def area_pcn_position(self) -> np.ndarray | None:
        """Where each area of :attr:`area_pcn` is in the territories' ``areas`` table (-1
        when not there); carried over by :func:`update_footprints` when the winners stay."""
        if self.area_pcn is None or self.territories.areas is None:
            return None
        return self.territories.area_position.get_indexer(self.area_pcn.index)


def build_footprints(
    study, configuration: Configuration | None = None, *, territories: Territories | None = None
) -> Footprints:
    """PCN footprints of a configuration: each area to the PCN with most residents there
    (registrations), or the union of member practices' cells (voronoi).

    Returns
    -------
    Footprints
        ``pcns`` is a GeoDataFrame indexed by ``pcn_code`` with valid (Multi)Polygons.
    """
    configuration = study.configuration if configuration is None else configuration
    territories = build_territories(study) if territories is None else territories
    assignment = configuration.assignments
    pcn_codes = list(configuration.pcn_codes)
    area_unassigned = None
    if territories.method == "registrations":
        area_pcn, area_unassigned = _area_winners(territories.residents, assignment)
        pairs = pd.Series(area_pcn.to_numpy(), index=area_pcn.index)
        geoms = territories.study_areas.geometry.reindex(pairs.index)
        footprint = _dissolve(
            geoms.reset_index(drop=True), pd.Series(pairs.to_numpy()), invalid="union"
        )
    else:
        area_pcn = None
        member = assignment[assignment != ""]
        geoms = territories.practices.geometry.reindex(member.index)
        footprint = _dissolve(
            geoms.reset_index(drop=True), pd.Series(member.to_numpy()), invalid="union"
        )
    pcns = gpd.GeoDataFrame(
        {"pcn_name": [configuration.name_of(c) for c in pcn_codes]},
        geometry=gpd.GeoSeries(footprint, crs=BNG)
        .reindex(pcn_codes)
        .fillna(shapely.Polygon())
        .to_numpy(),
        index=pd.Index(pcn_codes, name=PCN_CODE),
        crs=BNG,
    )
    return Footprints(
        territories=territories,
        configuration=configuration,
        pcns=pcns,
        area_pcn=area_pcn,
        area_unassigned=area_unassigned,
    )


#: prefix of the competitor key of a practice in no PCN (sorts before every PCN code)
_NO_PCN = "\x1f"


def _split_winners(won: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Winners split into the areas PCNs win and those practices in no PCN win."""
    values = won.to_numpy(dtype=object)
    loose = np.array([v.startswith(_NO_PCN) for v in values], dtype=bool)
    unassigned = pd.Series([v[1:] for v in values[loose]], index=won.index[loose], dtype=object)
    return won[~loose].rename(PCN_CODE), unassigned.rename(PRACTICE_CODE)


def _area_winners(
    residents: pd.DataFrame, assignment: pd.Series, *, pcn_of: dict | None = None
) -> tuple[pd.Series, pd.Series]:
    """``area_code -> pcn_code`` for the areas PCNs win and ``area_code -> practice_code``
    for those practices in no PCN win (ties to the smaller key).

    The competitors are a PCN, or a practice in no PCN on its own (keyed ``"\\x1f" +
    practice_code``, which sorts before every PCN code); their residents are summed by
    area over numbers (area and competitor as positions in their sorted codes), not by
    grouping text: a move re-decides a few hundred rows, and pandas' grouping costs
    milliseconds whatever the rows. ``pcn_of``: the assignment as a dict, for the few rows
    of a move (a lookup per row beats a hashed lookup of text through pandas).
    """
    if not len(residents):
        none = residents[AREA_CODE].iloc[:0].to_numpy()
        return _split_winners(pd.Series(none, index=none, name=PCN_CODE))
    if pcn_of is not None:
        practice = residents[PRACTICE_CODE].to_numpy(dtype=object)
        pcn = np.array([pcn_of.get(p, "") for p in practice.tolist()], dtype=object)
        loose = pcn == ""
        pcn[loose] = _NO_PCN + practice[loose]
        area, areas = pd.factorize(residents[AREA_CODE].to_numpy(dtype=object), sort=True)
        key, keys = pd.factorize(pcn, sort=True)
    else:  # every row: each distinct practice's competitor worked out once
        who, practices = pd.factorize(residents[PRACTICE_CODE])
        practices = np.asarray(practices, dtype=object)
        at = assignment.index.get_indexer(practices)
        pcn = np.full(len(practices), "", dtype=object)
        pcn[at >= 0] = assignment.to_numpy(dtype=object)[at[at >= 0]]
        loose = pcn == ""
        pcn[loose] = _NO_PCN + practices[loose]
        key_of, keys = pd.factorize(pcn, sort=True)
        key = key_of[who]
        area, areas = pd.factorize(residents[AREA_CODE], sort=True)
    pair, inverse = np.unique(area.astype(np.int64) * len(keys) + key, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=residents[N_PATIENTS].to_numpy(dtype=float))
    pair_area, pair_key = pair // len(keys), pair % len(keys)
    # most patients first within an area, then the smaller key
    order = np.lexsort((pair_key, -total, pair_area))
    first = order[np.r_[True, pair_area[order][1:] != pair_area[order][:-1]]]
    won = pd.Series(
        np.asarray(keys, dtype=object)[pair_key[first]],
        index=np.asarray(areas, dtype=object)[pair_area[first]],
        name=PCN_CODE,
    )  # (the dtypes pandas infers from the codes, as the residents' own columns)
    return _split_winners(won)


def update_footprints(base: Footprints, configuration: Configuration) -> Footprints:
    """Footprints of ``configuration`` derived from those of another configuration of the
    same study: only the PCNs whose practices or areas change are dissolved again, the
    others' footprints are reused. The result is the same as :func:`build_footprints`.

    Parameters
    ----------
    base
        Footprints of another configuration (typically the parent) on the same territories.
    configuration
        The configuration wanted.

    Returns
    -------
    Footprints
        With ``recomputed`` naming the PCNs whose footprint was rebuilt.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> study = demo()
    >>> base = build_footprints(study)
    >>> moved = study.configuration.move("Z00024", to="UZ002")
    >>> updated = update_footprints(base, moved)
    >>> "UZ002" in updated.recomputed, len(updated.recomputed) < len(updated.pcns)
    (True, True)
    """
    terr = base.territories
    old = base.configuration.assignments
    new = configuration.assignments
    if not old.index.equals(new.index):
        return build_footprints(None, configuration, territories=terr)
    changed = old.to_numpy() != new.to_numpy()
    touched = (set(old[changed]) | set(new[changed])) - {""}
    area_pcn, area_unassigned, rewon = base.area_pcn, base.area_unassigned, None
    if terr.method == "registrations":
        area_pcn, area_unassigned, rewon = _rewon(base, configuration, old.index[changed])
        if rewon is not None:
            touched |= (set(rewon[2]) | set(rewon[1])) - {""}
    redo = sorted(touched & set(configuration.pcn_codes))
    owner = _updated_owner(base, rewon)
    fresh = _fresh_footprints(terr, redo, owner=owner, area_pcn=area_pcn, assignment=new)
    out = Footprints(
        territories=terr,
        configuration=configuration,
        pcns=_pcns_with(base.pcns, configuration, fresh),
        area_pcn=area_pcn,
        recomputed=tuple(redo),
        area_unassigned=area_unassigned,
    )
    if owner is not None:
        _carry_pieces(base, out, owner, touched)
    _carry_positions(base, out)
    return out


def _rewon(base: Footprints, configuration: Configuration, moved) -> tuple:
    """The areas the residents of the ``moved`` practices live in, decided again under
    ``configuration``: ``(area_pcn, area_unassigned, rewon)`` with ``rewon`` the areas whose
    winning PCN changed, their new and their old one (``""``: none), or ``None``."""
    terr = base.territories
    area_pcn, area_unassigned = base.area_pcn, base.area_unassigned
    by_practice, by_area = terr.resident_rows
    rows = [by_practice[p] for p in moved if p in by_practice]
    if not rows:
        return area_pcn, area_unassigned, None
    residents = terr.residents
    # (take the rows first: the whole column as an array is ~30 ms nationally)
    areas = pd.unique(residents[AREA_CODE].iloc[np.concatenate(rows)].to_numpy(dtype=object))
    if not len(areas):
        return area_pcn, area_unassigned, None
    won, loose = _area_winners(
        residents.iloc[np.concatenate([by_area[a] for a in areas])],
        configuration.assignments,
        pcn_of=configuration.pcn_by_practice,
    )
    if area_unassigned is not None and (len(area_unassigned) or len(loose)):
        gone = area_unassigned.index.isin(areas)
        if gone.any() or len(loose):
            fresh_loose = pd.concat([area_unassigned[~gone], loose]).sort_index()
            if not fresh_loose.equals(area_unassigned) or not fresh_loose.index.equals(
                area_unassigned.index
            ):  # else the same winners: the same object (the area tables hold)
                area_unassigned = fresh_loose
    before = area_pcn.reindex(areas).fillna("")
    after = won.reindex(areas).fillna("")
    differs = before.to_numpy() != after.to_numpy()
    if not differs.any():
        return area_pcn, area_unassigned, None
    rewon = (
        pd.Index(areas)[differs],
        after.to_numpy(dtype=object)[differs],
        before.to_numpy(dtype=object)[differs],
    )
    return _replace_winners(area_pcn, areas, won), area_unassigned, rewon


def _fresh_footprints(terr: Territories, redo, *, owner, area_pcn, assignment) -> dict:
    """``pcn_code -> footprint`` of the PCNs ``redo``, dissolved again (an empty polygon
    for a PCN whose practices win no area)."""
    if not redo:
        return {}
    fresh: dict[str, shapely.Geometry] = {}
    if owner is not None and _owner_holds(terr, owner, area_pcn):
        # the touched PCNs' areas from each area's owner (in area order, as area_pcn)
        mask = _any_of(owner, redo)
        geoms = terr.study_areas.geometry.to_numpy()[mask]
        fresh.update(_union_by_key(geoms, owner[mask]))
    elif terr.method == "registrations":
        pairs = area_pcn[pd.Index(redo).get_indexer(area_pcn.to_numpy()) >= 0]
        geoms = terr.study_areas.geometry.reindex(pairs.index)
        fresh.update(_union_by_key(geoms.to_numpy(), pairs.to_numpy()))
    else:
        member = assignment[pd.Index(redo).get_indexer(assignment.to_numpy()) >= 0]
        geoms = terr.practices.geometry.reindex(member.index)
        fresh.update(_union_by_key(geoms.to_numpy(), member.to_numpy()))
        return fresh
    for code in redo:
        if code not in fresh:  # a PCN whose practices win no area: no footprint
            fresh[code] = shapely.Polygon()
    return fresh


def _pcns_with(pcns: gpd.GeoDataFrame, configuration: Configuration, fresh: dict):
    """The footprints table of ``configuration``: ``pcns``' rows with the ``fresh``
    footprints in place (a shallow copy with a new geometry column when the PCNs and their
    names are the same: building a GeoDataFrame costs ~2 ms)."""
    codes = list(configuration.pcn_codes)
    names = [configuration.name_of(c) for c in codes]
    same = pcns.index.equals(pd.Index(codes)) and pcns["pcn_name"].tolist() == names
    geometry = (pcns.geometry if same else pcns.geometry.reindex(codes)).to_numpy().copy()
    if fresh:
        position = {c: i for i, c in enumerate(codes)}
        for code, geom in fresh.items():
            geometry[position[code]] = geom
    if same:
        out = pcns.copy(deep=False)
        out[out.geometry.name] = gpd.array.GeometryArray(np.asarray(geometry), crs=BNG)
        return out
    return gpd.GeoDataFrame(
        {"pcn_name": names},
        geometry=gpd.GeoSeries(geometry, crs=BNG).to_numpy(),
        index=pd.Index(codes, name=PCN_CODE),
        crs=BNG,
    )


def _carry_positions(base: Footprints, out: Footprints) -> None:
    """Give ``out`` (updated from ``base``) what the areas it holds give when they are
    ``base``'s (where each won area is in the area table; the holes)."""
    area_pcn = out.area_pcn
    same_areas = area_pcn is not None and area_pcn.index is base.area_pcn.index
    if area_pcn is base.area_pcn or same_areas:  # the same areas won: what they give holds
        for name in ("area_pcn_position", "uncovered_areas"):
            if base.holds(name):
                out._given(**{name: getattr(base, name)})
    elif (
        base.holds("area_pcn_position")
        and area_pcn is not None
        and len(area_pcn) == len(base.area_pcn)
        and area_pcn.index.equals(base.area_pcn.index)
    ):  # other winners of the same areas: the same positions
        out._given(area_pcn_position=base.area_pcn_position)


def _updated_owner(base: Footprints, rewon) -> np.ndarray | None:
    """The owner of each study area (:attr:`Footprints.area_owner`) after the areas
    ``rewon`` changed PCN, from ``base``'s when it holds it (else ``None``)."""
    terr = base.territories
    if base.area_pcn is None or terr.study_areas is None or not base.holds("area_owner"):
        return None
    owner = base.area_owner
    if rewon is not None:
        owner = owner.copy()
        at = terr.study_areas.index.get_indexer(rewon[0])
        owner[at[at >= 0]] = rewon[1][at >= 0]
    return owner


def _owner_holds(terr: Territories, owner: np.ndarray, area_pcn: pd.Series | None) -> bool:
    """Whether every area ``area_pcn`` names is a study area (so ``owner`` holds them
    all) and the study areas are in code order (as ``area_pcn``)."""
    return (
        area_pcn is not None
        and terr.study_areas.index.is_monotonic_increasing
        and int((owner != "").sum()) == len(area_pcn)
    )


def _any_of(values: np.ndarray, codes) -> np.ndarray:
    """``values`` (object array) equal to any of the few ``codes`` (no pandas Index of
    tens of thousands of codes built for it)."""
    codes = list(codes)
    if len(codes) > 16:  # many: one hashed lookup beats a comparison per code
        return pd.Index(codes, dtype=object).get_indexer(pd.Index(values, dtype=object)) >= 0
    mask = np.zeros(len(values), dtype=bool)
    for code in codes:
        mask |= values == code
    return mask


def _carry_pieces(base: Footprints, out: Footprints, owner: np.ndarray, touched) -> None:
    """Give ``out`` (updated from ``base``) the owner of each study area (``owner``, from
    :func:`_updated_owner`) and, when ``base`` holds them, its footprint pieces: only the
    areas of the PCNs ``touched`` are joined into pieces again
    (:func:`~geo_pcn.geography._pieces.repiece`)."""
    out._given(area_owner=owner)
    if not base.holds("area_piece") or base.area_piece is None:
        return
    before = base.area_owner
    mask = _any_of(owner, touched) | _any_of(before, touched)
    out._given(area_piece=repiece(out.territories.area_links, owner, base.area_piece, mask))


def _union_by_key(geoms: np.ndarray, keys: np.ndarray) -> dict:
    """``key -> union of its geometries``, as :func:`build_footprints` dissolves them
    (:func:`~geo_pcn.geography._unions._union_groups`), for the few PCNs a move
    touches."""
    uniques, merged = _union_groups(geoms, keys, invalid="union")
    return dict(zip(uniques.tolist(), merged, strict=True))


def _replace_winners(area_pcn: pd.Series, areas, won: pd.Series) -> pd.Series:
    """``area_pcn`` with the winners of ``areas`` replaced by ``won`` (areas no PCN wins
    any more dropped, newly won ones inserted in area order)."""
    areas = pd.Index(areas)
    values = area_pcn.to_numpy(dtype=object).copy()
    position = area_pcn.index.get_indexer(areas)
    present = position >= 0
    values[position[present]] = won.reindex(areas[present]).fillna("").to_numpy(dtype=object)
    added = won.reindex(areas[~present]).dropna()
    if not len(added) and (values != "").all():  # the same areas: the same index object
        return pd.Series(values, index=area_pcn.index, dtype=area_pcn.dtype, name=PCN_CODE)
    out = pd.Series(values, index=area_pcn.index)[values != ""]
    if len(added):
        out = pd.concat([out, added]).sort_index()
    return out.astype(area_pcn.dtype).rename(PCN_CODE)


def pcn_shares(footprints: Footprints) -> pd.DataFrame | None:
    """Soft shares: each PCN's registered residents in each small area and their share of
    everyone registered there (residents of practices outside the study counted:
    exactly with a national file, by the population otherwise).

    Returns
    -------
    pandas.DataFrame or None
        ``area_code, pcn_code, n_patients, n_area, share`` for every area where a PCN has
        residents (any area of the layer, not only the study's); ``None`` for voronoi.
    """
    terr = footprints.territories
    if terr._soft is None or terr.areas is None:
        return None
    soft = terr._soft
    # summed over numbers (each row's area and PCN as positions in their sorted codes), not
    # by grouping text: the same table as a sorted groupby of (area_code, pcn_code)
    practice_id, practices = pd.factorize(soft[PRACTICE_CODE])
    pcn_of = footprints.configuration.assignments.reindex(practices).fillna("").to_numpy(object)
    pcn_id, pcns = pd.factorize(pcn_of, sort=True)
    pcn_id[pcn_of == ""] = -1
    row_pcn = pcn_id[practice_id] if len(pcn_id) else np.full(len(soft), -1)
    row_pcn[practice_id < 0] = -1
    area_id, areas = pd.factorize(soft[AREA_CODE], sort=True)
    rows = np.flatnonzero((row_pcn >= 0) & (area_id >= 0))
    key = area_id[rows].astype(np.int64) * max(len(pcns), 1) + row_pcn[rows]
    pair, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    n = soft[N_PATIENTS].to_numpy()[rows]
    total = np.bincount(inverse.ravel(), weights=n, minlength=len(pair))
    by = pd.DataFrame(
        {
            AREA_CODE: soft[AREA_CODE].iloc[rows[first]].to_numpy(),
            PCN_CODE: np.asarray(pcns, dtype=object)[pair % max(len(pcns), 1)],
            N_PATIENTS: total.astype("int64") if np.issubdtype(n.dtype, np.integer) else total,
        }
    )
    table = terr.areas
    total = (table["n_study"] + table["n_outside"]).reindex(by[AREA_CODE]).to_numpy()
    by["n_area"] = total.astype("int64")
    by["share"] = np.round(by[N_PATIENTS].to_numpy() / np.maximum(total, 1), 4)
    return by


def build_catchments(footprints: Footprints, *, min_share: float = 0.05) -> gpd.GeoDataFrame:
    """Minimum-share footprints: for each PCN, every small area where it has at least
    ``min_share`` of the registered residents (as catchment tools draw them, 5% by default),
    beside the plurality footprint each area goes to one PCN.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``pcn_code``: ``pcn_name``, ``n_areas``, ``n_patients`` (the PCN's
        residents in those areas), ``min_share``; (Multi)Polygons; empty geometry for a PCN
        that reaches the share nowhere. Voronoi territories have no shares: the plurality
        footprints are returned.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> study = demo()
    >>> fp = build_footprints(study)
    >>> wide = build_catchments(fp, min_share=0.05)
    >>> bool((wide.area >= fp.pcns.area.reindex(wide.index) - 1.0).all())
    True
    """
    configuration = footprints.configuration
    codes = list(configuration.pcn_codes)
    shares = pcn_shares(footprints)
    if shares is None:
        out = footprints.pcns.copy()
        out["n_areas"], out["n_patients"], out["min_share"] = 0, 0, float(min_share)
        return out
    keep = shares[shares["share"] >= min_share]
    # the plurality footprint plus the areas the PCN reaches the share in but does not win
    # (few): far less to union than dissolving every catchment area again
    won = footprints.area_pcn
    mine = won.reindex(keep[AREA_CODE]).to_numpy() == keep[PCN_CODE].to_numpy()
    extra = keep[~mine]
    geoms = footprints.territories._all_areas.geometry.reindex(extra[AREA_CODE]).to_numpy()
    base = footprints.pcns.geometry
    # each grown PCN's footprint then its extra areas, united as footprints are (a coverage:
    # the extra areas are other PCNs' or nobody's), one group per PCN
    grown_codes = pd.unique(extra[PCN_CODE].to_numpy())
    keys, merged = _union_groups(
        np.concatenate([base.reindex(grown_codes).to_numpy(), geoms]),
        np.concatenate([grown_codes, extra[PCN_CODE].to_numpy()]),
        invalid="union",
    )
    grown = dict(zip(keys.tolist(), merged, strict=True))
    dissolved = gpd.GeoSeries({c: grown.get(c, base[c]) for c in codes}, crs=BNG)
    counts = keep.groupby(PCN_CODE)[N_PATIENTS].agg(["size", "sum"])
    return gpd.GeoDataFrame(
        {
            "pcn_name": [configuration.name_of(c) for c in codes],
            "n_areas": counts["size"].reindex(codes).fillna(0).astype(int).to_numpy(),
            "n_patients": counts["sum"].reindex(codes).fillna(0).astype("int64").to_numpy(),
            "min_share": float(min_share),
        },
        geometry=gpd.GeoSeries(dissolved, crs=BNG)
        .reindex(codes)
        .fillna(shapely.Polygon())
        .to_numpy(),
        index=pd.Index(codes, name=PCN_CODE),
        crs=BNG,
    )
