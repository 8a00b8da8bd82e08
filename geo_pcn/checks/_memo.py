"""Findings kept from one move to the next: a check's findings about one PCN (or one
practice) are made again only when what they are made from changed.

A check asks its :class:`Memo` for each PCN's findings with what they are made from
(``deps``: the partition's metric value for the PCN, its label...); when the previous
partition of the same study asked with the same ``deps`` (metric values the same objects
— an updater keeps an untouched PCN's value from the parent — and words equal), its
findings are returned, else ``make()`` makes them. The memo lives in the partition's study
facts and holds only the last partition's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_PLAIN = (str, int, float, bool, tuple, type(None))


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(
        x is y or (type(x) in _PLAIN and type(y) is type(x) and x == y)
        for x, y in zip(a, b, strict=True)
    )


class Memo:
    """The findings of one check on the previous partition, by key (see module
    docstring); :meth:`close` once the check is done keeps this partition's."""

    def __init__(self, partition, check: str) -> None:
        self._old: dict = partition.study_fact(("findings", check), dict)
        self._new: dict = {}

    def get(self, key: Hashable, deps: tuple, make: Callable[[], Any]) -> Any:
        hit = self._old.get(key)
        found = hit[1] if hit is not None and _same(hit[0], deps) else make()
        self._new[key] = (deps, found)
        return found

    def close(self) -> None:
        self._old.clear()
        self._old.update(self._new)
