"""The editor's map widget for Jupyter: click a practice, pick a PCN, watch the findings.

Built on ipyleaflet and ipywidgets (``pip install geo_pcn[notebook]``), imported only when
a widget is made, so geo_pcn works without them. The map draws the PCN footprints and the
practices as GeoJSON layers: no tiles (so it works offline) unless ``tiles`` asks for them.
PCNs are coloured as on ``map.html`` (touching PCNs never share a colour,
:func:`geo_pcn.render.map.pcn_colours`); practices sharing a site are spread around it so
each can be clicked; hovering a practice or a PCN shows its code, name, PCN and size in the
box at the map's top right. Clicking a practice selects it (or pick it in the practice
list); the PCN list and *Move* move it through the :class:`~geo_pcn.editor.Editor`, which
re-validates only what the move touches. The widget observes its editor
(:meth:`~geo_pcn.editor.Editor.observe`): whoever moves the editor (the buttons, or code in
another cell), the map, the status line, the move list, the findings and the PCN sizes
follow. *Undo* goes back one move; *Export* writes the session as a scenario file (the path
in the box beside it, relative to the notebook's folder; :meth:`EditorWidget.export` from
code).

Examples
--------
>>> from geo_pcn.datasets import demo
>>> from geo_pcn.editor import Editor
>>> w = Editor(demo()).widget()  # doctest: +SKIP
>>> w.select("Z00024"); w.move_to("UZ002")  # doctest: +SKIP
>>> w  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo_pcn._escape import html_table, html_text
from geo_pcn.compare import count
from geo_pcn.render._map_data import BAND_TEXT
from geo_pcn.render.map import NO_PCN_COLOUR, pcn_colours
from geo_pcn.study import Study

__all__ = ["EditorWidget", "editor_widget"]

_SEVERITY_COLOUR = {"error": "#b42318", "warning": "#b54708", "info": "#475467"}
#: Practices sharing a site are drawn evenly around it, this many pixels from it at the
#: first view (so that circles of 6 px stand apart), within ``SPREAD_LIMITS_M`` metres.
SPREAD_PX = 8.0
SPREAD_LIMITS_M = (25.0, 400.0)
SPREAD_M = 60.0  # the default of spread_points
#: The map's width assumed for the first view (the notebook's width is not known in
#: Python; the view holds the study on any map at least this wide).
_ASSUMED_WIDTH_PX = 760
_DEFAULT_EXPORT = "editor_scenario.toml"
_HOVER_HINT = (
    "<div style='line-height:1.35'><small>Point at a practice or a PCN to see what it is; "
    "click a practice to select it.</small></div>"
)


def _libraries():
    try:
        import ipyleaflet
        import ipywidgets
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "the editor widget needs ipyleaflet and ipywidgets: "
            "pip install 'geo_pcn[notebook]' (the Editor itself works without them)"
        ) from err
    return ipyleaflet, ipywidgets


def editor_widget(editor: Any, *, tiles: str | None = None, height: str = "520px") -> EditorWidget:
    """A map widget on ``editor``.

    Parameters
    ----------
    editor
        The :class:`~geo_pcn.editor.Editor` to drive.
    tiles
        ``None`` (default): no background tiles, nothing fetched from the internet;
        ``"OpenStreetMap"`` or a tile URL template to draw tiles under the footprints.
    height
        The map's CSS height.

    Returns
    -------
    EditorWidget
        Display it (last expression of a cell) to use it.
    """
    return EditorWidget(editor, tiles=tiles, height=height)


def spread_points(points, groups: dict[str, tuple[str, ...]], radius_m: float = SPREAD_M):
    """Points with each group of co-located practices spread evenly on a circle.

    Parameters
    ----------
    points
        GeoSeries of practice points in metres (British National Grid), indexed by code.
    groups
        ``site -> practice codes`` (:attr:`geo_pcn.study.Study.colocated`).
    radius_m
        The circle's radius.

    Returns
    -------
    geopandas.GeoSeries
        The same index; practices of a group at ``radius_m`` from their site, the first
        due north, the others clockwise; every other point unchanged.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoSeries([Point(0, 0), Point(0, 0), Point(5, 5)], index=["A", "B", "C"])
    >>> [(round(p.x), round(p.y)) for p in spread_points(pts, {"s": ("A", "B")}, 10)]
    [(0, 10), (0, -10), (5, 5)]
    """
    codes = [c for members in groups.values() for c in members if c in points.index]
    if not codes:
        return points
    nth = np.array(
        [i for members in groups.values() for i, c in enumerate(members) if c in points.index],
        dtype=float,
    )
    size = np.array(
        [len(members) for members in groups.values() for c in members if c in points.index],
        dtype=float,
    )
    angle = 2 * np.pi * nth / size
    moved = points.loc[codes]
    xy = shapely.get_coordinates(moved.values)
    out = points.copy()
    out.loc[codes] = shapely.points(
        xy[:, 0] + radius_m * np.sin(angle), xy[:, 1] + radius_m * np.cos(angle)
    )
    return out


def _first_view(bounds, height_px: float) -> tuple[tuple[float, float], float]:
    """Centre and zoom (in quarter steps) at which ``bounds`` (west, south, east, north in
    degrees) fill a map ``_ASSUMED_WIDTH_PX`` wide and ``height_px`` high, less a margin."""
    west, south, east, north = (float(b) for b in bounds)

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(east - west, 1e-4) / 360.0  # share of the world's width
    dy = max(merc(north) - merc(south), 1e-4) / (2 * math.pi)
    fits = [
        math.log2((_ASSUMED_WIDTH_PX - 40) / (256 * dx)),
        math.log2((height_px - 40) / (256 * dy)),
    ]
    zoom = min(16.0, max(5.0, math.floor(min(fits) * 4) / 4))
    return ((south + north) / 2, (west + east) / 2), zoom


def _spread_m(lat: float, zoom: float) -> float:
    """Metres that ``SPREAD_PX`` pixels cover at ``lat`` and ``zoom`` (Web Mercator),
    within ``SPREAD_LIMITS_M``."""
    metres_per_px = 156_543.034 * math.cos(math.radians(lat)) / 2**zoom
    low, high = SPREAD_LIMITS_M
    return round(min(high, max(low, SPREAD_PX * metres_per_px)), 1)


class EditorWidget:
    """The widgets of the editor (:func:`editor_widget`); ``.box`` is what is displayed.

    Attributes
    ----------
    editor
        The controller; the widget observes it and redraws after every change.
    map
        The ``ipyleaflet.Map``.
    practice, pcn
        The practice and target-PCN dropdowns.
    status, notice, moves, hover, findings, sizes
        HTML widgets: the verdict; a one-off message (what was written, what to do
        first); the moves since the start (a scroll box under the map); the facts of the
        practice or PCN under the pointer; the findings table; the PCN sizes.
    export_path
        The text box naming the file *Export* writes.
    """

    def __init__(self, editor: Any, *, tiles: str | None = None, height: str = "520px"):
        leaflet, w = _libraries()
        self._leaflet, self._w = leaflet, w
        self.editor = editor
        study = editor.study
        self._names = study.practices["practice_name"].fillna("").astype(str)
        self._colours: dict[str, str] = {}
        self._build_map(study, tiles, height)
        self._build_controls(study)
        self.refresh()
        editor.observe(self._followed)

    def _build_map(self, study: Study, tiles: str | None, height: str) -> None:
        """The map at the first view of the practices, its footprint and practice layers
        (click and hover wired) and the hover box; tiles only when asked."""
        leaflet, w = self._leaflet, self._w
        geoms = study.practices.geometry
        located = ~shapely.is_missing(geoms.to_numpy()) & ~geoms.is_empty.to_numpy()
        bng = study.practices.geometry[located]
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*px\s*", height)
        centre, zoom = _first_view(bng.to_crs(4326).total_bounds, float(match[1]) if match else 520)
        #: how far practices sharing a site are drawn from it: SPREAD_PX at the first view
        self.spread_m = _spread_m(centre[0], zoom)
        self._points = spread_points(bng, study.colocated, self.spread_m).to_crs(4326)
        self.map = leaflet.Map(
            center=centre, zoom=zoom, zoom_snap=0.25, layers=(), scroll_wheel_zoom=True
        )
        self.map.layout.height = height
        if tiles:
            if tiles.lower() == "openstreetmap":
                layer = leaflet.basemap_to_tiles(leaflet.basemaps.OpenStreetMap.Mapnik)
            else:
                layer = leaflet.TileLayer(url=tiles)
            self.map.add(layer)
        self.footprints = leaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": []},
            hover_style={"weight": 3, "fillOpacity": 0.4},
        )
        self.practices = leaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": []},
            point_style={"radius": 6, "weight": 1, "color": "#222", "fillOpacity": 0.9},
            hover_style={"weight": 3},
        )
        self.practices.on_click(self._clicked)
        self.practices.on_hover(self._hovered)
        self.footprints.on_hover(self._hovered)
        self.map.add(self.footprints)
        self.map.add(self.practices)
        self.hover = w.HTML(_HOVER_HINT, layout=w.Layout(max_width="320px", padding="0 6px"))
        self.map.add(leaflet.WidgetControl(widget=self.hover, position="topright"))

    def _build_controls(self, study: Study) -> None:
        """The practice and PCN pickers, the move, undo and export buttons, the status,
        moves, findings and PCN-size panes, and the box holding them with the map."""
        w = self._w
        options = [
            (f"{code} {self._names[code]}".strip(), code) for code in sorted(study.practices.index)
        ]
        wide = {"description_width": "initial"}
        self.practice = w.Dropdown(
            description="Practice",
            options=options,
            value=None,
            style=wide,
            layout=w.Layout(width=_width(options, "Practice")),
        )
        self.pcn = w.Dropdown(description="to PCN", style=wide)
        self.move_button = w.Button(description="Move", button_style="primary")
        self.undo_button = w.Button(description="Undo")
        self.export_path = w.Text(
            value=_DEFAULT_EXPORT,
            description="Export to",
            style=wide,
            layout=w.Layout(width="22em"),
        )
        self.export_button = w.Button(description="Export", tooltip="Write the scenario file")
        self.status = w.HTML()
        self.notice = w.HTML()
        self.moves = w.HTML(layout=w.Layout(max_height="9em", overflow="auto"))
        self.findings = w.HTML()
        self.sizes = w.HTML()
        self.move_button.on_click(lambda _: self.move_to(self.pcn.value))
        self.undo_button.on_click(lambda _: self.undo())
        self.export_button.on_click(lambda _: self._export_clicked())
        self.practice.observe(self._picked, names="value")
        tables = w.Tab(children=[self.findings, self.sizes])
        tables.set_title(0, "Findings")
        tables.set_title(1, "PCN sizes")
        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        controls = w.HBox(
            [self.practice, self.pcn, self.move_button, self.undo_button], layout=wrap
        )
        export = w.HBox([self.export_path, self.export_button], layout=wrap)
        self.box = w.VBox(
            [controls, self.status, self.notice, self.map, self.moves, tables, export]
        )

    # -- actions ----------------------------------------------------------------------------
    def select(self, practice_code: str) -> None:
        """Select a practice (as a click on it does)."""
        self.practice.value = practice_code

    def move_to(self, pcn_code: str | None) -> None:
        """Move the selected practice into ``pcn_code`` (``""``: no PCN); the editor tells
        the widget, which redraws."""
        if self.practice.value is None:
            self.notice.value = "<p><b>Select a practice first</b> (click it on the map).</p>"
            return
        self.notice.value = ""
        self.editor.move(self.practice.value, pcn_code)

    def undo(self) -> None:
        """Undo the last move (the editor tells the widget, which redraws)."""
        if self.editor.can_undo:
            self.notice.value = ""
            self.editor.undo()
        else:
            self.notice.value = "<p>Nothing to undo: no move since the start.</p>"

    def close(self) -> None:
        """Stop following the editor and close the widgets (a widget left open keeps
        redrawing after every move of its editor, even when its cell was run again)."""
        self.editor.unobserve(self._followed)

        def close(widget) -> None:
            for child in getattr(widget, "children", ()):
                close(child)
            widget.close()

        close(self.box)

    def export(self, path: str | Path) -> Path:
        """Write the session as a scenario file (:meth:`Editor.to_scenario`)."""
        return self.editor.to_scenario(path)

    def _export_clicked(self) -> None:
        name = self.export_path.value.strip() or _DEFAULT_EXPORT
        try:
            path = self.export(name).resolve()
        except OSError as err:
            self.notice.value = f"<p><b>Could not write {html_text(name)}</b>: {html_text(err)}</p>"
            return
        self.notice.value = (
            f"<p>Wrote <code>{html_text(path)}</code> "
            f"({count(len(self.editor.history), 'move')}). Apply it with "
            f"<code>geo-pcn scenario study.toml {html_text(path.name)} --out after/</code>.</p>"
        )

    # -- drawing ----------------------------------------------------------------------------
    def _followed(self, editor: Any, what: str) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw the map, the lists and the tables from the editor's current report."""
        editor = self.editor
        report = editor.report
        config = editor.configuration
        codes = sorted((*config.pcn_codes, *config.empty_pcns))
        self._colours = pcn_colours(report, previous=self._colours)
        fp = report.partition.footprints.pcns
        fp = fp[~fp.geometry.is_empty].to_crs(4326)
        pcns = report.pcns.set_index("pcn_code")
        data = json.loads(fp[["geometry"]].assign(pcn_code=fp.index.astype(str)).to_json())
        for feature in data["features"]:
            code = feature["properties"]["pcn_code"]
            colour = self._colours.get(code, NO_PCN_COLOUR)
            row = pcns.loc[code] if code in pcns.index else None
            feature["properties"].update(
                pcn_name=config.names.get(code, ""),
                n_practices=int(row["n_practices"]) if row is not None else 0,
                list_size=int(row["list_size"]) if row is not None else 0,
                band_status=str(row["band_status"]) if row is not None else "",
                style={"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.35},
            )
        self.footprints.data = data
        self.practices.data = self._practice_features()
        self.hover.value = _HOVER_HINT  # what it showed may have changed PCN
        names = config.names
        options = [("(no PCN)", "")] + [
            (f"{code} {names.get(code, '')}".strip(), code) for code in codes
        ]
        self.pcn.options = options
        self.pcn.layout.width = _width(options, "to PCN")
        self._picked({"new": self.practice.value})
        self._draw_tables()

    def _practice_features(self) -> dict[str, Any]:
        config = self.editor.configuration
        assignments, names = config.assignments, config.names
        sizes = self.editor.report.partition.list_sizes
        chosen = self.practice.value
        xy = shapely.get_coordinates(self._points.values)
        features = []
        for code, (x, y) in zip(self._points.index, xy, strict=True):
            pcn = assignments.get(code, "")
            style = {"fillColor": self._colours.get(pcn, "#ffffff"), "radius": 6}
            if code == chosen:
                style.update(radius=10, color="#000", weight=3)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                    "properties": {
                        "practice_code": code,
                        "practice_name": self._names[code],
                        "pcn_code": pcn,
                        "pcn_name": names.get(pcn, "") if pcn else "",
                        "list_size": int(sizes.get(code, 0)),
                        "style": style,
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def _draw_tables(self) -> None:
        editor, esc = self.editor, html_text
        report = editor.report
        sev = report.by_severity()
        verdict = "PASS" if report.ok else "FAIL"
        colour = "#1a7f37" if report.ok else "#b42318"
        self.status.value = (
            f"<p><b style='color:{colour}'>{verdict}</b>: "
            f"{count(sev['error'], 'error')}, {count(sev['warning'], 'warning')}, "
            f"{count(sev['info'], 'note')}; {count(len(editor.history), 'move')} "
            f"since the start.</p>"
        )
        history = "".join(f"<li>{esc(h)}</li>" for h in editor.history)
        self.moves.value = f"<b>Moves since the start</b><ol>{history}</ol>" if history else ""
        findings = editor.findings
        rows = "".join(
            f"<tr><td style='color:{_SEVERITY_COLOUR.get(r.severity, '#000')}'>"
            f"{esc(r.severity)}</td><td>{esc(r.check)} / {esc(r.kind)}</td>"
            f"<td>{esc(r.pcn_code)}</td><td>{esc(r.message)}</td></tr>"
            for r in findings.itertuples(index=False)
        )
        self.findings.value = (
            "<table><thead><tr><th>severity</th><th>check / kind</th><th>PCN</th>"
            f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>"
            if len(findings)
            else "<p>No findings.</p>"
        )
        self.sizes.value = html_table(editor.pcn_sizes.reset_index())

    def _hovered(self, **kwargs: Any) -> None:
        """The facts of the practice or PCN under the pointer, in the box on the map."""
        p = kwargs.get("properties") or (kwargs.get("feature") or {}).get("properties", {})
        esc = html_text
        if p.get("practice_code"):
            pcn = p.get("pcn_code") or ""
            where = f"{esc(pcn)} {esc(p.get('pcn_name', ''))}".strip() if pcn else "no PCN"
            self.hover.value = (
                f"<div style='line-height:1.35'><b>{esc(p['practice_code'])}</b> "
                f"{esc(p.get('practice_name', ''))}<br>PCN: {where}<br>"
                f"{count(int(p.get('list_size', 0)), 'registered patient')}</div>"
            )
        elif p.get("pcn_code"):
            band = p.get("band_status") or ""
            self.hover.value = (
                f"<div style='line-height:1.35'><b>{esc(p['pcn_code'])}</b> "
                f"{esc(p.get('pcn_name', ''))}<br>"
                f"{count(int(p.get('n_practices', 0)), 'practice')}, "
                f"{count(int(p.get('list_size', 0)), 'registered patient')}"
                + (f"<br>{esc(BAND_TEXT.get(band, band))}" if band else "")
                + "</div>"
            )

    def _clicked(self, **kwargs: Any) -> None:
        properties = kwargs.get("properties") or (kwargs.get("feature") or {}).get("properties", {})
        code = properties.get("practice_code")
        if code:
            self.select(code)

    def _picked(self, change: dict[str, Any]) -> None:
        code = change.get("new")
        if code is None:
            return
        if "Select a practice first" in self.notice.value:
            self.notice.value = ""
        self.practices.data = self._practice_features()
        current = self.editor.configuration.assignments.get(code, "")
        if self.pcn.value != current and current in {v for _, v in self.pcn.options}:
            self.pcn.value = current

    # -- display ----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        return self.box._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<EditorWidget on {self.editor!r}>"


def _width(options: list[tuple[str, str]], description: str) -> str:
    """A dropdown wide enough for its longest option (in ``ch``), at most 60."""
    longest = max((len(label) for label, _ in options), default=10)
    return f"{min(60, longest + len(description) + 6)}ch"
