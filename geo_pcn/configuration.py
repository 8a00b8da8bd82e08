"""Configuration: an immutable practice -> PCN assignment.

A configuration is what a planner proposes: which practices form which PCN, and what the
PCNs are called. It never changes in place; scenario operations return a new
configuration that remembers its parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import pandas as pd

from geo_pcn.settings import PCN_CODE, PCN_NAME, PRACTICE_CODE, UNALLOCATED_PCN_CODES

__all__ = ["Configuration"]


class Configuration:
    """Which PCN each practice belongs to (``""`` when in no PCN).

    Parameters
    ----------
    assignments
        ``practice_code -> pcn_code``; a blank code, ``U`` or ``Unallocated`` means the
        practice is in no PCN.
    names
        ``pcn_code -> pcn_name``. PCNs without a name are named by their code.
    parent
        The configuration this one was derived from, if any.
    changes
        Human-readable description of what was changed from the parent.

    Examples
    --------
    >>> config = Configuration({"A00001": "U00001", "A00002": "U00001", "A00003": ""})
    >>> config.n_pcns, config.unassigned
    (1, ('A00003',))
    >>> config.members["U00001"]
    ('A00001', 'A00002')
    """

    def __init__(
        self,
        assignments: Mapping[str, str | None] | pd.Series,
        names: Mapping[str, str] | None = None,
        *,
        parent: Configuration | None = None,
        changes: tuple[str, ...] = (),
    ) -> None:
        series = pd.Series(assignments, dtype=object).astype(object)
        series = series.fillna("").astype(str).str.strip()
        series.index = series.index.astype(str).str.strip().str.upper()
        series[series.str.upper().isin(UNALLOCATED_PCN_CODES)] = ""
        series = series.sort_index()
        series.index.name = PRACTICE_CODE
        series.name = PCN_CODE
        object.__setattr__(self, "_assignments", series)
        clean_names = {str(k): str(v) for k, v in (names or {}).items() if str(k) and v is not None}
        object.__setattr__(
            self, "_names", {code: clean_names.get(code, code) for code in self.pcn_codes}
        )
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "changes", tuple(changes))

    def __setattr__(self, name: str, value: object) -> None:
        # cached_property writes to __dict__ directly, so derived facts still cache.
        raise AttributeError("Configuration is immutable; move/merge/split return a new one")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Configuration:
        """Build from a table with ``practice_code``, ``pcn_code`` and optional ``pcn_name``."""
        assignments = pd.Series(frame[PCN_CODE].to_numpy(), index=frame[PRACTICE_CODE].to_numpy())
        names: dict[str, str] = {}
        if PCN_NAME in frame:
            named = frame[(frame[PCN_CODE] != "") & (frame[PCN_NAME] != "")]
            names = dict(zip(named[PCN_CODE], named[PCN_NAME], strict=True))
        return cls(assignments, names)

    # -- facts ------------------------------------------------------------------------
    @property
    def assignments(self) -> pd.Series:
        """``practice_code -> pcn_code`` (a copy; ``""`` means no PCN)."""
        return self._assignments.copy()

    @property
    def names(self) -> dict[str, str]:
        """``pcn_code -> pcn_name`` (a copy)."""
        return dict(self._names)

    @cached_property
    def pcn_codes(self) -> tuple[str, ...]:
        """Codes of the PCNs, sorted."""
        return tuple(sorted(set(self._assignments[self._assignments != ""])))

    @property
    def practice_codes(self) -> tuple[str, ...]:
        """Every practice the configuration knows, assigned or not, sorted."""
        return tuple(self._assignments.index)

    @cached_property
    def unassigned(self) -> tuple[str, ...]:
        """Practices in no PCN."""
        return tuple(self._assignments.index[self._assignments == ""])

    @cached_property
    def members(self) -> dict[str, tuple[str, ...]]:
        """``pcn_code -> practice codes`` (sorted)."""
        assigned = self._assignments[self._assignments != ""]
        return {
            code: tuple(sorted(group.index))
            for code, group in assigned.groupby(assigned, sort=True)
        }

    @property
    def n_pcns(self) -> int:
        """Number of PCNs."""
        return len(self.pcn_codes)

    def pcn_of(self, practice_code: str) -> str:
        """The PCN code of a practice (``""`` when in no PCN); KeyError when unknown."""
        return self._assignments[practice_code]

    def name_of(self, pcn_code: str) -> str:
        """The name of a PCN."""
        return self._names[pcn_code]

    def to_frame(self) -> pd.DataFrame:
        """``practice_code, pcn_code, pcn_name`` as a table (unassigned rows blank)."""
        frame = self._assignments.rename(PCN_CODE).reset_index()
        frame[PCN_NAME] = frame[PCN_CODE].map(self._names).fillna("")
        return frame

    # -- dunder -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._assignments)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configuration):
            return NotImplemented
        return self._assignments.equals(other._assignments) and self._names == other._names

    def __hash__(self) -> int:
        return hash(tuple(self._assignments.items()))

    def __repr__(self) -> str:
        return (
            f"<Configuration: {len(self)} practices in {self.n_pcns} PCNs, "
            f"{len(self.unassigned)} in no PCN>"
        )
