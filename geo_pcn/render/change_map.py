"""The change map of a scenario: ``compare_map.html``.

The map of the ``after`` report (:func:`geo_pcn.render.map.build_map`) with the ``before``
configuration's footprints as a second layer (a switch in the panel or the layer control
shows one or the other), and a "What changed" layer on top: the changed PCNs' footprints
before (dashed) and after (thick), a ring round every practice that moved and a line from
its old PCN (the point where that footprint's name goes) through the practice to its new
PCN. The panel lists the moves, the PCNs whose band status changed and the findings
resolved, introduced and changed; a click on one shows it on the map. Every string is
escaped here (feature properties and panel data, no templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn._escape import html_text
from geo_pcn._spatial import drawable
from geo_pcn.compare import Comparison, moved_words
from geo_pcn.render._map_data import build_map_data, label_points
from geo_pcn.render.map import _findings_list, build_map, write_map
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


def _change_layers(comparison: Comparison, words: dict[str, str] | None = None) -> dict[str, Any]:
    """What the change map draws: the changed PCNs' footprints before and after, and the
    moved practices, in BNG with escaped tooltips (``tip``)."""
    esc = html_text
    changed = list(comparison.changed_pcns["pcn_code"])
    outlines = {}
    for report, label in ((comparison.before, "before"), (comparison.after, "after")):
        fp = report.partition.footprints.pcns
        fp = fp[fp.index.isin(changed) & drawable(fp.geometry)]
        outlines[label] = gpd.GeoDataFrame(
            {
                "tip": [
                    f"<b>{esc(report.configuration.name_of(code))} ({esc(code)})</b><br>"
                    f"{(words or {}).get(label, f'{label} the scenario')}"
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
    # a line from the old PCN (where its name goes) through the practice to the new one
    before_fp = build_map_data(comparison.before).footprints
    after_fp = comparison.after.partition.footprints.pcns
    anchor_before = pd.Series(label_points(before_fp.geometry.to_numpy()), index=before_fp.index)
    anchor_after = pd.Series(label_points(after_fp.geometry.to_numpy()), index=after_fp.index)
    lines, tips = [], []
    for r, point in zip(moved.itertuples(index=False), points[located].to_numpy(), strict=True):
        start = anchor_before.get(r.from_pcn_code) if r.from_pcn_code else None
        end = anchor_after.get(r.to_pcn_code) if r.to_pcn_code else None
        coords = [g for g in (start, point, end) if g is not None and not g.is_empty]
        if len(coords) < 2:
            continue
        lines.append(shapely.linestrings(np.array([[g.x, g.y] for g in coords])))
        tips.append(
            f"<b>{esc(r.practice_name)} ({esc(r.practice_code)})</b><br>from "
            f"{pcn(r.from_pcn_code, names[1])} to {pcn(r.to_pcn_code, names[0])}"
        )
    line_frame = gpd.GeoDataFrame(
        {"tip": tips},
        geometry=lines,
        crs=practices.crs,
        index=pd.Index([f"line{i}" for i in range(len(lines))]),
    )

    def panel(places: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        return _panel(comparison, places, moves, names)

    return {
        "before": outlines["before"],
        "after": outlines["after"],
        "moved": moved_frame,
        "lines": line_frame,
        "before_footprints": before_fp,
        "panel": panel,
        **({"words": dict(words)} if words else {}),
    }


def _panel(comparison: Comparison, places, moves: pd.DataFrame, names) -> list[dict[str, Any]]:
    """The change map's panel lists: what changed (moves, band statuses), then the findings
    resolved, introduced and changed (``changed`` read when the comparison has it)."""
    esc = html_text

    def pcn(code: str, name_of) -> str:
        return f"{esc(name_of(code))} ({esc(code)})" if code else "no PCN"

    moved_items = [
        {
            "text": f"{esc(r.practice_code)} {esc(r.practice_name)}: from "
            f"{pcn(r.from_pcn_code, names[1])} to {pcn(r.to_pcn_code, names[0])}, "
            f"{int(r.list_size):,} patients",
            "title": f"{esc(r.practice_name)} ({esc(r.practice_code)}) moved",
            "where": places["practice"].get(r.practice_code),
        }
        for r in moves.itertuples(index=False)
    ]
    groups = [{"title": "Practices that changed PCN", "items": moved_items, "severity": ""}]
    band = comparison.band_changes
    if len(band):
        cols = band.columns
        before_col = next((c for c in cols if "before" in c and "band" in c), None)
        after_col = next((c for c in cols if "after" in c and "band" in c), None)
        items = []
        for _, row in band.iterrows():
            code = str(row["pcn_code"])
            was = esc(row[before_col]) if before_col else ""
            now = esc(row[after_col]) if after_col else ""
            items.append(
                {
                    "text": f"{esc(code)}: band status {was or 'none'} -> {now or 'none'}",
                    "title": f"PCN {esc(code)}",
                    "where": places["pcn"].get(code),
                }
            )
        groups.append({"title": "PCNs whose band status changed", "items": items, "severity": ""})
    out = [
        {
            "title": "What changed",
            "cls": "gp-changes",
            "note": esc(moved_words(comparison.summary)),
            "groups": groups,
        }
    ]
    changed = list(getattr(comparison, "changed", None) or [])
    for title, findings, cls in (
        ("Findings resolved", list(comparison.resolved), "gp-resolved"),
        ("Findings introduced", list(comparison.introduced), "gp-introduced"),
        ("Findings changed", [getattr(c, "after", c) for c in changed], "gp-changed"),
    ):
        out.append(_findings_list(findings, places, title, cls))
    return out


def write_change_map(
    comparison: Comparison,
    path: str | Path,
    *,
    tiles: str | None = None,
    words: dict[str, str] | None = None,
) -> Path:
    """Write :func:`build_change_map` as one self-contained HTML file (whole or not at all):
    ``compare_map.html``. ``words`` overrides the scenario's words
    (:data:`geo_pcn.render.map.CHANGE_WORDS`, and ``before`` / ``after`` for the tooltips of
    the changed PCNs), e.g. for two extracts of different dates."""
    return write_map(
        comparison.after,
        path,
        tiles=tiles,
        changes=_change_layers(comparison, words),
    )
