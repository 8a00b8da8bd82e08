"""The provisional codes and names of the new PCNs a proposal opens (``NEW-...``): each
named after the PCN it is made from, or, grown from practices in no PCN, after the PCN
most of its patients come from."""

from __future__ import annotations

import re

from geo_pcn.proposal._explain import NO_AREA
from geo_pcn.proposal._part import Part

__all__: list[str] = []


def _provisional(part: Part, got: dict, names: dict, taken: set) -> dict[str, tuple[str, str]]:
    """slot code -> (provisional code, name) for the new PCNs a part's answer uses: each
    named after the PCN it is made from, numbered by its first practice; one grown from
    practices in no PCN after the PCN most of its patients come from
    (:func:`_source`), unless most come from practices in no PCN."""
    used: dict[str, list[str]] = {}
    for p, code in got.items():
        used.setdefault(code, []).append(p)
    by_parent: dict[str, list[tuple[str, str]]] = {}
    for slot in part.slots:
        if slot.new and slot.code in used:
            parent = slot.parent or _source(part, used[slot.code])
            by_parent.setdefault(parent, []).append((min(used[slot.code]), slot.code))
    out = {}
    for parent, found in sorted(by_parent.items()):
        for i, (_, code) in enumerate(sorted(found), 1):
            where = part.name if part.name != NO_AREA else "UNPLACED"
            base = f"NEW-{parent}-{i}" if parent else f"NEW-{where}-{i}"
            # codes are matched whatever their case: write them as a code is written
            base = re.sub(r"[^A-Z0-9]+", "-", base.upper()).strip("-")
            new_code, n = base, 1
            while new_code in taken:
                n += 1
                new_code = f"{base}-{n}"
            taken.add(new_code)
            name = (
                f"{names.get(parent, parent)} (new PCN {i})"
                if parent
                else f"New PCN {i} in {part.name} (practices in no PCN)"
            )
            out[code] = (new_code, name)
    return out


def _source(part: Part, practices) -> str:
    """The PCN (of the part) that most of the patients of ``practices`` are in now; ``""``
    when most are in no PCN (or in a PCN of another part). Ties: the first code."""
    index = {p: i for i, p in enumerate(part.practices)}
    patients: dict[str, int] = {}
    for p in practices:
        i = index[p]
        k = part.current[i]
        code = part.slots[k].code if k >= 0 else ""
        patients[code] = patients.get(code, 0) + part.weights[i]
    return min(patients, key=lambda code: (-patients[code], code))
