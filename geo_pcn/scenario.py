"""Scenarios: changes to a configuration, read from a file and applied in order.

* :class:`Scenario` is a list of operations (move, merge, split, add a PCN, unassign,
  rename) read from a TOML or CSV file (:meth:`Scenario.from_file`) and applied to a
  :class:`~geo_pcn.configuration.Configuration` (:meth:`Scenario.apply`).
* :class:`Operation` is one of them.

Re-validating the changed configuration is :func:`geo_pcn.revalidate`'s work, and setting
the reports before and after side by side is :func:`geo_pcn.compare`'s.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> study = demo()
>>> plan = Scenario.from_toml_text('[[move]]\\npractices = "Z00024"\\nto = "UZ002"\\n')
>>> fixed = plan.apply(study.configuration)
>>> fixed.assignments["Z00024"]
'UZ002'
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, ScenarioError, UnknownCodeError, list_some
from geo_pcn.io._limits import read_small_text

__all__ = ["Scenario", "Operation", "ScenarioError"]


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
        suffix = path.suffix.lower()
        text = read_small_text(path, ScenarioError, "scenario file")
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
        except RecursionError:
            raise ScenarioError(
                f"{label}: not valid TOML (arrays or tables nested too deeply for the parser); "
                "check the brackets"
            ) from None
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
