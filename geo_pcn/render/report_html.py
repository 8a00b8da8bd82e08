"""``report.html``: the whole report as one self-contained page to e-mail or print.

One file, no outside request (inline CSS and a few lines of plain JavaScript): the verdict,
the summary (how the study area was decided, where the patients live), the interactive map,
a size chart (inline SVG), the per-PCN table (sortable by a click on a header, band status
coloured), every finding grouped by check with its figures, community alignment and the
notes on the inputs. A print stylesheet lays it out on A4: every section on a new page,
no row cut in two, no controls.

The map is ``map.html`` itself inside an ``<iframe srcdoc>``: the same interactive map
(layers, popups, legend), offline, with nothing to keep in step; its scripts run in the
frame, apart from the report's. A static picture (``map.png``) would print the same but
would need matplotlib on every run and lose the popups a planner opens the report for.

Every string from the inputs goes through :func:`geo_pcn._escape.html_text`; the page is
the same bytes on every run (no timestamp, no random id).

Examples
--------
>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> page = report_html(geo_pcn.validate(demo()), include_map=False)
>>> page.startswith("<!DOCTYPE html>"), page.count("<script"), "<link" in page
(True, 1, False)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_pcn._escape import html_text as esc
from geo_pcn._residents import TITLE, residents_grid, residents_header, residents_notes
from geo_pcn._words import label
from geo_pcn.alignment import AreaAlignment
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.render._files import write_atomic
from geo_pcn.render._report_html_parts import _BAR, _facts, _plural
from geo_pcn.render._report_html_sections import (
    _alignment_section,
    _findings_section,
    _pcn_section,
    size_chart,  # noqa: F401 (importable from here, as before the split)
)
from geo_pcn.report import Report

__all__ = ["report_html", "write_report_html", "BAND_COLOURS"]

#: Band status -> (background, text) colours, in the table, the chart and the workbook.
BAND_COLOURS: dict[str, tuple[str, str]] = {
    "within": ("#d3f0dc", "#14532d"),
    "below": ("#fde2c8", "#7c2d12"),
    "above": ("#fbd0d0", "#7f1d1d"),
    "exempt": ("#dbe4f5", "#1e3a8a"),
}


_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 "Segoe UI",Arial,Helvetica,sans-serif;color:#1b1f24;margin:0;background:#f4f5f7}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:22px;margin:8px 0 4px}
h2{font-size:18px;margin:28px 0 8px;
 border-bottom:2px solid #005eb8;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{display:inline-block;padding:6px 14px;border-radius:4px;
 font-weight:700;font-size:18px;color:#fff}
.pass{background:#1a7f37}.fail{background:#b42318}
.synthetic{background:#fff4ce;border:1px solid #e0b400;padding:6px 10px;margin:8px 0}
nav a{margin-right:12px;color:#005eb8}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d0d4da;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f5}
th.num,table.sortable th{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#8a94a3;font-size:11px}
table.sortable th[aria-sort=ascending]:after{content:" \\25B2";color:#005eb8}
table.sortable th[aria-sort=descending]:after{content:" \\25BC";color:#005eb8}
.band-within{background:#d3f0dc;color:#14532d}.band-below{background:#fde2c8;color:#7c2d12}
.band-above{background:#fbd0d0;color:#7f1d1d}.band-exempt{background:#dbe4f5;color:#1e3a8a}
.sev-error{color:#b42318;font-weight:700}.sev-warning{color:#9a5b00;font-weight:700}.sev-info{color:#475467}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:6px 0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.map-frame{width:100%;height:640px;border:1px solid #d0d4da}
.chart{max-width:100%;height:auto}
.muted{color:#5b6472}
.hint{font-size:12px;color:#5b6472}
@media print{
 @page{size:A4;margin:12mm}
 body{background:#fff;font-size:10pt}
 main{max-width:none;padding:0}
 nav,.hint,.no-print{display:none}
 section{break-before:page}
 section.first{break-before:auto}
 h2,h3{break-after:avoid}
 tr,dl.facts,svg,figure{break-inside:avoid}
 thead{display:table-header-group}
 table{font-size:8.5pt;width:100%}
 table.sortable th:after{content:""}
 .map-frame{height:175mm;break-inside:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


# The map's frame is filled once the page is laid out (the map fits its view to the
# frame: a frame filled before the first layout has no size). Sorting: a click (or Enter)
# on a header of a table.sortable sorts its body by that column; numbers by their data-v
# value, text in the page's language.
_JS = """
(function(){
  // the map starts once this page is laid out: Leaflet fits its view to the frame's size
  function startMaps(){
    document.querySelectorAll('iframe[data-srcdoc]').forEach(function(f){
      f.srcdoc=f.getAttribute('data-srcdoc');f.removeAttribute('data-srcdoc');
    });
  }
  if(document.readyState==='complete'){startMaps();}
  else{window.addEventListener('load',function(){requestAnimationFrame(startMaps);});}
  function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent:v;}
  function sortBy(th){
    var table=th.closest('table'),body=table.tBodies[0];
    var idx=Array.prototype.indexOf.call(th.parentNode.children,th);
    var asc=th.getAttribute('aria-sort')!=='ascending';
    var rows=Array.prototype.slice.call(body.rows);
    var numeric=th.classList.contains('num');
    rows.sort(function(a,b){
      var x=key(a.cells[idx]),y=key(b.cells[idx]),c;
      if(numeric){x=x===''?-Infinity:parseFloat(x);y=y===''?-Infinity:parseFloat(y);c=x-y;}
      else{c=String(x).localeCompare(String(y));}
      return asc?c:-c;
    });
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(th.parentNode.children,function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
  }
  document.querySelectorAll('table.sortable th').forEach(function(th){
    th.tabIndex=0;
    th.addEventListener('click',function(){sortBy(th);});
    th.addEventListener('keydown',function(e){if(e.key==='Enter'){sortBy(th);}});
  });
})();
"""


def report_html(
    report: Report,
    *,
    map_page: str | None = None,
    include_map: bool = True,
    tiles: str | None = None,
) -> str:
    """The whole report as one self-contained HTML page (``report.html``).

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.
    map_page
        The text of ``map.html`` to embed (built here when ``None`` and ``include_map``).
    include_map
        Embed the interactive map (in an ``<iframe srcdoc>``).
    tiles
        Basemap of the embedded map when it is built here (off by default: no network).

    Returns
    -------
    str
        The page; every string from the inputs escaped, no outside request.
    """
    if include_map and map_page is None:
        from geo_pcn.render.map import build_map, deterministic_ids

        with deterministic_ids():
            map_page = build_map(report.study, report, tiles=tiles).get_root().render()
    s = report.summary
    title = f"PCN configuration check: {report.study.name}"
    sections = [
        _summary_section(report),
        _map_section(map_page if include_map else None),
        _pcn_section(report),
        _findings_section(report),
        _alignment_section(report),
        _notes_section(report),
    ]
    links = [
        ("summary", "Summary"),
        *((("map", "Map"),) if include_map else ()),
        ("pcns", "PCNs"),
        ("findings", "Findings"),
        *((("alignment", "Community alignment"),) if report.alignment.layers else ()),
        ("notes", "Data notes"),
    ]
    nav = "<nav>" + "".join(f'<a href="#{k}">{v}</a>' for k, v in links) + "</nav>"
    synthetic = (
        '<p class="synthetic"><b>SYNTHETIC demo region</b>: not real practices or patients.</p>'
        if s.get("synthetic")
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{esc(title)}</h1>\n{_verdict(report)}\n{synthetic}\n{nav}\n"
        + "\n".join(x for x in sections if x)
        + f"\n</main>\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def write_report_html(
    report: Report,
    path: str | Path,
    *,
    map_page: str | None = None,
    include_map: bool = True,
    tiles: str | None = None,
) -> Path:
    """Write :func:`report_html` to ``path`` (whole or not at all)."""
    page = report_html(report, map_page=map_page, include_map=include_map, tiles=tiles)
    return write_atomic(path, page.encode("utf-8"))


def _verdict(report: Report) -> str:
    sev = report.summary["findings"]
    word, cls = ("PASS", "pass") if report.ok else ("FAIL", "fail")
    return (
        f'<p><span class="verdict {cls}" id="verdict">{word}</span> '
        f"{_plural(sev['error'], 'error')}, {_plural(sev['warning'], 'warning')}, "
        f"{_plural(sev['info'], 'note')}.</p>"
    )


def _summary_section(report: Report) -> str:
    s = report.summary
    low, high = s["band"]
    pcns = report.pcns
    status = pcns["band_status"].value_counts() if len(pcns) else pd.Series(dtype=int)
    rows = [
        ("Practices", f"{_plural(s['n_practices'], 'practice')} in {_plural(s['n_pcns'], 'PCN')}"),
        ("Registered patients", f"{s['n_patients']:,} patients"),
        (
            "In no PCN",
            f"{_plural(s['n_practices_in_no_pcn'], 'practice')} "
            f"({s['n_patients_in_no_pcn']:,} patients)",
        ),
        (
            "Size band",
            f"{low:,}&ndash;{high:,} patients; "
            + ", ".join(f"{_plural(int(status.get(k, 0)), 'PCN')} {k}" for k in _BAR)
            + f"; exempt PCNs: {esc(', '.join(s['exempt'])) or 'none'}",
        ),
        ("Territories from", esc(s["footprint_method"])),
    ]
    parts = ['<section id="summary" class="first">', "<h2>Summary</h2>", _facts(rows)]
    if "study_area" in s:
        area, where = s["study_area"], s["patients_by_residence"]
        parts.append("<h3>How the study area was decided</h3>")
        area_rows = [
            ("Small areas", _plural(int(area["n_small_areas"]), "small area")),
            ("Decided from", esc(area["decided_by"])),
        ]
        if area.get("n_small_areas_served_from_outside_in_region"):
            area_rows.append(
                (
                    "Served from outside",
                    _plural(int(area["n_small_areas_served_from_outside_in_region"]), "small area")
                    + " of the region won by practices outside the study",
                )
            )
        if area.get("n_residents_registered_outside"):
            how = (
                "registered at practices outside the study"
                if area.get("outside_competition_from") == "registrations"
                else "not registered at its practices (population less its patients)"
            )
            area_rows.append(
                (
                    "Not at its practices",
                    f"{area['n_residents_registered_outside']:,} residents of the study area "
                    f"(PCN footprints and areas its practices in no PCN serve) {how}",
                )
            )
        parts.append(_facts(area_rows))
        parts.append("<h3>Where the patients live</h3>")
        total = sum(int(n) for n in where.values()) or 1
        body = "".join(
            f"<tr><td>{esc(label(k))}</td><td class=num>{int(n):,}</td>"
            f"<td class=num>{100 * int(n) / total:.1f}%</td></tr>"
            for k, n in where.items()
        )
        parts.append(
            "<table><thead><tr><th>where</th><th class=num>patients</th>"
            f"<th class=num>share</th></tr></thead><tbody>{body}</tbody></table>"
        )
    parts.append(_residents_html(s.get("residents")))
    parts.append("</section>")
    return "\n".join(parts)


def _residents_html(table: dict | None) -> str:
    """The residents table (every resident of the areas given accounted for), with its
    notes; empty without registrations."""
    if not table:
        return ""
    header = residents_header(table)
    head = f"<th>{esc(header[0])}</th>" + "".join(
        f'<th class=num style="white-space:normal">{esc(h)}</th>' for h in header[1:]
    )
    body = []
    for row in residents_grid(table):
        total = row[0] in ("the study's region", "all the areas given") or row[0].startswith("all ")
        cells = "".join(f"<td class=num>{'' if v is None else f'{v:,}'}</td>" for v in row[1:])
        label = f"<b>{esc(row[0])}</b>" if total else esc(row[0])
        body.append(f"<tr><td>{label}</td>{cells}</tr>")
    notes = residents_notes(table, esc)
    listed = "<ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>" if notes else ""
    return (
        f'<h3 id="residents">{esc(TITLE)}</h3>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{listed}"
    )


def _map_section(map_page: str | None) -> str:
    if map_page is None:
        return ""
    return (
        '<section id="map"><h2>Map</h2>'
        '<p class="hint">The interactive map (the same as map.html): zoom, switch layers, click '
        "a PCN or a practice.</p>"
        f'<iframe class="map-frame" title="Map of the PCN footprints and findings" '
        f'sandbox="allow-scripts" data-srcdoc="{esc(map_page)}"></iframe>'
        "<noscript><p>The map needs JavaScript: open map.html.</p></noscript></section>"
    )


def _notes_section(report: Report) -> str:
    study = report.study
    info = study.summary()
    rows = [("Study file", esc(Path(info["source"]).name) if info.get("source") else "(in memory)")]
    rows.append(
        (
            "Practices located",
            f"{int(info['n_located']):,} of {_plural(int(info['n_practices']), 'practice')}"
            + (
                " (" + ", ".join(f"{esc(k)}: {v:,}" for k, v in info["located_by"].items()) + ")"
                if info.get("located_by")
                else ""
            ),
        )
    )
    rows.append(
        ("Not located", esc(", ".join(info["not_located"])) or "none (every practice placed)")
    )
    if info.get("list_size_sources"):
        rows.append(
            (
                "List sizes from",
                ", ".join(
                    f"{esc(k)}: {_plural(v, 'practice')}"
                    for k, v in info["list_size_sources"].items()
                ),
            )
        )
    if info.get("no_list_size"):
        rows.append(("No list size", esc(", ".join(info["no_list_size"]))))
    if info.get("status"):
        rows.append(
            (
                "Practice status",
                ", ".join(f"{esc(k)}: {v:,}" for k, v in info["status"].items()),
            )
        )
    if info.get("registrations"):
        reg = info["registrations"]
        text = f"{reg['n_patients']:,} patients by small area"
        if reg.get("by_area_kind"):
            text += (
                " (" + ", ".join(f"{esc(k)}: {v:,}" for k, v in reg["by_area_kind"].items()) + ")"
            )
        if reg.get("outside_study"):
            o = reg["outside_study"]
            text += (
                f"; outside the study: {_plural(o['n_practices'], 'practice')}, "
                f"{o['n_patients']:,} patients"
            )
        rows.append(("Registrations", text))
    if info.get("areas") is not None:
        rows.append(("Small areas", _plural(int(info["areas"]), "small area")))
    for layer, n in info.get("boundaries", {}).items():
        rows.append((f"Boundary: {esc(layer_label(layer))}", _plural(int(n), "area")))
    for layer, c in info.get("community", {}).items():
        unit = "site" if c["kind"] == "sites" else "area"
        located = (
            f", {int(c['n_located']):,} located"
            if c["kind"] == "sites" and c.get("n_located") is not None
            else ""
        )
        rows.append((f"Community: {esc(layer)}", f"{_plural(int(c['n']), unit)}{located}"))
    for name, result in report.alignment.layers.items():
        if not isinstance(result, AreaAlignment) and len(result.not_located):
            missing = result.not_located
            listed = ", ".join(
                f"{c} ({p})" if p else str(c)
                for c, p in zip(missing["code"], missing["postcode"], strict=True)
            )
            rows.append((f"Not located: {esc(name)}", esc(listed)))
    parts = ['<section id="notes"><h2>Data notes</h2>', "<h3>Inputs</h3>", _facts(rows)]
    if study.notes:
        parts.append("<h3>Notes on the inputs</h3>")
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in study.notes) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)
