"""Line crossings of a partition, PCN by PCN and layer by layer: the areas of a boundary
layer its practices' sites lie in (:attr:`Geography.site_areas`), with the patients on
each side, or, where one area could hold them all but for sites within a generalised
layer's error of its line, the practices near the line. A PCN's value depends on its own
practices only."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Crossing", "crossings_of", "area_label"]


@dataclass(frozen=True)
class Crossing:
    """A PCN whose practices a layer puts in more than one area.

    ``near`` is ``False`` for a crossing (``sides``: area code -> name, nhs_code, patients,
    practices; ``labels``: area code -> how it reads) and ``True`` when only sites near
    the generalised line split it (``shaky``: practice -> its area, the other area within
    the generalisation and the distance; ``n_areas``: areas the polygons put it in).
    """

    layer: str
    practices: tuple[str, ...]
    near: bool
    sides: dict
    labels: dict
    shaky: dict
    n_areas: int


def area_label(row) -> str:
    """``NHS / ONS name`` of a site-area row (``code``, ``name``, ``nhs_code``)."""
    code, name, nhs = row["code"], row.get("name", ""), row.get("nhs_code", "")
    shown = f"{nhs} / {code}" if nhs and nhs != code else code
    return f"{shown} {name}".strip() if name and name != code else shown


def _layer_lookups(geography) -> dict:
    """layer -> (each placed practice's row as a dict, its area code, the other area within
    the generalisation when near the line): plain dicts, as a move reads a few practices
    and a pandas lookup per PCN costs more than the work (~1 ms nationally)."""
    out = {}
    for layer, where in geography.site_areas.items():
        placed = where[where["code"] != ""]
        near = placed["near_code"] if "near_code" in placed else pd.Series(dtype=object)
        out[layer] = (
            _Rows(placed),
            dict(zip(placed.index, placed["code"], strict=True)),
            {p: c for p, c in near.items() if c},
        )
    return out


def crossings_of(partition, codes) -> dict[str, dict[str, Crossing]]:
    """layer -> ``pcn_code -> Crossing`` for the PCNs of ``codes`` that cross (or lie near)
    the layer's lines, in code order."""
    lookups = partition.study_fact("site_area_lookups", lambda: _layer_lookups(partition.geography))
    members = partition.configuration.members
    out: dict[str, dict[str, Crossing]] = {}
    for layer, (rows, placed_code, near_code) in lookups.items():
        split = []  # (code, its placed practices, whether one area could hold them all)
        for code in sorted(codes):
            here = [p for p in members.get(code, ()) if p in placed_code]
            if len({placed_code[p] for p in here if not pd.isna(placed_code[p])}) < 2:
                continue
            shared = set.intersection(
                *(
                    {placed_code[p], near_code[p]} if p in near_code else {placed_code[p]}
                    for p in here
                )
            )
            split.append((code, here, bool(shared)))
        rows.fill([p for _, here, _ in split for p in here])
        found: dict[str, Crossing] = {}
        for code, here, shared in split:
            if shared:  # one area could hold them all: only the generalised line splits them
                found[code] = _near_line(layer, here, rows, near_code)
            else:
                found[code] = _crossing(partition, layer, here, rows)
        out[layer] = found
    return out


class _Rows:
    """Each placed practice's row of a layer's site areas as a dict (as the frame's
    ``to_dict("index")`` gives it), made only for the practices of PCNs that cross a line
    (:meth:`fill` them first): every row of every layer nationally costs ~0.2 s."""

    def __init__(self, placed: pd.DataFrame) -> None:
        self._placed, self._rows = placed, {}

    def fill(self, practices) -> None:
        missing = list(dict.fromkeys(p for p in practices if p not in self._rows))
        if missing:
            self._rows.update(self._placed.loc[missing].to_dict("index"))

    def __getitem__(self, practice: str) -> dict:
        return self._rows[practice]


def _area_groups(here, rows) -> dict:
    """area code -> the practices of ``here`` placed in it (in ``here``'s order), areas in
    code order (a practice with no area code left out)."""
    groups: dict = {}
    for p in here:
        area = rows[p]["code"]
        if not pd.isna(area):
            groups.setdefault(area, []).append(p)
    return {a: groups[a] for a in sorted(groups)}


def _near_line(layer: str, here, rows, near_code) -> Crossing:
    """The :class:`Crossing` of practices one area could hold but for sites near the
    generalised line: the practices near it outside the area most of them are in."""
    groups = _area_groups(here, rows)
    most = max(len(g) for g in groups.values())
    main = min(a for a, g in groups.items() if len(g) == most)
    shaky = sorted(p for p in here if p in near_code and rows[p]["code"] != main)
    shaky = shaky or sorted(p for p in here if p in near_code)
    detail = {
        p: {"code": rows[p]["code"], "near_code": near_code[p], "near_m": float(rows[p]["near_m"])}
        for p in shaky
    }
    return Crossing(layer, tuple(sorted(here)), True, {}, {}, detail, len(groups))


def _crossing(partition, layer: str, here, rows) -> Crossing:
    """The :class:`Crossing` of practices placed in more than one area: each side's area,
    patients and practices."""
    size = partition.list_size_of
    detail, labels = {}, {}
    for area_code, group in _area_groups(here, rows).items():
        first = rows[group[0]]
        detail[area_code] = {
            "name": first["name"],
            "nhs_code": first["nhs_code"],
            "patients": int(sum(size.get(p, 0) for p in group)),
            "practices": sorted(group),
        }
        labels[area_code] = area_label(first)
    return Crossing(layer, tuple(sorted(here)), False, detail, labels, {}, len(detail))
