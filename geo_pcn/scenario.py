"""Scenarios: change a configuration, re-validate it fast, and compare before with after.

* :class:`Scenario` is a list of operations (move, merge, split, add a PCN, unassign,
  rename) read from a TOML or CSV file (:meth:`Scenario.from_file`) and applied to a
  :class:`~geo_pcn.configuration.Configuration` (:meth:`Scenario.apply`).
* :func:`revalidate` checks a changed configuration reusing the report of an earlier one:
  only the PCNs (and practices) the change touches are checked again, the findings of
  the others are reused. The result equals :func:`geo_pcn.validate`'s.
* :func:`compare` sets two reports side by side (:class:`Comparison`): practices and
  patients moved, list sizes and band status per PCN, findings resolved and introduced,
  boundary crossings and community alignment before and after.

Examples
--------
>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> study = demo()
>>> before = geo_pcn.validate(study)
>>> fixed = study.configuration.move("Z00024", to="UZ002")
>>> after = geo_pcn.revalidate(before, fixed)
>>> comparison = compare(before, after)
>>> [(f.check, f.kind) for f in comparison.resolved]
[('coverage', 'practice_in_no_pcn')]
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_pcn._escape import html_text, markdown
from geo_pcn._outputs import write_outputs
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, ScenarioError, UnknownCodeError, list_some
from geo_pcn.findings import Finding
from geo_pcn.report import Report, dump_json, html_table
from geo_pcn.settings import LIST_SIZE, PRACTICE_CODE

__all__ = [
    "Scenario",
    "Operation",
    "ScenarioError",
    "Comparison",
    "compare",
]


# =======================================================================================
# scenario files
# =======================================================================================

#: operation -> (required keys, optional keys); aliases are resolved first
_OPERATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "move": (("practices", "to"), ()),
    "unassign": (("practices",), ()),
    "merge": (("pcns", "into"), ("name",)),
    "split": (("pcn", "parts"), ("names",)),
    "add_pcn": (("code",), ("name", "practices")),
    "rename": (("pcn", "name"), ()),
    "assign": (("practices", "to"), ("name",)),  # CSV rows: move, or add the PCN if new
}
_ALIASES = {
    "practice": "practices",
    "practice_codes": "practices",
    "pcn_codes": "pcns",
    "pcn_code": "pcn",
    "into_pcns": "parts",
    "new_pcns": "parts",
    "to_pcn": "to",
    "to_pcn_code": "to",
}


@dataclass(frozen=True, eq=False)
class Operation:
    """One step of a scenario.

    Attributes
    ----------
    op
        ``move``, ``unassign``, ``merge``, ``split``, ``add_pcn``, ``rename`` or
        ``assign`` (a CSV row group: move into the PCN, adding it when it is new).
    args
        The operation's arguments (see :class:`Scenario` for the keys).
    where
        Where it came from, for error messages (``file.toml [[move]] #2``).
    """

    op: str
    args: Mapping[str, Any]
    where: str = ""

    def apply(self, configuration: Configuration) -> Configuration:
        """The configuration with this operation applied.

        Raises
        ------
        ScenarioError
            The operation cannot be applied (an unknown code, a practice not in the PCN
            split...); the message says where the operation came from.

        Examples
        --------
        >>> from geo_pcn.configuration import Configuration
        >>> op = Operation("move", {"practices": ["A1"], "to": "U2"})
        >>> op.apply(Configuration({"A1": "U1", "A2": "U2"})).members
        {'U2': ('A1', 'A2')}
        """
        a = _resolve(self.args, configuration)
        try:
            if self.op == "move":
                return configuration.move(a["practices"], to=a["to"])
            if self.op == "unassign":
                return configuration.unassign(a["practices"])
            if self.op == "merge":
                return configuration.merge(a["pcns"], into=a["into"], name=a.get("name"))
            if self.op == "split":
                return configuration.split(a["pcn"], a["parts"], names=a.get("names"))
            if self.op == "add_pcn":
                return configuration.add_pcn(a["code"], a.get("name"), a.get("practices", ()))
            if self.op == "rename":
                return configuration.rename(a["pcn"], a["name"])
            if self.op == "assign":
                to, name = a["to"], a.get("name")
                if not to:
                    return configuration.unassign(a["practices"])
                if to not in configuration.pcn_codes and to not in configuration.empty_pcns:
                    return configuration.add_pcn(to, name, a["practices"])
                out = configuration.move(a["practices"], to=to)
                if name and name != out.name_of(to):
                    out = out.rename(to, name)
                return out
        except UnknownCodeError as exc:
            raise ScenarioError(f"{self.where}: {exc}" if self.where else str(exc)) from None
        except InputError as exc:
            raise ScenarioError(f"{self.where}: {exc}" if self.where else str(exc)) from None
        raise ScenarioError(f"{self.where}: unknown operation {self.op!r}")

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.op}({args})"


def _resolve(args: Mapping[str, Any], configuration: Configuration) -> dict[str, Any]:
    """``args`` with each practice and PCN code spelled as the configuration spells it
    (codes match whatever their case; a code the configuration does not have is kept, so
    the operation names it in its error or creates it)."""
    practices = {c.upper(): c for c in configuration.practice_codes}
    pcns = {c.upper(): c for c in (*configuration.pcn_codes, *configuration.empty_pcns)}

    def one(code: Any, known: dict[str, str], exact) -> Any:
        if not isinstance(code, str) or code in exact:
            return code
        return known.get(code.upper(), code)

    def many(codes: Any, known: dict[str, str], exact) -> Any:
        if isinstance(codes, str):
            return one(codes, known, exact)
        return [one(c, known, exact) for c in codes]

    out = dict(args)
    for key in ("practices",):
        if key in out:
            out[key] = many(out[key], practices, configuration.practice_codes)
    for key in ("to", "into", "pcn"):
        if key in out:
            out[key] = one(out[key], pcns, pcns.values())
    if "pcns" in out:
        out["pcns"] = many(out["pcns"], pcns, pcns.values())
    if isinstance(out.get("parts"), Mapping):
        out["parts"] = {
            k: many(v, practices, configuration.practice_codes) for k, v in out["parts"].items()
        }
    return out


@dataclass(frozen=True, eq=False)
class Scenario:
    """An ordered list of operations on a configuration, usually read from a file.

    A TOML scenario lists operations as arrays of tables, applied in file order::

        name = "Fix Thornmere East"          # optional
        [[move]]
        practices = ["Z00024"]               # one code or a list
        to = "UZ002"                         # an existing PCN (use add_pcn for a new one)
        [[merge]]
        pcns = ["UZ008", "UZ007"]
        into = "UZ007"
        name = "THORNMERE PCN"               # optional
        [[split]]
        pcn = "UZ001"
        parts = { UZ014 = ["Z00007", "Z00008"] }   # the rest stay in UZ001
        names = { UZ014 = "NEW PCN" }               # optional
        [[add_pcn]]
        code = "UZ015"
        name = "ANOTHER PCN"
        practices = ["Z00001"]               # optional
        [[unassign]]
        practices = ["Z00003"]
        [[rename]]
        pcn = "UZ002"
        name = "NEW NAME"

    A CSV scenario has ``practice_code,to_pcn_code[,to_pcn_name]``: each practice moves to
    the PCN named (a new code is added as a new PCN, named by ``to_pcn_name``); a blank
    ``to_pcn_code`` takes the practice out of every PCN.

    Examples
    --------
    >>> from geo_pcn.configuration import Configuration
    >>> scenario = Scenario.from_toml_text('[[move]]\\npractices = "A1"\\nto = "U2"\\n')
    >>> scenario.apply(Configuration({"A1": "U1", "A2": "U2"})).members
    {'U2': ('A1', 'A2')}
    """

    operations: tuple[Operation, ...]
    name: str = ""
    source: Path | None = None

    # -- reading --------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        """Read a ``.toml`` or ``.csv`` scenario.

        Raises
        ------
        ScenarioError
            The file is missing, unreadable, or holds an unknown operation or key.
        """
        path = Path(path)
        if not path.is_file():
            raise ScenarioError(f"{path}: scenario file not found")
        suffix = path.suffix.lower()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{path}: cannot read the scenario file ({exc})") from None
        if suffix == ".toml":
            return cls.from_toml_text(text, source=path)
        if suffix in (".csv", ".txt"):
            return cls.from_csv_text(text, source=path)
        raise ScenarioError(
            f"{path}: unknown scenario file type {suffix or '(none)'}; use a .toml list of "
            "operations or a .csv of practice_code,to_pcn_code[,to_pcn_name]"
        )

    @classmethod
    def from_toml_text(cls, text: str, *, source: Path | None = None) -> Scenario:
        """Parse a TOML scenario (see the class docstring)."""
        label = str(source) if source else "scenario"
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{label}: not valid TOML ({exc})") from None
        name = doc.pop("name", "")
        doc.pop("description", None)
        if not isinstance(name, str):
            raise ScenarioError(f'{label}: name must be text, e.g. name = "Fix the north"')
        unknown = [k for k in doc if k not in _OPERATIONS or k == "assign"]
        if unknown:
            raise ScenarioError(
                f"{label}: unknown operation(s) {list_some(unknown)}; use "
                f"{', '.join(f'[[{k}]]' for k in _OPERATIONS if k != 'assign')}"
            )
        for key, value in doc.items():
            if not isinstance(value, list):
                raise ScenarioError(f"{label}: write [[{key}]] (an array of tables), not [{key}]")
        operations = [
            _operation(op, table, f"{label} [[{op}]] #{i}")
            for op, i, table in _toml_order(text, doc, label)
        ]
        if not operations:
            raise ScenarioError(f"{label}: no operations; add e.g. [[move]] practices = [...]")
        return cls(tuple(operations), name=name, source=source)

    @classmethod
    def from_csv_text(cls, text: str, *, source: Path | None = None) -> Scenario:
        """Parse a CSV scenario: ``practice_code,to_pcn_code[,to_pcn_name]``."""
        import io

        label = str(source) if source else "scenario"
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ScenarioError(f"{label}: not a readable CSV ({exc})") from None
        columns = {c.strip().lower(): c for c in frame.columns}
        practice = columns.get("practice_code")
        to = columns.get("to_pcn_code") or columns.get("pcn_code")
        if practice is None or to is None:
            raise ScenarioError(
                f"{label}: a CSV scenario needs the columns practice_code,to_pcn_code"
                f"[,to_pcn_name]; the file has {', '.join(frame.columns) or 'no columns'}"
            )
        name = columns.get("to_pcn_name") or columns.get("pcn_name")
        frame = frame.apply(lambda s: s.str.strip())
        codes = frame[practice].str.upper()
        frame[to] = frame[to].str.upper()  # codes are upper case, as every reader gives them
        blank = frame.index[codes == ""]
        if len(blank):
            raise ScenarioError(
                f"{label}: row(s) {list_some(blank + 2)} have no practice_code; fill or delete them"
            )
        repeated = codes[codes.duplicated(keep=False)]
        if len(repeated):
            raise ScenarioError(
                f"{label}: practice(s) {list_some(sorted(set(repeated)))} are listed more than "
                "once; give each practice one row"
            )
        if frame.empty:
            raise ScenarioError(f"{label}: no rows; add practice_code,to_pcn_code rows")
        operations = []
        for target, group in frame.groupby(to, sort=False):
            names = sorted(set(group[name]) - {""}) if name else []
            if len(names) > 1:
                raise ScenarioError(
                    f"{label}: PCN {target} is given {len(names)} names ({list_some(names)})"
                )
            rows = list_some((group.index + 2).tolist())
            operations.append(
                Operation(
                    "assign",
                    {
                        "practices": list(codes[group.index]),
                        "to": target,
                        "name": names[0] if names else None,
                    },
                    f"{label} row(s) {rows}",
                )
            )
        return cls(tuple(operations), source=source)

    # -- applying -------------------------------------------------------------------------
    def apply(self, configuration: Configuration) -> Configuration:
        """Apply every operation in order; the result's parents are the steps between.

        Raises
        ------
        ScenarioError
            An operation cannot be applied (the message names the file and operation).
        """
        for operation in self.operations:
            configuration = operation.apply(configuration)
        return configuration

    def steps(self, configuration: Configuration) -> list[Configuration]:
        """The configuration after each operation, in order."""
        out = []
        for operation in self.operations:
            configuration = operation.apply(configuration)
            out.append(configuration)
        return out

    def __len__(self) -> int:
        return len(self.operations)

    def __repr__(self) -> str:
        where = f" from {self.source.name}" if self.source else ""
        return f"<Scenario{' ' + repr(self.name) if self.name else ''}{where}: {len(self)} ops>"


def _operation(op: str, table: Any, where: str) -> Operation:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table of keys")
    args = {_ALIASES.get(k, k): v for k, v in table.items()}
    required, optional = _OPERATIONS[op]
    unknown = sorted(set(args) - set(required) - set(optional))
    missing = [k for k in required if k not in args]
    if unknown or missing:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown key(s) {', '.join(unknown)}")
        raise ScenarioError(
            f"{where}: {'; '.join(problems)}; [[{op}]] takes "
            f"{', '.join([*required, *(k + ' (optional)' for k in optional)])}"
        )
    return Operation(op, _checked_args(args, where), where)


#: what each key of an operation holds, for the checks and the messages
_KEY_KINDS = {
    "practices": "codes",
    "pcns": "codes",
    "to": "code",
    "into": "code",
    "pcn": "code",
    "code": "code",
    "name": "text",
    "parts": "parts",
    "names": "names",
}
_EXAMPLES = {
    "codes": '["A81001", "A81002"]',
    "code": '"U12345"',
    "text": '"NEW PCN NAME"',
    "parts": '{ U99999 = ["A81001"] }',
    "names": '{ U99999 = "NEW PCN" }',
}


def _code(value: Any) -> str | None:
    """A code as the scenario means it: text, stripped, upper case (``None`` if not text)."""
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def _codes(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    out = [_code(v) for v in value]
    return None if any(c is None for c in out) else out


def _checked_args(args: dict[str, Any], where: str) -> dict[str, Any]:
    """The operation's arguments with their types checked and codes normalised (stripped,
    upper case, as the readers give them); a wrong type is a one-line error naming the key
    and showing the form it takes."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        kind = _KEY_KINDS[key]
        if kind == "codes":
            checked = _codes(value)
            if key == "pcns" and isinstance(value, str):
                checked = None  # a merge needs at least two PCNs
            what = "a list of codes" if key == "pcns" else "a code or a list of codes"
        elif kind == "code":
            checked = _code(value)
            what = "a code (text)"
        elif kind == "text":
            checked = value if isinstance(value, str) and value.strip() else None
            what = "text"
        elif kind == "parts":
            checked = None
            if isinstance(value, dict) and value:
                parts = {_code(k): _codes(v) for k, v in value.items()}
                if all(k and v for k, v in parts.items()):
                    checked = parts
            what = "a table of new PCN code = list of practice codes"
        else:  # names
            checked = None
            if isinstance(value, dict):
                names = {_code(k): v for k, v in value.items()}
                if all(k and isinstance(v, str) and v.strip() for k, v in names.items()):
                    checked = names
            what = "a table of PCN code = name"
        if checked is None:
            raise ScenarioError(
                f"{where}: {key} must be {what}, e.g. {key} = {_EXAMPLES[kind]}; "
                f"the file gives {_shown(value)}"
            )
        out[key] = checked
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: a line that opens an array-of-tables entry of the top level: ``[[move]]``
_AOT_HEADER = re.compile(r'(?m)^[ \t]*\[\[[ \t]*("?)([A-Za-z_][A-Za-z0-9_-]*)\1[ \t]*\]\]')


def _toml_order(text: str, doc: dict[str, list], label: str) -> list[tuple[str, int, Any]]:
    """The operations of a parsed TOML scenario in file order: ``(op, number, table)``.

    tomllib keeps the order within one key only (``[[move]]``, ``[[merge]]``, ``[[move]]``
    give ``move: [a, b], merge: [c]``). TOML puts top-level keys (``move = [{...}]``) before
    the first table header, so the file order is: the keys of that preamble in their order,
    then each ``[[op]]`` entry in turn. Where an entry starts is told by tomllib itself: a
    candidate header line starts an entry only if the text since the previous one parses
    on its own (a header-like line inside a multi-line string or array does not). The
    result is checked against the whole document's parse.
    """
    starts = [0]
    for match in _AOT_HEADER.finditer(text):
        try:
            tomllib.loads(text[starts[-1] : match.start()])
        except tomllib.TOMLDecodeError:
            continue  # inside a multi-line string or array: not a header
        starts.append(match.start())
    starts.append(len(text))
    ordered: list[tuple[str, Any]] = []
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        try:
            part = tomllib.loads(text[a:b])
        except tomllib.TOMLDecodeError:  # pragma: no cover - the whole text parsed
            part = {}
        for key, value in part.items():
            if key in doc and isinstance(value, list):
                ordered += [(key, table) for table in value]
    counters: Counter[str] = Counter()
    out = []
    for op, table in ordered:
        counters[op] += 1
        out.append((op, counters[op], table))
    if {op: [tbl for o, _, tbl in out if o == op] for op in doc} != doc:
        raise ScenarioError(  # pragma: no cover - a TOML layout the scan does not follow
            f"{label}: cannot tell the order of the operations; write each one as a "
            "[[op]] table, in the order to apply them"
        )
    return out


# =======================================================================================
# incremental re-validation
# =======================================================================================

# =======================================================================================


def _multiset_minus(items: list[Finding], other: list[Finding]) -> list[Finding]:
    """``items`` whose key is not matched in ``other`` (each match used once)."""
    left = Counter(f.key for f in other)
    out = []
    for f in items:
        if left[f.key]:
            left[f.key] -= 1
        else:
            out.append(f)
    return out


def _scores(alignment: Any) -> dict[str, dict[str, Any]]:
    """Numeric summary figures of each community layer (``{}`` without alignment)."""
    layers = getattr(alignment, "layers", None) or {}
    out: dict[str, dict[str, Any]] = {}
    for name, result in layers.items():
        summary = getattr(result, "summary", {}) or {}
        out[name] = {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in summary.items()
            if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        }
    return out


@dataclass(eq=False)
class Comparison:
    """Two reports of the same study side by side (:func:`compare`).

    Attributes
    ----------
    before, after
        The reports.
    moves
        One row per practice whose PCN changed: ``practice_code, practice_name,
        list_size, from_pcn_code, to_pcn_code``.
    pcns
        One row per PCN of either configuration: list size, practices and band status
        before and after (``""`` status: the PCN does not exist on that side).
    resolved, introduced
        Findings of ``before`` not in ``after`` and of ``after`` not in ``before`` (matched
        on :attr:`Finding.key`).
    crossings
        ``layer -> {"before": [...], "after": [...]}``: PCNs with practices in more than one
        area of the boundary layer.
    alignment
        ``layer -> {"before": {...}, "after": {...}}``: community alignment scores, when
        the reports have them.
    changes
        The changes log from ``before``'s configuration to ``after``'s (when one descends
        from the other), else ``None``.
    """

    before: Report
    after: Report
    moves: pd.DataFrame = field(repr=False)
    pcns: pd.DataFrame = field(repr=False)
    resolved: list[Finding] = field(repr=False)
    introduced: list[Finding] = field(repr=False)
    crossings: dict[str, dict[str, list[str]]] = field(repr=False)
    alignment: dict[str, dict[str, dict[str, Any]]] = field(repr=False)
    changes: list[str] | None = field(repr=False)

    # -- facts ----------------------------------------------------------------------------
    @property
    def n_practices_moved(self) -> int:
        """Practices whose PCN changed."""
        return len(self.moves)

    @property
    def n_patients_moved(self) -> int:
        """Registered patients of the practices that changed PCN."""
        return int(self.moves[LIST_SIZE].sum())

    @property
    def band_changes(self) -> pd.DataFrame:
        """PCNs whose band status changed (``""``: the PCN does not exist on that side)."""
        p = self.pcns
        return p[p["band_status_before"] != p["band_status_after"]].reset_index(drop=True)

    @property
    def changed_pcns(self) -> pd.DataFrame:
        """PCNs whose practices, list size, name or band status changed."""
        p = self.pcns
        mask = (
            (p["list_size_before"] != p["list_size_after"])
            | (p["n_practices_before"] != p["n_practices_after"])
            | (p["band_status_before"] != p["band_status_after"])
            | (p["pcn_name_before"] != p["pcn_name_after"])
        )
        return p[mask].reset_index(drop=True)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Headline figures before and after."""
        b, a = self.before, self.after
        sb, sa = b.by_severity(), a.by_severity()
        return {
            "study": a.study.name,
            "ok": {"before": b.ok, "after": a.ok},
            "findings": {"before": sb, "after": sa},
            "n_pcns": {"before": b.configuration.n_pcns, "after": a.configuration.n_pcns},
            "n_practices_moved": self.n_practices_moved,
            "n_patients_moved": self.n_patients_moved,
            "n_pcns_outside_band": {
                "before": _n_outside(self.pcns["band_status_before"]),
                "after": _n_outside(self.pcns["band_status_after"]),
            },
            "n_resolved": len(self.resolved),
            "n_introduced": len(self.introduced),
            "crossings": {
                layer: {"before": len(v["before"]), "after": len(v["after"])}
                for layer, v in self.crossings.items()
            },
        }

    # -- renderings -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of everything above."""
        return {
            "summary": self.summary,
            "changes": self.changes,
            "moves": self.moves.to_dict(orient="records"),
            "pcns": self.changed_pcns.to_dict(orient="records"),
            "band_changes": self.band_changes.to_dict(orient="records"),
            "resolved": [f.to_dict() for f in self.resolved],
            "introduced": [f.to_dict() for f in self.introduced],
            "crossings": self.crossings,
            "alignment": self.alignment,
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def to_markdown(self) -> str:
        """What changed, for a planner: verdict before/after, moves, PCNs, findings."""
        s = self.summary
        fb, fa = s["findings"]["before"], s["findings"]["after"]

        def verdict(ok: bool) -> str:
            return "PASS" if ok else "FAIL"

        lines = [
            f"# Scenario comparison: {markdown(s['study'])}",
            "",
            f"**{verdict(s['ok']['before'])} -> {verdict(s['ok']['after'])}**: errors "
            f"{fb['error']} -> {fa['error']}, warnings {fb['warning']} -> {fa['warning']}, "
            f"notes {fb['info']} -> {fa['info']}.",
            "",
            f"- {s['n_practices_moved']} practice(s) moved, {s['n_patients_moved']:,} patients",
            f"- PCNs: {s['n_pcns']['before']} -> {s['n_pcns']['after']}; outside the band: "
            f"{s['n_pcns_outside_band']['before']} -> {s['n_pcns_outside_band']['after']} PCNs",
            f"- findings resolved: {s['n_resolved']}; introduced: {s['n_introduced']}",
        ]
        for layer, v in s["crossings"].items():
            label = markdown(layer_label(layer))
            lines.append(f"- PCNs across {label} lines: {v['before']} -> {v['after']} PCNs")
        if self.changes:
            lines += ["", "## Changes", ""]
            lines += [f"{i}. {markdown(c)}" for i, c in enumerate(self.changes, 1)]
        if len(self.moves):
            lines += ["", "## Practices moved", ""]
            lines += ["| practice | name | patients | from | to |", "|---|---|---|---|---|"]
            for r in self.moves.itertuples(index=False):
                lines.append(
                    f"| {markdown(r.practice_code)} | {markdown(str(r.practice_name))} | "
                    f"{int(r.list_size):,} | {markdown(r.from_pcn_code) or '(none)'} | "
                    f"{markdown(r.to_pcn_code) or '(none)'} |"
                )
        changed = self.changed_pcns
        if len(changed):
            lines += ["", "## PCNs changed", ""]
            lines += [
                "| PCN | name | patients before | patients after | band before | band after |",
                "|---|---|---|---|---|---|",
            ]
            for r in changed.itertuples(index=False):
                lines.append(
                    f"| {markdown(r.pcn_code)} | "
                    f"{markdown(r.pcn_name_after or r.pcn_name_before)} | "
                    f"{int(r.list_size_before):,} | {int(r.list_size_after):,} | "
                    f"{r.band_status_before or '(none)'} | {r.band_status_after or '(none)'} |"
                )
        for title, items in (
            ("Findings resolved", self.resolved),
            ("Findings introduced", self.introduced),
        ):
            lines += ["", f"## {title} ({len(items)})", ""]
            lines += [
                f"- {f.severity.value.upper()} **{markdown(f.check)} / {markdown(f.kind)}**: "
                f"{markdown(f.message)}"
                for f in items
            ] or ["- none"]
        if self.alignment:
            lines += ["", "## Community alignment", ""]
            for layer, v in self.alignment.items():
                keys = [k for k in v["after"] if k in v["before"]]
                shown = [
                    f"{k} {_fmt(v['before'][k])} -> {_fmt(v['after'][k])}"
                    for k in keys
                    if v["before"][k] != v["after"][k]
                ]
                lines.append(f"- {markdown(layer)}: {'; '.join(shown) or 'unchanged'}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """HTML summary first, tables in collapsible sections (every string escaped)."""
        esc = html_text
        s = self.summary

        def verdict(ok: bool) -> str:
            colour = "#1a7f37" if ok else "#b42318"
            return f"<span style='color:{colour}'>{'PASS' if ok else 'FAIL'}</span>"

        fb, fa = s["findings"]["before"], s["findings"]["after"]
        head = (
            f"<h3>Comparison: {esc(s['study'])}: {verdict(s['ok']['before'])} &rarr; "
            f"{verdict(s['ok']['after'])}</h3><p>Errors {fb['error']} &rarr; {fa['error']}, "
            f"warnings {fb['warning']} &rarr; {fa['warning']}, notes {fb['info']} &rarr; "
            f"{fa['info']}. {s['n_practices_moved']} practice(s) moved "
            f"({s['n_patients_moved']:,} patients); {s['n_resolved']} finding(s) resolved, "
            f"{s['n_introduced']} introduced.</p>"
        )

        def items(findings: list[Finding]) -> str:
            return (
                "<ul>"
                + "".join(
                    f"<li><b>{esc(f.severity.value)}</b> {esc(f.check)}/{esc(f.kind)}: "
                    f"{esc(f.message)}</li>"
                    for f in findings
                )
                + "</ul>"
                if findings
                else "<p>none</p>"
            )

        parts = [head]
        if self.changes:
            parts.append(
                f"<details open><summary>Changes ({len(self.changes)})</summary><ol>"
                + "".join(f"<li>{esc(c)}</li>" for c in self.changes)
                + "</ol></details>"
            )
        parts.append(
            f"<details open><summary>Resolved ({len(self.resolved)})</summary>"
            f"{items(self.resolved)}</details>"
        )
        parts.append(
            f"<details open><summary>Introduced ({len(self.introduced)})</summary>"
            f"{items(self.introduced)}</details>"
        )
        parts.append(
            f"<details><summary>Practices moved ({len(self.moves)})</summary>"
            f"{html_table(self.moves)}</details>"
        )
        changed = self.changed_pcns
        parts.append(
            f"<details><summary>PCNs changed ({len(changed)})</summary>"
            f"{html_table(changed)}</details>"
        )
        if self.crossings:
            rows = "".join(
                f"<tr><td>{esc(layer)}</td><td>{esc(', '.join(v['before']) or '-')}</td>"
                f"<td>{esc(', '.join(v['after']) or '-')}</td></tr>"
                for layer, v in self.crossings.items()
            )
            parts.append(
                "<details><summary>Boundary crossings</summary><table><tr><th>layer</th>"
                f"<th>PCNs before</th><th>PCNs after</th></tr>{rows}</table></details>"
            )
        if self.alignment:
            rows = "".join(
                f"<tr><td>{esc(layer)}</td><td>{esc(k)}</td><td>{esc(_fmt(v['before'].get(k)))}"
                f"</td><td>{esc(_fmt(v['after'].get(k)))}</td></tr>"
                for layer, v in self.alignment.items()
                for k in v["after"]
            )
            parts.append(
                "<details><summary>Community alignment</summary><table><tr><th>layer</th>"
                f"<th>score</th><th>before</th><th>after</th></tr>{rows}</table></details>"
            )
        return "<div>" + "".join(parts) + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def write(
        self,
        out_dir: str | Path,
        *,
        map_html: bool = True,
        tiles: str | None = None,
        png: bool = False,
    ) -> list[Path]:
        """Write the scenario's outputs into ``out_dir`` as one run: the ``after`` report's
        files (:meth:`Report.write <geo_pcn.report.Report.write>`), ``compare.md``,
        ``compare.json`` and, with ``map_html``, ``compare_map.html``.

        The run owns the folder: files of an earlier run that this one does not write are
        removed, a folder holding files no run wrote is refused, and nothing is
        half-written (see :mod:`geo_pcn._outputs`).

        Returns the paths written.

        Raises
        ------
        InputError
            ``out_dir`` holds files geo-pcn did not write.
        """

        def write_all(folder: Path) -> None:
            self.after.write_files(folder, map_html=map_html, tiles=tiles, png=png)
            self.write_files(folder)
            if map_html:
                write_change_map(self, folder / "compare_map.html", tiles=tiles)

        return write_outputs(out_dir, write_all)

    def write_files(self, folder: str | Path) -> list[Path]:
        """Write ``compare.md`` and ``compare.json`` into ``folder`` as it is."""
        folder = Path(folder)
        md, js = folder / "compare.md", folder / "compare.json"
        md.write_text(self.to_markdown(), encoding="utf-8")
        self.to_json(js)
        return [md, js]

    def __repr__(self) -> str:
        s = self.summary
        fb, fa = s["findings"]["before"], s["findings"]["after"]
        return (
            f"<Comparison {s['study']!r}: {s['n_practices_moved']} practices moved; errors "
            f"{fb['error']} -> {fa['error']}; {s['n_resolved']} resolved, "
            f"{s['n_introduced']} introduced>"
        )


def _n_outside(status: pd.Series) -> int:
    return int(status.isin(["below", "above"]).sum())


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float | np.floating):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int | np.integer) else str(value)


def _changes_between(before: Configuration, after: Configuration) -> list[str] | None:
    chain: list[str] = []
    node: Configuration | None = after
    while node is not None and node is not before:
        chain[:0] = [str(c) for c in node.changes]
        node = node.parent
    return chain if node is before else None


def _crossing_pcns(report: Report) -> dict[str, list[str]]:
    pcns = report.pcns
    return {
        layer: sorted(pcns.loc[pcns[f"n_{layer}"] > 1, "pcn_code"])
        for layer in report.context.cache.site_areas
        if f"n_{layer}" in pcns
    }


def compare(before: Report, after: Report) -> Comparison:
    """What changed between two reports of the same study.

    Parameters
    ----------
    before, after
        Reports from :func:`geo_pcn.validate` or :func:`revalidate`.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        The reports are of configurations with different practices.

    Examples
    --------
    >>> import geo_pcn
    >>> from geo_pcn.datasets import demo
    >>> study = demo()
    >>> before = geo_pcn.validate(study)
    >>> after = geo_pcn.revalidate(before, study.configuration.move("Z00040", to="UZ007"))
    >>> c = compare(before, after)
    >>> c.n_practices_moved, c.moves.loc[0, "from_pcn_code"], c.moves.loc[0, "to_pcn_code"]
    (1, 'UZ008', 'UZ007')
    """
    b_cfg, a_cfg = before.configuration, after.configuration
    diff = b_cfg.diff(a_cfg)
    practices = after.study.practices
    sizes = after.context.list_sizes
    moves = pd.DataFrame(
        {
            PRACTICE_CODE: diff[PRACTICE_CODE].to_numpy(dtype=object),
            "practice_name": practices["practice_name"]
            .reindex(diff[PRACTICE_CODE])
            .fillna("")
            .to_numpy(dtype=object),
            LIST_SIZE: sizes.reindex(diff[PRACTICE_CODE]).fillna(0).astype("int64").to_numpy(),
            "from_pcn_code": diff["from_pcn_code"].to_numpy(dtype=object),
            "to_pcn_code": diff["to_pcn_code"].to_numpy(dtype=object),
        }
    )
    cols = ["pcn_code", "pcn_name", "list_size", "n_practices", "band_status"]
    pb = before.pcns[cols].set_index("pcn_code")
    pa = after.pcns[cols].set_index("pcn_code")
    codes = sorted(set(pb.index) | set(pa.index))
    pcns = pd.DataFrame({"pcn_code": codes})
    for side, table in (("before", pb), ("after", pa)):
        t = table.reindex(codes)
        pcns[f"pcn_name_{side}"] = t["pcn_name"].fillna("").to_numpy(dtype=object)
        pcns[f"list_size_{side}"] = t["list_size"].fillna(0).astype("int64").to_numpy()
        pcns[f"n_practices_{side}"] = t["n_practices"].fillna(0).astype("int64").to_numpy()
        pcns[f"band_status_{side}"] = t["band_status"].fillna("").to_numpy(dtype=object)
    pcns["list_size_change"] = pcns["list_size_after"] - pcns["list_size_before"]
    cb, ca = _crossing_pcns(before), _crossing_pcns(after)
    crossings = {
        layer: {"before": cb.get(layer, []), "after": ca.get(layer, [])}
        for layer in dict.fromkeys([*cb, *ca])
    }
    sb = _scores(getattr(before, "alignment", None))
    sa = _scores(getattr(after, "alignment", None))
    alignment = {
        layer: {"before": sb.get(layer, {}), "after": sa.get(layer, {})}
        for layer in dict.fromkeys([*sb, *sa])
    }
    return Comparison(
        before=before,
        after=after,
        moves=moves,
        pcns=pcns,
        resolved=_multiset_minus(before.findings, after.findings),
        introduced=_multiset_minus(after.findings, before.findings),
        crossings=crossings,
        alignment=alignment,
        changes=_changes_between(b_cfg, a_cfg),
    )


# =======================================================================================
# the change map
# =======================================================================================


def build_change_map(comparison: Comparison, *, tiles: str | None = None):
    """The map of the ``after`` report (:func:`geo_pcn.maps.build_map`) with a
    "What changed" layer on top: the changed PCNs' footprints before (dashed) and after
    (thick), and a ring round every practice that moved (hover it: from which PCN to which).

    Returns
    -------
    folium.Map
        Self-contained like :func:`geo_pcn.maps.build_map`.

    Raises
    ------
    ImportError
        ``geo_pcn.maps`` is not available.
    """
    from geo_pcn import maps

    return maps.build_map(
        comparison.after.study, comparison.after, tiles=tiles, changes=_change_layers(comparison)
    )


def _change_layers(comparison: Comparison) -> dict[str, Any]:
    """What the change map draws: the changed PCNs' footprints before and after, and the
    moved practices, in BNG with escaped tooltips (``tip``)."""
    import geopandas as gpd

    esc = html_text
    changed = list(comparison.changed_pcns["pcn_code"])
    outlines = {}
    for report, label in ((comparison.before, "before"), (comparison.after, "after")):
        fp = report.context.footprints.pcns
        fp = fp[fp.index.isin(changed) & fp.geometry.notna() & ~fp.geometry.is_empty]
        outlines[label] = gpd.GeoDataFrame(
            {
                "tip": [
                    f"<b>{esc(report.configuration.name_of(code))} ({esc(code)})</b><br>"
                    f"{label} the scenario"
                    for code in fp.index
                ]
            },
            geometry=fp.geometry.to_numpy(),
            crs=fp.crs,
            index=pd.Index([f"{label}{i}" for i in range(len(fp))]),
        )
    moves = comparison.moves
    practices = comparison.after.study.practices
    points = practices.geometry.reindex(moves[PRACTICE_CODE])
    located = points.notna().to_numpy() & ~points.is_empty.to_numpy()
    moved = moves[located]
    names = comparison.after.configuration.name_of, comparison.before.configuration.name_of

    def pcn(code: str, name_of) -> str:
        return f"{esc(name_of(code))} ({esc(code)})" if code else "no PCN"

    moved_frame = gpd.GeoDataFrame(
        {
            "tip": [
                f"<b>{esc(r.practice_name)} ({esc(r.practice_code)})</b><br>moved from "
                f"{pcn(r.from_pcn_code, names[1])} to {pcn(r.to_pcn_code, names[0])}"
                f"<br>{int(r.list_size):,} patients"
                for r in moved.itertuples(index=False)
            ]
        },
        geometry=points[located].to_numpy(),
        crs=practices.crs,
        index=pd.Index([f"moved{i}" for i in range(len(moved))]),
    )
    return {"before": outlines["before"], "after": outlines["after"], "moved": moved_frame}


def write_change_map(comparison: Comparison, path: str | Path, *, tiles: str | None = None) -> Path:
    """Write :func:`build_change_map` as one self-contained HTML file (whole or not at all)."""
    from geo_pcn import maps

    return maps.write_map(
        comparison.after,
        path,
        tiles=tiles,
        changes=_change_layers(comparison),
    )
