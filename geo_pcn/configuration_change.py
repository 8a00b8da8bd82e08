"""Change: one operation applied to a configuration, an entry of its changes log.

:class:`~geo_pcn.configuration.Configuration`'s operations (``move``, ``merge``, ``split``,
``add_pcn``, ``unassign``, ``rename``) each record one; ``Configuration.history`` lists
them from the first configuration of the chain. Importable from
:mod:`geo_pcn.configuration` (and :mod:`geo_pcn`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Change"]


@dataclass(frozen=True)
class Change:
    """One operation applied to a configuration: an entry of its changes log.

    Attributes
    ----------
    op
        ``"move"``, ``"merge"``, ``"split"``, ``"add_pcn"``, ``"unassign"`` or ``"rename"``.
    description
        One line a planner reads (``str(change)``).
    moves
        ``(practice_code, from_pcn_code, to_pcn_code)`` for every practice whose PCN
        changed (``""`` for no PCN).
    pcn_codes
        The PCNs the operation names.
    names
        ``(pcn_code, name)`` for every PCN the operation named.

    Examples
    --------
    >>> from geo_pcn.configuration import Configuration
    >>> config = Configuration({"A00001": "U00001", "A00002": "U00002"})
    >>> change = config.merge(["U00001", "U00002"], into="U00001", name="ONE").changes[0]
    >>> change.op, change.moves
    ('merge', (('A00002', 'U00002', 'U00001'),))
    """

    op: str
    description: str
    moves: tuple[tuple[str, str, str], ...] = ()
    pcn_codes: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.description

    @property
    def practice_codes(self) -> tuple[str, ...]:
        """Practices whose PCN changed."""
        return tuple(m[0] for m in self.moves)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {
            "op": self.op,
            "description": self.description,
            "moves": [
                {"practice_code": p, "from_pcn_code": a, "to_pcn_code": b} for p, a, b in self.moves
            ],
            "pcn_codes": list(self.pcn_codes),
            "names": dict(self.names),
        }
