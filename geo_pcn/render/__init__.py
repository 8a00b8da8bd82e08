"""Renderers: every way a report or a comparison leaves the program.

One module per output:

* :mod:`~geo_pcn.render.markdown` - ``report.md`` and ``compare.md``;
* :mod:`~geo_pcn.render.html` - the HTML fragment a notebook shows;
* :mod:`~geo_pcn.render.report_html` - ``report.html``, the whole report on one offline page
  (map embedded, sortable tables, size chart, prints to A4);
* :mod:`~geo_pcn.render.xlsx` - ``report.xlsx``, the workbook (formula-safe, filters, frozen
  headers, band status coloured);
* :mod:`~geo_pcn.render.tables` - CSV, formula-safe for Excel;
* :mod:`~geo_pcn.render.gpkg` - ``footprints.gpkg``, the same bytes on every run;
* :mod:`~geo_pcn.render.map` - ``map.html``, one self-contained offline page;
* :mod:`~geo_pcn.render.change_map` - ``compare_map.html``, the map of a scenario;
* :mod:`~geo_pcn.render.png` - ``map.png``, the static picture;
* :mod:`~geo_pcn.render.outputs` - every file of ``geo-pcn validate`` / ``geo-pcn scenario``
  in a folder the run owns.

JSON is the result objects' own (``Report.to_json()``, ``Comparison.to_json()``), and every
string is escaped by :mod:`geo_pcn._escape`. Nothing below this package imports it.

Examples
--------
>>> import geo_pcn
>>> from geo_pcn import render
>>> from geo_pcn.datasets import demo
>>> report = geo_pcn.validate(demo())
>>> render.to_markdown(report).startswith("# PCN configuration check")
True
"""

from __future__ import annotations

from geo_pcn.render.change_map import build_change_map, write_change_map
from geo_pcn.render.html import to_html
from geo_pcn.render.map import build_map, write_map
from geo_pcn.render.markdown import to_markdown
from geo_pcn.render.outputs import write_comparison, write_report
from geo_pcn.render.png import write_png
from geo_pcn.render.report_html import report_html, write_report_html
from geo_pcn.render.xlsx import to_xlsx, write_xlsx

__all__ = [
    "to_markdown",
    "to_html",
    "report_html",
    "write_report_html",
    "to_xlsx",
    "write_xlsx",
    "write_report",
    "write_comparison",
    "build_map",
    "write_map",
    "write_png",
    "build_change_map",
    "write_change_map",
]
