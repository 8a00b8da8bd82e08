"""The legend and title bar of the map (:mod:`geo_pcn.render.map`): HTML built from the
map's data, with a swatch for every symbol the layers draw
(:mod:`geo_pcn.render._map_layers`). Every string from an input file is HTML-escaped.
"""

from __future__ import annotations

from geo_pcn._escape import html_text
from geo_pcn.render._map_data import (
    COMMUNITY_STYLES,
    NO_PCN_COLOUR,
    SEVERITY_COLOURS,
    MapData,
    boundary_styles,
    example_list_sizes,
    practice_radius,
    pretty_layer,
)
from geo_pcn.render._map_layers import (
    _CHANGES_HIDDEN_ABOVE,
    _PRACTICES_HIDDEN_ABOVE,
    AREA_FILLS,
    CHANGE_STYLES,
    _finding_style,
    _word,
)


def _swatch_fill(
    colour: str, *, outline: str = "#FFFFFF", width: float = 1, dash: str | None = None
) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="22" height="14"><rect x="1" y="1" width="20" height="12" fill="{colour}" '
        f'fill-opacity="0.8" stroke="{outline}" stroke-width="{width}"{dash_attr}/></svg>'
    )


def _swatch_line(colour: str, weight: float, dash: str | None) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="22" height="14"><line x1="1" y1="7" x2="21" y2="7" stroke="{colour}" '
        f'stroke-width="{weight}"{dash_attr}/></svg>'
    )


def _swatch_circle(
    fill: str,
    radius: float,
    stroke: str = "#222222",
    width: float = 1.2,
    dash: str | None = None,
) -> str:
    size = int(2 * radius + 4)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="{max(size, 22)}" height="{size}"><circle cx="{max(size, 22) / 2}" '
        f'cy="{size / 2}" r="{radius}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash_attr}/></svg>'
    )


def _row(symbol: str, text: str) -> str:
    return f'<div class="gp-row"><span class="gp-sym">{symbol}</span><span>{text}</span></div>'


_KIND_LABELS = {
    "detached_group": "Detached practices: their home pieces and the line to the main group",
    "exclave": "Exclave: a piece of a footprint cut off from the rest",
    "footprint_in_pieces": "Footprint drawn in pieces: the pieces apart from its main one",
    "hole": "Hole: small areas in no PCN footprint",
    "area_served_from_outside": "Served from outside: areas of the region whose residents "
    "mostly use practices outside the study",
    "practice_in_no_pcn": "Practice in no PCN",
    "recorded_code_mismatch": "Practice site not in its recorded sub-ICB",
    "outside_layer": "Practice site outside the boundary layer",
    "split_across_areas": "PCN split across community areas",
    "site_outside_pcn": "Community site outside the PCN it declares",
}


def _legend_html(data: MapData, report, *, changes=None) -> str:
    """The legend (every input-derived string in ``data`` is already escaped).

    Long because: it is the legend's rows in the order they appear on the page, one
    short block per layer drawn (each present only when that layer is); the order is the
    point, and the blocks share nothing but the list they append to.
    """
    fp = data.footprints
    used = list(dict.fromkeys(fp["colour"]))
    swatches = "".join(_swatch_fill(c) for c in used[:8])
    rows = [
        '<div class="gp-h">PCN footprints</div>',
        _row(swatches, ""),
        '<div class="gp-note">Colours only tell neighbours apart: touching PCNs never share '
        "one. Hover for the PCN, click for its findings.</div>",
    ]
    if fp["has_error"].any():
        rows.append(
            _row(
                _swatch_fill("#FFFFFF", outline=SEVERITY_COLOURS["error"], width=3),
                "PCN with an ERROR finding (size band, split...)",
            )
        )
    big = data.largest_list
    examples = example_list_sizes(big)
    circles = "".join(
        _swatch_circle("#BBBBBB", float(practice_radius([s], big)[0])) for s in examples
    )
    rows += [
        '<div class="gp-h">Practices</div>',
        _row(circles, " / ".join(f"{s:,}" for s in examples) + " patients"),
        '<div class="gp-note">Circle area = list size; colour = its PCN; '
        f'<span class="gp-key" style="background:{NO_PCN_COLOUR}"></span> grey = in no PCN. '
        "Click a practice for details.</div>",
    ]
    if len(data.practices) > _PRACTICES_HIDDEN_ABOVE:
        rows.append(
            f'<div class="gp-note"><b>{len(data.practices):,} practices: the layer starts '
            "hidden at this scale; tick it in the layer control.</b></div>"
        )
    if data.boundaries:
        rows.append('<div class="gp-h">Boundaries</div>')
        for layer, (colour, weight, dash) in boundary_styles(data.boundaries).items():
            rows.append(_row(_swatch_line(colour, weight, dash), pretty_layer(layer)))
    if data.community:
        rows.append('<div class="gp-h">Community services</div>')
        for i, (layer, (kind, _frame)) in enumerate(data.community.items()):
            colour = COMMUNITY_STYLES[i % len(COMMUNITY_STYLES)]
            symbol = (
                _swatch_circle("#FFFFFF", 3.5, stroke=colour, width=2)
                if kind == "sites"
                else _swatch_line(colour, 2, "2 5")
            )
            rows.append(_row(symbol, f"{pretty_layer(layer)} ({kind})"))
    if len(data.findings):
        rows.append('<div class="gp-h">Findings</div>')
        # one row per kind (its dash pattern), a symbol per severity it has (its colour)
        for kind, group in data.findings.groupby("kind", sort=False):
            symbols = []
            for severity, gtype in dict.fromkeys(
                zip(group["severity"], group["gtype"], strict=True)
            ):
                style = _finding_style(severity, gtype, kind)
                if gtype == "point":
                    symbols.append(
                        _swatch_circle(
                            "none", 6, stroke=style["color"], width=3, dash=style.get("dashArray")
                        )
                    )
                elif kind in AREA_FILLS:
                    symbols.append(
                        _swatch_fill(
                            style["fillColor"],
                            outline=style["color"],
                            width=2,
                            dash=style.get("dashArray"),
                        )
                    )
                else:
                    symbols.append(_swatch_line(style["color"], 3, style.get("dashArray")))
            text = _KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
            rows.append(_row("".join(symbols), text))
        rows.append(
            '<div class="gp-note">Colour = severity (dark red error, orange warning, blue '
            "note); the dash pattern = the kind. Hover a symbol for the finding.</div>"
        )
    if changes is not None:
        before, after, ring = (
            CHANGE_STYLES["before"],
            CHANGE_STYLES["after"],
            CHANGE_STYLES["moved"],
        )
        rows += [
            f'<div class="gp-h">{html_text(_word(changes, "changes_layer"))}</div>',
            _row(_swatch_line(before["color"], 2.5, before["dashArray"]), "Changed PCN, before"),
            _row(_swatch_line(after["color"], 4, None), "Changed PCN, after"),
            _row(
                _swatch_circle("none", 6, stroke=ring["color"], width=3),
                f"Practice that moved ({len(changes.get('moved', ())):,}); hover for where",
            ),
            _row(
                _swatch_line(CHANGE_STYLES["line"]["color"], 3, "1 5"),
                "Its move: old PCN, the practice, new PCN",
            ),
        ]
        if len(changes.get("moved", ())) > _CHANGES_HIDDEN_ABOVE:
            rows.append(
                f'<div class="gp-note"><b>{len(changes["moved"]):,} practices moved: the '
                "layer starts hidden at this scale; tick it in the layer control.</b></div>"
            )
    notes = []
    if data.n_not_located:
        notes.append(f"{data.n_not_located:,} practice(s) could not be located and are not shown.")
    notes.append(
        f"Shapes simplified for display (about {data.tolerance:.0f} m); measurements use the "
        "full geometry."
    )
    if data.synthetic:
        notes.append("<b>SYNTHETIC demo data: not real practices or patients.</b>")
    rows.append('<div class="gp-note gp-foot">' + " ".join(notes) + "</div>")
    pcn_rows = ""
    if len(fp) <= 80:
        table = report.pcns.set_index("pcn_code")["list_size"]
        items = "".join(
            f'<div class="gp-row"><span class="gp-key" style="background:{c}"></span>'
            f"<span>{label} &middot; {int(table.get(code, 0)):,}</span></div>"
            for code, label, c in zip(fp.index, fp["label"], fp["colour"], strict=True)
        )
        pcn_rows = f"<details><summary>PCNs ({len(fp)})</summary>{items}</details>"
    return (
        '<details open><summary class="gp-title">Legend</summary>'
        + "".join(rows)
        + pcn_rows
        + "</details>"
    )


def _title_html(data: MapData) -> str:
    badge = (
        '<span class="gp-synthetic">SYNTHETIC DEMO DATA &middot; not real practices or '
        "patients</span><br>"
        if data.synthetic
        else ""
    )
    colour = "#1a7f37" if data.verdict_ok else SEVERITY_COLOURS["error"]
    return (
        f'<div class="gp-titlebar">{badge}<b>{data.title}</b><br>'
        f'<span style="color:{colour}">{data.subtitle}</span></div>'
    )
