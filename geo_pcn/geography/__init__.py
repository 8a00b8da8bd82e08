"""The study-level geography: everything the checks derive from a study alone.

:class:`Geography` is built once per study (:meth:`Geography.build`, over the private
builders of :mod:`.territories`, :mod:`.graph` and the site lookups), validated in its
constructor and frozen: practice territories, the practice adjacency graph (every pair of
practices at one site joined), where each practice site lies in every boundary layer, and
list sizes with the source each came from. :func:`geography_of` keeps it for as long as
its study lives, in a cache keyed weakly by the study (never written into the study, never
keyed by a bare ``id()``), and rebuilds it when the study was edited in place, so nothing
is ever served stale.

PCN footprints depend on the configuration: see :mod:`geo_pcn.geography.footprints`.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> study = demo()
>>> geo = Geography.build(study)
>>> geo.graph.number_of_nodes() == len(study.practices), geo.territories.method
(True, 'registrations')
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from geo_pcn.errors import GeoPCNError
from geo_pcn.geography._placement import place_sites
from geo_pcn.geography.footprints import (
    Footprints,
    build_catchments,
    build_footprints,
    pcn_shares,
    update_footprints,
)
from geo_pcn.geography.graph import build_graph, components, graph_of
from geo_pcn.geography.territories import Territories, _in, build_territories, study_boundary
from geo_pcn.progress import stage
from geo_pcn.settings import AREA_CODE, LIST_SIZE, N_PATIENTS, PRACTICE_CODE

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "Geography",
    "geography_of",
    "Territories",
    "Footprints",
    "build_territories",
    "build_footprints",
    "update_footprints",
    "build_catchments",
    "pcn_shares",
    "build_graph",
    "components",
    "study_boundary",
]


@dataclass(frozen=True, eq=False)
class Geography:
    """What the checks need from a study, independent of any configuration.

    Attributes
    ----------
    territories
        :class:`~geo_pcn.geography.territories.Territories` (registrations or voronoi).
    graph
        The practice adjacency graph (networkx, frozen): an edge per pair of practices whose
        territories touch or lie within the adjacency tolerance, and per pair at one site;
        edges carry ``reasons`` and ``distance_m``. Built when first asked for (from the
        territories, ``colocated`` and the tolerance) and kept: ``geo-pcn info``, which
        reads the residents table only, never builds it (issue 21).
    site_areas
        layer -> ``code, name, nhs_code`` of the area each practice site lies in (blank
        where none, or not located), ``placed_by`` (``district code``, ``lookup``,
        ``polygon``, ``nearest polygon``) and, for a polygon placement, ``near_code`` /
        ``near_m``: another area within the layer's generalisation (placement uncertain);
        indexed by practice code (:func:`~geo_pcn.geography._placement.place_sites`).
    list_sizes
        practice_code -> list size (int64; a practice with none counts 0 here).
    list_size_sources
        practice_code -> where its list size came from (``list sizes file``,
        ``registrations``, ``practices file`` or ``""`` when none).
    adjacency_tolerance_m
        The tolerance the territories' pieces and the graph were built with (metres:
        territories closer than this touch); the checks and the map read it from here.
    site_tolerance_m
        The distance within which practices were taken to share a site (metres).
    generalisation_m
        layer -> the generalisation of its lines the sites were placed with (metres; 0 for
        a lookup layer): a site within it of a line is "near the line".
    study_area
        How the study area was decided, and where every registered patient of the study's
        practices lives (in the study area, in areas served from outside or beyond it, of
        unknown residence, in Wales...): plain numbers for the report.
    colocated
        ``site_id -> practice codes`` of every site shared by two or more practices (the
        study's :attr:`~geo_pcn.study.Study.colocated`): joined in the graph.
    """

    territories: Territories
    site_areas: MappingProxyType
    list_sizes: pd.Series
    list_size_sources: pd.Series
    adjacency_tolerance_m: float
    site_tolerance_m: float
    generalisation_m: MappingProxyType
    study_area: dict = field(default_factory=dict, repr=False)
    fingerprint: tuple = field(default=(), repr=False)
    colocated: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)

    def __post_init__(self) -> None:
        practices = self.list_sizes.index
        problems = []
        if not self.territories.practices.index.equals(practices):
            problems.append("territories are not indexed by the study's practices")
        if not {p for group in self.colocated.values() for p in group} <= set(practices):
            problems.append("a shared site names a practice not in the study")
        for layer, table in self.site_areas.items():
            if not table.index.equals(practices):
                problems.append(f"site areas of {layer!r} are not indexed by the practices")
        if set(self.generalisation_m) != set(self.site_areas):
            problems.append("the generalisations are not those of the site-area layers")
        tolerances = {
            "adjacency_tolerance_m": self.adjacency_tolerance_m,
            "site_tolerance_m": self.site_tolerance_m,
            **{f"generalisation_m[{k!r}]": v for k, v in self.generalisation_m.items()},
        }
        for name, value in tolerances.items():
            if not (isinstance(value, (int, float)) and 0 <= value < float("inf")):
                problems.append(f"{name} is {value!r}, not a distance in metres")
        if problems:
            raise GeoPCNError("Geography: " + "; ".join(problems))

    @classmethod
    def build(cls, study, *, fingerprint: tuple = ()) -> Geography:
        """Build the geography of ``study`` (its territories; the graph on them when first
        asked for: :attr:`graph`)."""
        with stage("territories"):
            territories = build_territories(study)
        practices = study.practices
        sources = practices.get("list_size_source", pd.Series("", index=practices.index))
        site_areas = _site_areas(study)
        return cls(
            territories=territories,
            site_areas=MappingProxyType(site_areas),
            list_sizes=practices[LIST_SIZE].fillna(0).astype("int64"),
            list_size_sources=sources.fillna("").astype(str),
            adjacency_tolerance_m=study.rules.adjacency_tolerance_m,
            site_tolerance_m=study.rules.site_tolerance_m,
            generalisation_m=MappingProxyType(
                {
                    layer: float(table.attrs.get("generalisation_m", 0.0) or 0.0)
                    for layer, table in site_areas.items()
                }
            ),
            study_area=_study_area(study, territories),
            fingerprint=fingerprint,
            colocated=MappingProxyType(dict(study.colocated)),
        )

    @cached_property
    def graph(self) -> nx.Graph:
        """The practice adjacency graph (see the class): built on first use, then kept."""
        import networkx as nx  # here: `geo-pcn info` never builds the graph (issue 21)

        with stage("graph"):
            graph = nx.freeze(
                graph_of(self.territories, self.colocated, self.adjacency_tolerance_m)
            )
        if set(graph.nodes) != set(self.list_sizes.index):
            raise GeoPCNError("Geography: the graph's nodes are not the study's practices")
        return graph


def _study_area(study, terr: Territories) -> dict:
    reg = study.registrations
    if terr.method != "registrations" or reg is None:
        return {}
    table = terr.areas
    in_study = _in(reg[AREA_CODE], terr.study_areas.index)  # (in Arrow: 866,000 rows)
    small = reg["area_kind"] == "small_area"
    residence = {
        "in_the_study_area": int(reg.loc[small & in_study, N_PATIENTS].sum()),
        "in_small_areas_the_study_does_not_serve": int(
            reg.loc[small & ~in_study, N_PATIENTS].sum()
        ),
    }
    others = reg.loc[~small].groupby("area_kind")[N_PATIENTS].sum()
    residence.update({str(k): int(v) for k, v in others.items()})
    out: dict = {
        "study_area": {
            "decided_by": terr.how,
            "outside_competition_from": terr.basis,
            "n_small_areas": len(terr.study_areas),
            "n_small_areas_served_from_outside_in_region": int(
                ((table["served_from"] == "outside") & table["in_region"]).sum()
            ),
            "n_residents_registered_outside": int(
                table.loc[table["served_from"] == "study", "n_outside"].sum()
            ),
        },
        "patients_by_residence": residence,
    }
    other = study.outside_registrations
    if other is not None:
        out["study_area"]["registrations_of_other_practices"] = {
            "n_practices": int(other[PRACTICE_CODE].nunique()),
            "n_patients": int(other[N_PATIENTS].sum()),
        }
    not_read = getattr(study, "registrations_not_read", None)
    if not_read is not None:
        out["study_area"]["registrations_outside_areas_read"] = dict(not_read)
    return out


def _site_areas(study) -> dict[str, pd.DataFrame]:
    """Where each practice site lies in every boundary layer, by the most exact source the
    study gives (a district code, a small-area lookup, else polygons with their error):
    see :mod:`geo_pcn.geography._placement`."""
    return place_sites(study)


#: the geography of each study, owned here and keyed weakly by the study object (a
#: ``Study`` hashes by identity, ``eq=False``): an entry dies with its study, so an id is
#: never reused for another study, and the study itself is never written into.
_GEOGRAPHIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _content(frame: pd.DataFrame | None) -> str | None:
    """A digest of a table's content, in row order: its index and every column (a
    geometry column by each geometry's bounds and area), so a column replaced or a value
    edited in place gives another digest."""
    if frame is None:
        return None
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((list(frame.columns), len(frame))).encode())
    digest.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, gpd.array.GeometryDtype):
            geoms = column.to_numpy()
            digest.update(shapely.bounds(geoms).tobytes())
            digest.update(shapely.area(geoms).tobytes())
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _fingerprint(study) -> tuple:
    """What the geography depends on, by content: the practices' codes, list sizes and
    sites, the registrations, areas and boundary layers and the rules (so a study edited
    in place after a validate, a column replaced or a value changed, is never served a
    stale geography)."""
    practices = study.practices
    geoms = practices.geometry.to_numpy()
    frame = pd.DataFrame(
        {
            "size": practices[LIST_SIZE].astype("Float64").fillna(-1).to_numpy(dtype=float),
            "x": shapely.get_x(geoms),
            "y": shapely.get_y(geoms),
        },
        index=practices.index,
    )
    frames = (study.registrations, study.outside_registrations, study.areas)
    return (
        _content(frame),
        tuple(_content(f) for f in frames),
        tuple((k, _content(v)) for k, v in study.boundaries.items()),
        study.rules,
    )


def geography_of(study) -> Geography:
    """The geography of ``study``: built on first use and kept for as long as the study
    lives (in this module's cache, keyed weakly by the study); built again when the study
    was edited in place since."""
    mark = _fingerprint(study)
    geo = _GEOGRAPHIES.get(study)
    if geo is None or geo.fingerprint != mark:
        geo = Geography.build(study, fingerprint=mark)
        _GEOGRAPHIES[study] = geo
    return geo
