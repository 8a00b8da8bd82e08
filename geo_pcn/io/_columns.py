"""Columns of a table read by :func:`geo_pcn.io.tables.read_table`: names and codes.

Column names are matched ignoring case, spaces, dots and underscores
(:func:`normalise_name`), or named explicitly by the user; a name a reader needs that is in
the header twice is refused; ``where`` filters keep rows by column value; codes and
postcodes are normalised to their join keys. All importable from
:mod:`geo_pcn.io.tables`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from geo_pcn.errors import InputError, SchemaError, list_some

__all__ = [
    "normalise_name",
    "normalise_code",
    "normalise_postcode",
    "find_column",
    "match_columns",
    "apply_where",
    "split_where",
]


def normalise_name(name: object) -> str:
    """Column name key: upper case with spaces, line breaks, dots and underscores removed.

    Examples
    --------
    >>> normalise_name("Number.of.Patients")
    'NUMBEROFPATIENTS'
    >>> normalise_name(" practice_code ")
    'PRACTICECODE'
    """
    return re.sub(r"[\s._]+", "", str(name)).upper()


def normalise_code(values: pd.Series) -> pd.Series:
    """Codes (ODS, ONS, LSOA): text, stripped, upper case; blanks become ``""``."""
    return values.fillna("").astype(str).str.strip().str.upper()


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Postcode join key: upper case with every space removed (``"st10 1aa"`` -> ``ST101AA``)."""
    return values.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)


def _repeated(names: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
    """Header names used more than once (compared like :func:`normalise_name`):
    ``key -> [(1-based column number, name as written), ...]``; blank names are ignored."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for i, name in enumerate(names):
        if name:
            groups.setdefault(normalise_name(name), []).append((i + 1, name))
    return {k: v for k, v in groups.items() if len(v) > 1}


def find_column(
    frame: pd.DataFrame, aliases: Iterable[str], *, explicit: str | None = None
) -> object | None:
    """The column of ``frame`` matching ``explicit`` or the first of ``aliases``.

    Names are compared with :func:`normalise_name`. Returns ``None`` when nothing matches.

    Raises
    ------
    SchemaError
        The matching name is in the file's header more than once (``NUMBER_OF_PATIENTS``
        twice, or ``PCN_CODE`` and ``PCN Code``): the message gives their column numbers.
    """
    keys = {normalise_name(c): c for c in frame.columns}
    if explicit is not None:
        return _unrepeated(frame, keys.get(normalise_name(explicit)))
    for alias in aliases:
        hit = keys.get(normalise_name(alias))
        if hit is not None:
            return _unrepeated(frame, hit)
    return None


def _unrepeated(frame: pd.DataFrame, column: object | None) -> object | None:
    """``column``, unless the file's header has that name more than once (then raise)."""
    if column is None:
        return None
    repeated = frame.attrs.get("duplicate_columns") or {}
    group = repeated.get(normalise_name(column))
    if group:
        where = " and ".join(str(n) for n, _ in group)
        names = sorted({name for _, name in group})
        shown = " / ".join(names)
        raise SchemaError(
            f"{frame.attrs.get('path', 'input')}: column {shown} appears {len(group)} times "
            f"(columns {where}), so it is not clear which to use; rename or delete the extra "
            "column(s) so the name is used once"
        )
    return column


def match_columns(
    frame: pd.DataFrame,
    schema: Mapping[str, Sequence[str]],
    *,
    required: Iterable[str] = (),
    explicit: Mapping[str, str] | None = None,
    source: str,
    what: str,
) -> pd.DataFrame:
    """Rename ``frame``'s columns to canonical names; raise once for every missing one.

    Parameters
    ----------
    frame
        The raw table.
    schema
        ``canonical name -> aliases`` (matched with :func:`normalise_name`).
    required
        Canonical names that must be found.
    explicit
        User mapping ``canonical name -> column in the file`` (from the study file's
        ``columns = {...}``); it wins over the aliases.
    source, what
        File label and what the file is, for messages.

    Returns
    -------
    pandas.DataFrame
        Only the matched columns, renamed to their canonical names (a new frame);
        ``attrs["columns"]`` maps each canonical name to the file's column name.
    """
    explicit = dict(explicit or {})
    picked: dict[str, object] = {}
    bad_explicit = []
    for canonical, aliases in schema.items():
        if canonical in explicit:
            col = find_column(frame, (), explicit=explicit[canonical])
            if col is None:
                bad_explicit.append(f"{canonical} = {explicit[canonical]!r}")
                continue
        else:
            col = find_column(frame, aliases)
        if col is not None and col not in picked.values():
            picked[canonical] = col
    if bad_explicit:
        raise SchemaError(
            f"{source}: column(s) named in the study file are not in the file: "
            f"{', '.join(bad_explicit)}; the file has {list_some(frame.columns, 12)}"
        )
    missing = [c for c in required if c not in picked]
    if missing:
        hints = "; ".join(f"{c} (looked for {'/'.join(schema[c][:4])})" for c in missing)
        raise SchemaError(
            f"{source}: {what} is missing required column(s) {hints}; the file has "
            f"{list_some(frame.columns, 12)}; name them in the study file, e.g. "
            f'columns = {{ {missing[0]} = "<column in your file>" }}'
        )
    out = frame[list(picked.values())].copy()
    out.columns = list(picked.keys())
    out.attrs = dict(frame.attrs)
    # the file's own names, for messages (a header-less file's columns are numbered)
    out.attrs["columns"] = {
        k: f"#{v + 1}" if isinstance(v, int) else str(v) for k, v in picked.items()
    }
    return out


def apply_where(frame: pd.DataFrame, where: Mapping[str, object], *, source: str) -> pd.DataFrame:
    """Keep rows where every ``column == value`` (value may be a list of allowed values).

    Values are compared as text, stripped and ignoring case. The index is kept, so file line
    numbers can still be computed from it.

    Raises
    ------
    SchemaError
        A column named in ``where`` is not in the frame.
    InputError
        No row matches.
    """
    if not where:
        return frame
    mask = pd.Series(True, index=frame.index)
    for name, wanted in where.items():
        col = find_column(frame, (name,))
        if col is None:
            raise SchemaError(
                f"{source}: 'where' names column {name!r}, which is not in the file; "
                f"the file has {list_some(frame.columns, 12)}"
            )
        values = wanted if isinstance(wanted, list | tuple | set | frozenset) else [wanted]
        allowed = [str(w).strip().upper() for w in values]
        mask &= frame[col].fillna("").astype(str).str.strip().str.upper().isin(allowed)
    out = frame[mask]
    if out.empty:
        raise InputError(
            f"{source}: no rows match where = {dict(where)}; check the column and the value"
        )
    return out


def split_where(
    frame: pd.DataFrame, where: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Split a ``where`` filter into keys naming raw columns of ``frame`` and the rest.

    The rest are matched against canonical column names after renaming (an ODS file has no
    header, so ``where = {icb_code = "QNC"}`` can only mean the canonical column).
    """
    raw: dict[str, object] = {}
    rest: dict[str, object] = {}
    for key, value in (where or {}).items():
        target = raw if find_column(frame, (str(key),)) is not None else rest
        target[str(key)] = value
    return raw, rest
