"""The practice adjacency graph (networkx).

Practices are nodes. An edge joins two practices whose *home pieces* touch (``reason =
"touch"``), or lie within the adjacency tolerance of each other (``"within tolerance"``,
for estuaries and slivers), and always joins practices at the same site (``"same site"``).
A practice's home piece is the piece of its territory holding its site (see
:mod:`geo_pcn.geography.territories`); its outlying pieces (a far, thinly populated area it
also wins) join it to no one, so the graph is the map's contiguity. A practice that wins no
area is placed by the small area holding its site. Each edge keeps ``reasons`` (all that
apply) and ``distance_m`` between the homes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo_pcn.geography._pieces import pairs_within
from geo_pcn.geography.territories import Territories

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_graph", "components", "graph_of"]


def build_graph(study, territories: Territories, *, tolerance_m: float | None = None) -> nx.Graph:
    """Adjacency graph of the study's practices.

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study` (for the practices and shared sites).
    territories
        Practice territories from :func:`geo_pcn.geography.build_territories`.
    tolerance_m
        Territories closer than this count as adjacent; default the study's rule.

    Returns
    -------
    networkx.Graph
        Node per practice (attributes ``has_home``: it has a home piece or a site area,
        and ``has_territory``: it wins small areas); edges with ``reasons`` (tuple) and
        ``distance_m``.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> from geo_pcn.geography import build_territories
    >>> study = demo()
    >>> graph = build_graph(study, build_territories(study))
    >>> graph.number_of_nodes() == len(study.practices)
    True
    """
    tol = study.rules.adjacency_tolerance_m if tolerance_m is None else float(tolerance_m)
    return graph_of(territories, study.colocated, tol)


def graph_of(
    territories: Territories, colocated: Mapping[str, tuple[str, ...]], tolerance_m: float
) -> nx.Graph:
    """:func:`build_graph` from the territories, the shared sites (``site_id -> practice
    codes``) and the tolerance alone (what :class:`~geo_pcn.geography.Geography` keeps to
    build its graph when it is first asked for)."""
    tol = float(tolerance_m)
    home = territories.home
    codes = home.index.to_numpy(dtype=object)
    geoms = home.to_numpy()
    has = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    terr = territories.practices.geometry.to_numpy()
    won = ~shapely.is_empty(terr) & ~shapely.is_missing(terr)

    import networkx as nx  # imported when a graph is built: `geo-pcn info` builds none

    graph = nx.Graph()
    graph.add_nodes_from(
        (code, {"has_home": bool(h), "has_territory": bool(w)})
        for code, h, w in zip(codes, has, won, strict=True)
    )

    idx = np.flatnonzero(has)
    if len(idx) > 1:
        sub = geoms[idx]
        left, right, dist = pairs_within(sub, tol)
        reasons = np.where(dist <= 0.0, "touch", "within tolerance")
        graph.add_edges_from(
            (codes[idx[a]], codes[idx[b]], {"reasons": (r,), "distance_m": float(d)})
            for a, b, r, d in zip(left, right, reasons, dist, strict=True)
        )
    for members in colocated.values():
        # every pair at one site is joined (a clique): moving one practice out of a shared
        # site never leaves the others looking apart
        for a, b in itertools.combinations(members, 2):
            if graph.has_edge(a, b):
                data = graph.edges[a, b]
                data["reasons"] = (*data["reasons"], "same site")
            else:
                graph.add_edge(a, b, reasons=("same site",), distance_m=0.0)
    return graph


def components(graph: nx.Graph, members: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Connected groups of ``members`` in ``graph``, each sorted, largest first."""
    import networkx as nx

    groups = [tuple(sorted(c)) for c in nx.connected_components(graph.subgraph(members))]
    return sorted(groups, key=lambda g: (-len(g), g))
