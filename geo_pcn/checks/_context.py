"""What every check needs, computed once: territories, graph, footprints, site lookups.

Territories, the graph and where each practice site lies depend only on the study, so
they are cached per study and reused by every configuration (scenarios re-validate fast).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import networkx as nx
import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.footprints import Footprints, Territories, build_footprints, build_territories
from geo_pcn.graph import build_graph
from geo_pcn.settings import LIST_SIZE

__all__ = ["Context", "StudyCache", "get_context"]


class StudyCache:
    """Configuration-independent facts of a study, built lazily once."""

    def __init__(self, study) -> None:
        self._study = weakref.ref(study)

    @property
    def study(self):
        return self._study()

    @cached_property
    def territories(self) -> Territories:
        return build_territories(self.study)

    @cached_property
    def graph(self) -> nx.Graph:
        return build_graph(self.study, self.territories)

    @cached_property
    def list_sizes(self) -> pd.Series:
        """practice_code -> list size (missing as 0)."""
        return self.study.practices[LIST_SIZE].fillna(0).astype("int64")

    @cached_property
    def site_areas(self) -> dict[str, pd.DataFrame]:
        """layer -> ``code, name, nhs_code`` of the polygon each practice site lies in
        (blank when the site lies in none or the practice is not located)."""
        practices = self.study.practices
        sites = practices.geometry
        located = sites.notna().to_numpy()
        out: dict[str, pd.DataFrame] = {}
        for layer, frame in self.study.boundaries.items():
            table = pd.DataFrame("", index=practices.index, columns=["code", "name", "nhs_code"])
            pts = sites[located]
            if len(pts):
                # intersects, not within: a site exactly on a shared edge still gets an area
                p_idx, a_idx = frame.sindex.query(pts.to_numpy(), predicate="intersects")
                first = pd.DataFrame({"p": p_idx, "a": a_idx}).sort_values(["p", "a"])
                first = first.drop_duplicates("p")
                codes = pts.index[first["p"].to_numpy()]
                cols = [c for c in ("code", "name", "nhs_code") if c in frame]
                table.loc[codes, cols] = frame.iloc[first["a"].to_numpy()][cols].to_numpy()
            out[layer] = table
        return out


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def study_cache(study) -> StudyCache:
    """The cache of a study (created on first use, freed with the study)."""
    cache = _CACHES.get(study)
    if cache is None:
        cache = _CACHES[study] = StudyCache(study)
    return cache


@dataclass(eq=False)
class Context:
    """A study, one configuration, and what the checks derive from them."""

    study: object
    configuration: Configuration
    cache: StudyCache

    @property
    def territories(self) -> Territories:
        return self.cache.territories

    @property
    def graph(self) -> nx.Graph:
        return self.cache.graph

    @cached_property
    def footprints(self) -> Footprints:
        return build_footprints(self.study, self.configuration, territories=self.territories)

    @property
    def list_sizes(self) -> pd.Series:
        return self.cache.list_sizes

    @cached_property
    def pcn_list_sizes(self) -> pd.Series:
        """pcn_code -> list size."""
        assign = self.configuration.assignments
        sizes = self.list_sizes.reindex(assign.index).fillna(0)
        out = sizes[assign != ""].groupby(assign[assign != ""]).sum().astype("int64")
        return out.reindex(list(self.configuration.pcn_codes), fill_value=0)

    def pcn_label(self, code: str) -> str:
        """``NAME (CODE)`` for messages."""
        name = self.configuration.name_of(code)
        return code if name == code else f"{name} ({code})"

    def territory_of(self, practices) -> gpd.GeoSeries:
        return self.territories.practices.geometry.reindex(list(practices))


def get_context(study, configuration: Configuration | None = None) -> Context:
    """A :class:`Context` for ``configuration`` (default: the study's), reusing the
    study's cached territories and graph."""
    return Context(study, configuration or study.configuration, study_cache(study))
