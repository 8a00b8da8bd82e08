"""The :class:`Partition`: one configuration over a study's geography, with its metrics.

After GerryChain's ``Partition``: a partition is made from scratch (a study and a
configuration) or from a parent and a change (:meth:`Partition.flip`,
:meth:`Partition.move`, :meth:`Partition.with_configuration`); it is immutable and holds
its :class:`Flows` (which practices left and joined which PCNs). Every metric is an
*updater*: a function of the partition, computed on first use and cached in it
(``partition["footprints"]`` or ``partition.footprints``). An updater may compute from
scratch or from its parent's value plus the flows; it uses the parent only when the parent
already holds that metric, so the value is the same either way (a property test keeps it
so: ``tests/test_partition.py``).

Study-wide facts the checks derive once (the code crosswalk of a layer, the registrations
the PCN setting reads...) are kept in one table shared by a partition and every partition
made from it (:meth:`Partition.study_fact`): nothing lives in another object's
``__dict__`` or in a module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.geography import Geography, Territories, geography_of
from geo_pcn.partition.updaters import UPDATERS

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Partition", "Flows"]


@dataclass(frozen=True)
class Flows:
    """What changed from a partition's parent to it.

    Attributes
    ----------
    moved
        Practices whose PCN changed, in code order.
    by_pcn
        ``pcn_code -> (joined, left)``: the practices that joined and left each PCN
        (``""`` is no PCN).
    renamed
        PCNs whose name changed.
    """

    moved: tuple[str, ...]
    by_pcn: Mapping[str, tuple[frozenset, frozenset]]
    renamed: frozenset

    @property
    def pcns(self) -> set[str]:
        """PCNs (not ``""``) that practices joined or left."""
        return set(self.by_pcn) - {""}

    def __bool__(self) -> bool:
        return bool(self.moved or self.renamed)

    @classmethod
    def between(cls, old: Configuration, new: Configuration) -> Flows:
        """The flows from ``old`` to ``new`` (the same practices)."""
        a, b = old.assignments, new.assignments
        changed = a.to_numpy() != b.to_numpy()
        moved = a.index[changed]
        joined: dict[str, set] = {}
        left: dict[str, set] = {}
        for p, src, dst in zip(moved, a.to_numpy()[changed], b.to_numpy()[changed], strict=True):
            left.setdefault(src, set()).add(p)
            joined.setdefault(dst, set()).add(p)
        by_pcn = {
            c: (frozenset(joined.get(c, ())), frozenset(left.get(c, ())))
            for c in sorted(set(joined) | set(left))
        }
        old_names, new_names = old.names, new.names
        renamed = frozenset(c for c in new_names if c in old_names and old_names[c] != new_names[c])
        return cls(tuple(sorted(moved)), MappingProxyType(by_pcn), renamed)


class Partition:
    """A study's geography under one configuration, and its metrics (updaters).

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        The configuration; default the study's own.
    geography
        The study's :class:`~geo_pcn.geography.Geography` (default: built or taken from
        the study, :func:`~geo_pcn.geography.geography_of`).
    updaters
        ``name -> function(partition)``; default :data:`geo_pcn.partition.UPDATERS`.

    Attributes
    ----------
    parent
        The partition this one was made from (``None`` when made from scratch, and once a
        partition has been made from this one while this one holds every metric its
        parent holds: a chain of moves does not keep every partition alive).
    flows
        :class:`Flows` from the parent (``None`` when made from scratch).

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> study = demo()
    >>> start = Partition(study)
    >>> int(start["pcn_list_sizes"]["UZ002"]) > 0
    True
    >>> step = start.move("Z00024", to="UZ002")
    >>> step.flows.moved, step.parent is start
    (('Z00024',), True)
    >>> int(step.pcn_list_sizes["UZ002"] - start.pcn_list_sizes["UZ002"]) == int(
    ...     step.list_sizes["Z00024"])
    True
    """

    __slots__ = (
        "study",
        "configuration",
        "geography",
        "updaters",
        "parent",
        "flows",
        "_cache",
        "_facts",
    )

    def __init__(
        self,
        study,
        configuration: Configuration | None = None,
        *,
        geography: Geography | None = None,
        updaters: Mapping[str, Callable[[Partition], Any]] | None = None,
    ) -> None:
        if updaters is None:
            updaters = UPDATERS
        self._init(
            study,
            study.configuration if configuration is None else configuration,
            geography_of(study) if geography is None else geography,
            MappingProxyType(dict(updaters)),
            None,
            None,
            {},
        )

    def _init(self, study, configuration, geography, updaters, parent, flows, facts) -> None:
        for name, value in (
            ("study", study),
            ("configuration", configuration),
            ("geography", geography),
            ("updaters", updaters),
            ("parent", parent),
            ("flows", flows),
            ("_cache", {}),
            ("_facts", facts),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Partition is immutable (cannot set {name!r}); flip it instead")

    # -- made from a parent ---------------------------------------------------------------
    def with_configuration(self, configuration: Configuration) -> Partition:
        """The partition of ``configuration`` made from this one (its parent), holding the
        flows between them; made from scratch when the practices differ."""
        if configuration is self.configuration:
            return self
        if configuration.practice_codes != self.configuration.practice_codes:
            return Partition(
                self.study, configuration, geography=self.geography, updaters=self.updaters
            )
        child = object.__new__(Partition)
        child._init(
            self.study,
            configuration,
            self.geography,
            self.updaters,
            self,
            Flows.between(self.configuration, configuration),
            self._facts,
        )
        self._forget_parent()
        return child

    def _forget_parent(self) -> None:
        """Drop the link to this partition's parent once it holds every metric the parent
        holds: its updaters would not read the parent again, and a long chain of moves
        (each partition made from the last) keeps two partitions alive, not every one."""
        parent = self.parent
        if parent is not None and all(key in self._cache for key in parent._cache):
            object.__setattr__(self, "parent", None)

    def flip(self, flips: Mapping[str, str | None]) -> Partition:
        """The partition with each practice of ``flips`` moved to its PCN (``""`` or
        ``None``: into no PCN).

        Raises
        ------
        InputError
            An unknown practice or PCN (from :meth:`Configuration.move`).
        """
        configuration = self.configuration
        by_target: dict[str, list[str]] = {}
        for practice, pcn in flips.items():
            by_target.setdefault(pcn or "", []).append(practice)
        for pcn, practices in sorted(by_target.items()):
            if pcn:
                configuration = configuration.move(practices, to=pcn)
            else:
                configuration = configuration.unassign(practices)
        return self.with_configuration(configuration)

    def move(self, practices: str | Iterable[str], *, to: str | None) -> Partition:
        """The partition with ``practices`` moved into PCN ``to`` (``None``: no PCN)."""
        codes = [practices] if isinstance(practices, str) else list(practices)
        return self.flip(dict.fromkeys(codes, to))

    # -- metrics --------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        cache = self._cache
        if key not in cache:
            cache[key] = self.updaters[key](self)
        return cache[key]

    def __getattr__(self, key: str) -> Any:
        updaters = object.__getattribute__(self, "updaters")
        if key in updaters:
            return self[key]
        raise AttributeError(f"a Partition has no attribute or metric {key!r}")

    def metric(self, key: str, updater: Callable[[Partition], Any]) -> Any:
        """The metric ``key``: the partition's own updater of that name when it has one,
        else ``updater`` (a check's own metric, such as its findings per PCN:
        :func:`~geo_pcn.partition.keyed.keyed`); computed on first use and cached like
        every metric, so the updater may start from the parent's value when the parent
        holds ``key``."""
        cache = self._cache
        if key not in cache:
            cache[key] = self.updaters.get(key, updater)(self)
        return cache[key]

    def holds(self, key: str) -> bool:
        """Whether the metric ``key`` is computed already (an updater may start from a
        parent's value only when the parent holds it)."""
        return key in self._cache

    def keys(self):
        """The names of the metrics (updaters)."""
        return self.updaters.keys()

    def study_fact(self, key: str, compute: Callable[[], Any]) -> Any:
        """A fact of the study alone (the same for every configuration), computed once for
        this partition and every partition made from it."""
        facts = self._facts
        if key not in facts:
            facts[key] = compute()
        return facts[key]

    # -- the study's geography, as the checks read it --------------------------------------
    @property
    def territories(self) -> Territories:
        return self.geography.territories

    @property
    def graph(self) -> nx.Graph:
        return self.geography.graph

    @property
    def list_sizes(self) -> pd.Series:
        """practice_code -> list size (0 where none)."""
        return self.geography.list_sizes

    @property
    def list_size_of(self) -> dict[str, int]:
        """practice_code -> list size as a plain dict (a study fact: summing a few
        practices' sizes through pandas costs more than a move's other work)."""
        sizes = self.geography.list_sizes
        return self.study_fact(
            "list_size_of", lambda: dict(zip(sizes.index, sizes.to_numpy().tolist(), strict=True))
        )

    def pcn_label(self, code: str) -> str:
        """``NAME (CODE)`` for messages."""
        name = self.configuration.name_of(code)
        return code if name == code else f"{name} ({code})"

    def __len__(self) -> int:
        return self.configuration.n_pcns

    def __repr__(self) -> str:
        n = self.configuration.n_pcns
        made = "from scratch" if self.flows is None else f"{len(self.flows.moved)} moved"
        return f"<Partition [{n} PCN{'s' * (n != 1)}], {made}>"
