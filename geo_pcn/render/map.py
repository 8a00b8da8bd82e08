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

This module puts the map together; what it draws lives in three rooms:
:mod:`~geo_pcn.render._map_layers` (the layers, their names and styles),
:mod:`~geo_pcn.render._map_legend` (legend and title bar) and
:mod:`~geo_pcn.render._map_elements` (folium elements, element ids, page style, WGS84).

Examples
--------
>>> from geo_pcn.datasets import demo
>>> m = build_map(demo())
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo_pcn._escape import html_text
from geo_pcn._spatial import drawable
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
    footprint_adjacency,
    label_points,
    pretty_layer,
    to_display,
)
from geo_pcn.render._map_elements import (
    _PAGE_CSS,
    TextElement,
    _boxes_wgs84,
    _FitBounds,
    _HtmlControl,
    _points_wgs84,
    _to_wgs84,
    _Tools,
    deterministic_ids,
    text_elements,
)
from geo_pcn.render._map_layers import (
    CHANGE_WORDS,
    FINDING_DASHES,
    LAYER_BEFORE,
    LAYER_CHANGES,
    LAYER_ERRORS,
    LAYER_FINDINGS,
    LAYER_FOOTPRINTS,
    LAYER_LABELS,
    LAYER_PRACTICES,
    _basemap,
    _changes_layer,
    _error_layer,
    _findings_layer,
    _footprint_layers,
    _outline_layer,
    _practices_layer,
    _sites_layer,
    _word,
    _worded,
)
from geo_pcn.render._map_legend import (
    _legend_html,
    _title_html,
)

__all__ = [
    "build_map",
    "write_map",
    "pcn_colours",
    "deterministic_ids",
    "PALETTE",
    "SEVERITY_COLOURS",
    "NO_PCN_COLOUR",
    "CHANGE_WORDS",
    "FINDING_DASHES",
    "LAYER_FOOTPRINTS",
    "LAYER_BEFORE",
    "LAYER_LABELS",
    "LAYER_ERRORS",
    "LAYER_PRACTICES",
    "LAYER_FINDINGS",
    "LAYER_CHANGES",
]


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
        tolerance_m=float(ctx.geography.adjacency_tolerance_m),
        graph=ctx.graph,
        assignments=report.configuration.assignments,
    )
    return colour_graph(adjacency, previous=previous)


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
        fmap = _build_map(report, tiles=tiles, changes=changes)
    _render_as_text(fmap.get_root())
    return fmap


def _render_as_text(root) -> None:
    """Make every render of the page (``write_map``, the HTML report, a notebook) keep
    what the layers render as text (:func:`text_elements`), not compile it again."""
    render = root.render

    def as_text(**kwargs):
        with text_elements():
            return render(**kwargs)

    root.render = as_text


def _build_map(report, *, tiles: str | None, changes) -> folium.Map:
    """The folium map of :func:`build_map`.

    Long because: it adds the layers to the map in the order Leaflet stacks and lists them
    (footprints, labels, boundaries, community, errors, findings, practices, changes, then
    the controls), one call each; the order is the design, so it reads as one list.
    """
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
        TextElement(inline_assets() + map_tools_script() + _PAGE_CSS), name="geo_pcn_assets"
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
    root.html.add_child(TextElement(_title_html(data)), name="geo_pcn_title")
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
    fp = footprints[drawable(footprints.geometry)]
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
    fp = data.footprints[drawable(data.footprints.geometry)]
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
