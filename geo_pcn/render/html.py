"""HTML fragments: a report or a comparison as the HTML a notebook shows (and an e-mail
can carry).

The fragments are the result objects' own ``_repr_html_`` (the study, configuration,
report and comparison each fill a Jinja2 template of :mod:`geo_pcn._templates`, so that
a result shows itself without importing the renderers); :func:`to_html` is the public
way to ask for them. Every string from the inputs is escaped by
:func:`geo_pcn._escape.html_text`.

Examples
--------
>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> to_html(geo_pcn.validate(demo())).startswith("<div><h3>")
True
"""

from __future__ import annotations

from geo_pcn._escape import html_table
from geo_pcn.compare import Comparison
from geo_pcn.report import Report

__all__ = ["to_html", "html_table"]


def to_html(result: Report | Comparison) -> str:
    """The HTML fragment of a :class:`~geo_pcn.report.Report` (verdict, summary, findings
    by severity, the PCN and practice tables, notes) or of a
    :class:`~geo_pcn.compare.Comparison` (verdicts before and after, changes, findings
    resolved and introduced, moves, PCNs changed, crossings, alignment).

    Raises
    ------
    TypeError
        ``result`` is neither.
    """
    if isinstance(result, Report | Comparison):
        return result._repr_html_()
    raise TypeError(f"to_html takes a Report or a Comparison, not {type(result).__name__}")
