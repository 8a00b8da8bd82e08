"""Offline assets for map.html: Leaflet and jQuery inlined from the installed xstatic packages.

Nothing in the page is fetched from a CDN. Leaflet's stylesheet images (the layer-control
icon, the default marker) are inlined as ``data:`` URIs, and source-map comments are dropped
so that not even a developer tool asks the network for them.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

__all__ = ["inline_assets", "map_tools_script"]

_SOURCE_MAP = re.compile(r"^\s*//[#@] sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)images/([\w.-]+\.png)\1\)")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


def _jquery_dir() -> Path:
    import xstatic.pkg.jquery as jquery

    return Path(jquery.BASE_DIR)


def _script(text: str) -> str:
    """``text`` safe inside an inline ``<script>`` element."""
    text = _SOURCE_MAP.sub("", text)
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _css(folder: Path) -> str:
    """leaflet.css with its images as ``data:`` URIs."""

    def data_uri(match: re.Match[str]) -> str:
        png = (folder / "images" / match.group(2)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode('ascii')})"

    text = _CSS_URL.sub(data_uri, (folder / "leaflet.css").read_text(encoding="utf-8"))
    return _SOURCE_MAP.sub("", text).replace("</style", "<\\/style")


@cache
def inline_assets() -> str:
    """``<style>`` and ``<script>`` elements holding Leaflet (CSS and JS) and jQuery.

    Returns
    -------
    str
        HTML for the page's ``<head>``; it references no URL.
    """
    leaflet = _leaflet_dir()
    jquery = (_jquery_dir() / "jquery.min.js").read_text(encoding="utf-8")
    return (
        f"<style>{_css(leaflet)}</style>\n"
        f"<script>{_script((leaflet / 'leaflet.js').read_text(encoding='utf-8'))}</script>\n"
        f"<script>{_script(jquery)}</script>\n"
    )


def map_tools_script() -> str:
    """``<script>`` defining ``geoPcnTools(map, cfg, refs)``: PCN name labels shown from
    the zoom where they fit, the panel (search, findings, changes), the "colour by band
    status" view and the before/after switch of a change map. Plain JavaScript, no plugin;
    the data's strings arrive HTML-escaped (from :func:`geo_pcn._escape.html_text`)."""
    return f"<script>{_script(_MAP_TOOLS_JS)}</script>\n"


_MAP_TOOLS_JS = r"""
/* geo_pcn map tools: PCN name labels shown from the zoom where they fit, a panel with a
   search box and the list of findings, the "colour by band status" view and, on a change
   map, the before/after switch. Plain JavaScript, no plugin. Every string of the data was
   HTML-escaped in Python. */
function geoPcnTools(map, cfg, refs) {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  // strings of the data arrive HTML-escaped (geo_pcn escapes every input string once,
  // in Python): they are set with html(), constant text with el()
  function html(tag, cls, escaped) {
    var e = el(tag, cls);
    e.insertAdjacentHTML("beforeend", escaped);
    return e;
  }
  function plain(escaped) { return html("div", null, escaped).textContent; }
  function popupAt(latlng, title, lines) {
    var box = el("div", "gp-find-pop");
    box.appendChild(html("b", null, title));
    (lines || []).forEach(function (line) {
      if (line) { box.appendChild(el("br")); box.appendChild(html("span", null, line)); }
    });
    popupPadding();
    L.popup({className: "gp-pop", maxWidth: 420, offset: [0, -6]})
      .setLatLng(latlng).setContent(box).openOn(map);
  }
  function goTo(where, title, lines) {
    if (!where) return;
    if (where.bbox) {
      var b = where.bbox;
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]],
        {maxZoom: where.maxZoom || 15, paddingTopLeft: [340, 60],
         paddingBottomRight: [320, 20], animate: false});
    } else if (where.pt) {
      map.setView(where.pt, Math.max(map.getZoom(), 13), {animate: false});
    }
    if (where.pt) popupAt(where.pt, title, lines);
  }

  /* -- labels ------------------------------------------------------------------------ */
  var master = refs.labels;
  var sets = [];
  (cfg.labels || []).forEach(function (set, i) {
    var group = L.layerGroup();
    var items = set.items.map(function (it) {
      var span = html("span", null, it[3]);
      var marker = L.marker([it[0], it[1]], {
        icon: L.divIcon({className: "gp-label", html: span, iconSize: null}),
        interactive: false, keyboard: false
      });
      return {marker: marker, minZoom: it[2], shown: false};
    });
    sets.push({group: group, items: items, footprints: refs.footprints[i]});
  });
  function syncLabels() {
    var z = map.getZoom();
    sets.forEach(function (set) {
      var on = (!master || map.hasLayer(master)) &&
        (!set.footprints || map.hasLayer(set.footprints));
      if (on && !map.hasLayer(set.group)) set.group.addTo(map);
      if (!on && map.hasLayer(set.group)) map.removeLayer(set.group);
      set.items.forEach(function (it) {
        var want = z >= it.minZoom;
        if (want && !it.shown) { set.group.addLayer(it.marker); it.shown = true; }
        if (!want && it.shown) { set.group.removeLayer(it.marker); it.shown = false; }
      });
      // biggest footprints first: a label that would overlap one already placed waits
      // for a closer zoom
      var placed = [];
      set.items.forEach(function (it) {
        var icon = it.shown && it.marker.getElement();
        if (!icon || !icon.firstChild) return;
        var span = icon.firstChild;
        span.style.visibility = "";
        var r = span.getBoundingClientRect();
        var clash = placed.some(function (q) {
          return r.left < q.right + 4 && r.right + 4 > q.left &&
            r.top < q.bottom + 2 && r.bottom + 2 > q.top;
        });
        if (clash) span.style.visibility = "hidden"; else placed.push(r);
      });
    });
  }

  /* -- before / after (change map) ----------------------------------------------------- */
  var radios = {};
  function showConfig(which) {
    var after = refs.footprints[0], before = refs.footprints[1];
    if (!before) return;
    var on = which === "before" ? before : after, off = which === "before" ? after : before;
    if (map.hasLayer(off)) map.removeLayer(off);
    if (!map.hasLayer(on)) on.addTo(map);
    on.bringToBack();
    if (radios[which]) radios[which].checked = true;
    syncLabels();
  }
  map.on("overlayadd", function (e) {
    if (refs.footprints[1] && e.layer === refs.footprints[1]) showConfig("before");
    else if (refs.footprints[1] && e.layer === refs.footprints[0]) showConfig("after");
    else syncLabels();
  });
  map.on("overlayremove zoomend", syncLabels);

  /* -- the panel ----------------------------------------------------------------------- */
  var panel = L.control({position: "topleft"});
  panel.onAdd = function () {
    var div = el("div", "gp-panel");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);

    // search
    var search = el("div", "gp-search");
    var input = el("input");
    input.type = "search";
    input.placeholder = "Find a practice or PCN (code or name)";
    input.setAttribute("aria-label", "Find a practice or PCN by code or name");
    var results = el("ul", "gp-results");
    search.appendChild(input);
    search.appendChild(results);
    div.appendChild(search);
    function run() {
      var q = input.value.trim().toLowerCase();
      results.textContent = "";
      if (q.length < 2) return [];
      var hits = [];
      cfg.search.forEach(function (s) {
        if (s.key === undefined) s.key = [plain(s.code).toLowerCase(), plain(s.name).toLowerCase()];
        var code = s.key[0], name = s.key[1];
        var rank = code === q ? 0 : code.indexOf(q) === 0 ? 1 : name.indexOf(q) === 0 ? 2 :
          (code.indexOf(q) >= 0 || name.indexOf(q) >= 0) ? 3 : -1;
        if (rank >= 0) hits.push([rank, s]);
      });
      hits.sort(function (a, b) { return a[0] - b[0]; });
      hits.slice(0, 15).forEach(function (h) {
        var s = h[1];
        var li = el("li", "gp-hit gp-hit-" + s.type);
        li.appendChild(html("b", null, s.code));
        li.appendChild(html("span", null, " " + s.name));
        li.appendChild(html("span", "gp-sub", s.type === "pcn" ? "PCN" : s.sub));
        li.tabIndex = 0;
        li.onclick = function () {
          goTo(s, s.name + " (" + s.code + ")", [s.type === "pcn" ? "PCN" : s.sub]);
        };
        results.appendChild(li);
      });
      if (!hits.length) results.appendChild(el("li", "gp-none", "Nothing found"));
      return hits;
    }
    input.addEventListener("input", run);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        var first = results.querySelector(".gp-hit");
        if (first) first.click();
      }
    });

    // colour by
    if (cfg.bands) {
      var view = el("div", "gp-view");
      view.appendChild(el("span", "gp-h", "Colour PCNs by "));
      [["neighbours", "neighbour-distinct colours"], ["band", "band status"]].forEach(
        function (opt) {
          var label = el("label");
          var radio = el("input");
          radio.type = "radio";
          radio.name = "gp-colour-by";
          radio.value = opt[0];
          radio.checked = opt[0] === "neighbours";
          radio.onchange = function () {
            L.DomUtil[opt[0] === "band" ? "addClass" : "removeClass"](
              map.getContainer(), "gp-by-band");
            bandKey.style.display = opt[0] === "band" ? "" : "none";
          };
          label.appendChild(radio);
          label.appendChild(document.createTextNode(" " + opt[1]));
          view.appendChild(label);
        });
      var bandKey = el("div", "gp-band-key");
      bandKey.style.display = "none";
      cfg.bands.forEach(function (b) {
        var row = el("div", "gp-row");
        var key = el("span", "gp-key");
        key.style.background = b[1];
        row.appendChild(key);
        row.appendChild(html("span", null, b[2]));
        bandKey.appendChild(row);
      });
      view.appendChild(bandKey);
      div.appendChild(view);
    }

    // before / after
    if (refs.footprints[1]) {
      var sw = el("div", "gp-view gp-config");
      sw.appendChild(el("span", "gp-h", "Show the configuration "));
      var afterLabel = cfg.afterLabel || "after the scenario";
      [["after", afterLabel], ["before", "before"]].forEach(function (opt) {
        var label = el("label");
        var radio = el("input");
        radio.type = "radio";
        radio.name = "gp-config";
        radio.value = opt[0];
        radio.checked = opt[0] === "after";
        radio.onchange = function () { showConfig(opt[0]); };
        radios[opt[0]] = radio;
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" " + opt[1]));
        sw.appendChild(label);
      });
      div.appendChild(sw);
    }

    // lists: what changed, findings
    (cfg.lists || []).forEach(function (list) {
      var box = el("details", "gp-list " + list.cls);
      box.open = true;
      box.appendChild(html("summary", "gp-h", list.title));
      if (list.note) box.appendChild(html("div", "gp-note", list.note));
      list.groups.forEach(function (g) {
        var det = el("details", "gp-group");
        det.open = list.groups.length <= 12;
        var sum = el("summary", "gp-group-title");
        if (g.severity) sum.appendChild(el("span", "gp-sev gp-sev-" + g.severity, g.severity));
        sum.appendChild(html("span", null, " " + g.title + " "));
        sum.appendChild(el("span", "gp-count", "(" + g.items.length + ")"));
        det.appendChild(sum);
        var ul = el("ul");
        g.items.forEach(function (it) {
          var li = el("li", "gp-item" + (it.where ? "" : " gp-nowhere"));
          if (it.severity) li.appendChild(el("span", "gp-sev gp-sev-" + it.severity, it.severity));
          li.appendChild(html("span", "gp-text", " " + it.text));
          if (it.where) {
            li.tabIndex = 0;
            li.title = "Show it on the map";
            li.onclick = function () { goTo(it.where, it.title, [it.text]); };
          }
          ul.appendChild(li);
        });
        det.appendChild(ul);
        box.appendChild(det);
      });
      div.appendChild(box);
    });
    return div;
  };
  panel.addTo(map);
  syncLabels();

  /* -- popups open in full view: clear of the panel on the left, the title above and the
     layer control and legend on the right (Leaflet pans the map to keep a popup inside
     this padding; every popup inherits it from L.Popup's options) ---------------------- */
  function popupPadding() {
    var container = map.getContainer(), box = container.getBoundingClientRect();
    var left = 8, top = 8, right = 8;
    var side = container.querySelector(".gp-panel");
    if (side && side.offsetWidth) left = side.getBoundingClientRect().right - box.left + 10;
    var title = document.querySelector(".gp-titlebar");
    if (title && title.offsetHeight) {
      top = Math.max(top, title.getBoundingClientRect().bottom - box.top + 10);
    }
    var edge = box.right;
    container.querySelectorAll(".leaflet-top.leaflet-right .leaflet-control").forEach(
      function (c) { if (c.offsetWidth) edge = Math.min(edge, c.getBoundingClientRect().left); });
    right = Math.max(right, box.right - edge + 10);
    // too narrow for both: a popup keeps clear of the panel, the controls may cover it
    if (left + right + 320 > box.width) right = 8;
    L.Popup.prototype.options.autoPanPaddingTopLeft = L.point(left, top);
    L.Popup.prototype.options.autoPanPaddingBottomRight = L.point(right, 8);
  }
  popupPadding();
  map.on("resize", popupPadding);
  // a click opens a popup: measure first (the legend may have been folded or opened)
  map.getContainer().addEventListener("click", popupPadding, true);
}
"""
