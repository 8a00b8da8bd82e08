"""Updaters whose value is made of keyed parts that are each remade only when what they are
made from changed: a check's findings about one PCN (or one practice), for example.

Such an updater returns ``key -> (inputs, part)``. From scratch every part is made; from a
parent holding the same updater's value, a part whose ``inputs`` are the parent's (metric
values the same objects, as an updater keeps an untouched PCN's value from the parent, and
words, numbers and tuples equal) is the parent's part, else it is made again. So the value
from a parent equals the value from scratch whenever a part depends on its inputs alone
(a property test keeps the checks' findings so: ``tests/test_partition.py``).

Examples
--------
>>> from geo_pcn.datasets import demo
>>> from geo_pcn.partition import Partition
>>> def sizes(partition):
...     sizes = partition.pcn_list_sizes
...     return keyed(
...         partition,
...         "sizes",
...         ((c, (int(sizes[c]),), lambda c=c: f"{c}: {int(sizes[c]):,}") for c in sizes.index),
...     )
>>> start = Partition(demo())
>>> step = start.move("Z00024", to="UZ002")
>>> before, after = start.metric("sizes", sizes), step.metric("sizes", sizes)
>>> after["UZ001"][1] is before["UZ001"][1], after["UZ002"][1] is before["UZ002"][1]
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

__all__ = ["keyed", "parts"]

_PLAIN = (str, int, float, bool, tuple, type(None))


def _same(a: tuple, b: tuple) -> bool:
    """Whether two parts' inputs are the same: each the same object, or a plain value
    (text, number, tuple) of the same type and equal."""
    return len(a) == len(b) and all(
        x is y or (type(x) in _PLAIN and type(y) is type(x) and x == y)
        for x, y in zip(a, b, strict=True)
    )


def keyed(
    partition, name: str, entries: Iterable[tuple[Hashable, tuple, Callable[[], Any]]]
) -> dict:
    """The value of the keyed updater ``name`` of ``partition``: ``key -> (inputs, part)``
    for each entry ``(key, inputs, make)`` in order; a part is the parent's when the parent
    holds ``name`` and had the same inputs for the key, else ``make()``.

    Parameters
    ----------
    partition
        The :class:`~geo_pcn.partition.Partition` the updater runs for.
    name
        The updater's name (its value in the parent is read under it).
    entries
        ``(key, inputs, make)``: ``inputs`` a tuple of what the part is made from,
        ``make`` a function of no arguments making it.
    """
    parent = partition.parent
    old = parent[name] if parent is not None and parent.holds(name) else {}
    out: dict = {}
    for key, inputs, make in entries:
        hit = old.get(key)
        out[key] = hit if hit is not None and _same(hit[0], inputs) else (inputs, make())
    return out


def parts(value: dict) -> list:
    """The parts of a keyed updater's value, each a list, joined in key order."""
    return [item for _, part in value.values() for item in part]
