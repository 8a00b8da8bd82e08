"""The change map of a scenario: ``compare_map.html``.

The map of the ``after`` report (:func:`geo_pcn.render.map.build_map`) with a "What
changed" layer on top, drawn before the layer control that names it: the changed PCNs'
footprints before (dashed) and after (thick), and a ring round every practice that moved.
Every tooltip is built here from escaped strings (feature properties, no templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from geo_pcn._escape import html_text
from geo_pcn.compare import Comparison
from geo_pcn.render.map import build_map, write_map
from geo_pcn.settings import PRACTICE_CODE

__all__ = ["build_change_map", "write_change_map"]


def build_change_map(comparison: Comparison, *, tiles: str | None = None) -> folium.Map:
    """The map of the ``after`` report (:func:`geo_pcn.render.map.build_map`) with a
    "What changed" layer on top: the changed PCNs' footprints before (dashed) and after
    (thick), and a ring round every practice that moved (hover it: from which PCN to which).

    Returns
    -------
    folium.Map
        Self-contained like :func:`geo_pcn.render.map.build_map`.
    """
    return build_map(
        comparison.after.study, comparison.after, tiles=tiles, changes=_change_layers(comparison)
    )


def _change_layers(comparison: Comparison) -> dict[str, Any]:
    """What the change map draws: the changed PCNs' footprints before and after, and the
    moved practices, in BNG with escaped tooltips (``tip``)."""
    esc = html_text
    changed = list(comparison.changed_pcns["pcn_code"])
    outlines = {}
    for report, label in ((comparison.before, "before"), (comparison.after, "after")):
        fp = report.context.footprints.pcns
        fp = fp[fp.index.isin(changed) & fp.geometry.notna() & ~fp.geometry.is_empty]
        outlines[label] = gpd.GeoDataFrame(
            {
                "tip": [
                    f"<b>{esc(report.configuration.name_of(code))} ({esc(code)})</b><br>"
                    f"{label} the scenario"
                    for code in fp.index
                ]
            },
            geometry=fp.geometry.to_numpy(),
            crs=fp.crs,
            index=pd.Index([f"{label}{i}" for i in range(len(fp))]),
        )
    moves = comparison.moves
    practices = comparison.after.study.practices
    points = practices.geometry.reindex(moves[PRACTICE_CODE])
    located = points.notna().to_numpy() & ~points.is_empty.to_numpy()
    moved = moves[located]
    names = comparison.after.configuration.name_of, comparison.before.configuration.name_of

    def pcn(code: str, name_of) -> str:
        return f"{esc(name_of(code))} ({esc(code)})" if code else "no PCN"

    moved_frame = gpd.GeoDataFrame(
        {
            "tip": [
                f"<b>{esc(r.practice_name)} ({esc(r.practice_code)})</b><br>moved from "
                f"{pcn(r.from_pcn_code, names[1])} to {pcn(r.to_pcn_code, names[0])}"
                f"<br>{int(r.list_size):,} patients"
                for r in moved.itertuples(index=False)
            ]
        },
        geometry=points[located].to_numpy(),
        crs=practices.crs,
        index=pd.Index([f"moved{i}" for i in range(len(moved))]),
    )
    return {"before": outlines["before"], "after": outlines["after"], "moved": moved_frame}


def write_change_map(comparison: Comparison, path: str | Path, *, tiles: str | None = None) -> Path:
    """Write :func:`build_change_map` as one self-contained HTML file (whole or not at all):
    ``compare_map.html``."""
    return write_map(
        comparison.after,
        path,
        tiles=tiles,
        changes=_change_layers(comparison),
    )
