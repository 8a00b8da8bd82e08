"""Partitions: one configuration over a study's geography, and its metrics as updaters.

A :class:`Partition` is made from scratch or from its parent and a change
(:meth:`Partition.flip`, :meth:`Partition.move`, :meth:`Partition.with_configuration`);
its metrics (:data:`UPDATERS`: list sizes, footprints and their pieces, contiguity,
exclaves, line crossings, coverage of the areas, the PCN setting, alignment) are computed
on first use and cached in it, from the parent's value plus the :class:`Flows` where the
parent holds one. The checks (:mod:`geo_pcn.checks`) turn the metrics into findings; their
findings per PCN are updaters too (:meth:`Partition.metric`, :func:`keyed`): a move makes
only the changed PCNs' findings again.
"""

from __future__ import annotations

from geo_pcn.partition._contiguity import Detached, Exclave, PCNContiguity
from geo_pcn.partition._crossings import Crossing
from geo_pcn.partition.keyed import keyed, parts
from geo_pcn.partition.partition import Flows, Partition
from geo_pcn.partition.updaters import UPDATERS

__all__ = [
    "Partition",
    "Flows",
    "UPDATERS",
    "PCNContiguity",
    "Detached",
    "Exclave",
    "Crossing",
    "keyed",
    "parts",
]
