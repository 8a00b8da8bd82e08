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
    out = {}
    for layer, where in geography.site_areas.items():
        placed = where[where["code"] != ""]
        near = placed["near_code"] if "near_code" in placed else pd.Series(dtype=object)
        out[layer] = (
            placed,
            dict(zip(placed.index, placed["code"], strict=True)),
            {p: c for p, c in near.items() if c},
        )
    return out


def crossings_of(partition, codes) -> dict[str, dict[str, Crossing]]:
    """layer -> ``pcn_code -> Crossing`` for the PCNs of ``codes`` that cross (or lie near)
    the layer's lines, in code order."""
    lookups = partition.study_fact("site_area_lookups", lambda: _layer_lookups(partition.geography))
    sizes = partition.list_sizes
    members = partition.configuration.members
    out: dict[str, dict[str, Crossing]] = {}
    for layer, (placed, placed_code, near_code) in lookups.items():
        found: dict[str, Crossing] = {}
        for code in sorted(codes):
            here = [p for p in members.get(code, ()) if p in placed_code]
            if len({placed_code[p] for p in here if not pd.isna(placed_code[p])}) < 2:
                continue  # (a dict lookup per practice: pandas per PCN is ~1 ms nationally)
            sides = placed.reindex(here)
            shared = set.intersection(
                *({placed_code[p], near_code[p]} if p in near_code else {placed_code[p]}
                  for p in here)
            )
            practices = tuple(sorted(sides.index))
            if shared:  # one area could hold them all: only the generalised line splits them
                counts = sides["code"].value_counts()
                main = sorted(counts.index[counts == counts.max()])[0]
                shaky = sorted(
                    p for p in sides.index if p in near_code and sides.at[p, "code"] != main
                )
                shaky = shaky or sorted(p for p in sides.index if p in near_code)
                found[code] = Crossing(
                    layer,
                    practices,
                    True,
                    {},
                    {},
                    {
                        p: {
                            "code": sides.at[p, "code"],
                            "near_code": near_code[p],
                            "near_m": float(sides.at[p, "near_m"]),
                        }
                        for p in shaky
                    },
                    int(sides["code"].nunique()),
                )
                continue
            detail, labels = {}, {}
            for area_code, group in sides.groupby("code", sort=True):
                first = group.iloc[0]
                detail[area_code] = {
                    "name": first["name"],
                    "nhs_code": first["nhs_code"],
                    "patients": int(sizes.reindex(group.index).sum()),
                    "practices": sorted(group.index),
                }
                labels[area_code] = area_label(first)
            found[code] = Crossing(layer, practices, False, detail, labels, {}, len(detail))
        out[layer] = found
    return out
