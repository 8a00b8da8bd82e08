"""Practice territories: where each practice's patients live (built once per study).

Two methods (DESIGN.md, "Territories and footprints"):

* **registrations** (patients by practice by small area, and small-area polygons): each
  small area goes to the practice with the most registered residents there (ties to the
  smaller code), counting the residents of every practice, inside or outside the study:
  an area more of whose registered residents use practices outside the study (the national
  file's other practices, or the population less the study's residents) is *served from
  outside* and in no territory. The study area, and the wider region whose uncovered areas
  are reported, are decided from the data (:func:`build_territories`); ``study_boundary``
  is an override. Each area goes whole to its winner (an area in several polygon parts is
  one area). A territory is in *pieces*: its areas joined where they touch or lie within the
  adjacency tolerance (one tolerance everywhere). A practice's *home piece* holds its site
  (or, when its site is in an area another practice wins, holds most of its residents); its
  other pieces are outlying. A practice that wins no area has no territory (one area is in
  one territory only); the graph places it by the small area holding its site.
* **voronoi** (only practice locations): practice-site cells clipped to the study boundary;
  practices at the same site share one cell.

PCN footprints, which depend on the configuration, are in
:mod:`geo_pcn.geography.footprints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn._spatial import polygon_of, present
from geo_pcn.errors import InputError
from geo_pcn.geography._codes import positions, rows_by
from geo_pcn.geography._pieces import area_links, area_pieces, largest_part_points
from geo_pcn.geography._unions import _dissolve, _union
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, POPULATION, PRACTICE_CODE

__all__ = ["Territories", "build_territories", "study_boundary"]


def study_boundary(study) -> shapely.Geometry:
    """The study boundary: the named boundary layer's union, else the union of the areas,
    else the convex hull of the practice sites buffered by 5 km."""
    if study.rules.study_boundary:
        return shapely.union_all(study.boundaries[study.rules.study_boundary].geometry.to_numpy())
    if study.areas is not None:
        return _union(study.areas.geometry.to_numpy())
    sites = study.located.geometry.to_numpy()
    return shapely.buffer(shapely.convex_hull(shapely.multipoints(sites)), 5_000)


@dataclass(frozen=True, eq=False)
class Territories:
    """Practice territories of a study (independent of the configuration).

    Attributes
    ----------
    method
        ``"registrations"`` or ``"voronoi"``.
    practices
        GeoDataFrame indexed by ``practice_code``: territory geometry (may be empty for a
        practice with neither a location nor registrations), ``n_areas``.
    area_winner
        registrations method: ``area_code -> practice_code`` for every small area in the
        study boundary that any study practice has residents in; ``None`` for voronoi.
    study_areas
        The small areas inside the study boundary (registrations method), or ``None``.
    residents
        registrations method: ``area_code, practice_code, n_patients`` for small areas in
        the study boundary (the soft shares).
    boundary
        The study boundary (registrations method: the union of the study areas).
    areas
        registrations method: every small area of the layer, indexed by ``area_code``:
        ``n_study`` (residents registered at the study's practices), ``n_outside``
        (residents registered at practices outside the study, or the population less
        ``n_study``), ``population``, ``candidate``, ``served_from`` (``study``,
        ``outside`` or ``""``) and ``enclosed`` (served from outside but inside the
        study area's outline).
    outside_residents
        ``area_code, practice_code, n_patients`` of practices outside the study in the
        small areas of the layer (when the registrations hold them), else ``None``.
    basis
        What the outside competition was known from: ``registrations`` (exact: every
        practice's residents), ``population`` (the area population less the study's
        registered residents) or ``none``.
    how
        How the study area was decided, in words (for the report).
    home
        Each practice's home geometry, indexed like ``practices``: its home piece (the
        piece of its territory holding its site, else the one holding most of its
        residents), or for a practice that wins no area the small area holding its site;
        empty when it has neither. ``practices["home"]`` says which (``site``,
        ``residents``, ``site area``, ``cell`` for voronoi, ``""``).
    area_links
        registrations method: pairs of positions in ``study_areas`` of the areas within the
        adjacency tolerance of each other (:func:`geo_pcn.geography._pieces.area_links`).
    area_piece
        registrations method: the territory piece of each study area (-1 where none).
    """

    method: str
    practices: gpd.GeoDataFrame
    area_winner: pd.Series | None
    study_areas: gpd.GeoDataFrame | None
    residents: pd.DataFrame | None
    boundary: shapely.Geometry
    areas: pd.DataFrame | None = None
    outside_residents: pd.DataFrame | None = None
    basis: str = "none"
    how: str = ""
    home: gpd.GeoSeries | None = None
    area_links: tuple[np.ndarray, np.ndarray] | None = None
    area_piece: np.ndarray | None = None
    _all_areas: gpd.GeoDataFrame | None = None
    _soft: pd.DataFrame | None = None

    @cached_property
    def region(self) -> shapely.Geometry:
        """The study's region: its study areas and the areas of its region that others
        serve (the registrations method), else the study boundary."""
        if self.areas is None or self.study_areas is None:
            return self.boundary
        table = self.areas
        mask = (table["served_from"] == "study") | table["in_region"]
        codes = table.index[mask.to_numpy()]
        if len(codes) == len(self.study_areas):
            return self.boundary
        return self._region_of(codes)

    def _region_of(self, codes) -> shapely.Geometry:
        geoms = self._all_areas.geometry.reindex(codes).to_numpy()
        return _union(geoms) if len(geoms) else shapely.Polygon()

    @cached_property
    def home_positions(self) -> dict[str, np.ndarray]:
        """practice_code -> positions in ``study_areas`` of the areas of its home: its home
        piece's areas, or its site area (when that is a study area); registrations method."""
        if self.area_piece is None:
            return {}
        table = self.practices
        piece = table["home_piece"].to_numpy()
        by_label = pd.Series(np.arange(len(self.area_piece))).groupby(self.area_piece).indices
        out = {}
        for code, label in zip(table.index[piece >= 0], piece[piece >= 0], strict=True):
            out[code] = np.asarray(by_label[label])
        sites = self.site_positions
        for code in table.index[table["home"].to_numpy() == "site area"]:
            at = sites.get(code, -1)
            out[code] = np.array([at] if at >= 0 else [], dtype=np.int64)
        return out

    @cached_property
    def site_positions(self) -> dict[str, int]:
        """practice_code -> position in ``study_areas`` of the area holding its site (only
        practices whose site is in a study area)."""
        if self.study_areas is None:
            return {}
        codes = self.practices["site_area"].to_numpy(dtype=object)
        at = pd.Index(self.study_areas.index).get_indexer(codes)
        keep = at >= 0
        return dict(zip(self.practices.index[keep], at[keep].tolist(), strict=True))

    @cached_property
    def area_position(self) -> pd.Index:
        """The small areas of :attr:`areas` as an object Index, for fast position lookups."""
        return pd.Index(self.areas.index.to_numpy(dtype=object))

    @cached_property
    def study_area_position(self) -> np.ndarray | None:
        """Where each of :attr:`study_areas` is in :attr:`areas` (-1 when not there)."""
        if self.study_areas is None or self.areas is None:
            return None
        return self.area_position.get_indexer(self.study_areas.index)

    @cached_property
    def outside_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """:attr:`outside_residents` as arrays for fast sums: each row's position in
        :attr:`areas` (-1 when not there), its practice as a number, the practices' codes
        (object) and the patients (int64); ``None`` without outside residents."""
        res = self.outside_residents
        if res is None or self.areas is None:
            return None
        practice, practices = pd.factorize(res[PRACTICE_CODE].to_numpy(dtype=object))
        area = self.area_position.get_indexer(pd.Index(res[AREA_CODE].to_numpy(dtype=object)))
        n = res[N_PATIENTS].to_numpy(dtype="int64")
        return area, practice, np.asarray(practices, dtype=object), n

    @cached_property
    def area_points(self) -> np.ndarray | None:
        """Where each study area's residents are placed (same order as ``study_areas``): a
        point inside its largest polygon part, computed once."""
        if self.study_areas is None:
            return None
        return largest_part_points(self.study_areas.geometry.to_numpy())

    @cached_property
    def soft_positions(self) -> tuple[np.ndarray, np.ndarray, pd.Index] | None:
        """The soft registrations' rows (:attr:`_soft`) as positions, worked out once (the
        accounting asks for them after every configuration): each row's area among
        :attr:`areas` (-1: none), each row's practice as a number (-1: missing) and the
        distinct practice codes those numbers point to."""
        if self._soft is None or self.areas is None:
            return None
        practice, practices = pd.factorize(self._soft[PRACTICE_CODE])
        at = positions(self.areas.index, self._soft[AREA_CODE])
        return at, practice, pd.Index(np.asarray(practices, dtype=object), dtype=object)

    @cached_property
    def resident_rows(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
        """Row positions of :attr:`residents` by practice and by area (for fast updates)."""
        if self.residents is None:
            return None
        res = self.residents
        return rows_by(res[PRACTICE_CODE]), rows_by(res[AREA_CODE])


def _in(values: pd.Series, pool: pd.Index) -> np.ndarray:
    """``values.isin(pool)`` for codes, as a boolean array, in Arrow (pandas' ``isin`` on
    Arrow text makes a Python object of every code in ``pool``: nationally 0.3-0.6 s a
    call for 34,753 area codes).

    Examples
    --------
    >>> _in(pd.Series(["E01", None, "E03", "E01"]), pd.Index(["E01", "E02"])).tolist()
    [True, False, False, True]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = pa.array(values.array, from_pandas=True)  # Arrow text as it is, else converted
    if not pa.types.is_string(codes.type):
        codes = codes.cast(pa.string())
    wanted = pa.array(pd.Index(pool).to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    found = pc.fill_null(pc.is_in(codes, value_set=wanted), False)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _winner(frame: pd.DataFrame, by: str) -> pd.Series:
    """``area_code -> by`` with the most patients; ties to the smallest code.

    Sorted on integer codes (each text column factorised in sorted order), not on the text:
    the same order as sorting the text, several times faster on 866,000 rows.

    Examples
    --------
    >>> rows = pd.DataFrame({"area_code": ["B", "A", "A", "B"], "practice_code": ["P2", "P2",
    ...     "P1", "P1"], "n_patients": [5, 3, 3, 9]})
    >>> _winner(rows, "practice_code").to_dict()
    {'A': 'P1', 'B': 'P1'}
    """
    # (factorised as they are: Arrow text is hashed in Arrow, not as Python strings)
    area, areas = pd.factorize(frame[AREA_CODE], sort=True)
    who, whos = pd.factorize(frame[by], sort=True)
    n = frame[N_PATIENTS].to_numpy(dtype=float)
    order = np.lexsort((who, -n, area))  # last key first: area, most patients, smallest code
    area, who = area[order], who[order]
    first = np.ones(len(area), dtype=bool)
    first[1:] = area[1:] != area[:-1]
    return pd.Series(
        np.asarray(whos, dtype=object)[who[first]],
        index=np.asarray(areas, dtype=object)[area[first]],
        name=by,
    )


def build_territories(study, *, method: str | None = None) -> Territories:
    """Practice territories by registrations or voronoi (see module docstring).

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    method
        Override the study's rule (``"registrations"`` or ``"voronoi"``).

    Returns
    -------
    Territories

    Raises
    ------
    InputError
        The registrations method was asked for without registrations and areas.
    """
    method = method or study.footprint_method
    if method == "registrations":
        if study.registrations is None or study.areas is None:
            raise InputError(
                'footprints = "registrations" needs [registrations] and [areas] in the study '
                'file; add them or use footprints = "voronoi"'
            )
        return _registration_territories(study)
    if method == "voronoi":
        return _voronoi_territories(study, study_boundary(study))
    raise InputError(f"unknown footprint method {method!r}; use registrations or voronoi")


def _registration_territories(study) -> Territories:
    """Territories by registrations: the competition for each small area, the study area
    and its boundary, each area's winner, the pieces, each practice's home."""
    areas = study.areas
    reg = study.registrations
    mine = reg.loc[
        _in(reg[AREA_CODE], areas.index) & (reg[N_PATIENTS] > 0).to_numpy(),
        [AREA_CODE, PRACTICE_CODE, N_PATIENTS],
    ]
    n_study = mine.groupby(AREA_CODE)[N_PATIENTS].sum()

    outside_res, n_other, basis = _competition(study, n_study)

    table = pd.DataFrame(index=areas.index)
    table["n_study"] = n_study.reindex(areas.index).fillna(0).astype("int64").to_numpy()
    table["n_outside"] = (
        0 if n_other is None else n_other.reindex(areas.index).fillna(0).astype("int64")
    )
    table[POPULATION] = areas[POPULATION]

    points = shapely.point_on_surface(areas.geometry.to_numpy())
    candidate, how = _candidates(study, table, points, basis)
    in_study, boundary = _study_area(study, table, points, candidate, basis)
    study_areas = areas[in_study]

    residents = mine[_in(mine[AREA_CODE], study_areas.index)].reset_index(drop=True)
    winner = _winner(residents, PRACTICE_CODE)
    practices = study.practices
    geoms = study_areas.geometry.to_numpy()
    links = area_links(geoms, study.rules.adjacency_tolerance_m)
    owner = winner.reindex(study_areas.index).fillna("").to_numpy(dtype=object)
    piece = area_pieces(links, owner)
    homes = _homes(study, study_areas, areas, residents, owner, piece)
    # each territory is its pieces (disjoint: pieces are farther apart than the tolerance),
    # each piece the union of its areas: one dissolve, by piece
    won = piece >= 0
    by_piece = _dissolve(gpd.GeoSeries(geoms[won], crs=BNG), pd.Series(piece[won]))
    piece_owner = pd.Series(owner[won], index=piece[won]).groupby(level=0).first()
    territory = _collect(by_piece, piece_owner.reindex(by_piece.index))
    counts = pd.Series(owner[won]).value_counts()
    n_pieces = piece_owner.value_counts()
    home_geom = pd.Series(homes["piece"].map(by_piece), index=homes.index, dtype=object)
    site_home = homes["kind"].eq("site area").to_numpy()
    home_geom[site_home] = areas.geometry.to_numpy()[homes["site_area_at"].to_numpy()[site_home]]
    out = gpd.GeoDataFrame(
        {
            "n_areas": counts.reindex(practices.index).fillna(0).astype(int).to_numpy(),
            "n_pieces": n_pieces.reindex(practices.index).fillna(0).astype(int).to_numpy(),
            "home": homes["kind"].to_numpy(),
            "home_piece": homes["piece"].to_numpy(),
            "site_area": homes["site_area"].to_numpy(),
        },
        geometry=territory.reindex(practices.index).to_numpy(),
        crs=BNG,
        index=practices.index,
    )
    out.geometry = out.geometry.fillna(shapely.Polygon())
    home = gpd.GeoSeries(home_geom.to_numpy(), index=practices.index, crs=BNG)
    return Territories(
        method="registrations",
        practices=out,
        area_winner=winner,
        study_areas=study_areas,
        residents=residents,
        boundary=boundary,
        areas=table,
        outside_residents=outside_res,
        basis=basis,
        how=how,
        home=home.fillna(shapely.Polygon()),
        area_links=links,
        area_piece=piece,
        _all_areas=areas,
        _soft=mine.reset_index(drop=True),
    )


def _competition(study, n_study: pd.Series) -> tuple[pd.DataFrame | None, pd.Series | None, str]:
    """Who else lives in each small area: the registrations of practices outside the study
    (exact: ``basis`` ``registrations``), else the population less the study's registered
    residents (``population``), else unknown (``none``). Returns those outside rows (or
    ``None``), the residents of other practices by area (or ``None``) and the basis."""
    areas = study.areas
    other = study.outside_registrations
    outside_res = None
    if other is not None and len(other):
        outside_res = other.loc[
            _in(other[AREA_CODE], areas.index) & (other[N_PATIENTS] > 0).to_numpy(),
            [AREA_CODE, PRACTICE_CODE, N_PATIENTS],
        ].reset_index(drop=True)
        n_other = outside_res.groupby(AREA_CODE)[N_PATIENTS].sum()
        basis = "registrations"
    elif areas[POPULATION].notna().any():
        pop = areas[POPULATION].astype("Float64")
        n_other = (pop - n_study.reindex(areas.index).fillna(0)).clip(lower=0)
        n_other = n_other.fillna(0).astype("int64")
        basis = "population"
    else:
        n_other = None
        basis = "none"
    return outside_res, n_other, basis


def _candidates(
    study, table: pd.DataFrame, points: np.ndarray, basis: str
) -> tuple[np.ndarray, str]:
    """The candidate small areas of the study, and how they were decided, in words: inside
    an explicit study boundary; else where the study's practices have residents (the
    outside competition decides); else, with nothing to compete with, the boundary-layer
    units that hold the study's practices."""
    how: str
    if study.rules.study_boundary:
        boundary = study_boundary(study)  # the named layer's union
        candidate = _points_in(points, boundary)
        how = f"the {study.rules.study_boundary} layer (study_boundary)"
    elif basis != "none":
        candidate = table["n_study"].to_numpy() > 0
        how = "where the study's practices have residents, less the areas most of whose " + (
            "registered residents use practices outside the study (every practice's "
            "registrations are in the file)"
            if basis == "registrations"
            else "residents (by the areas' population) are not registered at the study's practices"
        )
    else:
        layer, units = _units_holding_practices(study)
        if units is None:
            candidate = table["n_study"].to_numpy() > 0
            how = (
                "where the study's practices have residents (no population, no other "
                "practices' registrations and no boundary layer to decide more)"
            )
        else:
            candidate = _points_in(points, units)
            how = (
                f"the {layer} areas that hold the study's practices (no population and no other "
                "practices' registrations to decide from the data)"
            )
    return candidate, how


def _study_area(
    study, table: pd.DataFrame, points: np.ndarray, candidate: np.ndarray, basis: str
) -> tuple[np.ndarray, shapely.Geometry]:
    """The study areas (candidates most of whose residents use the study's practices, and
    the areas nobody is registered in within its region) and their union, the study
    boundary. Sets ``table["in_region"]`` and ``table["served_from"]``."""
    areas = study.areas
    n_in = table["n_study"].to_numpy()
    n_out = table["n_outside"].to_numpy()
    served_outside = (n_out > n_in) if basis != "none" else np.zeros(len(table), dtype=bool)
    in_study = candidate & ~served_outside
    # the study's region: where its practices serve most residents, by the units of the
    # finest boundary layer holding them, plus what the study area encloses. Its areas no
    # PCN covers are reported (served from outside, or holes); beyond it they are counted
    region = candidate.copy()
    outline = None
    if not study.rules.study_boundary and basis != "none":
        region = _units_served(study, points, n_in, n_out)
        if in_study.any():
            outline = _union(areas.geometry.to_numpy()[in_study])
            filled = shapely.union_all(
                shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(outline)))
            )
            region |= _points_in(points, filled)
        region |= candidate & ~served_outside
    nobody = (n_in == 0) & (n_out == 0)
    in_study |= region & nobody
    table["in_region"] = region
    table["served_from"] = np.select(
        [in_study, (candidate | region) & served_outside], ["study", "outside"], default=""
    )
    study_areas = areas[in_study]
    if outline is not None and not (region & nobody).any():
        boundary = outline  # the same areas: union them once
    elif outline is not None:
        # the outline and the few areas nobody is registered in: the same union, without
        # uniting every area again (nationally ~1.5 s)
        extra = areas.geometry.to_numpy()[region & nobody & ~(candidate & ~served_outside)]
        boundary = shapely.union_all(np.concatenate([[outline], extra]))
    elif len(study_areas):
        boundary = _union(study_areas.geometry.to_numpy())
    else:
        boundary = shapely.Polygon()
    return in_study, boundary


def _homes(study, study_areas, areas, residents, owner, piece) -> pd.DataFrame:
    """Each practice's home: the piece of its territory holding its site (``site``); when
    its site is in an area another practice wins, the piece holding most of its residents
    (``residents``); when it wins no area, the small area holding its site (``site area``:
    it has no territory, the graph places it by that area); else none (``""``).

    Returns ``kind``, ``piece`` (label, -1 when none), ``site_area`` (code of the area of the
    layer holding the site, ``""`` when none) and ``site_area_at`` (its position in ``areas``,
    -1), indexed by practice code."""
    practices = study.practices
    codes = practices.index.to_numpy(dtype=object)
    sites = practices.geometry.to_numpy()
    at_all = polygon_of(areas, sites)
    pos = pd.Index(study_areas.index).get_indexer(
        pd.Index(np.where(at_all >= 0, areas.index.to_numpy(dtype=object)[at_all], None))
    )
    pos = np.where(at_all >= 0, pos, -1)
    kind = np.full(len(codes), "", dtype=object)
    home_piece = np.full(len(codes), -1, dtype=np.int64)
    if len(owner):
        in_own = (pos >= 0) & (owner[np.maximum(pos, 0)] == codes)
    else:  # no study area (a part of one practice in no PCN, say): no piece to be in
        in_own = np.zeros(len(codes), dtype=bool)
    home_piece[in_own] = piece[pos[in_own]]
    kind[in_own] = "site"
    by_residents = _piece_by_residents(study_areas, residents, owner, piece, codes)
    rest = ~in_own & pd.notna(by_residents)
    home_piece[rest] = by_residents[rest].astype(np.int64)
    kind[rest] = "residents"
    site_only = (kind == "") & (at_all >= 0)
    kind[site_only] = "site area"
    site_code = np.where(at_all >= 0, areas.index.to_numpy(dtype=object)[np.maximum(at_all, 0)], "")
    return pd.DataFrame(
        {"kind": kind, "piece": home_piece, "site_area": site_code, "site_area_at": at_all},
        index=practices.index,
    )


def _piece_by_residents(study_areas, residents, owner, piece, codes) -> np.ndarray:
    """For each practice of ``codes``, the piece of its territory with most of its
    residents (ties: the smaller label); NaN when none. Over numbers: each row's practice
    and area as positions, the sums by (practice, piece) from one sort."""
    area_at = positions(study_areas.index, residents[AREA_CODE])
    who, practices = pd.factorize(residents[PRACTICE_CODE])
    owner_at = pd.Index(practices).get_indexer(owner)  # each area's winner, as a practice
    mine = (owner_at[area_at] == who) & (who >= 0)
    who, label = who[mine].astype(np.int64), piece[area_at[mine]].astype(np.int64)
    n = residents[N_PATIENTS].to_numpy()[mine]
    out = np.full(len(codes), np.nan)
    if not len(who):
        return out
    span = int(label.max()) + 1
    pair, inverse = np.unique(who * span + label, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=n, minlength=len(pair))
    pair_who, pair_label = pair // span, pair % span
    # per practice: most residents first, then the smaller label
    order = np.lexsort((pair_label, -total, pair_who))
    first = order[np.r_[True, pair_who[order][1:] != pair_who[order][:-1]]]
    at = pd.Index(practices).get_indexer(codes)
    best = np.full(len(practices), np.nan)
    best[pair_who[first]] = pair_label[first]
    out[at >= 0] = best[at[at >= 0]]
    return out


def _collect(pieces: gpd.GeoSeries, owner: pd.Series) -> pd.Series:
    """One (Multi)Polygon per owner from its pieces (which neither touch nor overlap, so
    collecting their polygons is their union)."""
    parts, index = shapely.get_parts(pieces.to_numpy(), return_index=True)
    keys = owner.to_numpy(dtype=object)[index]
    codes, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    multi = shapely.multipolygons(parts[order], indices=inverse[order])
    single = np.bincount(inverse, minlength=len(codes)) == 1
    out = np.where(single, shapely.get_geometry(multi, 0), multi)
    return pd.Series(out, index=codes, dtype=object)


def _units_served(study, points: np.ndarray, n_in: np.ndarray, n_out: np.ndarray) -> np.ndarray:
    """Areas inside the units of the finest boundary layer that hold the study's practices
    and most of whose registered residents use the study's practices."""
    layer = _units_layer(study)
    if layer is None:
        return np.zeros(len(points), dtype=bool)
    frame = study.boundaries[layer]
    frame = frame[present(frame.geometry)]
    unit = polygon_of(frame, points)
    sums = pd.DataFrame({"u": unit, "i": n_in, "o": n_out})[unit >= 0].groupby("u").sum()
    served = sums.index[sums["i"] > sums["o"]].to_numpy()
    return np.isin(unit, served) & (unit >= 0)


def _points_in(points: np.ndarray, geom: shapely.Geometry) -> np.ndarray:
    shapely.prepare(geom)
    return shapely.intersects(geom, points)


#: Boundary layers tried (finest first) when the study area must be drawn from them.
_UNIT_LAYERS = ("sub_icb", "ccg", "place", "lad", "icb")


def _units_layer(study) -> str | None:
    """The finest boundary layer (sub-ICB before place before ICB, then any other) that
    holds any of the study's located practices."""
    layers = list(study.boundaries)
    order = [n for n in _UNIT_LAYERS if n in layers] + [n for n in layers if n not in _UNIT_LAYERS]
    sites = study.located.geometry.to_numpy()
    for name in order:
        frame = study.boundaries[name]
        frame = frame[present(frame.geometry)]
        if frame.empty or not len(sites):
            continue
        if len(frame.sindex.query(sites, predicate="intersects")[1]):
            return name
    return None


def _units_holding_practices(study) -> tuple[str | None, shapely.Geometry | None]:
    """The union of the units of :func:`_units_layer` that hold the study's practices."""
    name = _units_layer(study)
    if name is None:
        return None, None
    frame = study.boundaries[name]
    frame = frame[present(frame.geometry)]
    _, hit = frame.sindex.query(study.located.geometry.to_numpy(), predicate="intersects")
    return name, shapely.union_all(frame.geometry.to_numpy()[np.unique(hit)])


def _voronoi_territories(study, boundary: shapely.Geometry) -> Territories:
    practices = study.practices
    located = practices[present(practices.geometry)]
    site_ids = located["site_id"].astype(str)
    sites = located.geometry.groupby(site_ids.to_numpy()).first()
    points = shapely.points(
        np.column_stack([shapely.get_x(sites.to_numpy()), shapely.get_y(sites.to_numpy())])
    )
    if len(points) == 1:
        cells = np.array([boundary])
    else:
        diagram = shapely.voronoi_polygons(
            shapely.multipoints(points),
            extend_to=shapely.envelope(boundary).buffer(10_000),
            ordered=True,  # cells in the order of the input sites
        )
        cells = shapely.intersection(np.asarray(shapely.get_parts(diagram)), boundary)
    by_site = pd.Series(cells, index=sites.index)
    geometry = by_site.reindex(site_ids.to_numpy()).to_numpy()
    territory = gpd.GeoSeries(geometry, index=located.index, crs=BNG).reindex(practices.index)
    geometry = territory.fillna(shapely.Polygon()).to_numpy()
    has = ~shapely.is_empty(geometry)
    out = gpd.GeoDataFrame(
        {
            "n_areas": 0,
            "n_pieces": has.astype(int),
            "home": np.where(has, "cell", ""),
            "home_piece": -1,
            "site_area": "",
        },
        geometry=geometry,
        crs=BNG,
        index=practices.index,
    )
    return Territories(
        method="voronoi",
        practices=out,
        area_winner=None,
        study_areas=None,
        residents=None,
        boundary=boundary,
        home=gpd.GeoSeries(geometry, index=practices.index, crs=BNG),
    )
