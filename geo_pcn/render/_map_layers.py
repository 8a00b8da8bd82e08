"""The layers of the map (:mod:`geo_pcn.render.map`), as folium ``GeoJson`` layers with their
names in the layer control, styles and tooltips: PCN footprints and their names, PCNs with
errors outlined, boundary and community layers, practices, findings and a scenario's
changes; and the basemap. Every string from an input file is HTML-escaped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from geo_pcn._escape import html_text
from geo_pcn.errors import InputError
from geo_pcn.render._map_data import (
    BAND_COLOURS,
    NO_PCN_COLOUR,
    SEVERITY_COLOURS,
    MapData,
    to_display,
)

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
# a change map's "What changed" layer starts hidden when more practices moved (a national
# proposal's rings and outlines would cover England at the zoom the map opens at)
_CHANGES_HIDDEN_ABOVE = 300


def _features(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """GeoJSON FeatureCollection of ``columns`` with the index as feature ids."""
    out = pd.DataFrame(frame[columns])  # (as geopandas' to_geo_dict, without its loops)
    out.index = out.index.astype(str)
    if not len(columns):
        rows = [{} for _ in range(len(out))]
    else:  # as geopandas' iterfeatures: Python scalars, missing values as None
        values = out.astype(object)
        values[pd.isna(out).to_numpy()] = None
        rows = [dict(zip(columns, row, strict=True)) for row in values.to_numpy().tolist()]
    ids = np.asarray(out.index).tolist()
    geometry = _mappings(frame.geometry.to_numpy())
    return {
        "type": "FeatureCollection",
        "features": [
            {"id": str(i), "type": "Feature", "properties": p, "geometry": g}
            for i, p, g in zip(ids, rows, geometry, strict=True)
        ],
    }


def _mappings(geoms: np.ndarray) -> list:
    """``shapely.geometry.mapping(g) if g else None`` of each geometry (the same JSON; a
    point's coordinates a list where it has a tuple): the coordinates of the points and of
    the polygons and multipolygons (2D) taken at once and cut into rings (a national map's
    258,000 coordinates were iterated one by one in Python: issue 21); any other geometry
    through ``mapping``.

    Examples
    --------
    >>> import json
    >>> import shapely
    >>> square = shapely.box(0, 0, 1, 1)
    >>> hole = [(2, 1), (3, 1), (3, 2), (2, 1)]
    >>> holed = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 0)], [hole])
    >>> shapes = [square, shapely.Point(2, 3), None, shapely.Polygon(), holed]
    >>> shapes.append(shapely.MultiPolygon([holed, square]))
    >>> got = _mappings(np.array(shapes))
    >>> got[1], got[2:4]
    ({'type': 'Point', 'coordinates': [2.0, 3.0]}, [None, None])
    >>> [got[i] == shapely.geometry.mapping(shapes[i]) for i in (0, 4, 5)]
    [True, True, True]
    >>> json.dumps(got[5]) == json.dumps(shapely.geometry.mapping(shapes[5]))
    True
    """
    out: list = [None] * len(geoms)
    shown = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kind = shapely.get_type_id(geoms)
    flat = ~shapely.has_z(geoms)
    point = shown & (kind == 0) & flat
    at = np.flatnonzero(point)
    for i, xy in zip(at.tolist(), shapely.get_coordinates(geoms[at]).tolist(), strict=True):
        out[i] = {"type": "Point", "coordinates": xy}
    polygonal = shown & ((kind == 3) | (kind == 6)) & flat
    done = _polygon_mappings(geoms, np.flatnonzero(polygonal), out)
    for i in np.flatnonzero(shown & ~point & ~done).tolist():
        out[i] = mapping(geoms[i])
    return out


def _polygon_mappings(geoms: np.ndarray, at: np.ndarray, out: list) -> np.ndarray:
    """Fill ``out[i]`` for the (multi)polygons at ``at`` whose every part has an exterior
    ring: ``coordinates`` as ``mapping`` nests them (polygon: its rings, exterior first;
    multipolygon: a list of its polygons), in tuples as there. Returns which geometries
    were done."""
    done = np.zeros(len(geoms), dtype=bool)
    if not len(at):
        return done
    parts, part_of = shapely.get_parts(geoms[at], return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    hollow = np.ones(len(parts), dtype=bool)  # a part with no ring: left to ``mapping``
    hollow[ring_of] = False
    skip = np.zeros(len(at), dtype=bool)
    skip[part_of[hollow]] = True
    # tuples, as ``mapping`` gives: a tuple of floats is untracked by the garbage
    # collector, while 258,000 small lists would be walked by every collection after
    coords = shapely.get_coordinates(rings)
    xy = list(zip(coords[:, 0].tolist(), coords[:, 1].tolist(), strict=True))
    ends = np.cumsum(shapely.get_num_coordinates(rings)).tolist()
    starts = [0, *ends[:-1]]
    ring_lists = [tuple(xy[a:b]) for a, b in zip(starts, ends, strict=True)]
    part_rings: list[list] = [[] for _ in range(len(parts))]
    for part, ring in zip(ring_of.tolist(), ring_lists, strict=True):
        part_rings[part].append(ring)
    geom_parts: list[list] = [[] for _ in range(len(at))]
    for geom, rings_of_part in zip(part_of.tolist(), part_rings, strict=True):
        geom_parts[geom].append(rings_of_part)
    kinds = shapely.get_type_id(geoms[at]).tolist()
    for j, (i, kind, polygons) in enumerate(zip(at.tolist(), kinds, geom_parts, strict=True)):
        if skip[j]:
            continue
        if kind == 3:
            out[i] = {"type": "Polygon", "coordinates": tuple(polygons[0])}
        else:
            out[i] = {"type": "MultiPolygon", "coordinates": [tuple(p) for p in polygons]}
        done[i] = True
    return done


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
    n_moved = len(changes.get("moved", ()))
    group = folium.FeatureGroup(
        name=_word(changes, "changes_layer"), show=n_moved <= _CHANGES_HIDDEN_ABOVE
    )
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
