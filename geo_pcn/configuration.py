"""Configuration: an immutable practice -> PCN assignment.

A configuration is what a planner proposes: which practices form which PCN, and what the
PCNs are called. It never changes in place: :meth:`Configuration.move`,
:meth:`~Configuration.merge`, :meth:`~Configuration.split`, :meth:`~Configuration.add_pcn`,
:meth:`~Configuration.unassign` and :meth:`~Configuration.rename` return a new
configuration that remembers its parent and the change made (GerryChain's
``Partition.flip``).

Examples
--------
>>> config = Configuration({"A00001": "U00001", "A00002": "U00001", "A00003": "U00002"})
>>> new = config.move("A00002", to="U00002")
>>> new.members["U00002"], new.parent is config
(('A00002', 'A00003'), True)
>>> print(new.changes[0])
move A00002 from U00001 to U00002
>>> new.move("A00002", to="U00001") == config
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from geo_pcn._templates import render
from geo_pcn.configuration_change import Change
from geo_pcn.errors import InputError, UnknownCodeError, list_some
from geo_pcn.io.configuration_files import NHS_MAP_COLUMNS, write_configuration
from geo_pcn.settings import PCN_CODE, PCN_NAME, PRACTICE_CODE, UNALLOCATED_PCN_CODES

__all__ = ["Configuration", "Change", "UnknownCodeError", "NHS_MAP_COLUMNS"]


def _as_codes(values: str | Iterable[str], what: str) -> tuple[str, ...]:
    """Normalise one code or many to a tuple of stripped codes (order kept, no repeats)."""
    if values is None:
        raise InputError(f"no {what} given")
    items = [values] if isinstance(values, str) else list(values)
    out: dict[str, None] = {}
    for item in items:
        code = str(item).strip()
        if code:
            out[code] = None
    if not out:
        raise InputError(f"no {what} given")
    return tuple(out)


def _touched(change: Change) -> set[str]:
    return {code for move in change.moves for code in move[1:] if code}


#: The cached properties a child configuration may be given from its parent (:meth:`_set`).
_KNOWN_FACTS = frozenset({"practice_codes", "pcn_by_practice", "unassigned", "members"})


class Configuration:
    """Which PCN each practice belongs to (``""`` when in no PCN).

    Parameters
    ----------
    assignments
        ``practice_code -> pcn_code``; a blank code, ``U`` or ``Unallocated`` means the
        practice is in no PCN.
    names
        ``pcn_code -> pcn_name``. PCNs without a name are named by their code. A name
        given for a code no practice is in declares an empty PCN (practices can be moved
        into it).
    parent
        The configuration this one was derived from, if any.
    changes
        What was changed from the parent (:class:`Change` entries, or plain text).

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
        changes: Sequence[Change | str] = (),
    ) -> None:
        series = pd.Series(assignments, dtype=object).astype(object)
        series = series.fillna("").astype(str).str.strip()
        series.index = series.index.astype(str).str.strip().str.upper()
        series[series.str.upper().isin(UNALLOCATED_PCN_CODES)] = ""
        series = series.sort_index()
        series.index.name = PRACTICE_CODE
        series.name = PCN_CODE
        clean = {
            str(k).strip(): str(v)
            for k, v in (names or {}).items()
            if str(k).strip() and str(k).strip().upper() not in UNALLOCATED_PCN_CODES
            if v is not None and str(v) != ""
        }
        codes = set(series[series != ""])
        all_names = {code: clean.get(code, code) for code in sorted(codes | set(clean))}
        self._set(series, all_names, parent, tuple(changes))

    def _set(self, series, names, parent, changes, known: Mapping | None = None) -> None:
        """Set the fields; ``known``: derived facts already worked out (a child's from its
        parent's: :meth:`_derive`), by the name of the cached property they fill. They go
        where ``functools.cached_property`` keeps its values, the instance ``__dict__``, in
        this one place."""
        object.__setattr__(self, "_assignments", series)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "changes", changes)
        if known:
            unknown = set(known) - _KNOWN_FACTS
            if unknown:
                raise TypeError(f"not a derived fact of a Configuration: {sorted(unknown)}")
            vars(self).update(known)

    def __setattr__(self, name: str, value: object) -> None:
        # cached_property writes to __dict__ directly, so derived facts still cache.
        raise AttributeError("Configuration is immutable; move/merge/split return a new one")

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Configuration:
        """Build from a table with ``practice_code``, ``pcn_code`` and optional ``pcn_name``.

        Examples
        --------
        >>> frame = pd.DataFrame({"practice_code": ["A1", "A2"], "pcn_code": ["U1", ""]})
        >>> Configuration.from_frame(frame).unassigned
        ('A2',)
        """
        assignments = pd.Series(frame[PCN_CODE].to_numpy(), index=frame[PRACTICE_CODE].to_numpy())
        names: dict[str, str] = {}
        if PCN_NAME in frame:
            named = frame[(frame[PCN_CODE] != "") & (frame[PCN_NAME] != "")]
            names = dict(zip(named[PCN_CODE], named[PCN_NAME], strict=True))
        return cls(assignments, names)

    def _derive(
        self, updates: Mapping[str, str], names: Mapping[str, str] | None, change: Change
    ) -> Configuration:
        """A child with ``updates`` (practice -> PCN) and ``names`` applied (no re-parsing)."""
        series = self._assignments.copy()
        if updates:
            keys = list(updates)
            series.loc[keys] = [updates[k] for k in keys]
        all_names = dict(self._names)
        all_names.update(names or {})
        for code in set(updates.values()) - {""} - set(all_names):
            all_names[code] = code
        mine = vars(self)  # the parent's facts worked out so far
        known: dict[str, object] = {}
        if "practice_codes" in mine:  # the same practices: share the tuple
            known["practice_codes"] = mine["practice_codes"]
        if "pcn_by_practice" in mine:  # the parent's dict with the updates
            known["pcn_by_practice"] = {**mine["pcn_by_practice"], **updates}
        if (
            "unassigned" in mine
            and "" not in updates.values()
            and not set(updates) & set(mine["unassigned"])
        ):  # no practice left or joined no PCN
            known["unassigned"] = mine["unassigned"]
        if "members" in mine and updates:  # update the parent's, PCN by PCN
            touched = _touched(change)
            members = {c: set(m) for c, m in self.members.items() if c in touched}
            for practice, source, target in change.moves:
                if source:
                    members.setdefault(source, set()).discard(practice)
                if target:
                    members.setdefault(target, set()).add(practice)
            merged = {**self.members, **{c: tuple(sorted(m)) for c, m in members.items()}}
            known["members"] = {c: merged[c] for c in sorted(merged) if merged[c]}
        out = object.__new__(type(self))
        out._set(series, dict(sorted(all_names.items())), self, (change,), known)
        return out

    # -- facts ------------------------------------------------------------------------
    @property
    def assignments(self) -> pd.Series:
        """``practice_code -> pcn_code`` (a copy; ``""`` means no PCN)."""
        return self._assignments.copy()

    @property
    def names(self) -> dict[str, str]:
        """``pcn_code -> pcn_name`` of the PCNs (a copy)."""
        return {code: self._names[code] for code in self.pcn_codes}

    @cached_property
    def pcn_codes(self) -> tuple[str, ...]:
        """Codes of the PCNs (those with at least one practice), sorted."""
        return tuple(self.members)  # members is keyed by code, sorted

    @cached_property
    def empty_pcns(self) -> tuple[str, ...]:
        """PCNs that are named but have no practice (e.g. after ``add_pcn`` with none, or
        once every practice was moved out); practices can be moved into them."""
        return tuple(sorted(set(self._names) - set(self.pcn_codes)))

    @cached_property
    def practice_codes(self) -> tuple[str, ...]:
        """Every practice the configuration knows, assigned or not, sorted."""
        return tuple(self._assignments.index.tolist())

    @cached_property
    def unassigned(self) -> tuple[str, ...]:
        """Practices in no PCN."""
        return tuple(self._assignments.index[self._assignments == ""])

    @cached_property
    def members(self) -> dict[str, tuple[str, ...]]:
        """``pcn_code -> practice codes`` (sorted)."""
        codes = self._assignments.to_numpy(dtype=object)
        practices = self._assignments.index.to_numpy(dtype=object)
        keep = codes != ""
        codes, practices = codes[keep], practices[keep]
        order = np.argsort(codes, kind="stable")  # practices stay sorted within a PCN
        codes, practices = codes[order], practices[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else []
        bounds = [*starts, len(codes)]
        return {
            str(codes[a]): tuple(str(p) for p in practices[a:b])
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        }

    @property
    def n_pcns(self) -> int:
        """Number of PCNs."""
        return len(self.pcn_codes)

    def pcn_of(self, practice_code: str) -> str:
        """The PCN code of a practice (``""`` when in no PCN); KeyError when unknown."""
        return self.pcn_by_practice[practice_code]

    @cached_property
    def pcn_by_practice(self) -> dict[str, str]:
        """``practice_code -> pcn_code`` as a plain dict (``""``: no PCN), for lookups one
        practice at a time (a pandas lookup costs ~10 us)."""
        series = self._assignments  # (lists first: iterating an arrow column is slow)
        return dict(zip(series.index.tolist(), series.tolist(), strict=True))

    def name_of(self, pcn_code: str) -> str:
        """The name of a PCN (also of an empty one)."""
        return self._names[pcn_code]

    @property
    def history(self) -> tuple[Change | str, ...]:
        """Every change from the first configuration of the chain to this one, in order.

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U2"})
        >>> [str(c) for c in config.unassign("A1").move("A2", to="U1").history]
        ['unassign A1 (was in U1)', 'move A2 from U2 to U1']
        """
        chain: list[Change | str] = []
        node: Configuration | None = self
        while node is not None:
            chain[:0] = node.changes
            node = node.parent
        return tuple(chain)

    @property
    def root(self) -> Configuration:
        """The first configuration of the chain (the one with no parent)."""
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def diff(self, other: Configuration) -> pd.DataFrame:
        """Practices whose PCN differs between this configuration and ``other``.

        Returns
        -------
        pandas.DataFrame
            ``practice_code, from_pcn_code`` (here), ``to_pcn_code`` (in ``other``),
            sorted by practice code; ``""`` means no PCN.

        Raises
        ------
        InputError
            The two configurations do not hold the same practices.

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U2"})
        >>> config.diff(config.move("A1", to="U2")).to_dict("records")
        [{'practice_code': 'A1', 'from_pcn_code': 'U1', 'to_pcn_code': 'U2'}]
        """
        a, b = self._assignments, other._assignments
        if not a.index.equals(b.index):
            extra = sorted(set(a.index) ^ set(b.index))
            raise InputError(
                f"the configurations hold different practices ({list_some(extra)} in only one); "
                "compare configurations of the same study"
            )
        changed = a.to_numpy() != b.to_numpy()
        return pd.DataFrame(
            {
                PRACTICE_CODE: a.index[changed].to_numpy(dtype=object),
                "from_pcn_code": a.to_numpy(dtype=object)[changed],
                "to_pcn_code": b.to_numpy(dtype=object)[changed],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """``practice_code, pcn_code, pcn_name`` as a table (unassigned rows blank)."""
        frame = self._assignments.rename(PCN_CODE).reset_index()
        frame[PCN_NAME] = frame[PCN_CODE].map(self._names).fillna("")
        return frame

    # -- checking codes ---------------------------------------------------------------
    def _known_practices(self, practices: str | Iterable[str]) -> tuple[str, ...]:
        codes = tuple(c.upper() for c in _as_codes(practices, "practice codes"))
        unknown = [c for c in codes if c not in self._assignments.index]
        if unknown:
            raise UnknownCodeError(
                f"unknown practice{'s' * (len(unknown) > 1)} {list_some(unknown)}; the "
                f"configuration has {len(self):,} practices, e.g. "
                f"{', '.join(self.practice_codes[:3])}"
            )
        return codes

    def _known_pcn(self, code: str | None, *, op: str) -> str:
        if code is None or not str(code).strip():
            raise InputError(
                f"{op} needs a PCN code; to take practices out of every PCN use unassign(...)"
            )
        code = str(code).strip()
        if code not in self._names:
            raise UnknownCodeError(
                f"unknown PCN {code}; the configuration has {self.n_pcns:,} PCNs, e.g. "
                f"{', '.join(self.pcn_codes[:3]) or 'none'}; create it first with "
                f"add_pcn({code!r}, name=...)"
            )
        return code

    def _new_pcn(self, code: str | None, *, op: str) -> str:
        if code is None or not str(code).strip():
            raise InputError(f"{op} needs a code for the new PCN")
        code = str(code).strip()
        if code.upper() in UNALLOCATED_PCN_CODES:
            raise InputError(f"{code!r} means 'no PCN' and cannot name a new PCN; pick a code")
        if code in self.pcn_codes:
            raise InputError(
                f"PCN {code} already exists ({self._names[code]}, "
                f"{len(self.members[code])} practices); pick a new code or use move/merge"
            )
        return code

    # -- scenario operations ----------------------------------------------------------
    def move(self, practices: str | Iterable[str], *, to: str) -> Configuration:
        """Move practices into an existing PCN.

        Parameters
        ----------
        practices
            One practice code or several.
        to
            Code of the PCN to move them into (it must exist, possibly empty; create a
            new one with :meth:`add_pcn`). ``""``/``None`` are refused: use
            :meth:`unassign`.

        Returns
        -------
        Configuration
            A new configuration whose parent is this one.

        Raises
        ------
        UnknownCodeError
            A practice or the PCN is not in the configuration.
        InputError
            ``to`` is blank.

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U2", "A3": ""})
        >>> new = config.move(["A1", "A3"], to="U2")
        >>> new.members
        {'U2': ('A1', 'A2', 'A3')}
        >>> str(new.changes[0])
        'move A1 from U1, A3 from no PCN to U2'
        """
        codes = self._known_practices(practices)
        target = self._known_pcn(to, op="move")
        moves = tuple(
            (p, self._assignments[p], target) for p in codes if self._assignments[p] != target
        )
        by_source: dict[str, list[str]] = {}
        for p, src, _ in moves:
            by_source.setdefault(src, []).append(p)
        parts = [f"{', '.join(ps)} from {src or 'no PCN'}" for src, ps in by_source.items()]
        text = (
            f"move {', '.join(parts)} to {target}"
            if moves
            else f"move {', '.join(codes)} to {target} (already there)"
        )
        return self._derive(
            {p: target for p, _, _ in moves},
            None,
            Change("move", text, moves, (target,)),
        )

    def unassign(self, practices: str | Iterable[str]) -> Configuration:
        """Take practices out of their PCN (their patients become uncovered).

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U1"})
        >>> config.unassign("A2").unassigned
        ('A2',)
        """
        codes = self._known_practices(practices)
        moves = tuple((p, self._assignments[p], "") for p in codes if self._assignments[p])
        text = "unassign " + ", ".join(
            f"{p} (was in {src})" if src else f"{p} (already in no PCN)"
            for p, src in ((p, self._assignments[p]) for p in codes)
        )
        return self._derive(
            {p: "" for p, _, _ in moves},
            None,
            Change("unassign", text, moves, tuple(sorted({m[1] for m in moves}))),
        )

    def merge(
        self, pcn_codes: str | Iterable[str], *, into: str, name: str | None = None
    ) -> Configuration:
        """Merge PCNs into one.

        Parameters
        ----------
        pcn_codes
            The PCNs to merge (``into`` may be one of them or a new code).
        into
            Code of the merged PCN: an existing PCN (its practices stay) or a new code.
        name
            Name of the merged PCN (default: the existing name of ``into``, else its code).

        Raises
        ------
        UnknownCodeError
            A PCN in ``pcn_codes`` is not in the configuration.

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U2", "A3": "U3"})
        >>> config.merge(["U2", "U3"], into="U9", name="NINE").members["U9"]
        ('A2', 'A3')
        """
        sources = [self._known_pcn(c, op="merge") for c in _as_codes(pcn_codes, "PCN codes")]
        if into is None or not str(into).strip():
            raise InputError("merge needs into= (the code of the merged PCN)")
        target = str(into).strip()
        if target.upper() in UNALLOCATED_PCN_CODES:
            raise InputError(f"{target!r} means 'no PCN'; merge into a PCN code")
        new_name = name if name else self._names.get(target, target)
        moves = tuple(
            (p, src, target) for src in sources if src != target for p in self.members.get(src, ())
        )
        listed = ", ".join(sources)
        text = f"merge {listed} into {target} ({new_name})"
        return self._derive(
            {p: target for p, _, _ in moves},
            {target: new_name},
            Change("merge", text, moves, (*sources, target), ((target, new_name),)),
        )

    def split(
        self,
        pcn_code: str,
        parts: Mapping[str, str | Iterable[str]],
        *,
        names: Mapping[str, str] | None = None,
    ) -> Configuration:
        """Split practices off a PCN into new PCNs.

        Parameters
        ----------
        pcn_code
            The PCN to split.
        parts
            ``new_pcn_code -> practices`` (members of ``pcn_code``); practices not listed
            stay in ``pcn_code``.
        names
            ``new_pcn_code -> name`` (default: the code).

        Raises
        ------
        UnknownCodeError
            The PCN or a practice is unknown.
        InputError
            A practice is not a member of ``pcn_code`` or is listed twice, or a new code
            is already a PCN.

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U1", "A3": "U1"})
        >>> config.split("U1", {"U2": ["A3"]}, names={"U2": "TWO"}).members
        {'U1': ('A1', 'A2'), 'U2': ('A3',)}
        """
        source = self._known_pcn(pcn_code, op="split")
        if not parts:
            raise InputError(f"split of {source} names no new PCN")
        names = dict(names or {})
        seen: dict[str, str] = {}
        updates: dict[str, str] = {}
        new_names: dict[str, str] = {}
        for new_code, practices in parts.items():
            code = self._new_pcn(new_code, op="split")
            for p in self._known_practices(practices):
                if self._assignments[p] != source:
                    raise InputError(
                        f"split of {source}: practice {p} is not in {source} (it is in "
                        f"{self._assignments[p] or 'no PCN'})"
                    )
                if p in seen:
                    raise InputError(
                        f"split of {source}: practice {p} is listed for both {seen[p]} and {code}"
                    )
                seen[p] = code
                updates[p] = code
            new_names[code] = names.get(code) or self._names.get(code, code)
        moves = tuple((p, source, c) for p, c in updates.items())
        text = f"split {source} into " + "; ".join(
            f"{c} ({new_names[c]}): {', '.join(p for p, cc in updates.items() if cc == c)}"
            for c in new_names
        )
        return self._derive(
            updates,
            new_names,
            Change("split", text, moves, (source, *new_names), tuple(new_names.items())),
        )

    def add_pcn(
        self, code: str, name: str | None = None, practices: str | Iterable[str] = ()
    ) -> Configuration:
        """Add a PCN, optionally moving practices into it.

        Parameters
        ----------
        code
            A code no PCN of the configuration has.
        name
            Its name (default: the code).
        practices
            Practices to move into it (from any PCN or none).

        Examples
        --------
        >>> config = Configuration({"A1": "U1", "A2": "U1"})
        >>> config.add_pcn("U2", "TWO", ["A2"]).names
        {'U1': 'U1', 'U2': 'TWO'}
        """
        new_code = self._new_pcn(code, op="add_pcn")
        codes = (
            self._known_practices(practices)
            if (isinstance(practices, str) and practices) or list(practices)
            else ()
        )
        new_name = name or self._names.get(new_code, new_code)
        moves = tuple((p, self._assignments[p], new_code) for p in codes)
        text = f"add PCN {new_code} ({new_name})" + (
            f" with {', '.join(codes)}" if codes else " with no practices yet"
        )
        return self._derive(
            {p: new_code for p in codes},
            {new_code: new_name},
            Change("add_pcn", text, moves, (new_code,), ((new_code, new_name),)),
        )

    def rename(self, pcn_code: str, name: str) -> Configuration:
        """Give a PCN a new name.

        Examples
        --------
        >>> Configuration({"A1": "U1"}).rename("U1", "ONE").names
        {'U1': 'ONE'}
        """
        code = self._known_pcn(pcn_code, op="rename")
        if not name or not str(name).strip():
            raise InputError(f"rename of {code} needs a name")
        text = f"rename {code} from {self._names[code]} to {name}"
        return self._derive(
            {}, {code: str(name)}, Change("rename", text, (), (code,), ((code, str(name)),))
        )

    # -- output -----------------------------------------------------------------------
    def to_csv(
        self,
        path: str | Path,
        *,
        layout: Literal["plain", "nhs"] = "plain",
        practices: pd.DataFrame | None = None,
    ) -> Path:
        """Write the configuration as a CSV that :func:`geo_pcn.io.read_configuration` reads.

        Parameters
        ----------
        path
            The file to write.
        layout
            ``"plain"``: ``practice_code,pcn_code,pcn_name`` (practices in no PCN have blank
            PCN columns). ``"nhs"``: the columns of NHS England's
            ``gp-reg-pat-prac-map.csv`` (practices in no PCN as ``U`` / ``Unallocated``).
        practices
            Practice details (e.g. ``study.practices``) that fill the NHS layout's practice
            name, postcode, sub-ICB and ICB columns; blank when not given.

        Returns
        -------
        pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> path = Configuration({"A1": "U1", "A2": ""}).to_csv(folder / "c.csv")
        >>> path.read_text().splitlines()
        ['practice_code,pcn_code,pcn_name', 'A1,U1,U1', 'A2,,']
        """
        return write_configuration(self.to_frame(), path, layout=layout, practices=practices)

    # -- dunder -----------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of practices (assigned or in no PCN)."""
        return len(self._assignments)

    def __bool__(self) -> bool:
        """Always true, even with no practices: a configuration is a value, not a
        container, so ``configuration or default`` never swaps an empty one for another.

        Examples
        --------
        >>> bool(Configuration({})), len(Configuration({}))
        (True, 0)
        """
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configuration):
            return NotImplemented
        return self._assignments.equals(other._assignments) and self.names == other.names

    def __hash__(self) -> int:
        return hash(tuple(self._assignments.items()))

    def __repr__(self) -> str:
        return (
            f"<Configuration: {len(self)} practices in {self.n_pcns} PCNs, "
            f"{len(self.unassigned)} in no PCN"
            + (f", {len(self.history)} changes" if self.parent is not None else "")
            + ">"
        )

    def _repr_html_(self) -> str:
        """HTML for notebooks (``geo_pcn/templates/configuration.html.j2``; every string
        escaped)."""
        return render(
            "configuration.html.j2",
            n_practices=len(self),
            pcns=[
                (code, self._names[code], len(practices), ", ".join(practices))
                for code, practices in self.members.items()
            ],
            unassigned=", ".join(self.unassigned),
            history=[str(c) for c in self.history],
        )
