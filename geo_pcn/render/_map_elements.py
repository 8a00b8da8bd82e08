"""The folium elements and page parts of the map (:mod:`geo_pcn.render.map`): element ids
numbered in order (:func:`deterministic_ids`, so the same inputs give the same page byte
for byte), the script that runs the map tools (:class:`_Tools`), fixed HTML controls, the
first view (:class:`_FitBounds`), the page's stylesheet, and British National Grid to
WGS84 for the browser.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from geo_pcn._escape import js_string
from geo_pcn.render._map_data import (
    BAND_COLOURS,
    NO_PCN_COLOUR,
)
from geo_pcn.settings import BNG

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


class TextElement(Element):
    r"""A page part that is text, not a template: written as given (with the line endings
    and the one trailing newline branca's template would have normalised), never read by
    jinja.

    branca wraps what each folium layer renders (its script, with every feature's data and
    tooltip) in a new ``Element``, that is, a jinja template it compiles and renders again:
    nationally 2.5 s of lexing megabytes of GeoJSON, and a name such as ``{{ 7*7 }}`` in an
    input file came out as ``49`` (template code run on input text). Inside
    :func:`text_elements` those parts are text elements.

    Examples
    --------
    >>> TextElement("var a = {{ 7*7 }};\r\n").render()
    'var a = {{ 7*7 }};'
    """

    def __init__(self, template: str | None = None, template_name: str | None = None) -> None:
        super().__init__(None, template_name)
        self._text: str | None = None
        if template is None:  # a container of other elements, as branca makes it
            return
        # jinja's lexer: every line ending becomes "\n", one trailing newline is dropped
        lines = _NEWLINES.split(template)
        if lines and lines[-1] == "":
            del lines[-1]
        self._text = "\n".join(lines)

    def render(self, **kwargs) -> str:
        if self._text is None:
            return super().render(**kwargs)
        return self._text


_NEWLINES = re.compile(r"\r\n|\r|\n")


@contextmanager
def text_elements() -> Iterator[None]:
    """While inside, what branca makes of each rendered layer is a :class:`TextElement`
    (branca's ``MacroElement.render`` names ``Element`` from its module: that name is
    pointed at ``TextElement`` and back). Nested uses share it; another thread waits."""
    import branca.element as module

    with _ID_LOCK:
        if getattr(_ID_STATE, "text", False):
            yield
            return
        original = module.Element
        module.Element = TextElement
        _ID_STATE.text = True
        try:
            yield
        finally:
            module.Element = original
            _ID_STATE.text = False


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
