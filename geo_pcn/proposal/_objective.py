"""How an answer is valued, the same way by every search: patients (or practices, or PCNs)
moved first, then crossings added, then the tie-breaks (:func:`_score`), and the crossings a
configuration adds (:func:`crossings_added`)."""

from __future__ import annotations

import numpy as np

from geo_pcn.proposal._part import Part

__all__ = ["crossings_added", "within_caps"]


def _needs(part: Part) -> tuple[bool, ...]:
    """Whether each practice must be connected to the rest of its PCN."""
    return part.needs if part.needs else part.placed


def _gap(value: int, bound: int) -> float:
    return 0.0 if value <= bound else round((value - bound) / max(value, 1), 6)


def _score(part: Part, answer: tuple[int, ...]) -> dict:
    """A configuration (a slot index per practice, from the heuristic) valued as
    :func:`_run` values the solver's: the same keys, the same objectives."""
    n_s = len(part.slots)
    w = part.weights
    current = part.current
    was = [p for p, k in enumerate(answer) if current[p] >= 0 and current[p] != k]
    forced = [p for p in range(len(answer)) if current[p] == -2]
    patients = sum(w[p] for p in was)
    opened = sum(1 for k in set(answer) if part.slots[k].new)
    changed = [False] * n_s
    for k, slot in enumerate(part.slots):
        changed[k] = slot.changed
    for p, k in enumerate(answer):
        if current[p] != k:
            changed[k] = True
            if current[p] >= 0:
                changed[current[p]] = True
    for k, slot in enumerate(part.slots):
        if slot.new:
            changed[k] = k in set(answer)
    if part.objective == "pcns":
        first, second = sum(changed), patients
        extra = 0
    elif part.objective == "practices":
        first, second = len(was), patients * (n_s + 1) + opened
        extra = len(forced)
    else:
        first, second = patients, len(was) * (n_s + 1) + opened
        extra = sum(w[p] for p in forced)
    moved = was + forced
    crossings = crossings_added(part, answer)
    if part.lines:
        second += crossings * (_tie_most(part) + 1)
    sizes = [0] * n_s
    for p, k in enumerate(answer):
        sizes[k] += w[p]
    low, high = part.band
    outside = {
        part.slots[k].code: (int(sizes[k]), low if sizes[k] < low else high)
        for k in sorted(set(answer))
        if part.slots[k].band and not low <= sizes[k] <= high
    }
    return {
        "status": "heuristic",
        "values": None,
        "assignment": tuple(part.slots[k].code for k in answer),
        "slots": tuple(answer),
        "value": int(first + extra),
        "first_value": float(first),
        "second_value": float(second),
        "changed": changed,
        "crossings": crossings,
        "bound": None,
        "gap": None,
        "patients_moved": int(sum(w[p] for p in moved)),
        "practices_moved": len(moved),
        "outside_band": outside,
        "n_variables": 0,
        "n_constraints": 0,
    }


def within_caps(part: Part, answer) -> bool:
    """Whether every slot free of the band holds no more than its cap in ``answer`` (a
    slot index per practice): the rule every answer shown keeps (the solvers' answers
    keep it by their constraints; the heuristic's and the last resort's are checked)."""
    sizes = np.zeros(len(part.slots), dtype=np.int64)
    np.add.at(sizes, np.asarray(answer, dtype=np.int64), np.asarray(part.weights, dtype=np.int64))
    return all(s.cap is None or s.band or sizes[k] <= s.cap for k, s in enumerate(part.slots))


def _tie_most(part: Part) -> int:
    """The most today's tie-breaks (the second objective without crossings) can add up
    to: one crossing added outweighs them all."""
    n_s = len(part.slots)
    if part.objective == "pcns":
        return int(sum(part.weights))
    if part.objective == "practices":
        return int(sum(part.weights)) * (n_s + 1) + n_s
    return len(part.practices) * (n_s + 1) + n_s


def _line_sets(part: Part):
    """Per layer of :attr:`Part.lines`: ``(area per practice, areas each slot holds now)``
    (a new slot holds none)."""
    out = []
    for _, area in part.lines:
        held: list[set[int]] = [set() for _ in part.slots]
        for p, k in enumerate(part.current):
            if k >= 0 and area[p] >= 0 and not part.slots[k].new:
                held[k].add(area[p])
        out.append((area, held))
    return out


def crossings_added(part: Part, answer) -> int:
    """Crossings ``answer`` (a slot index per practice) adds, as the model counts them:
    per layer and slot, the areas it holds that it did not hold (less one for a new
    slot, whose first area is no crossing). A slot that left every area it held for
    another counts that area too (an over-count the model accepts)."""
    total = 0
    for area, held in _line_sets(part):
        now: list[set[int]] = [set() for _ in part.slots]
        for p, k in enumerate(answer):
            if k >= 0 and area[p] >= 0:
                now[k].add(area[p])
        for k, areas in enumerate(now):
            if areas:
                total += max(len(areas - held[k]) - (0 if held[k] else 1), 0)
    return total


def _pad(vec: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([vec, np.zeros(n - len(vec))]) if len(vec) < n else vec
