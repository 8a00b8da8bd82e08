"""The files of ``geo-pcn history``: ``history.csv`` (one row per PCN and study),
``history.json``, ``history.md`` (one table per PCN), ``report.html`` (the list sizes over
time as an inline SVG chart with the band drawn, then the tables; one offline page) and
``history.png`` (the same chart for papers).

Every string is escaped for its format; every file is the same bytes on a re-run.
"""

from __future__ import annotations

import io
from pathlib import Path

from geo_pcn._escape import html_text, markdown
from geo_pcn.history import History
from geo_pcn.progress import stage
from geo_pcn.render._files import write_atomic, writing
from geo_pcn.render.outputs import write_outputs
from geo_pcn.render.tables import write_csv

__all__ = ["history_markdown", "history_html", "history_svg", "history_png", "write_history"]

#: Line colours, cycled (colour-blind safe, Okabe-Ito).
_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: the PCNs inside the band at every study they are in: drawn grey, not in the legend
_QUIET = "#c3c8cf"


def _outside_band(sizes, band: tuple[int, int]) -> list[bool]:
    """Per PCN (a row of ``sizes``): outside the band at some study, or in some studies only
    (opened or closed): the PCNs the chart colours and names; the rest are grey."""
    low, high = band
    present = sizes.to_numpy() > 0
    outside = present & ((sizes.to_numpy() < low) | (sizes.to_numpy() > high))
    return list(outside.any(axis=1) | ~present.all(axis=1))


def _grid_step(largest: float) -> int:
    """A round step giving at most 8 grid lines up to ``largest``."""
    for step in (5_000, 10_000, 20_000, 25_000, 50_000, 100_000, 250_000, 500_000):
        if largest / step <= 8:
            return step
    return 10 ** max(len(str(int(largest))) - 1, 1)


def history_markdown(h: History) -> str:
    """``history.md``: one table per PCN (a row per study)."""
    low, high = h.band
    lines = [
        "# PCN history: " + " -> ".join(markdown(x) for x in h.labels),
        "",
        f"Band {low:,}-{high:,} patients (of the last study). A PCN missing from a study "
        "has no row for it.",
    ]
    for code, rows in h.table.groupby("pcn_code", sort=True):
        name = rows["pcn_name"].iloc[-1]
        lines += [
            "",
            f"## {markdown(code)} {markdown(name)}",
            "",
            "| study | practices | list size | band status | findings |",
            "|---|---:|---:|---|---:|",
        ]
        lines += [
            f"| {markdown(r.extract)} | {r.n_practices:,} | {r.list_size:,} | "
            f"{markdown(r.band_status)} | {r.n_findings:,} |"
            for r in rows.itertuples(index=False)
        ]
    return "\n".join(lines) + "\n"


def history_svg(h: History, *, width: int = 900, height: int = 420) -> str:
    """An inline SVG line chart: each PCN's list size at each study, the band shaded."""
    sizes = h.list_sizes()
    low, high = h.band
    left, right, top, bottom = 70, 260, 20, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max([high * 1.1, *(float(v) for v in sizes.to_numpy().ravel())]) or 1.0
    n = len(h.labels)

    def x(i: int) -> float:
        return round(left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(value: float) -> float:
        return round(top + plot_h * (1 - value / largest), 1)

    esc = html_text
    out = [
        f'<svg class="chart" id="history-chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="PCN list sizes over time against the size band" '
        'font-family="Arial, sans-serif" font-size="11">',
        f'<rect class="band" x="{left}" y="{y(high)}" width="{plot_w}" '
        f'height="{round(y(low) - y(high), 1)}" fill="#cdebd6"/>',
    ]
    step = _grid_step(largest)
    for value in range(step, int(largest) + 1, step):
        out.append(
            f'<line x1="{left}" y1="{y(value)}" x2="{left + plot_w}" y2="{y(value)}" '
            f'stroke="#eef0f3"/><text x="{left - 6}" y="{y(value) + 4}" text-anchor="end" '
            f'fill="#5b6472">{value:,}</text>'
        )
    for value in (low, high):
        out.append(
            f'<line x1="{left}" y1="{y(value)}" x2="{left + plot_w}" y2="{y(value)}" '
            f'stroke="#1b1f24" stroke-dasharray="4 3"/><text x="{left - 6}" y="{y(value) + 4}" '
            f'text-anchor="end">{value:,}</text>'
        )
    for i, label in enumerate(h.labels):
        text = label if len(label) <= 40 else label[:39] + "…"
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        out.append(
            f'<line x1="{x(i)}" y1="{top}" x2="{x(i)}" y2="{top + plot_h}" stroke="#d0d4da"/>'
            f'<text x="{x(i)}" y="{top + plot_h + 18 + 14 * (i % 2)}" text-anchor="{anchor}">'
            f"{esc(text)}</text>"
        )
    loud = _outside_band(sizes, h.band)
    named = 0
    # grey lines first, so the PCNs the chart is about are drawn on top
    order = sorted(range(len(sizes)), key=lambda k: loud[k])  # stable: grey first
    for k in order:
        code, row = sizes.index[k], sizes.iloc[k]
        colour = _COLOURS[named % len(_COLOURS)] if loud[k] else _QUIET
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(row) if v > 0)
        out.append(
            f'<polyline class="pcn-line" data-pcn="{esc(code)}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="{1.5 if loud[k] else 1}"><title>{esc(code)}: '
            + esc(", ".join(f"{v:,}" for v in row))
            + "</title></polyline>"
        )
        if loud[k] and named < 30:
            out.append(
                f'<text x="{left + plot_w + 8 + 90 * (named // 15)}" '
                f'y="{top + 12 + 16 * (named % 15)}" fill="{colour}">{esc(code)}</text>'
            )
        if loud[k]:
            named += 1
    quiet = len(sizes) - sum(loud)
    if quiet:
        out.append(
            f'<text x="{left + plot_w + 8}" y="{top + 12 + 16 * (min(named, 15) + 1)}" '
            f'fill="#5b6472">grey: {quiet} PCN{"s" if quiet != 1 else ""} inside the band</text>'
        )
    out.append(
        f'<text x="{left}" y="{height - 6}" fill="#5b6472">patients registered; shaded: the '
        f"band {low:,}–{high:,}</text></svg>"
    )
    return "".join(out)


def history_html(h: History) -> str:
    """``report.html``: the chart, then one table per PCN (every string escaped)."""
    esc = html_text
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>PCN history: {esc(' -> '.join(h.labels))}</title>",
        "<style>body{font-family:Arial,sans-serif;margin:1.5em;color:#1b1f24}"
        "table{border-collapse:collapse;margin:.3em 0 1em}td,th{border:1px solid #ccd;"
        "padding:2px 8px}td.n{text-align:right}h2{font-size:1.05em;margin:1em 0 .2em}"
        ".muted{color:#5b6472}</style></head><body>",
        f"<h1>PCN history</h1><p class=muted>{esc(' -> '.join(h.labels))}</p>",
        f"<figure>{history_svg(h)}<figcaption class=muted>List sizes at each study; the "
        "shaded band is the size band of the last study.</figcaption></figure>",
    ]
    for code, rows in h.table.groupby("pcn_code", sort=True):
        body = "".join(
            f"<tr><td>{esc(r.extract)}</td><td class=n>{r.n_practices:,}</td>"
            f"<td class=n>{r.list_size:,}</td><td>{esc(r.band_status)}</td>"
            f"<td class=n>{r.n_findings:,}</td></tr>"
            for r in rows.itertuples(index=False)
        )
        parts.append(
            f"<h2>{esc(code)} {esc(rows['pcn_name'].iloc[-1])}</h2><table><tr><th>study</th>"
            "<th>practices</th><th>list size</th><th>band status</th><th>findings</th></tr>"
            f"{body}</table>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)


def history_png(h: History, *, dpi: int = 150) -> bytes:
    """The chart of :func:`history_svg` as a PNG (A4 landscape), for papers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sizes = h.list_sizes()
    low, high = h.band
    fig = Figure(figsize=(11.69, 8.27), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.axhspan(low, high, color="#eaf6ee", zorder=0)
    for value in (low, high):
        ax.axhline(value, color="#1b1f24", linestyle="--", linewidth=0.8)
    positions = list(range(len(h.labels)))
    loud = _outside_band(sizes, h.band)
    named = 0
    for k, (code, row) in enumerate(sizes.iterrows()):
        xs = [i for i, v in zip(positions, row, strict=True) if v > 0]
        ys = [v for v in row if v > 0]
        if loud[k]:
            colour, label, named = _COLOURS[named % len(_COLOURS)], code, named + 1
        else:
            colour, label = _QUIET, None
        ax.plot(
            xs,
            ys,
            marker="o",
            color=colour,
            label=label,
            linewidth=1.2 if label else 0.8,
            zorder=3 if label else 2,
        )
    ax.set_xticks(positions, [t.replace("$", r"\$") for t in h.labels], fontsize=8)
    ax.set_ylabel("patients registered")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_title(
        f"PCN list sizes; shaded: the band {low:,}-{high:,}; grey: PCNs inside the band at "
        "every study"
    )
    if 0 < named <= 40:
        fig.legend(loc="outside right center", fontsize=7, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def write_history(h: History, out_dir: str | Path, *, png: bool = True) -> list[Path]:
    """Write ``history.csv``, ``history.json``, ``history.md``, ``report.html`` and (with
    ``png``) ``history.png`` into ``out_dir``, as one run that owns the folder."""

    def write(folder: Path) -> None:
        with stage("history.csv, history.json, history.md, report.html"):
            with writing(folder / "history.csv"):
                write_csv(h.table, folder / "history.csv")
            with writing(folder / "history.json"):
                h.to_json(folder / "history.json")
            with writing(folder / "history.md"):
                (folder / "history.md").write_text(history_markdown(h), encoding="utf-8")
            with writing(folder / "report.html"):
                (folder / "report.html").write_text(history_html(h), encoding="utf-8")
        if png:
            with stage("history.png"):
                write_atomic(folder / "history.png", history_png(h))

    return write_outputs(out_dir, write)
