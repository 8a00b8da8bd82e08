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


# Band [3000, 5000]; a path whose band is out of reach (tests/test_propose_elastic.py,
# tests/test_propose_wording.py)::
#
#     0 ------ 1 ------ 2 ------ 3        U1 = {0}: 2800 (200 below)
#     2800     2600     2600     2800     U2 = {1, 2, 3}: 8000 (3000 above)
#
# Two PCNs of a path are a prefix and a suffix: {0}|{1,2,3} 2800|8000, {0,1}|{2,3}
# 5400|5400, {0,1,2}|{3} 8000|2800; one PCN is 10,800; three need a piece of one practice
# (below 3000). No configuration is inside the band. The fewest patients outside it: 800
# ({0,1}|{2,3}: 400 + 400; the others 3200, 3200 and 5800). Of the two answers with 800
# outside, U1 = {0,1}, U2 = {2,3} moves practice 1 (2600 patients); the other way round
# moves 0, 2 and 3 (8200).
OUT_OF_REACH = path_part(
    [2800, 2600, 2600, 2800],
    [0, 1, 1, 1],
    [
        Slot("U1", "U1", False, True, True, (0, 1, 2, 3)),
        Slot("U2", "U2", False, True, True, (0, 1, 2, 3)),
    ],
    time_limit=600.0,
)
