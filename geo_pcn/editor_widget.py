"""The editor's map widget for Jupyter: click a practice, pick a PCN, watch the findings.

Built on ipyleaflet and ipywidgets (``pip install geo_pcn[notebook]``), imported only when
a widget is made, so geo_pcn works without them. The map draws the PCN footprints and the
practices as GeoJSON layers: no tiles (so it works offline) unless ``tiles`` asks for them.
Clicking a practice selects it (or pick it in the practice list); the PCN list and *Move*
move it through the :class:`~geo_pcn.editor.Editor`, which re-validates only what the move
touches; the status line, findings table and PCN sizes then update. *Undo* goes back one
move; :meth:`EditorWidget.export` writes the session as a scenario file.

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
from pathlib import Path
from typing import Any

from geo_pcn._escape import html_table, html_text
from geo_pcn.compare import count

__all__ = ["EditorWidget", "editor_widget"]

#: PCN colours on the map (Okabe-Ito and Tol "bright", readable on white).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#4477AA",
    "#228833",
    "#AA3377",
    "#66CCEE",
    "#BBBBBB",
)
_SEVERITY_COLOUR = {"error": "#b42318", "warning": "#b54708", "info": "#475467"}


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


class EditorWidget:
    """The widgets of the editor (:func:`editor_widget`); ``.box`` is what is displayed.

    Attributes
    ----------
    editor
        The controller.
    map
        The ``ipyleaflet.Map``.
    practice, pcn
        The practice and target-PCN dropdowns.
    status, findings, sizes
        HTML widgets: the verdict and history, the findings table, the PCN sizes.
    """

    def __init__(self, editor: Any, *, tiles: str | None = None, height: str = "520px"):
        leaflet, w = _libraries()
        self._leaflet, self._w = leaflet, w
        self.editor = editor
        study = editor.study
        self._points = study.practices.geometry.to_crs(4326)
        self._names = study.practices["practice_name"].fillna("").astype(str)
        lon, lat = self._points.x.mean(), self._points.y.mean()
        self.map = leaflet.Map(
            center=(float(lat), float(lon)), zoom=11, layers=(), scroll_wheel_zoom=True
        )
        self.map.layout.height = height
        if tiles:
            if tiles.lower() == "openstreetmap":
                layer = leaflet.basemap_to_tiles(leaflet.basemaps.OpenStreetMap.Mapnik)
            else:
                layer = leaflet.TileLayer(url=tiles)
            self.map.add(layer)
        self.footprints = leaflet.GeoJSON(data={"type": "FeatureCollection", "features": []})
        self.practices = leaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": []},
            point_style={"radius": 6, "weight": 1, "color": "#222", "fillOpacity": 0.9},
        )
        self.practices.on_click(self._clicked)
        self.map.add(self.footprints)
        self.map.add(self.practices)
        self.practice = w.Dropdown(
            description="Practice",
            options=[
                (f"{code} {self._names[code]}".strip(), code)
                for code in sorted(study.practices.index)
            ],
            value=None,
        )
        self.pcn = w.Dropdown(description="to PCN")
        self.move_button = w.Button(description="Move", button_style="primary")
        self.undo_button = w.Button(description="Undo")
        self.status = w.HTML()
        self.findings = w.HTML()
        self.sizes = w.HTML()
        self.move_button.on_click(lambda _: self.move_to(self.pcn.value))
        self.undo_button.on_click(lambda _: self.undo())
        self.practice.observe(self._picked, names="value")
        tables = w.Tab(children=[self.findings, self.sizes])
        tables.set_title(0, "Findings")
        tables.set_title(1, "PCN sizes")
        controls = w.HBox([self.practice, self.pcn, self.move_button, self.undo_button])
        self.box = w.VBox([controls, self.status, self.map, tables])
        self.refresh()
        # zoom to the practices (Map.fit_bounds needs a running front end)
        x0, y0, x1, y1 = self._points.total_bounds
        span = max(x1 - x0, (y1 - y0) * 1.6, 1e-3)
        self.map.center = (float((y0 + y1) / 2), float((x0 + x1) / 2))
        self.map.zoom = int(min(16, max(5, math.floor(math.log2(360 / span)) + 1)))

    # -- actions ----------------------------------------------------------------------------
    def select(self, practice_code: str) -> None:
        """Select a practice (as a click on it does)."""
        self.practice.value = practice_code

    def move_to(self, pcn_code: str | None) -> None:
        """Move the selected practice into ``pcn_code`` (``""``: no PCN) and update."""
        if self.practice.value is None:
            self.status.value = "<p><b>Select a practice first</b> (click it on the map).</p>"
            return
        self.editor.move(self.practice.value, pcn_code)
        self.refresh()

    def undo(self) -> None:
        """Undo the last move and update."""
        if self.editor.can_undo:
            self.editor.undo()
        self.refresh()

    def export(self, path: str | Path) -> Path:
        """Write the session as a scenario file (:meth:`Editor.to_scenario`)."""
        return self.editor.to_scenario(path)

    # -- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the map, the lists and the tables from the editor's current report."""
        editor = self.editor
        config = editor.configuration
        codes = sorted((*config.pcn_codes, *config.empty_pcns))
        colours = self._colours()
        fp = editor.report.partition.footprints.pcns
        fp = fp[~fp.geometry.is_empty].to_crs(4326)
        data = json.loads(fp[["geometry"]].assign(pcn_code=fp.index.astype(str)).to_json())
        for feature in data["features"]:
            colour = colours.get(feature["properties"]["pcn_code"], "#999")
            feature["properties"]["style"] = {
                "color": colour,
                "weight": 1.5,
                "fillColor": colour,
                "fillOpacity": 0.25,
            }
        self.footprints.data = data
        self.practices.data = self._practice_features(colours)
        names = config.names
        self.pcn.options = [("(no PCN)", "")] + [
            (f"{code} {names.get(code, '')}".strip(), code) for code in codes
        ]
        self._picked({"new": self.practice.value})
        self._draw_tables()

    def _practice_features(self, colours: dict[str, str]) -> dict[str, Any]:
        assignments = self.editor.configuration.assignments
        sizes = self.editor.report.partition.list_sizes
        chosen = self.practice.value
        features = []
        for code, point in zip(self._points.index, self._points, strict=True):
            pcn = assignments.get(code, "")
            style = {"fillColor": colours.get(pcn, "#ffffff"), "radius": 6}
            if code == chosen:
                style.update(radius=10, color="#000", weight=3)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                    "properties": {
                        "practice_code": code,
                        "practice_name": self._names[code],
                        "pcn_code": pcn,
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
        history = "".join(f"<li>{esc(h)}</li>" for h in editor.history)
        self.status.value = (
            f"<p><b style='color:{colour}'>{verdict}</b>: "
            f"{count(sev['error'], 'error')}, {count(sev['warning'], 'warning')}, "
            f"{count(sev['info'], 'note')}; {count(len(editor.history), 'move')} "
            f"since the start.</p>" + (f"<ol>{history}</ol>" if history else "")
        )
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

    def _clicked(self, **kwargs: Any) -> None:
        properties = kwargs.get("properties") or (kwargs.get("feature") or {}).get("properties", {})
        code = properties.get("practice_code")
        if code:
            self.select(code)

    def _picked(self, change: dict[str, Any]) -> None:
        code = change.get("new")
        if code is None:
            return
        self.practices.data = self._practice_features(self._colours())
        current = self.editor.configuration.assignments.get(code, "")
        if self.pcn.value != current and current in {v for _, v in self.pcn.options}:
            self.pcn.value = current

    def _colours(self) -> dict[str, str]:
        config = self.editor.configuration
        codes = sorted((*config.pcn_codes, *config.empty_pcns))
        return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}

    # -- display ----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any):
        return self.box._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<EditorWidget on {self.editor!r}>"
