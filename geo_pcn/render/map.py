"""The map of a PCN configuration: one self-contained, offline HTML file.

:func:`build_map` returns a :class:`folium.Map` (it shows itself in Jupyter);
:func:`write_map` writes it as ``map.html``, a single file with Leaflet and every script and
stylesheet embedded, which opens on a locked-down laptop with no network
(:func:`geo_pcn.render.png.write_png` draws the same map with matplotlib for board papers).

Layers (each switchable in the layer control): PCN footprints coloured so that touching
PCNs never share a colour, PCNs with ERROR findings outlined, practices as circles sized by
list size, every boundary layer of the study, community-service layers, and the findings
that have a place (detached practices and the line to their main group, exclaves,
practices in no PCN, holes). Every string from an input file is HTML-escaped.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> m = build_map(demo())
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from geo_pcn._escape import html_text, js_string
from geo_pcn.errors import InputError
from geo_pcn.pipeline import validate
from geo_pcn.render._assets import inline_assets, map_tools_script
from geo_pcn.render._files import write_atomic
from geo_pcn.render._map_data import (
    BAND_COLOURS,
    BAND_TEXT,
    COMMUNITY_STYLES,
    NO_PCN_COLOUR,
    PALETTE,
    SEVERITY_COLOURS,
    MapData,
    boundary_styles,
    build_map_data,
    colour_graph,
    example_list_sizes,
    footprint_adjacency,
    label_points,
    practice_radius,
    pretty_layer,
    to_display,
)
from geo_pcn.settings import BNG

__all__ = [
    "build_map",
    "write_map",
    "pcn_colours",
    "PALETTE",
    "SEVERITY_COLOURS",
]

#: Layer names as they appear in the layer control (and in tests).
LAYER_FOOTPRINTS = "PCN footprints"
LAYER_BEFORE = "PCN footprints before the scenario"
LAYER_LABELS = "PCN names"
LAYER_ERRORS = "PCNs with errors (outlined)"
LAYER_PRACTICES = "Practices (circle area = list size)"
LAYER_FINDINGS = "Findings"
LAYER_CHANGES = "What changed (scenario)"
#: The change map's words for a scenario; ``changes["words"]`` overrides any of them (the
#: diff of two extracts: "After", "PCN footprints before", ...).
CHANGE_WORDS = {
    "title": "After the scenario",
    "before_layer": LAYER_BEFORE,
    "changes_layer": LAYER_CHANGES,
    "after_option": "after the scenario",
}


def _worded(changes) -> bool:
    return bool(changes) and "after_option" in (changes.get("words") or {})


def _word(changes, key: str) -> str:
    """One of :data:`CHANGE_WORDS`, as ``changes["words"]`` overrides it."""
    return ((changes or {}).get("words") or {}).get(key, CHANGE_WORDS[key])


#: The change map's symbols, all in one hue (Paul Tol's purple, unlike every other line on
#: the map): changed PCNs before (dashed) and after (solid), rings round moved practices.
CHANGE_STYLES = {
    "before": {"color": "#AA3377", "weight": 2.5, "dashArray": "7 5", "fill": False},
    "after": {"color": "#AA3377", "weight": 4.5, "fill": False},
    "moved": {"color": "#AA3377", "weight": 3.5, "fill": False, "radius": 13},
    "line": {
        "color": "#AA3377",
        "weight": 3,
        "opacity": 0.95,
        "dashArray": "1 6",
        "lineCap": "round",
    },
}
# on very large maps these layers start hidden (tick them in the layer control)
_SITE_LAYER_HIDDEN_ABOVE = 3_000
_PRACTICES_HIDDEN_ABOVE = 3_000


def pcn_colours(report, *, previous: dict[str, str] | None = None) -> dict[str, str]:
    """Fill colour of each PCN on the maps: touching PCNs never share one.

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.
    previous
        Colours to keep where they still keep neighbours apart (the editor's widget
        passes the colours before a move, so that a move recolours as little as it can).

    Returns
    -------
    dict
        ``pcn_code -> "#RRGGBB"`` from :data:`PALETTE` (colour-blind safe, Paul Tol's
        "light" scheme), extended only when a PCN has every palette colour around it.

    Examples
    --------
    >>> from geo_pcn import validate
    >>> from geo_pcn.datasets import demo
    >>> colours = pcn_colours(validate(demo()))
    >>> set(colours.values()) <= set(PALETTE)
    True
    """
    ctx = report.partition
    adjacency = footprint_adjacency(
        ctx.footprints.pcns,
        tolerance_m=float(report.study.rules.adjacency_tolerance_m),
        graph=ctx.graph,
        assignments=report.configuration.assignments,
    )
    return colour_graph(adjacency, previous=previous)


# -- the HTML map ---------------------------------------------------------------------------
# -- deterministic element ids --------------------------------------------------------------
_ID_LOCK = threading.RLock()
_ID_STATE = threading.local()


@contextmanager
def deterministic_ids() -> Iterator[None]:
    """Number folium's elements 1, 2, 3... while building and rendering a map, instead of
    random ids, so that the same inputs give the same page byte for byte. Nested uses share
    one counter; another thread waits."""
    from branca.element import Element as _Element

    with _ID_LOCK:
        if getattr(_ID_STATE, "active", False):
            yield
            return
        counter = itertools.count(1)
        original = _Element.__dict__["_generate_id"]
        _Element._generate_id = classmethod(lambda cls: f"{next(counter):06d}")
        _ID_STATE.active = True
        try:
            yield
        finally:
            _Element._generate_id = original
            _ID_STATE.active = False


def build_map(
    study,
    report=None,
    *,
    tiles: str | None = None,
    changes: dict[str, gpd.GeoDataFrame] | None = None,
) -> folium.Map:
    """An interactive map of a study's configuration and its findings.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    report
        Its :class:`~geo_pcn.report.Report`; validated here when ``None``. Pass the
        report of a scenario to map that configuration.
    tiles
        Basemap: a name folium knows (``"OpenStreetMap"``, ``"CartoDB positron"``) or a
        URL template with ``{z}/{x}/{y}``. Off by default, so the map needs no network.
    changes
        For the change map of a scenario (:func:`geo_pcn.render.change_map.build_change_map`):
        ``before`` and ``after`` (changed PCNs' footprints) and ``moved`` (practice
        points), BNG frames with an escaped ``tip``; drawn as the "What changed" layer.

    Returns
    -------
    folium.Map
        Self-contained: Leaflet, jQuery and every style are embedded in the page. Its
        element ids are numbered, not random (:func:`deterministic_ids`).

    Raises
    ------
    geo_pcn.errors.InputError
        ``tiles`` is not a basemap name or URL template folium understands.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> html_text = build_map(demo()).get_root().render()
    >>> "cdn.jsdelivr" in html_text
    False
    """
    if report is None:
        report = validate(study)
    with deterministic_ids():
        return _build_map(report, tiles=tiles, changes=changes)


def _build_map(report, *, tiles: str | None, changes) -> folium.Map:
    data = build_map_data(report)
    if changes is not None:
        data.title = f"{_word(changes, 'title')}: {data.title}"
    (west, south), (east, north) = _to_wgs84(data.bounds)
    fmap = folium.Map(
        location=[round((south + north) / 2, 5), round((west + east) / 2, 5)],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    # no CDN: the default Leaflet/jQuery/bootstrap/font-awesome links are replaced by the
    # assets inlined from the installed packages
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    root.title = f"{data.title} - PCN map"  # escaped: branca writes <title> as given
    root.header.add_child(
        Element(inline_assets() + map_tools_script() + _PAGE_CSS), name="geo_pcn_assets"
    )
    if tiles:
        _basemap(tiles).add_to(fmap)

    tolerance = data.tolerance
    footprints = to_display(data.footprints, tolerance=tolerance)
    before_layer = None
    if changes is not None and changes.get("before_footprints") is not None:
        before = to_display(changes["before_footprints"], tolerance=tolerance)
        before_layer = _footprint_layers(
            before, name=_word(changes, "before_layer"), css="gp-footprint-before", show=False
        )
        before_layer.add_to(fmap)
    footprint_layer = _footprint_layers(footprints)
    footprint_layer.add_to(fmap)
    labels = folium.FeatureGroup(name=LAYER_LABELS, show=True)
    labels.add_to(fmap)
    styles = boundary_styles(data.boundaries)
    for layer, frame in data.boundaries.items():
        colour, weight, dash = styles[layer]
        _outline_layer(
            to_display(frame, tolerance=tolerance),
            name=f"Boundary: {pretty_layer(layer)}",
            colour=colour,
            weight=weight,
            dash=dash,
        ).add_to(fmap)
    for i, (layer, (kind, frame)) in enumerate(data.community.items()):
        colour = COMMUNITY_STYLES[i % len(COMMUNITY_STYLES)]
        name = f"Community: {pretty_layer(layer)} ({kind})"
        if kind == "sites":
            _sites_layer(to_display(frame), name=name, colour=colour).add_to(fmap)
        else:
            _outline_layer(
                to_display(frame, tolerance=tolerance),
                name=name,
                colour=colour,
                weight=2.0,
                dash="2 5",
            ).add_to(fmap)
    errored = footprints[footprints["has_error"]]
    if len(errored):
        _error_layer(errored).add_to(fmap)
    if len(data.findings):
        _findings_layer(to_display(data.findings, coverage=False)).add_to(fmap)
    _practices_layer(to_display(data.practices), data).add_to(fmap)
    if changes is not None:  # before the layer control, which names it
        _changes_layer(changes, tolerance=tolerance).add_to(fmap)

    folium.LayerControl(position="topright", collapsed=False).add_to(fmap)
    _Tools(
        _tools_config(report, data, changes),
        labels=labels,
        footprints=[footprint_layer, *([before_layer] if before_layer is not None else [])],
    ).add_to(fmap)
    legend = _legend_html(data, report, changes=changes)
    _HtmlControl(legend, position="topright", css_class="gp-legend").add_to(fmap)
    root.html.add_child(Element(_title_html(data)), name="geo_pcn_title")
    # the legend and layer control sit in a column on the right; keep the study clear of them
    _FitBounds([[south, west], [north, east]], top_left=(340, 96), bottom_right=(330, 16)).add_to(
        fmap
    )
    return fmap


def write_map(
    report,
    path: str | Path,
    *,
    tiles: str | None = None,
    changes: dict[str, gpd.GeoDataFrame] | None = None,
) -> Path:
    """Write the map of a report as one self-contained HTML file.

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.
    path
        The file to write (``map.html``); written whole or not at all.
    tiles
        Optional basemap (see :func:`build_map`); off by default.
    changes
        The "What changed" layer of a change map (see :func:`build_map`).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with deterministic_ids():
        fmap = build_map(report.study, report, tiles=tiles, changes=changes)
        text = fmap.get_root().render()
    write_atomic(path, text.encode("utf-8"))
    return path


# -- layers ---------------------------------------------------------------------------------
def _features(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """GeoJSON FeatureCollection of ``columns`` with the index as feature ids."""
    out = gpd.GeoDataFrame(frame[columns], geometry=frame.geometry, crs=frame.crs)
    out.index = out.index.astype(str)
    return out.to_geo_dict(drop_id=False)


def _footprint_layers(
    footprints: gpd.GeoDataFrame,
    *,
    name: str = LAYER_FOOTPRINTS,
    css: str = "gp-footprint",
    show: bool = True,
) -> folium.GeoJson:
    """PCN footprints in their neighbour-distinct colours; each path also carries its band
    status as a class (``gp-band-below``...), which the "colour by band status" view fills
    by a stylesheet rule (so hover and reset keep working)."""
    colours = footprints["colour"].to_dict()
    bands = {code: _band_class(band) for code, band in footprints["band"].items()}
    return folium.GeoJson(
        _features(footprints, ["tip", "details"]),
        name=name,
        show=show,
        style_function=lambda f: {
            "fillColor": colours.get(f["id"], NO_PCN_COLOUR),
            "color": "#FFFFFF",
            "weight": 1.5,
            "opacity": 1.0,
            "fillOpacity": 0.7,
            "className": f"{css} gp-band-{bands.get(f['id'], 'none')}",
        },
        highlight_function=lambda f: {"weight": 3, "color": "#222222", "fillOpacity": 0.85},
        # no PCN at all (every practice unassigned): an empty layer, nothing to point at
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip")
        if len(footprints)
        else None,
        popup=folium.GeoJsonPopup(["details"], labels=False, class_name="gp-pop", max_width=420)
        if len(footprints)
        else None,
    )


def _error_layer(errored: gpd.GeoDataFrame) -> folium.GeoJson:
    frame = errored.assign(tip="<b>" + errored["label"] + "</b><br>" + errored["errors"])
    return folium.GeoJson(
        _features(frame, ["tip"]),
        name=LAYER_ERRORS,
        style_function=lambda f: {
            "color": SEVERITY_COLOURS["error"],
            "weight": 4,
            "opacity": 0.95,
            "fill": False,
            "className": "gp-error",
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
    )


def _outline_layer(
    frame: gpd.GeoDataFrame, *, name: str, colour: str, weight: float, dash: str | None
) -> folium.GeoJson:
    style = {
        "color": colour,
        "weight": weight,
        "opacity": 0.9,
        "fill": False,
        "className": "gp-outline",
    }
    if dash:
        style["dashArray"] = dash
    return folium.GeoJson(
        _features(frame, ["tip"]),
        name=name,
        style_function=lambda f: style,
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
    )


def _sites_layer(frame: gpd.GeoDataFrame, *, name: str, colour: str) -> folium.GeoJson:
    return folium.GeoJson(
        _features(frame, ["tip"]),
        name=name,
        show=len(frame) <= _SITE_LAYER_HIDDEN_ABOVE,
        marker=folium.CircleMarker(
            radius=3.5, color=colour, weight=2, fill=True, fill_color="#FFFFFF", fill_opacity=1
        ),
        style_function=lambda f: {"className": "gp-site"},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
    )


#: findings that are small areas no PCN covers: filled, grey for holes, paler for the areas
#: of the study's region that practices outside the study serve
AREA_FILLS = {"hole": "#666666", "area_served_from_outside": "#A8A8A8"}


#: The dash pattern of each kind of finding (its colour is its severity), so that no two
#: kinds of one geometry look alike on the map or in the legend; a kind not named here gets
#: one of :data:`_SPARE_DASHES` (by name, so the same map every run).
FINDING_DASHES: dict[str, str | None] = {
    # lines and outlines
    "detached_group": "6 5",
    "exclave": "2 4",
    "footprint_in_pieces": "8 2 2 2",
    "split_across_areas": "12 4 2 4",
    "hole": "9 3",  # filled dark grey
    "area_served_from_outside": "3 5",  # filled pale grey
    # rings round a practice or a site
    "practice_in_no_pcn": None,
    "recorded_code_mismatch": "5 3",
    "outside_layer": "1 3",
    "practice_not_active": "8 3 2 3",
    "site_outside_pcn": "2 2",
}
_SPARE_DASHES = ("10 3", "3 3 9 3", "1 6", "14 6", "4 2 1 2")


def _finding_dash(kind: str) -> str | None:
    if kind in FINDING_DASHES:
        return FINDING_DASHES[kind]
    digest = sum(ord(c) for c in kind)  # stable across runs (hash() is salted)
    return _SPARE_DASHES[digest % len(_SPARE_DASHES)]


def _finding_style(severity: str, gtype: str, kind: str) -> dict[str, Any]:
    colour = SEVERITY_COLOURS.get(severity, "#000000")
    dash = _finding_dash(kind)
    if gtype == "point":
        style = {"color": colour, "weight": 3, "fill": False, "radius": 14, "opacity": 1}
    elif gtype == "line":
        style = {"color": colour, "weight": 3, "opacity": 1}
    elif kind in AREA_FILLS:
        style = {
            "color": colour,
            "weight": 2,
            "fillColor": AREA_FILLS[kind],
            "fillOpacity": 0.45,
        }
    else:
        style = {"color": colour, "weight": 3, "fill": False, "opacity": 1}
    if dash:
        style["dashArray"] = dash
    return style


def _findings_layer(findings: gpd.GeoDataFrame) -> folium.GeoJson:
    styles = {
        i: _finding_style(s, g, k)
        for i, s, g, k in zip(
            findings.index, findings["severity"], findings["gtype"], findings["kind"], strict=True
        )
    }
    return folium.GeoJson(
        _features(findings, ["tip"]),
        name=LAYER_FINDINGS,
        style_function=lambda f: {**styles[f["id"]], "className": "gp-finding"},
        marker=folium.CircleMarker(radius=14, fill=False),
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
    )


def _practices_layer(practices: gpd.GeoDataFrame, data: MapData) -> folium.GeoJson:
    styles = {
        code: {"fillColor": colour, "radius": float(radius), "className": "gp-practice"}
        for code, colour, radius in zip(
            practices.index, practices["colour"], practices["radius"], strict=True
        )
    }
    practices = practices.assign(tip="<b>" + practices["name"] + "</b> " + practices["code"])
    fields = [
        "code",
        "name",
        "pcn",
        "list_size",
        "status",
        *data.boundary_fields,
        "recorded_sub_icb",
    ]
    aliases = [
        "Practice",
        "Name",
        "PCN",
        "List size",
        "Status",
        *data.boundary_fields.values(),
        "Recorded sub-ICB",
    ]
    return folium.GeoJson(
        _features(practices, [*fields, "findings", "tip"]),
        name=LAYER_PRACTICES,
        show=len(practices) <= _PRACTICES_HIDDEN_ABOVE,
        marker=folium.CircleMarker(
            radius=5, color="#222222", weight=1.2, fill=True, fill_opacity=1.0, opacity=1.0
        ),
        style_function=lambda f: styles[f["id"]],
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
        popup=folium.GeoJsonPopup(
            [*fields, "findings"],
            aliases=[*aliases, "Findings"],
            localize=False,
            class_name="gp-pop",
            max_width=420,
        ),
    )


def _changes_layer(
    changes: dict[str, gpd.GeoDataFrame], *, tolerance: float
) -> folium.FeatureGroup:
    """The change map's "What changed" layer: changed PCNs before (dashed) and after
    (thick), rings round the practices that moved. Tooltips come from the features'
    escaped ``tip`` property (never pasted into a script)."""
    group = folium.FeatureGroup(name=_word(changes, "changes_layer"), show=True)
    for label in ("before", "after"):
        frame = changes.get(label)
        if frame is None or not len(frame):
            continue
        style = {**CHANGE_STYLES[label], "className": f"gp-changed-{label}"}
        folium.GeoJson(
            _features(to_display(frame, tolerance=tolerance, coverage=False), ["tip"]),
            name=f"Changed PCNs {label}",
            control=False,
            style_function=lambda f, style=style: style,
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
        ).add_to(group)
    lines = changes.get("lines")
    if lines is not None and len(lines):
        line = CHANGE_STYLES["line"]
        folium.GeoJson(
            _features(to_display(lines, coverage=False), ["tip"]),
            name="Moves",
            control=False,
            style_function=lambda f: {**line, "className": "gp-move-line"},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
        ).add_to(group)
    moved = changes.get("moved")
    if moved is not None and len(moved):
        ring = CHANGE_STYLES["moved"]
        folium.GeoJson(
            _features(to_display(moved), ["tip"]),
            name="Moved practices",
            control=False,
            marker=folium.CircleMarker(radius=ring["radius"], fill=False),
            style_function=lambda f: {
                "color": ring["color"],
                "weight": ring["weight"],
                "fill": False,
                "radius": ring["radius"],
                "className": "gp-moved",
            },
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False, class_name="gp-tip"),
        ).add_to(group)
    return group


def _basemap(tiles: str) -> folium.TileLayer:
    is_url = "{z}" in tiles
    try:
        return folium.TileLayer(
            tiles,
            name="Basemap",
            attr=f"Basemap: {html_text(urlparse(tiles).netloc or tiles)}" if is_url else None,
            overlay=False,
            control=True,
        )
    except (ValueError, KeyError):
        raise InputError(
            f"unknown basemap {tiles!r}: use a name such as OpenStreetMap or "
            '"CartoDB positron", or a URL template with {z}/{x}/{y}'
        ) from None


def _band_class(band: str) -> str:
    return band if band in BAND_COLOURS else "none"


# -- the map tools: labels, panel, search, band view ----------------------------------------
def _js_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an inline ``<script>`` (no ``<``, ``>``,
    ``&``, line separators), deterministic (sorted keys, rounded numbers upstream)."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _boxes_wgs84(bounds: np.ndarray) -> np.ndarray:
    """BNG boxes ``(n, 4)`` -> WGS84 ``[south, west, north, east]`` rows, rounded."""
    if not len(bounds):
        return np.empty((0, 4))
    boxes = gpd.GeoSeries(shapely.box(*np.asarray(bounds, dtype=float).T), crs=BNG).to_crs(4326)
    b = np.round(boxes.bounds.to_numpy(), 5)
    return b[:, [1, 0, 3, 2]]


def _points_wgs84(points: np.ndarray) -> np.ndarray:
    """BNG points -> ``[lat, lng]`` rows, rounded (missing -> NaN)."""
    points = np.asarray(points, dtype=object)
    if not len(points):
        return np.empty((0, 2))
    ok = ~shapely.is_missing(points)
    out = np.full((len(points), 2), np.nan)
    if ok.any():
        wgs = gpd.GeoSeries(points[ok], crs=BNG).to_crs(4326)
        out[ok] = np.round(np.column_stack([wgs.y, wgs.x]), 5)
    return out


def _where(bbox, point, *, max_zoom: int = 15) -> dict[str, Any] | None:
    if point is None or not np.isfinite(point).all():
        return None
    out: dict[str, Any] = {"pt": [float(point[0]), float(point[1])], "maxZoom": max_zoom}
    if bbox is not None and np.isfinite(bbox).all():
        out["bbox"] = [float(v) for v in bbox]
    return out


#: the label font: about this many pixels per character, plus a margin
_LABEL_PX_PER_CHAR, _LABEL_PX_PAD = 6.6, 10.0


def _label_zooms(geoms: np.ndarray, texts: list[str], lats: np.ndarray) -> np.ndarray:
    """The zoom from which each footprint's name fits inside it: the label's width in
    pixels against the footprint's width (the narrower of its box and a square of its
    area), in steps of a quarter zoom level."""
    geoms = np.asarray(geoms, dtype=object)
    bounds = shapely.bounds(geoms)
    width = np.minimum(bounds[:, 2] - bounds[:, 0], 1.3 * np.sqrt(shapely.area(geoms)))
    label_px = _LABEL_PX_PAD + _LABEL_PX_PER_CHAR * np.array([len(t) for t in texts], dtype=float)
    metres_per_px_z0 = 156_543.03392 * np.cos(np.radians(np.nan_to_num(lats, nan=52.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        zoom = np.log2(label_px * metres_per_px_z0 / np.maximum(width, 1.0))
    return np.clip(np.ceil(np.nan_to_num(zoom, nan=18.0) * 4) / 4, 0, 19)


def _label_items(footprints: gpd.GeoDataFrame) -> list[list]:
    fp = footprints[footprints.geometry.notna() & ~footprints.geometry.is_empty]
    if not len(fp):
        return []
    geoms = fp.geometry.to_numpy()
    points = _points_wgs84(label_points(geoms))
    texts = [str(t) for t in fp["name_text"]]
    zooms = _label_zooms(geoms, texts, points[:, 0])
    order = np.lexsort((fp.index.to_numpy().astype(str), -shapely.area(geoms)))
    return [  # biggest first: they keep their label when two would overlap
        [float(points[i, 0]), float(points[i, 1]), float(zooms[i]), html_text(texts[i])]
        for i in order
        if np.isfinite(points[i]).all()
    ]


def _finding_title(f) -> str:
    return html_text(f"{f.severity.value.upper()}: {f.check} / {f.kind.replace('_', ' ')}")


def _findings_list(findings, places: dict[str, Any], title: str, cls: str, note: str = "") -> dict:
    """A panel list of findings grouped by check and kind (in the order they come), each
    with where it is on the map: its own geometry, else its PCN, else its practices."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    geoms = [f.geometry for f in findings]
    has = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    boxes = np.full((len(findings), 4), np.nan)
    points = np.full((len(findings), 2), np.nan)
    if has.any():
        own = np.asarray([g for g, h in zip(geoms, has, strict=True) if h], dtype=object)
        boxes[has] = _boxes_wgs84(shapely.bounds(own))
        points[has] = _points_wgs84(label_points(own))
    for i, f in enumerate(findings):
        where = _where(boxes[i], points[i]) if has[i] else None
        if where is None and f.pcn_code in places["pcn"]:
            where = places["pcn"][f.pcn_code]
        if where is None:
            where = next(
                (places["practice"][c] for c in f.practice_codes if c in places["practice"]),
                None,
            )
        key = (f.check, f.kind)
        group = groups.setdefault(
            key, {"title": html_text(f"{f.check} / {f.kind.replace('_', ' ')}"), "items": []}
        )
        group["items"].append(
            {
                "severity": f.severity.value,
                "text": html_text(f.message),
                "title": _finding_title(f),
                "where": where,
            }
        )
    for group in groups.values():
        severities = {it["severity"] for it in group["items"]}
        group["severity"] = next((s for s in ("error", "warning", "info") if s in severities), "")
    order = {"error": 0, "warning": 1, "info": 2, "": 3}
    ordered = sorted(groups.values(), key=lambda g: order[g["severity"]])
    return {
        "title": f"{title} ({len(findings):,})",
        "cls": cls,
        "note": note,
        "groups": ordered,
    }


def _places(report, data: MapData) -> dict[str, dict[str, Any]]:
    """Where each PCN (its footprint's box and label point) and each located practice is,
    for the panel and the search."""
    fp = data.footprints[data.footprints.geometry.notna() & ~data.footprints.geometry.is_empty]
    boxes = _boxes_wgs84(shapely.bounds(fp.geometry.to_numpy()))
    points = _points_wgs84(label_points(fp.geometry.to_numpy()))
    pcn = {
        code: w
        for code, b, p in zip(fp.index, boxes, points, strict=True)
        if (w := _where(b, p, max_zoom=14)) is not None
    }
    pr = data.practices
    pts = _points_wgs84(pr.geometry.to_numpy())
    practice = {
        code: w for code, p in zip(pr.index, pts, strict=True) if (w := _where(None, p)) is not None
    }
    return {"pcn": pcn, "practice": practice}


def _tools_config(report, data: MapData, changes) -> dict[str, Any]:
    places = _places(report, data)
    config = report.configuration
    search: list[dict[str, Any]] = []
    names = report.pcns.set_index("pcn_code")["pcn_name"]
    for code, where in places["pcn"].items():
        name = names.get(code, "")
        search.append(
            {
                "type": "pcn",
                "code": html_text(code),
                "name": html_text(name) if isinstance(name, str) else "",
                **where,
            }
        )
    practices = report.study.practices
    # plain dicts: a Series lookup per practice costs ~100 us nationally
    assign = dict(zip(config.assignments.index, config.assignments, strict=True))
    practice_names = dict(zip(practices.index, practices["practice_name"], strict=True))
    for code, where in places["practice"].items():
        pcn = assign.get(code, "")
        sub = f"practice in {config.name_of(pcn)} ({pcn})" if pcn else "practice in no PCN"
        name = practice_names.get(code, "")
        search.append(
            {
                "type": "practice",
                "code": html_text(code),
                "name": html_text(name) if isinstance(name, str) else "",
                "sub": html_text(sub),
                **where,
            }
        )
    labels = [{"items": _label_items(data.footprints)}]
    if changes is not None and changes.get("before_footprints") is not None:
        labels.append({"items": _label_items(changes["before_footprints"])})
    lists = []
    if changes is not None and changes.get("panel"):
        lists.extend(changes["panel"](places))
    lists.append(_findings_list(report.findings, places, "Findings", "gp-findings"))
    present = [b for b in BAND_COLOURS if b in set(data.footprints["band"])]
    return {
        "labels": labels,
        "search": search,
        "lists": lists,
        "bands": [[b, BAND_COLOURS[b], BAND_TEXT[b]] for b in present],
        **({"afterLabel": changes["words"]["after_option"]} if _worded(changes) else {}),
    }


class _Tools(MacroElement):
    """Runs ``geoPcnTools`` (:func:`geo_pcn.render._assets.map_tools_script`) on the map
    with its data (JSON safe in a script) and the layers it works on."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        geoPcnTools({{ this._parent.get_name() }}, {{ this.config }}, {
            labels: {{ this.labels }},
            footprints: [{{ this.footprints|join(", ") }}]
        });
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, Any], *, labels, footprints) -> None:
        super().__init__()
        self._name = "Tools"
        self.config = _js_json(config)
        self.labels = labels.get_name()
        self.footprints = [layer.get_name() for layer in footprints]


# -- legend, title, page style ------------------------------------------------------------
class _HtmlControl(MacroElement):
    """A Leaflet control holding fixed HTML (Leaflet stacks it with the other controls
    in its corner, so nothing overlaps)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html_js = js_string(content)  # a JavaScript string, escaped by one function
        self.position = position
        self.css_class = css_class


class _FitBounds(MacroElement):
    """Fit the view to the study at once (folium's ``fit_bounds`` animates the zoom from
    the initial view, so for a moment nothing is where it will be), or, when the map is
    laid out with no size (drawn in a hidden notebook tab, a ``display:none`` frame), as
    soon as its container gets one: fitting a 0x0 map gives a NaN view and no shapes.
    Later size changes keep the view's centre (``invalidateSize``). The padding shrinks
    on a small map so that the study never has less than half of it."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, bounds, topLeft, bottomRight) {
            var box = map.getContainer(), fitted = false;
            function sized() { return box.clientWidth > 0 && box.clientHeight > 0; }
            function pad(p, w, h) {
                return [Math.min(p[0], w / 4), Math.min(p[1], h / 4)];
            }
            function fit() {
                var w = box.clientWidth, h = box.clientHeight;
                map.invalidateSize({animate: false});
                map.fitBounds(bounds, {
                    paddingTopLeft: pad(topLeft, w, h),
                    paddingBottomRight: pad(bottomRight, w, h),
                    animate: false
                });
                fitted = true;
            }
            if (sized()) fit();
            if (window.ResizeObserver) {
                new ResizeObserver(function () {
                    if (!sized()) return;
                    if (fitted) map.invalidateSize({animate: false}); else fit();
                }).observe(box);
            }
        })({{ this._parent.get_name() }}, {{ this.bounds|tojson }},
           {{ this.top_left|tojson }}, {{ this.bottom_right|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds, *, top_left, bottom_right) -> None:
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds
        self.top_left = list(top_left)
        self.bottom_right = list(bottom_right)


def _swatch_fill(
    colour: str, *, outline: str = "#FFFFFF", width: float = 1, dash: str | None = None
) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="22" height="14"><rect x="1" y="1" width="20" height="12" fill="{colour}" '
        f'fill-opacity="0.8" stroke="{outline}" stroke-width="{width}"{dash_attr}/></svg>'
    )


def _swatch_line(colour: str, weight: float, dash: str | None) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="22" height="14"><line x1="1" y1="7" x2="21" y2="7" stroke="{colour}" '
        f'stroke-width="{weight}"{dash_attr}/></svg>'
    )


def _swatch_circle(
    fill: str,
    radius: float,
    stroke: str = "#222222",
    width: float = 1.2,
    dash: str | None = None,
) -> str:
    size = int(2 * radius + 4)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="{max(size, 22)}" height="{size}"><circle cx="{max(size, 22) / 2}" '
        f'cy="{size / 2}" r="{radius}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash_attr}/></svg>'
    )


def _row(symbol: str, text: str) -> str:
    return f'<div class="gp-row"><span class="gp-sym">{symbol}</span><span>{text}</span></div>'


_KIND_LABELS = {
    "detached_group": "Detached practices: their home pieces and the line to the main group",
    "exclave": "Exclave: a piece of a footprint cut off from the rest",
    "footprint_in_pieces": "Footprint drawn in pieces: the pieces apart from its main one",
    "hole": "Hole: small areas in no PCN footprint",
    "area_served_from_outside": "Served from outside: areas of the region whose residents "
    "mostly use practices outside the study",
    "practice_in_no_pcn": "Practice in no PCN",
    "recorded_code_mismatch": "Practice site not in its recorded sub-ICB",
    "outside_layer": "Practice site outside the boundary layer",
    "split_across_areas": "PCN split across community areas",
    "site_outside_pcn": "Community site outside the PCN it declares",
}


def _legend_html(data: MapData, report, *, changes=None) -> str:
    """The legend (every input-derived string in ``data`` is already escaped)."""
    fp = data.footprints
    used = list(dict.fromkeys(fp["colour"]))
    swatches = "".join(_swatch_fill(c) for c in used[:8])
    rows = [
        '<div class="gp-h">PCN footprints</div>',
        _row(swatches, ""),
        '<div class="gp-note">Colours only tell neighbours apart: touching PCNs never share '
        "one. Hover for the PCN, click for its findings.</div>",
    ]
    if fp["has_error"].any():
        rows.append(
            _row(
                _swatch_fill("#FFFFFF", outline=SEVERITY_COLOURS["error"], width=3),
                "PCN with an ERROR finding (size band, split...)",
            )
        )
    big = data.largest_list
    examples = example_list_sizes(big)
    circles = "".join(
        _swatch_circle("#BBBBBB", float(practice_radius([s], big)[0])) for s in examples
    )
    rows += [
        '<div class="gp-h">Practices</div>',
        _row(circles, " / ".join(f"{s:,}" for s in examples) + " patients"),
        '<div class="gp-note">Circle area = list size; colour = its PCN; '
        f'<span class="gp-key" style="background:{NO_PCN_COLOUR}"></span> grey = in no PCN. '
        "Click a practice for details.</div>",
    ]
    if len(data.practices) > _PRACTICES_HIDDEN_ABOVE:
        rows.append(
            f'<div class="gp-note"><b>{len(data.practices):,} practices: the layer starts '
            "hidden at this scale; tick it in the layer control.</b></div>"
        )
    if data.boundaries:
        rows.append('<div class="gp-h">Boundaries</div>')
        for layer, (colour, weight, dash) in boundary_styles(data.boundaries).items():
            rows.append(_row(_swatch_line(colour, weight, dash), pretty_layer(layer)))
    if data.community:
        rows.append('<div class="gp-h">Community services</div>')
        for i, (layer, (kind, _frame)) in enumerate(data.community.items()):
            colour = COMMUNITY_STYLES[i % len(COMMUNITY_STYLES)]
            symbol = (
                _swatch_circle("#FFFFFF", 3.5, stroke=colour, width=2)
                if kind == "sites"
                else _swatch_line(colour, 2, "2 5")
            )
            rows.append(_row(symbol, f"{pretty_layer(layer)} ({kind})"))
    if len(data.findings):
        rows.append('<div class="gp-h">Findings</div>')
        # one row per kind (its dash pattern), a symbol per severity it has (its colour)
        for kind, group in data.findings.groupby("kind", sort=False):
            symbols = []
            for severity, gtype in dict.fromkeys(zip(group["severity"], group["gtype"], strict=True)):
                style = _finding_style(severity, gtype, kind)
                if gtype == "point":
                    symbols.append(
                        _swatch_circle(
                            "none", 6, stroke=style["color"], width=3, dash=style.get("dashArray")
                        )
                    )
                elif kind in AREA_FILLS:
                    symbols.append(
                        _swatch_fill(
                            style["fillColor"],
                            outline=style["color"],
                            width=2,
                            dash=style.get("dashArray"),
                        )
                    )
                else:
                    symbols.append(_swatch_line(style["color"], 3, style.get("dashArray")))
            text = _KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
            rows.append(_row("".join(symbols), text))
        rows.append(
            '<div class="gp-note">Colour = severity (dark red error, orange warning, blue '
            "note); the dash pattern = the kind. Hover a symbol for the finding.</div>"
        )
    if changes is not None:
        before, after, ring = (
            CHANGE_STYLES["before"],
            CHANGE_STYLES["after"],
            CHANGE_STYLES["moved"],
        )
        rows += [
            f'<div class="gp-h">{html_text(_word(changes, "changes_layer"))}</div>',
            _row(_swatch_line(before["color"], 2.5, before["dashArray"]), "Changed PCN, before"),
            _row(_swatch_line(after["color"], 4, None), "Changed PCN, after"),
            _row(
                _swatch_circle("none", 6, stroke=ring["color"], width=3),
                f"Practice that moved ({len(changes.get('moved', ())):,}); hover for where",
            ),
            _row(
                _swatch_line(CHANGE_STYLES["line"]["color"], 3, "1 5"),
                "Its move: old PCN, the practice, new PCN",
            ),
        ]
    notes = []
    if data.n_not_located:
        notes.append(f"{data.n_not_located:,} practice(s) could not be located and are not shown.")
    notes.append(
        f"Shapes simplified for display (about {data.tolerance:.0f} m); measurements use the "
        "full geometry."
    )
    if data.synthetic:
        notes.append("<b>SYNTHETIC demo data: not real practices or patients.</b>")
    rows.append('<div class="gp-note gp-foot">' + " ".join(notes) + "</div>")
    pcn_rows = ""
    if len(fp) <= 80:
        table = report.pcns.set_index("pcn_code")["list_size"]
        items = "".join(
            f'<div class="gp-row"><span class="gp-key" style="background:{c}"></span>'
            f"<span>{label} &middot; {int(table.get(code, 0)):,}</span></div>"
            for code, label, c in zip(fp.index, fp["label"], fp["colour"], strict=True)
        )
        pcn_rows = f"<details><summary>PCNs ({len(fp)})</summary>{items}</details>"
    return (
        '<details open><summary class="gp-title">Legend</summary>'
        + "".join(rows)
        + pcn_rows
        + "</details>"
    )


def _title_html(data: MapData) -> str:
    badge = (
        '<span class="gp-synthetic">SYNTHETIC DEMO DATA &middot; not real practices or '
        "patients</span><br>"
        if data.synthetic
        else ""
    )
    colour = "#1a7f37" if data.verdict_ok else SEVERITY_COLOURS["error"]
    return (
        f'<div class="gp-titlebar">{badge}<b>{data.title}</b><br>'
        f'<span style="color:{colour}">{data.subtitle}</span></div>'
    )


_PAGE_CSS = (
    """
<style>
.leaflet-container { background: #F4F3EF; font: 12px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, Arial, sans-serif; }
.gp-titlebar { position: fixed; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: rgba(255,255,255,0.94); padding: 6px 14px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); text-align: center; max-width: 52vw;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.gp-synthetic { display: inline-block; background: #000; color: #FFD700; font-weight: bold;
  padding: 1px 8px; border-radius: 3px; margin-bottom: 2px; letter-spacing: 0.04em; }
.gp-legend { background: rgba(255,255,255,0.95); padding: 6px 10px; border-radius: 6px;
  font-size: 12px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); width: 290px; max-height: calc(100vh - 330px);
  min-height: 120px; overflow-y: auto; }
.gp-legend .gp-title { font-weight: bold; font-size: 13px; cursor: pointer; }
.gp-legend .gp-h { font-weight: bold; margin-top: 5px; }
.gp-legend .gp-row { display: flex; align-items: center; gap: 6px; margin: 1px 0;
  line-height: 1.2; }
.gp-legend .gp-sym { display: inline-flex; align-items: center; flex-wrap: wrap; }
.gp-legend .gp-note { color: #444; font-size: 11px; margin: 1px 0 2px; }
.gp-legend .gp-foot { margin-top: 6px; border-top: 1px solid #ddd; padding-top: 4px; }
.gp-key { display: inline-block; width: 12px; height: 12px; border: 1px solid #888;
  vertical-align: middle; flex: none; }
.gp-tip { width: max-content; max-width: 360px; white-space: normal; font-size: 12px; }
.gp-pop .leaflet-popup-content { font-size: 12px; line-height: 1.35; margin: 10px 12px; }
.gp-pop td, .gp-pop th { vertical-align: top; padding: 1px 4px; }
.gp-pop th { white-space: nowrap; font-weight: 600; color: #333; }
.leaflet-control-layers-expanded { width: 290px; max-height: 260px; font-size: 12px;
  padding: 4px 8px; overflow-y: auto;
  box-sizing: border-box; }
.leaflet-control-layers label { margin: 0; }
.gp-label { background: none; border: none; pointer-events: none; }
.gp-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font: 600 11px/1.1 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1b1b1b; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.gp-panel { background: rgba(255,255,255,0.96); padding: 6px 8px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); width: 300px; max-height: calc(100vh - 150px);
  overflow-y: auto; box-sizing: border-box; font-size: 12px; }
.gp-panel .gp-h { font-weight: bold; }
.gp-search input { width: 100%; box-sizing: border-box; padding: 4px 6px; font-size: 12px;
  border: 1px solid #999; border-radius: 4px; }
.gp-results, .gp-list ul { list-style: none; margin: 2px 0; padding: 0; }
.gp-results li { padding: 2px 4px; cursor: pointer; border-bottom: 1px solid #eee; }
.gp-results li:hover, .gp-item:hover { background: #eef3fb; }
.gp-sub { display: block; color: #555; font-size: 11px; }
.gp-view { margin: 6px 0 2px; }
.gp-view label { display: block; margin-left: 8px; }
.gp-list { margin-top: 6px; border-top: 1px solid #ddd; padding-top: 4px; }
.gp-list > summary { cursor: pointer; }
.gp-group { margin: 3px 0 0 4px; }
.gp-group-title { cursor: pointer; font-weight: 600; }
.gp-count { color: #555; font-weight: normal; }
.gp-item { padding: 2px 4px; cursor: pointer; border-bottom: 1px solid #f0f0f0;
  line-height: 1.3; }
.gp-item.gp-nowhere { cursor: default; color: #444; }
.gp-item .gp-text { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical;
  overflow: hidden; }
.gp-sev { display: inline-block; font-size: 9px; font-weight: bold; color: #fff;
  padding: 0 3px; border-radius: 2px; text-transform: uppercase; }
.gp-sev-error { background: #B2182B; } .gp-sev-warning { background: #E66100; }
.gp-sev-info { background: #0072B2; }
.gp-note { color: #444; font-size: 11px; }
"""
    + "".join(  # the "colour by band status" view: a stylesheet rule per band status
        f".gp-by-band path.gp-band-{band} {{ fill: {colour}; }}\n"
        for band, colour in {**BAND_COLOURS, "none": NO_PCN_COLOUR}.items()
    )
    + "</style>\n"
)


def _to_wgs84(bounds: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    box = gpd.GeoSeries([shapely.box(*bounds)], crs=BNG).to_crs(4326)
    west, south, east, north = (round(float(v), 5) for v in box.total_bounds)
    return (west, south), (east, north)
