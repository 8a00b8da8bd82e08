"""Practice territories and PCN footprints.

Two methods (DESIGN.md, "Footprints"):

* **registrations** (when patients by practice by small area and the small-area polygons are
  given): each small area of the study goes to the practice with the most registered
  residents there, and separately to the PCN with the most; ties go to the smaller code.
  The soft shares are kept for patient-weighted figures. A practice that wins no area gets
  the area its site is in.
* **voronoi** (only practice locations): practice-site cells clipped to the study boundary;
  practices at the same site share one cell.

Practice territories do not depend on the configuration, so they are built once per study
(:func:`build_territories`) and reused by every configuration; PCN footprints are cheap to
rebuild from them (:func:`build_footprints`), and a scenario's footprints are updated from
its parent's, re-dissolving only the PCNs the change touches (:func:`update_footprints`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn._spatial import polygon_of
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE, POPULATION, PRACTICE_CODE

__all__ = [
    "Territories",
    "Footprints",
    "build_territories",
    "build_footprints",
    "update_footprints",
    "build_catchments",
    "pcn_shares",
    "study_boundary",
]


def study_boundary(study) -> shapely.Geometry:
    """The study boundary: the named boundary layer's union, else the union of the areas,
    else the convex hull of the practice sites buffered by 5 km."""
    if study.rules.study_boundary:
        return shapely.union_all(study.boundaries[study.rules.study_boundary].geometry.to_numpy())
    if study.areas is not None:
        return _union(study.areas.geometry.to_numpy())
    sites = study.located.geometry.to_numpy()
    return shapely.buffer(shapely.convex_hull(shapely.multipoints(sites)), 5_000)


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of polygons: the fast coverage union when they form a clean coverage (shared
    edges noded alike), the general union when they do not (generalised ONS files)."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)


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
    def area_position(self) -> pd.Index:
        """The small areas of :attr:`areas` as an object Index, for fast position lookups."""
        return pd.Index(self.areas.index.to_numpy(dtype=object))

    @cached_property
    def area_points(self) -> np.ndarray | None:
        """A point inside each study area (same order as ``study_areas``), computed once."""
        if self.study_areas is None:
            return None
        return shapely.point_on_surface(self.study_areas.geometry.to_numpy())

    @cached_property
    def resident_rows(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
        """Row positions of :attr:`residents` by practice and by area (for fast updates)."""
        if self.residents is None:
            return None
        res = self.residents
        by_practice = {
            str(k): np.asarray(v) for k, v in res.groupby(PRACTICE_CODE, sort=False).indices.items()
        }
        by_area = {
            str(k): np.asarray(v) for k, v in res.groupby(AREA_CODE, sort=False).indices.items()
        }
        return by_practice, by_area

    @cached_property
    def area_point_tree(self) -> shapely.STRtree | None:
        """Spatial index of :attr:`area_points`."""
        return None if self.area_points is None else shapely.STRtree(self.area_points)


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

    @cached_property
    def uncovered_areas(self) -> gpd.GeoDataFrame | None:
        """Small areas in the study boundary that no PCN footprint covers (holes)."""
        areas = self.territories.study_areas
        if areas is None:
            return None
        covered = self.area_pcn.index.get_indexer(areas.index) >= 0  # hash lookup, fast
        return areas[~covered]


def _winner(frame: pd.DataFrame, by: str) -> pd.Series:
    """``area_code -> by`` with the most patients; ties to the smallest code."""
    ordered = frame.sort_values([AREA_CODE, N_PATIENTS, by], ascending=[True, False, True])
    first = ordered.drop_duplicates(AREA_CODE)
    return pd.Series(first[by].to_numpy(), index=first[AREA_CODE].to_numpy(), name=by)


def _dissolve(geoms: gpd.GeoSeries, keys: pd.Series) -> gpd.GeoSeries:
    """Union of ``geoms`` grouped by ``keys`` (aligned on index), fast for coverages."""
    frame = gpd.GeoDataFrame({"key": keys.to_numpy()}, geometry=geoms.to_numpy(), crs=BNG)
    try:
        out = frame.dissolve(by="key", method="coverage").geometry
    except Exception:  # pragma: no cover - coverage union needs a clean coverage
        out = frame.dissolve(by="key").geometry
    return shapely.make_valid(out) if not out.is_valid.all() else out


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
    areas = study.areas
    reg = study.registrations
    mine = reg.loc[
        reg[AREA_CODE].isin(areas.index) & (reg[N_PATIENTS] > 0),
        [AREA_CODE, PRACTICE_CODE, N_PATIENTS],
    ]
    n_study = mine.groupby(AREA_CODE)[N_PATIENTS].sum()

    # who else lives there: registrations of practices outside the study (exact), else the
    # population less the study's registered residents, else unknown
    other = study.outside_registrations
    outside_res = None
    if other is not None and len(other):
        outside_res = other.loc[
            other[AREA_CODE].isin(areas.index) & (other[N_PATIENTS] > 0),
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

    table = pd.DataFrame(index=areas.index)
    table["n_study"] = n_study.reindex(areas.index).fillna(0).astype("int64").to_numpy()
    table["n_outside"] = (
        0 if n_other is None else n_other.reindex(areas.index).fillna(0).astype("int64")
    )
    table[POPULATION] = areas[POPULATION]

    # candidate areas: inside an explicit study boundary; else where the study's practices
    # have residents (the outside competition decides); else, with nothing to compete
    # with, the boundary-layer units that hold the study's practices
    points = shapely.point_on_surface(areas.geometry.to_numpy())
    how: str
    if study.rules.study_boundary:
        boundary = shapely.union_all(
            study.boundaries[study.rules.study_boundary].geometry.to_numpy()
        )
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
            candidate = _points_in(points, units) & (table["n_study"].to_numpy() >= 0)
            how = (
                f"the {layer} areas that hold the study's practices (no population and no other "
                "practices' registrations to decide from the data)"
            )
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
                [shapely.Polygon(shapely.get_exterior_ring(p)) for p in shapely.get_parts(outline)]
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
    elif len(study_areas):
        boundary = _union(study_areas.geometry.to_numpy())
    else:
        boundary = shapely.Polygon()

    residents = mine[mine[AREA_CODE].isin(study_areas.index)].reset_index(drop=True)
    winner = _winner(residents, PRACTICE_CODE)
    practices = study.practices
    assigned = pd.Series(winner.index, index=winner.to_numpy())  # practice -> area (many)
    # practices that win no area get the area their site is in
    losers = practices.index.difference(winner.unique())
    extra = pd.Series(dtype=object)
    if len(losers):
        sites = practices.loc[losers].geometry
        sites = sites[sites.notna()]
        if len(sites):
            at = polygon_of(areas, sites.to_numpy())
            extra = pd.Series(areas.index[at[at >= 0]], index=sites.index[at >= 0])
    pairs = pd.concat([assigned, extra])
    geoms = areas.geometry.reindex(pairs.to_numpy())
    territory = _dissolve(geoms.reset_index(drop=True), pd.Series(pairs.index))
    counts = assigned.index.value_counts()
    out = gpd.GeoDataFrame(
        {
            "n_areas": counts.reindex(practices.index).fillna(0).astype(int),
            "site_area": extra.reindex(practices.index).fillna("").astype(str),
        },
        geometry=territory.reindex(practices.index).to_numpy(),
        crs=BNG,
        index=practices.index,
    )
    out.geometry = out.geometry.fillna(shapely.Polygon())
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
        _all_areas=areas,
        _soft=mine.reset_index(drop=True),
    )


def _units_served(study, points: np.ndarray, n_in: np.ndarray, n_out: np.ndarray) -> np.ndarray:
    """Areas inside the units of the finest boundary layer that hold the study's practices
    and most of whose registered residents use the study's practices."""
    layer = _units_layer(study)
    if layer is None:
        return np.zeros(len(points), dtype=bool)
    frame = study.boundaries[layer]
    frame = frame[frame.geometry.notna()]
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
        frame = frame[frame.geometry.notna()]
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
    frame = frame[frame.geometry.notna()]
    _, hit = frame.sindex.query(study.located.geometry.to_numpy(), predicate="intersects")
    return name, shapely.union_all(frame.geometry.to_numpy()[np.unique(hit)])


def _voronoi_territories(study, boundary: shapely.Geometry) -> Territories:
    practices = study.practices
    located = practices[practices.geometry.notna()]
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
    out = gpd.GeoDataFrame(
        {"n_areas": 0},
        geometry=territory.fillna(shapely.Polygon()).to_numpy(),
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
    )


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
    if territories.method == "registrations":
        residents = territories.residents
        pcn = residents[PRACTICE_CODE].map(assignment).fillna("")
        by_pcn = (
            residents.assign(**{PCN_CODE: pcn.to_numpy()})
            .loc[lambda f: f[PCN_CODE] != ""]
            .groupby([AREA_CODE, PCN_CODE], as_index=False, sort=False)[N_PATIENTS]
            .sum()
        )
        area_pcn = _winner(by_pcn, PCN_CODE)
        # a PCN whose practices won no area still has their site areas
        held = set(area_pcn.unique())
        missing = [c for c in pcn_codes if c not in held]
        pairs = pd.Series(area_pcn.to_numpy(), index=area_pcn.index)
        geoms = territories.study_areas.geometry.reindex(pairs.index)
        footprint = _dissolve(geoms.reset_index(drop=True), pd.Series(pairs.to_numpy()))
        if missing:
            members = territories.practices.geometry
            fill = {
                code: shapely.union_all(members.reindex(configuration.members[code]).to_numpy())
                for code in missing
            }
            footprint = pd.concat([footprint, gpd.GeoSeries(fill, crs=BNG)])
    else:
        area_pcn = None
        member = assignment[assignment != ""]
        geoms = territories.practices.geometry.reindex(member.index)
        footprint = _dissolve(geoms.reset_index(drop=True), pd.Series(member.to_numpy()))
    pcns = gpd.GeoDataFrame(
        {"pcn_name": [configuration.name_of(c) for c in pcn_codes]},
        geometry=gpd.GeoSeries(footprint, crs=BNG).reindex(pcn_codes).to_numpy(),
        index=pd.Index(pcn_codes, name=PCN_CODE),
        crs=BNG,
    )
    return Footprints(
        territories=territories, configuration=configuration, pcns=pcns, area_pcn=area_pcn
    )


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
    moved = old.index[changed]
    touched = (set(old[changed]) | set(new[changed])) - {""}
    pcn_codes = list(configuration.pcn_codes)
    area_pcn = base.area_pcn
    if terr.method == "registrations":
        by_practice, by_area = terr.resident_rows
        rows = [by_practice[p] for p in moved if p in by_practice]
        residents = terr.residents
        areas = pd.unique(residents[AREA_CODE].to_numpy()[np.concatenate(rows)]) if rows else []
        sub = residents.iloc[np.concatenate([by_area[a] for a in areas])] if len(areas) else None
        if sub is not None:
            pcn = sub[PRACTICE_CODE].map(new).fillna("")
            by_pcn = (
                sub.assign(**{PCN_CODE: pcn.to_numpy()})
                .loc[lambda f: f[PCN_CODE] != ""]
                .groupby([AREA_CODE, PCN_CODE], as_index=False, sort=False)[N_PATIENTS]
                .sum()
            )
            won = _winner(by_pcn, PCN_CODE)
            before = area_pcn.reindex(areas).fillna("")
            after = won.reindex(areas).fillna("")
            differs = before.to_numpy() != after.to_numpy()
            touched |= (set(before[differs]) | set(after[differs])) - {""}
            if differs.any():
                area_pcn = _replace_winners(area_pcn, areas, won)
    redo = sorted(touched & set(pcn_codes))
    fresh: dict[str, shapely.Geometry] = {}
    if redo:
        if terr.method == "registrations":
            pairs = area_pcn[pd.Index(redo).get_indexer(area_pcn.to_numpy()) >= 0]
            geoms = terr.study_areas.geometry.reindex(pairs.index)
            dissolved = _dissolve(geoms.reset_index(drop=True), pd.Series(pairs.to_numpy()))
            fresh.update(dissolved.items())
            members = terr.practices.geometry
            for code in redo:
                if code not in fresh:  # a PCN whose practices won no area: their site areas
                    fresh[code] = shapely.union_all(
                        members.reindex(configuration.members[code]).to_numpy()
                    )
        else:
            member = new[pd.Index(redo).get_indexer(new.to_numpy()) >= 0]
            geoms = terr.practices.geometry.reindex(member.index)
            dissolved = _dissolve(geoms.reset_index(drop=True), pd.Series(member.to_numpy()))
            fresh.update(dissolved.items())
    geometry = base.pcns.geometry.reindex(pcn_codes).to_numpy().copy()
    if fresh:
        position = {c: i for i, c in enumerate(pcn_codes)}
        for code, geom in fresh.items():
            geometry[position[code]] = geom
    pcns = gpd.GeoDataFrame(
        {"pcn_name": [configuration.name_of(c) for c in pcn_codes]},
        geometry=gpd.GeoSeries(geometry, crs=BNG).to_numpy(),
        index=pd.Index(pcn_codes, name=PCN_CODE),
        crs=BNG,
    )
    return Footprints(
        territories=terr,
        configuration=configuration,
        pcns=pcns,
        area_pcn=area_pcn,
        recomputed=tuple(redo),
    )


def _replace_winners(area_pcn: pd.Series, areas, won: pd.Series) -> pd.Series:
    """``area_pcn`` with the winners of ``areas`` replaced by ``won`` (areas no PCN wins
    any more dropped, newly won ones inserted in area order)."""
    areas = pd.Index(areas)
    values = area_pcn.to_numpy(dtype=object).copy()
    position = area_pcn.index.get_indexer(areas)
    present = position >= 0
    values[position[present]] = won.reindex(areas[present]).fillna("").to_numpy(dtype=object)
    out = pd.Series(values, index=area_pcn.index)[values != ""]
    added = won.reindex(areas[~present]).dropna()
    if len(added):
        out = pd.concat([out, added]).sort_index()
    return out.astype(area_pcn.dtype).rename(PCN_CODE)


def pcn_shares(footprints: Footprints) -> pd.DataFrame | None:
    """Soft shares: each PCN's registered residents in each small area and their share of
    everyone registered there (residents of practices outside the configuration counted:
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
    pcn = soft[PRACTICE_CODE].map(footprints.configuration.assignments).fillna("")
    by = (
        soft.assign(**{PCN_CODE: pcn.to_numpy()})
        .loc[lambda f: f[PCN_CODE] != ""]
        .groupby([AREA_CODE, PCN_CODE], as_index=False, sort=True)[N_PATIENTS]
        .sum()
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
    parts = pd.Series(list(geoms), index=extra[PCN_CODE].to_numpy()).groupby(level=0)
    grown = {code: shapely.union_all([base[code], *g.to_list()]) for code, g in parts}
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
