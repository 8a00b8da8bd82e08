"""The Jinja2 templates of the HTML that result objects show of themselves.

A domain object's ``_repr_html_`` (a notebook's view of a
:class:`~geo_pcn.compare.Comparison`) hands its values to a template in
``geo_pcn/templates/`` and writes no markup itself. Autoescape is on, and every value a
template prints goes through :func:`geo_pcn._escape.html_text` (the one HTML escaper, which
also shows unprintable characters as visible stand-ins); only markup that
:mod:`geo_pcn._escape` built (:func:`~geo_pcn._escape.html_table`) or a template's own
macros made passes through as it is (``Markup``).

Nothing here imports from the rest of the package but :mod:`geo_pcn._escape`: every layer
may use it.

Examples
--------
>>> page = _environment().from_string("<p>{{ name }}: {{ n|thousands }}</p>{{ table }}")
>>> page.render(name="<b>Bob's</b>", n=1234, table=Markup("<table></table>"))
'<p>&lt;b&gt;Bob&#x27;s&lt;/b&gt;: 1,234</p><table></table>'
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    import jinja2

from geo_pcn._escape import html_text

__all__ = ["render", "Markup"]


def _escaped(value: Any) -> Markup:
    """What a template prints: markup as it is, anything else through ``html_text``."""
    return value if isinstance(value, Markup) else Markup(html_text(value))


def _thousands(n: int) -> str:
    """A whole number with thousands commas: ``35889`` -> ``35,889``."""
    return f"{n:,}"


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # here, not with the module: `geo-pcn info` never fills a template

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("geo_pcn", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["thousands"] = _thousands
    return env


def render(name: str, /, **values: Any) -> str:
    """The template ``geo_pcn/templates/<name>`` filled with ``values`` (a plain string)."""
    return str(_environment().get_template(name).render(**values))
