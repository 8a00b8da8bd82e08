"""Drawn proposal parts for the solver tests: practices on a path, each in a slot.

    0 ------ 1 ------ 2 ------ 3 ------ 4      SPLIT: all U1, 9000; band [3000, 5000]
    2000     2000     800      1200     3000

U1 must split into contiguous pieces of the path, a prefix and a suffix, each in the band:
after practice 1 (4000 | 5000) or after practice 2 (4800 | 4200); after 0 the prefix is
2000, after 3 the prefix is 6000. Three pieces of 3000 or more out of 9000 would each be
exactly 3000, and no prefix of the path sums to 3000 (2000, 4000, ...).
"""

from __future__ import annotations

from geo_pcn.proposal.model import Part, Slot

BAND = (3000, 5000)


def path_part(weights, pcns, slots, name="P", time_limit=600.0) -> Part:
    """Practices ``0 - 1 - ... - n-1`` on a path, practice ``i`` in slot ``pcns[i]``."""
    n = len(weights)
    return Part(
        name=name,
        practices=tuple(f"A{i:05d}" for i in range(1, n + 1)),
        weights=tuple(weights),
        current=tuple(pcns),
        placed=(True,) * n,
        edges=tuple((i, i + 1) for i in range(n - 1)),
        slots=tuple(slots),
        band=BAND,
        time_limit=time_limit,
    )


SPLIT = path_part(
    [2000, 2000, 800, 1200, 3000],
    [0, 0, 0, 0, 0],
    [
        Slot("U1", "U1", False, True, True, (0, 1, 2, 3, 4)),
        Slot("\0new U1 1", "U1", True, True, True, (0, 1, 2, 3, 4)),
        Slot("\0new U1 2", "U1", True, True, True, (0, 1, 2, 3, 4)),
    ],
)
