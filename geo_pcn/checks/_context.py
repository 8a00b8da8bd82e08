"""What every check needs, computed once: territories, graph, footprints, site lookups.

Territories, the graph and where each practice site lies depend only on the study, so
they are cached per study and reused by every configuration. The study cache also keeps
the contexts of the last few configurations checked: a new configuration (a scenario)
updates its PCN footprints from the nearest of them (:func:`~geo_pcn.footprints.update_footprints`)
instead of dissolving every footprint again.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import pandas as pd
import shapely

from geo_pcn._spatial import polygon_of
from geo_pcn.configuration import Configuration
from geo_pcn.footprints import (
    Footprints,
    Territories,
    build_footprints,
    build_territories,
    update_footprints,
)
from geo_pcn.graph import build_graph
from geo_pcn.settings import LIST_SIZE

__all__ = ["Context", "StudyCache", "get_context"]


class StudyCache:
    """Configuration-independent facts of a study, built lazily once."""

    #: how many recent contexts are kept as bases for updating footprints
    n_recent = 6
    #: a base is used when at most this share of practices changed PCN (else build afresh)
    max_share_moved = 0.2

    def __init__(self, study) -> None:
        self._study = weakref.ref(study)
        self._recent: OrderedDict[int, Context] = OrderedDict()
        self.fingerprint: tuple = ()

    def remember(self, context: Context) -> None:
        """Keep ``context`` as a possible base for later configurations."""
        self._recent[id(context.configuration)] = context
        self._recent.move_to_end(id(context.configuration))
        while len(self._recent) > self.n_recent:
            self._recent.popitem(last=False)

    def remember_report(self, report) -> None:
        """Keep a full report as the base for re-validating its children quickly."""
        reports = self.__dict__.setdefault("_reports", OrderedDict())
        reports[id(report.configuration)] = report
        reports.move_to_end(id(report.configuration))
        while len(reports) > self.n_recent:
            reports.popitem(last=False)

    def report_of(self, configuration: Configuration | None):
        """The remembered report of this very configuration object, if any."""
        report = self.__dict__.get("_reports", {}).get(id(configuration))
        if report is not None and report.configuration is configuration:
            return report
        return None

    def context_of(self, configuration: Configuration) -> Context | None:
        """The remembered context of this very configuration object, if any."""
        context = self._recent.get(id(configuration))
        if context is not None and context.configuration is configuration:
            self._recent.move_to_end(id(configuration))
            return context
        return None

    def nearest(self, configuration: Configuration) -> Context | None:
        """The remembered context, with footprints built, whose configuration differs
        from ``configuration`` in fewest practices (``None`` when none is close)."""
        new = configuration.assignments
        best, best_n = None, int(self.max_share_moved * len(new)) + 1
        for context in reversed(self._recent.values()):
            if "footprints" not in context.__dict__:
                continue
            old = context.configuration.assignments
            if not old.index.equals(new.index):
                continue
            n = int((old.to_numpy() != new.to_numpy()).sum())
            if n < best_n:
                best, best_n = context, n
        return best

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
                at = polygon_of(frame, pts.to_numpy())
                codes = pts.index[at >= 0]
                cols = [c for c in ("code", "name", "nhs_code") if c in frame]
                table.loc[codes, cols] = frame.iloc[at[at >= 0]][cols].to_numpy()
            out[layer] = table
        return out


#: attribute of a Study that holds its cache (the cache lives and dies with the study)
_CACHE_ATTR = "_geo_pcn_cache"


def _fingerprint(study) -> tuple:
    """What the cached facts depend on, cheaply: the practices' codes, list sizes and sites
    (hashed: a study edited in place after a validate is never served stale territories,
    graphs or list sizes), and which registrations, areas, layers and rules it holds."""
    practices = study.practices
    geoms = practices.geometry.to_numpy()
    frame = pd.DataFrame(
        {
            "size": practices[LIST_SIZE].astype("Float64").fillna(-1).to_numpy(dtype=float),
            "x": shapely.get_x(geoms),
            "y": shapely.get_y(geoms),
        }
    )
    digest = int(pd.util.hash_pandas_object(frame, index=False).sum())
    frames = (study.registrations, study.outside_registrations, study.areas)
    return (
        len(practices),
        id(practices.index),
        digest,
        tuple((id(f), None if f is None else len(f)) for f in frames),
        tuple((k, id(v), len(v)) for k, v in study.boundaries.items()),
        study.rules,
    )


def study_cache(study) -> StudyCache:
    """The cache of a study, kept on the study itself (freed with it; never keyed by object
    identity in a module-level table), rebuilt when the study was edited since."""
    mark = _fingerprint(study)
    cache = study.__dict__.get(_CACHE_ATTR)
    if cache is None or cache.fingerprint != mark:
        cache = StudyCache(study)
        cache.fingerprint = mark
        study.__dict__[_CACHE_ATTR] = cache
    return cache


@dataclass(eq=False)
class Context:
    """A study, one configuration, and what the checks derive from them."""

    study: object
    configuration: Configuration
    cache: StudyCache
    base: Context | None = None

    @property
    def territories(self) -> Territories:
        return self.cache.territories

    @property
    def graph(self) -> nx.Graph:
        return self.cache.graph

    @cached_property
    def footprints(self) -> Footprints:
        """PCN footprints, updated from the base context's when there is one."""
        base, self.base = self.base, None  # keep no chain of contexts alive
        if base is not None and "footprints" in base.__dict__:
            return update_footprints(base.footprints, self.configuration)
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


def get_context(study, configuration: Configuration | None = None) -> Context:
    """A :class:`Context` for ``configuration`` (default: the study's), reusing the
    study's cached territories and graph, and the footprints of the nearest configuration
    checked recently (a scenario's parent)."""
    configuration = study.configuration if configuration is None else configuration
    cache = study_cache(study)
    known = cache.context_of(configuration)
    if known is not None:
        return known
    context = Context(study, configuration, cache, base=cache.nearest(configuration))
    cache.remember(context)
    return context
