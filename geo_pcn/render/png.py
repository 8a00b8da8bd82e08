"""The static picture of the map (PNG, for board papers), drawn with matplotlib: ``map.png``.

Same layers, colours and symbols as the HTML map; drawn in British National Grid with a
kilometre scale bar. Uses matplotlib's object API (no pyplot, no global state, no display).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np

from geo_pcn._spatial import drawable
from geo_pcn.render._files import write_atomic
from geo_pcn.render._map_data import (
    COMMUNITY_STYLES,
    NO_PCN_COLOUR,
    SEVERITY_COLOURS,
    MapData,
    boundary_styles,
    build_map_data,
    example_list_sizes,
    label_points,
    practice_radius,
    pretty_layer,
)

__all__ = ["write_png", "draw_png"]

_KIND_TEXT = {
    "detached_group": "Detached practices and line to main group",
    "exclave": "Exclave of a footprint",
    "hole": "Hole: areas in no PCN footprint",
    "area_served_from_outside": "Served from outside: areas whose residents use other practices",
    "practice_in_no_pcn": "Practice in no PCN",
    "recorded_code_mismatch": "Site not in recorded sub-ICB",
    "outside_layer": "Site outside the boundary layer",
    "split_across_areas": "PCN split across community areas",
    "site_outside_pcn": "Community site outside its PCN",
}


#: Resolution of map.png unless asked (``--dpi``); 300 for print.
DEFAULT_DPI = 200


def write_png(report, path: str | Path, *, dpi: int = DEFAULT_DPI) -> Path:
    """Draw the map of a report as a static picture (PNG, for board papers).

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.
    path
        The file to write (``map.png``); written whole or not at all.
    dpi
        Dots per inch of the A4 landscape picture (200: 2338 x 1654 pixels; 300 for
        print: 3507 x 2481).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    return write_atomic(Path(path), draw_png(build_map_data(report), report, dpi=int(dpi)))


def _text(escaped: str) -> str:
    """Display text for matplotlib: unescaped HTML, ``$`` not read as mathtext."""
    return html.unescape(escaped).replace("<b>", "").replace("</b>", "").replace("$", r"\$")


def _dash(pattern: str | None) -> tuple | str:
    if not pattern:
        return "-"
    return (0, tuple(float(v) / 2 for v in pattern.split()))


def draw_png(data: MapData, report, *, dpi: int = DEFAULT_DPI) -> bytes:
    """PNG bytes of the map (A4 landscape at ``dpi``).

    Long because: it draws the layers in their z-order, each adding its own legend handle
    beside the artist it describes, on one matplotlib figure; split into steps it would
    pass the figure, the axes and the growing handle list through every one of them.
    """
    # matplotlib loads only when a picture is drawn (the command line starts faster)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=(11.69, 8.27), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_axis_off()

    fp = data.footprints[drawable(data.footprints.geometry)]
    handles: list = []
    if len(fp):
        fp.plot(ax=ax, color=fp["colour"].to_list(), alpha=0.75, edgecolor="white", linewidth=0.6)
        handles.append(
            Patch(
                facecolor=fp["colour"].iloc[0],
                edgecolor="white",
                label="PCN footprint (colours tell neighbours apart)",
            )
        )
    styles = boundary_styles(data.boundaries)
    for layer, frame in data.boundaries.items():
        if not len(frame):
            continue
        colour, weight, dash = styles[layer]
        frame.boundary.plot(ax=ax, color=colour, linewidth=weight * 0.6, linestyle=_dash(dash))
        handles.append(
            Line2D(
                [],
                [],
                color=colour,
                lw=weight * 0.6,
                ls=_dash(dash),
                label=_text(pretty_layer(layer)),
            )
        )
    for i, (layer, (kind, frame)) in enumerate(data.community.items()):
        if not len(frame):
            continue
        colour = COMMUNITY_STYLES[i % len(COMMUNITY_STYLES)]
        label = f"{_text(pretty_layer(layer))} ({kind})"
        if kind == "sites":
            frame.plot(
                ax=ax, color="white", edgecolor=colour, markersize=9, linewidth=0.9, zorder=4
            )
            handles.append(
                Line2D([], [], ls="", marker="o", mfc="white", mec=colour, ms=4, label=label)
            )
        else:
            frame.boundary.plot(ax=ax, color=colour, linewidth=1.2, linestyle=(0, (1, 2.5)))
            handles.append(Line2D([], [], color=colour, lw=1.2, ls=(0, (1, 2.5)), label=label))
    errored = fp[fp["has_error"]]
    if len(errored):
        errored.boundary.plot(ax=ax, color=SEVERITY_COLOURS["error"], linewidth=2.2, zorder=3)
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=SEVERITY_COLOURS["error"],
                linewidth=2,
                label="PCN with an ERROR finding",
            )
        )
    findings = data.findings
    for kind, group in findings.groupby("kind", sort=False) if len(findings) else ():
        severity = group["severity"].iloc[0]
        colour = SEVERITY_COLOURS.get(severity, "#000000")
        label = _KIND_TEXT.get(kind, kind.replace("_", " ").capitalize())
        polys = group[group["gtype"] == "polygon"]
        lines = group[group["gtype"] == "line"]
        points = group[group["gtype"] == "point"]
        if kind in ("hole", "area_served_from_outside") and len(polys):
            fill = "#666666" if kind == "hole" else "#A8A8A8"
            polys.plot(ax=ax, color=fill, alpha=0.5, edgecolor=colour, linewidth=1, zorder=3)
            handles.append(Patch(facecolor=fill, edgecolor=colour, label=label))
            if kind == "hole":  # a hole is often a sliver: ring it so it shows at A4
                at = label_points(polys.geometry.to_numpy())
                ax.scatter(
                    [g.x for g in at if g is not None],
                    [g.y for g in at if g is not None],
                    s=260,
                    facecolors="none",
                    edgecolors=colour,
                    linewidths=1.8,
                    zorder=5,
                )
            continue
        if len(polys):
            polys.boundary.plot(
                ax=ax, color=colour, linewidth=1.5, linestyle=(0, (3, 2.5)), zorder=5
            )
        if len(lines):
            lines.plot(ax=ax, color=colour, linewidth=1.8, linestyle=(0, (3, 2.5)), zorder=5)
        if len(points):
            points.plot(
                ax=ax, facecolor="none", edgecolor=colour, markersize=160, linewidth=1.8, zorder=5
            )
            handles.append(
                Line2D(
                    [], [], ls="", marker="o", mfc="none", mec=colour, mew=1.8, ms=9, label=label
                )
            )
        else:
            handles.append(Line2D([], [], color=colour, lw=1.6, ls=(0, (3, 2.5)), label=label))

    pts = data.practices
    if len(pts):
        size = (np.asarray(pts["radius"], dtype=float) * 1.1) ** 2
        ax.scatter(
            pts.geometry.x,
            pts.geometry.y,
            s=size,
            c=pts["colour"].to_list(),
            edgecolors="#222222",
            linewidths=0.6,
            zorder=6,
        )
        big = data.largest_list
        for value in example_list_sizes(big):
            r = float(practice_radius([value], big)[0]) * 1.1
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    mfc="#BBBBBB",
                    mec="#222222",
                    ms=r,
                    label=f"Practice, {value:,.0f} patients",
                )
            )
        if (pts["colour"] == NO_PCN_COLOUR).any():
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    mfc=NO_PCN_COLOUR,
                    mec="#222222",
                    ms=6,
                    label="Practice in no PCN (grey)",
                )
            )

    x0, y0, x1, y1 = data.bounds
    pad = 0.03 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    _scale_bar(ax, x0, y0, x1 - x0)
    _labels(ax, fp, span=max(x1 - x0, (y1 - y0) * 1.45) + 2 * pad)

    title = _text(data.title)
    if data.synthetic:
        title = "SYNTHETIC DEMO DATA - not real practices or patients\n" + title
    fig.suptitle(title, fontsize=13, fontweight="bold")
    ax.set_title(
        _text(data.subtitle),
        fontsize=9.5,
        color="#1a7f37" if data.verdict_ok else SEVERITY_COLOURS["error"],
    )
    fig.legend(handles=handles, loc="outside right center", fontsize=7.5, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


#: PCN names on the picture: font size (points) and about how wide a character is
_LABEL_PT, _CHAR_PT = 6.5, 3.7
#: the map's width on the page (points), the legend taking the rest of A4 landscape
_MAP_WIDTH_PT = 0.70 * 11.69 * 72


def _labels(ax, fp, *, span: float) -> None:
    """PCN names inside their footprints, where they fit (the name's width on the page
    against the footprint's); the largest footprints first, none over another."""
    from matplotlib import patheffects

    if not len(fp):
        return
    metres_per_pt = span / _MAP_WIDTH_PT
    geoms = fp.geometry.to_numpy()
    points = label_points(geoms)
    bounds = np.asarray([g.bounds for g in geoms])
    width = np.minimum(bounds[:, 2] - bounds[:, 0], 1.3 * np.sqrt([g.area for g in geoms]))
    texts = [_text(html.escape(str(t))) for t in fp["name_text"]]
    need = np.array([len(t) * _CHAR_PT + 4 for t in texts]) * metres_per_pt
    order = np.lexsort((fp.index.to_numpy().astype(str), -np.asarray([g.area for g in geoms])))
    placed: list[tuple[float, float, float, float]] = []
    height = _LABEL_PT * 1.4 * metres_per_pt
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for i in order:
        point = points[i]
        if point is None or need[i] > width[i]:
            continue
        box = (
            point.x - need[i] / 2,
            point.y - height / 2,
            point.x + need[i] / 2,
            point.y + height / 2,
        )
        if any(box[0] < b[2] and box[2] > b[0] and box[1] < b[3] and box[3] > b[1] for b in placed):
            continue
        placed.append(box)
        ax.text(
            point.x,
            point.y,
            texts[i],
            ha="center",
            va="center",
            fontsize=_LABEL_PT,
            fontweight="bold",
            color="#1b1b1b",
            path_effects=halo,
            zorder=8,
        )


def _scale_bar(ax, x0: float, y0: float, width: float) -> None:
    """A scale bar of a round number of km, about a fifth of the map width."""
    target = width / 5 / 1000
    km = next((k for k in (50, 20, 10, 5, 2, 1, 0.5) if k <= target), 0.5)
    length = km * 1000
    ax.plot([x0, x0 + length], [y0, y0], color="black", lw=3, solid_capstyle="butt", zorder=7)
    ax.text(x0 + length / 2, y0, f"{km:g} km\n", ha="center", va="bottom", fontsize=8, zorder=7)
