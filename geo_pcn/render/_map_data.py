"""What the maps show, prepared once for both the HTML map and the static picture.

Everything here is in British National Grid; :func:`to_display` simplifies (as a coverage,
so neighbours keep their shared edges), reprojects to WGS84 and rounds for the web map.
Every string that comes from an input file is HTML-escaped here, before it reaches a
popup, tooltip or legend.
"""

from __future__ import annotations

import colorsys
import heapq
import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from geo_pcn._escape import html_text
from geo_pcn._spatial import drawable, present
from geo_pcn.findings import Severity
from geo_pcn.geography._pieces import pairs_within
from geo_pcn.settings import BNG

__all__ = [
    "PALETTE",
    "EXTRA_COLOURS",
    "NO_PCN_COLOUR",
    "BAND_COLOURS",
    "SEVERITY_COLOURS",
    "MapData",
    "build_map_data",
    "colour_graph",
    "footprint_adjacency",
    "to_display",
]

#: Paul Tol's "light" scheme (colour-blind safe, made for filled areas under labels),
#: ordered so that the first colours are far apart.
PALETTE: tuple[str, ...] = (
    "#77AADD",
    "#EE8866",
    "#44BB99",
    "#EEDD88",
    "#FFAABB",
    "#99DDFF",
    "#BBCC33",
    "#AAAA00",
)
#: Pairs of :data:`PALETTE` entries that look alike: avoided next to each other when possible.
_LOOKALIKE: dict[int, tuple[int, ...]] = {0: (5,), 5: (0,), 6: (7, 3), 7: (6,), 3: (6,)}
#: Used only when a footprint graph needs more colours than :data:`PALETTE` (Tol "muted").
EXTRA_COLOURS: tuple[str, ...] = (
    "#88CCEE",
    "#CC6677",
    "#DDCC77",
    "#117733",
    "#332288",
    "#AA4499",
    "#44AA99",
    "#999933",
    "#882255",
)
#: Practices in no PCN.
NO_PCN_COLOUR = "#DDDDDD"
#: Footprint fills of the "colour by band status" view (Paul Tol's colour-blind safe hues).
BAND_COLOURS = {
    "within": "#44BB99",
    "below": "#EE8866",
    "above": "#AA4499",
    "exempt": "#BBBBBB",
}
#: How the band statuses read in legends.
BAND_TEXT = {
    "within": "within the band",
    "below": "below the band",
    "above": "above the band",
    "exempt": "outside the band, agreed exception",
}
#: Finding outlines and rings by severity (dark red, orange, blue: told apart by lightness).
SEVERITY_COLOURS = {"error": "#B2182B", "warning": "#E66100", "info": "#0072B2"}
#: Outline styles (colour, weight, dash pattern) of the usual boundary layers...
_NAMED_BOUNDARY_STYLES: dict[str, tuple[str, float, str | None]] = {
    "icb": ("#000000", 3.0, None),
    "sub_icb": ("#332288", 2.5, "10 6"),
    "place": ("#882255", 2.0, "3 5"),
}
#: ... and of any other layer, in turn.
BOUNDARY_STYLES: tuple[tuple[str, float, str | None], ...] = (
    ("#555555", 2.0, "12 4 2 4"),
    ("#44AA99", 2.0, "1 4"),
    ("#999933", 2.0, "6 3"),
)


def boundary_styles(layers) -> dict[str, tuple[str, float, str | None]]:
    """``layer -> (colour, weight, dash)``: fixed styles for ``icb``, ``sub_icb`` and
    ``place`` so they look the same on every map, the others in turn."""
    out = {}
    others = iter(itertools.cycle(BOUNDARY_STYLES))
    for layer in layers:
        out[layer] = _NAMED_BOUNDARY_STYLES.get(layer.lower()) or next(others)
    return out


#: Community layers: area outlines and site markers.
COMMUNITY_STYLES: tuple[str, ...] = ("#117733", "#0077BB", "#AA4499", "#999933")

_RADIUS_MIN, _RADIUS_SPAN = 3.0, 9.0


def esc(values: pd.Series | Any) -> pd.Series | str:
    """HTML-escape a value or every value of a Series (missing -> empty)."""
    if isinstance(values, pd.Series):
        return values.astype(object).where(values.notna(), "").astype(str).map(html_text)
    return "" if values is None or values is pd.NA else html_text(str(values))


def _label(name: pd.Series, code: pd.Series) -> pd.Series:
    """Escaped ``NAME (CODE)``, or the code when there is no name."""
    name = esc(name)
    code = esc(code)
    return name.where(name == code, name + " (" + code + ")").where(name != "", code)


def pretty_layer(name: str) -> str:
    """A layer key as a planner reads it: ``sub_icb`` -> ``Sub-ICB``, ``place`` -> ``Place``
    (escaped)."""
    special = {"sub_icb": "Sub-ICB", "sub_icb_location": "Sub-ICB location"}
    if name.lower() in special:
        return special[name.lower()]
    acronyms = {"icb", "pcn", "lsoa", "msoa", "lad", "ltla", "utla", "ccg", "nhs", "ons"}
    words = [w.upper() if w.lower() in acronyms else w for w in name.split("_")]
    text = " ".join(words)
    return html_text(text[:1].upper() + text[1:])


def _total_bounds(geoms: np.ndarray) -> np.ndarray:
    """The bounds of the union of ``geoms`` (the union's extreme points are the inputs'),
    NaN when all are empty."""
    return np.asarray(shapely.total_bounds(geoms), dtype=float)


# -- colours ------------------------------------------------------------------------------
def footprint_adjacency(
    footprints: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 0.0,
    graph: nx.Graph | None = None,
    assignments: pd.Series | None = None,
) -> nx.Graph:
    """PCNs whose footprints touch (or lie within ``tolerance_m``), as a graph.

    Parameters
    ----------
    footprints
        PCN footprints indexed by ``pcn_code`` (BNG).
    tolerance_m
        Footprints closer than this count as touching.
    graph, assignments
        The practice adjacency graph and ``practice_code -> pcn_code``: PCNs with adjacent
        practices are joined too (estuaries and slivers bridged by the checks).

    Returns
    -------
    networkx.Graph
        Nodes are PCN codes.
    """
    out = nx.Graph()
    out.add_nodes_from(sorted(footprints.index))
    geoms = footprints.geometry
    drawn = footprints[drawable(geoms)]
    if len(drawn) > 1:
        left, right, _ = pairs_within(drawn.geometry.to_numpy(), max(tolerance_m, 0.01))
        codes = drawn.index.to_numpy()
        out.add_edges_from(zip(codes[left], codes[right], strict=True))
    if graph is not None and assignments is not None and graph.number_of_edges():
        # the PCNs at both ends of each practice edge, in the graph's edge order (plain
        # dicts: a frame of the edges and their reasons costs more than the work)
        pcn_of = dict(zip(assignments.index, assignments, strict=True))
        nodes = out.nodes
        pairs = ((pcn_of.get(u, ""), pcn_of.get(v, "")) for u, v in graph.edges())
        out.add_edges_from(
            (a, b) for a, b in pairs if a and b and a != b and a in nodes and b in nodes
        )
    return out


def _colour(index: int, palette: tuple[str, ...]) -> str:
    """The ``index``-th colour: the palette, then :data:`EXTRA_COLOURS`, then evenly
    spread hues (never reached on a real map, but never an error either)."""
    if index < len(palette):
        return palette[index]
    index -= len(palette)
    if index < len(EXTRA_COLOURS):
        return EXTRA_COLOURS[index]
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.7, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def _smallest_last(graph: nx.Graph) -> list[str]:
    """Nodes in smallest-last order, deterministic (ties broken by node code, not by set
    order, which changes with Python's hash seed)."""
    degree = {node: graph.degree(node) for node in graph}
    heap = [(d, str(node), node) for node, d in degree.items()]
    heapq.heapify(heap)
    removed: set = set()
    order = []
    while heap:
        d, _key, node = heapq.heappop(heap)
        if node in removed or d != degree[node]:
            continue
        removed.add(node)
        order.append(node)
        for other in graph[node]:
            if other not in removed:
                degree[other] -= 1
                heapq.heappush(heap, (degree[other], str(other), other))
    return order[::-1]


def colour_graph(
    adjacency: nx.Graph,
    palette: tuple[str, ...] = PALETTE,
    *,
    previous: dict[str, str] | None = None,
) -> dict[str, str]:
    """Colours for the nodes so that neighbours never share one.

    Greedy colouring in smallest-last order (a planar map needs at most six colours that
    way), choosing the least-used free colour so that the palette is used evenly. When a
    node has every palette colour around it, the palette is extended. With ``previous``
    (the colours before an edit), a node keeps its colour whenever no neighbour coloured
    before it has taken that colour, so that one move recolours as little as it can.

    Examples
    --------
    >>> g = nx.cycle_graph(["A", "B", "C"])
    >>> sorted(set(colour_graph(g).values())) == sorted(PALETTE[:3])
    True
    >>> before = colour_graph(g)
    >>> colour_graph(nx.path_graph(["A", "B", "C"]), previous=before) == before
    True
    """
    index: dict[str, int] = {}
    counts: Counter[int] = Counter()
    previous = previous or {}
    for node in _smallest_last(adjacency):
        used = {index[n] for n in adjacency[node] if n in index}
        free = [i for i in range(len(palette)) if i not in used]
        kept = palette.index(previous[node]) if previous.get(node) in palette else None
        if kept is not None and kept not in used:
            choice = kept
        elif free:
            near = (
                set().union(*(_LOOKALIKE.get(i, ()) for i in used)) if palette is PALETTE else set()
            )
            choice = min(free, key=lambda i: (i in near, counts[i], i))
        else:
            choice = next(i for i in itertools.count(len(palette)) if i not in used)
        index[node] = choice
        counts[choice] += 1
    return {node: _colour(i, palette) for node, i in index.items()}


def practice_radius(list_size: pd.Series | np.ndarray, largest: float) -> np.ndarray:
    """Circle radius in pixels: area proportional to list size, 3 to 12 px."""
    sizes = np.asarray(list_size, dtype=float)
    return np.round(_RADIUS_MIN + _RADIUS_SPAN * np.sqrt(np.clip(sizes, 0, None) / largest), 1)


def example_list_sizes(largest: float) -> list[int]:
    """Two round list sizes for the legend: about a quarter of the largest, and the largest."""

    def nice(value: float) -> int:
        return int(round(value, -3)) if value >= 2_000 else int(round(value))

    return sorted({nice(largest / 4), nice(largest)} - {0}) or [int(largest)]


def label_points(geoms) -> np.ndarray:
    """Where a footprint's name goes: a point inside its largest part (vectorised)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return out
    parts, index = shapely.get_parts(geoms[ok], return_index=True)
    area = shapely.area(parts)
    order = np.lexsort((-area, index))  # per geometry, its largest part first
    first = order[np.r_[True, index[order][1:] != index[order][:-1]]]
    out[np.flatnonzero(ok)[index[first]]] = shapely.point_on_surface(parts[first])
    return out


_PCN_WORDS = re.compile(r"\s*\b(primary care network|pcn)\b(?=\s*(\([^()]*\))?\s*$)", re.IGNORECASE)


def short_name(name: str) -> str:
    """A PCN name for a label on the map: without a trailing "PCN" or "Primary Care
    Network" (the map says what the shapes are)."""
    text = " ".join(str(name).split())
    short = " ".join(_PCN_WORDS.sub("", text).split()).strip(" -,")
    return short or text


# -- display geometry ----------------------------------------------------------------------
def display_tolerance(bounds: np.ndarray) -> float:
    """Simplification tolerance (metres) for a study of these BNG bounds: about one
    15,000th of the diagonal, between 5 and 60 m."""
    diagonal = float(np.hypot(bounds[2] - bounds[0], bounds[3] - bounds[1]))
    return float(np.clip(diagonal / 15_000, 5.0, 60.0))


def simplify_coverage(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons together as a coverage so shared edges stay shared.

    Falls back to the input when GEOS cannot treat it as a coverage.
    """
    geoms = np.asarray(geoms, dtype=object)
    if tolerance <= 0 or not len(geoms):
        return geoms
    try:
        return np.asarray(shapely.coverage_simplify(geoms, tolerance), dtype=object)
    except shapely.errors.GEOSException:  # pragma: no cover - malformed coverage
        return geoms


def to_display(
    frame: gpd.GeoDataFrame, *, tolerance: float = 0.0, coverage: bool = True, decimals: int = 5
) -> gpd.GeoDataFrame:
    """The frame ready for the web map: empty geometries dropped, polygons simplified as
    a coverage (``coverage=True``), reprojected to WGS84, coordinates rounded."""
    frame = frame[drawable(frame.geometry)]
    geoms = frame.geometry.to_numpy()
    if coverage and tolerance > 0 and len(geoms):
        polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
        if polygonal.any():
            geoms = geoms.copy()
            geoms[polygonal] = simplify_coverage(geoms[polygonal], tolerance)
    wgs = gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index).to_crs(4326)
    rounded = shapely.transform(wgs.to_numpy(), lambda xy: np.round(xy, decimals))
    out = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=rounded, crs=4326)
    return out[~out.geometry.is_empty]


def _features_in_study(
    frame: gpd.GeoDataFrame, boundary: shapely.Geometry, sites: gpd.GeoSeries
) -> gpd.GeoDataFrame:
    """Boundary features worth drawing: those whose interior point lies in the study
    boundary (not neighbours that merely share a generalised edge), and those that hold a
    practice site."""
    if not len(frame):
        return frame
    candidates = np.unique(frame.sindex.query(boundary, predicate="intersects"))
    points = shapely.point_on_surface(frame.geometry.to_numpy()[candidates])
    shapely.prepare(boundary)
    keep = set(candidates[shapely.contains(boundary, points)].tolist())
    if len(sites):
        keep |= set(np.unique(frame.sindex.query(sites.to_numpy(), predicate="intersects")[1]))
    return frame.iloc[sorted(keep)]


# -- everything the maps show ---------------------------------------------------------------
@dataclass(eq=False)
class MapData:
    """Layers of a map in BNG, with escaped display text.

    Attributes
    ----------
    title, subtitle
        Escaped title (with SYNTHETIC when the study is synthetic) and the verdict line.
    synthetic
        The study's data are made up (``Study.synthetic``, from the study file's
        ``synthetic = true``; never guessed from the name).
    footprints
        Indexed by ``pcn_code``: ``label``, ``colour``, ``has_error``, ``tip`` (HTML
        tooltip), ``errors`` (HTML list of ERROR findings), ``name_text`` (the short name
        for labels, *not* escaped: drawn as text only) and ``band`` (band status),
        footprint polygons.
    practices
        Located practices, biggest first: ``code``, ``label``, ``pcn``, ``colour``,
        ``radius``, ``list_size`` (text), one column per boundary layer, ``findings``.
    boundaries
        layer name -> features near the study (``tip``), polygons.
    community
        layer name -> (kind, features with ``tip``).
    findings
        One row per geometry part: ``severity``, ``kind``, ``tip``, ``gtype``.
    """

    title: str
    subtitle: str
    verdict_ok: bool
    synthetic: bool
    footprints: gpd.GeoDataFrame
    practices: gpd.GeoDataFrame
    boundaries: dict[str, gpd.GeoDataFrame]
    community: dict[str, tuple[str, gpd.GeoDataFrame]]
    findings: gpd.GeoDataFrame
    boundary_fields: dict[str, str]
    bounds: np.ndarray
    n_not_located: int
    largest_list: float

    @property
    def tolerance(self) -> float:
        return display_tolerance(self.bounds)


def build_map_data(report) -> MapData:
    """Prepare every layer of the maps from a :class:`~geo_pcn.report.Report`: the PCN
    footprints, the practices, the boundary and community layers near the study, the
    findings with a place, and the extent to show."""
    study = report.study
    summary = report.summary
    synthetic = bool(summary["synthetic"])
    footprints = report.partition.footprints.pcns
    fp, colours = _footprint_layer(report)
    pts, boundary_fields, largest = _practice_layer(report, colours)
    practices = study.practices
    located = practices[present(practices.geometry)]
    anchors, boundaries = _study_extent(report, located)
    community = _community_layers(report, anchors)
    parts = _finding_layer(report)
    everything = np.array([*anchors, *footprints.geometry.dropna().to_numpy()], dtype=object)
    bounds = np.asarray(_total_bounds(everything), dtype=float)

    sev = summary["findings"]
    verdict = "PASS" if report.ok else "FAIL"
    title = html_text(study.name)
    if synthetic and "synthetic" not in study.name.lower():  # pragma: no cover
        title = "SYNTHETIC " + title
    subtitle = (
        f"{verdict}: {sev['error']} error(s), {sev['warning']} warning(s), {sev['info']} "
        f"note(s) &middot; {summary['n_practices']:,} practices in {summary['n_pcns']:,} PCNs"
        f" &middot; {summary['n_patients']:,} patients"
    )
    return MapData(
        title=title,
        subtitle=subtitle,
        verdict_ok=report.ok,
        synthetic=synthetic,
        footprints=fp,
        practices=pts,
        boundaries=boundaries,
        community=community,
        findings=parts,
        boundary_fields=boundary_fields,
        bounds=bounds,
        n_not_located=int(len(practices) - len(located)),
        largest_list=largest,
    )


def _footprint_layer(report) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The PCN footprints with their neighbour-distinct colours, labels, tooltips and the
    findings of each PCN (HTML, escaped); and ``pcn_code -> colour``."""
    ctx = report.partition
    config = report.configuration
    footprints = ctx.footprints.pcns
    adjacency = footprint_adjacency(
        footprints,
        tolerance_m=float(ctx.geography.adjacency_tolerance_m),
        graph=ctx.graph,
        assignments=config.assignments,
    )
    colours = colour_graph(adjacency)
    table = report.pcns.set_index("pcn_code").reindex(footprints.index)
    by_pcn: dict[str, list[str]] = defaultdict(list)
    errors_by_pcn: dict[str, list[str]] = defaultdict(list)
    for f in report.findings:
        if f.pcn_code:
            line = f"<b>{f.severity.value.upper()}</b> {html_text(f.message)}"
            by_pcn[f.pcn_code].append(line)
            if f.severity is Severity.ERROR:
                errors_by_pcn[f.pcn_code].append(line)
    codes = footprints.index.to_series()
    label = _label(table["pcn_name"], codes)
    sizes = table["list_size"].fillna(0).astype("int64")
    tip = (
        "<b>"
        + label
        + "</b><br>"
        + sizes.map("{:,}".format).astype(str)  # str also when there is no PCN
        + " patients, "
        + table["n_practices"].fillna(0).astype("int64").astype(str)
        + " practice(s); "
        + esc(table["band_status"])
        + " band"
    )
    n_err = table["n_errors"].fillna(0).astype("int64")
    n_warn = table["n_warnings"].fillna(0).astype("int64")
    flagged = (n_err + n_warn) > 0
    tip = tip.where(
        ~flagged,
        tip + "<br>" + n_err.astype(str) + " error(s), " + n_warn.astype(str) + " warning(s)",
    )
    fp = gpd.GeoDataFrame(
        {
            "label": label.to_numpy(),
            "colour": codes.map(colours).fillna(NO_PCN_COLOUR).to_numpy(),
            "has_error": (n_err > 0).to_numpy(),
            "tip": tip.to_numpy(),
            "details": codes.map(
                lambda c: "<br>".join(by_pcn.get(c, [])) or "No findings."
            ).to_numpy(),
            "errors": codes.map(lambda c: "<br>".join(errors_by_pcn.get(c, []))).to_numpy(),
            "name_text": [
                short_name(n) if isinstance(n, str) and n.strip() else c
                for n, c in zip(table["pcn_name"], codes, strict=True)
            ],
            "band": table["band_status"].fillna("").astype(str).to_numpy(),
        },
        geometry=footprints.geometry.to_numpy(),
        index=footprints.index,
        crs=BNG,
    )
    return fp, colours


def _practice_layer(
    report, colours: dict[str, str]
) -> tuple[gpd.GeoDataFrame, dict[str, str], float]:
    """The located practices (largest first) with their tooltips, their PCN's colour
    (``colours``) and radii; the site-area fields shown; the largest list size (the
    radius scale)."""
    study = report.study
    ctx = report.partition
    config = report.configuration
    practices = study.practices
    located = practices[present(practices.geometry)]
    assign = config.assignments.reindex(located.index).fillna("")
    sizes_p = ctx.list_sizes.reindex(located.index).fillna(0).astype("int64")
    largest = float(max(int(sizes_p.max()) if len(sizes_p) else 1, 1))
    pcn_label = assign.map(lambda c: html_text(f"{config.name_of(c)} ({c})") if c else "in no PCN")
    notes: dict[str, list[str]] = defaultdict(list)
    for f in report.findings:
        for code in f.practice_codes:
            notes[code].append(f"&bull; <b>{f.severity.value.upper()}</b> {html_text(f.message)}")
    pr = pd.DataFrame(
        {
            "code": esc(located.index.to_series()).to_numpy(),
            "name": esc(located["practice_name"]).to_numpy(),
            "pcn": pcn_label.to_numpy(),
            "list_size": np.where(
                located["list_size"].isna().to_numpy(),
                "no list size",
                sizes_p.map("{:,}".format).to_numpy(),
            ),
        },
        index=located.index,
    )
    boundary_fields: dict[str, str] = {}
    for i, (layer, where) in enumerate(ctx.geography.site_areas.items()):
        key = f"area{i}"
        boundary_fields[key] = pretty_layer(layer)
        w = where.reindex(located.index)
        pr[key] = _label(w["name"], w["code"]).replace("", "none").to_numpy()
    pr["recorded_sub_icb"] = esc(located["sub_icb_code"]).to_numpy()
    status = located["status"] if "status" in located else pd.Series("", index=located.index)
    pr["status"] = esc(status.fillna("").replace("", "not recorded")).to_numpy()
    pr["findings"] = ["<br>".join(notes.get(c, [])) or "none" for c in located.index]
    pr["colour"] = assign.map(colours).fillna(NO_PCN_COLOUR).to_numpy()
    pr["radius"] = practice_radius(sizes_p, largest)
    pr["sort"] = sizes_p.to_numpy()
    pts = gpd.GeoDataFrame(pr, geometry=located.geometry.to_numpy(), crs=BNG)
    pts = pts.sort_values(["sort", "code"], ascending=[False, True]).drop(columns="sort")
    return pts, boundary_fields, largest


def _study_extent(report, located) -> tuple[np.ndarray, dict[str, gpd.GeoDataFrame]]:
    """Where the study is (its boundary drawn in by 50 m, and every located practice),
    and the features of each boundary layer worth drawing there."""
    study = report.study
    ctx = report.partition
    boundary = ctx.territories.boundary
    inner = shapely.buffer(boundary, -50.0)
    if inner.is_empty:
        inner = boundary
    anchors = np.array([inner, shapely.multipoints(located.geometry.to_numpy())], dtype=object)

    boundaries: dict[str, gpd.GeoDataFrame] = {}
    for layer, frame in study.boundaries.items():
        near = _features_in_study(frame[present(frame.geometry)], boundary, located.geometry)
        boundaries[layer] = gpd.GeoDataFrame(
            {
                "tip": (
                    "<b>" + _label(near["name"], near["code"]) + "</b><br>" + pretty_layer(layer)
                ).to_numpy()
            },
            geometry=near.geometry.to_numpy(),
            crs=BNG,
            index=pd.RangeIndex(len(near)).astype(str),
        )
    return anchors, boundaries


def _community_layers(report, anchors: np.ndarray) -> dict[str, tuple[str, gpd.GeoDataFrame]]:
    """Each community layer's features within 5 km of the study (sites: only those the
    alignment counts), with escaped tooltips."""
    study = report.study
    community: dict[str, tuple[str, gpd.GeoDataFrame]] = {}
    # the bounds of the anchors' union, without the union (nationally ~1 s)
    extent = shapely.box(*_total_bounds(anchors))
    extent = shapely.buffer(extent, 5_000)
    for name, layer in study.community.items():
        data = layer.data[present(layer.data.geometry)]
        if layer.kind == "sites" and name in report.alignment.layers:
            # only the sites the alignment counts: those of the study area (a national
            # pharmacy file is not drawn across England)
            counted = set(report.alignment.layers[name].sites["code"])
            data = data[data["code"].isin(counted).to_numpy()]
        hit = np.unique(data.sindex.query(extent, predicate="intersects"))
        data = data.iloc[hit]
        tip = "<b>" + _label(data.get("name", data["code"]), data["code"]) + "</b>"
        for column in ("postcode", "pcn_code", "status"):
            if column in data:
                value = esc(data[column])
                tip = tip.where(value == "", tip + "<br>" + column.replace("_", " ") + ": " + value)
        tip = tip + "<br>" + pretty_layer(name) + f" ({html_text(layer.kind)})"
        community[name] = (
            layer.kind,
            gpd.GeoDataFrame(
                {"tip": tip.to_numpy()},
                geometry=data.geometry.to_numpy(),
                crs=BNG,
                index=pd.RangeIndex(len(data)).astype(str),
            ),
        )
    return community


def _finding_layer(report) -> gpd.GeoDataFrame:
    """The findings with a place on the map, one row per part, typed point / line /
    polygon for their style."""
    spatial = [f for f in report.findings if f.geometry is not None and not f.geometry.is_empty]
    raw = gpd.GeoDataFrame(
        {
            "severity": [f.severity.value for f in spatial],
            "kind": [f.kind for f in spatial],
            "tip": [
                f"<b>{f.severity.value.upper()}: {html_text(f.check)} / "
                f"{html_text(f.kind.replace('_', ' '))}</b><br>{html_text(f.message)}"
                for f in spatial
            ],
        },
        geometry=[f.geometry for f in spatial],
        crs=BNG,
    )
    parts = raw.explode(index_parts=False, ignore_index=True)
    parts = parts[drawable(parts.geometry)]
    parts["gtype"] = np.select(
        [
            np.isin(shapely.get_type_id(parts.geometry.to_numpy()), (0, 4)),
            np.isin(shapely.get_type_id(parts.geometry.to_numpy()), (1, 2, 5)),
        ],
        ["point", "line"],
        "polygon",
    )
    parts.index = pd.RangeIndex(len(parts)).astype(str)
    return parts
