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

__all__ = ["inline_assets"]

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
