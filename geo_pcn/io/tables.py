"""Reading tables: encodings, header-less files, column matching, one-line errors.

Every reader in :mod:`geo_pcn.io` goes through :func:`read_table` and :func:`match_columns`
so that all of them behave the same way:

* CSV in UTF-8, UTF-8 with BOM, cp1252 (Excel exports) or UTF-16 (BOM or NUL pattern);
  ``.gz`` compressed (truncated archives refused); ``.xlsx``/``.xls`` and Parquet, all
  recognised by their first bytes (a CSV named ``.xlsx`` is read as CSV, with a warning);
* a column a reader needs that appears twice in the header is refused;
* every value read as text (codes such as ``05D`` keep their leading zeros);
* column names matched ignoring case, spaces, dots and underscores
  (``Number.of.Patients`` is ``NUMBER_OF_PATIENTS``), or named explicitly by the user;
* a missing file, an empty file or a missing column is one :class:`InputError` line that
  names the file, the columns and the fix.

This module reads the files; column names and ``where`` filters are in
:mod:`geo_pcn.io._columns`, numbers in :mod:`geo_pcn.io._numbers`, and every name of
``__all__`` is importable from here.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo_pcn.errors import GeoPCNWarning, InputError, SchemaError, list_some
from geo_pcn.io._cache import cached
from geo_pcn.io._columns import (
    _repeated,
    apply_where,
    find_column,
    match_columns,
    normalise_code,
    normalise_name,
    normalise_postcode,
    split_where,
)
from geo_pcn.io._limits import (
    MAX_INFLATED_BYTES,
    MAX_MEMBER_BYTES,
    check_regular_file,
    read_capped,
)
from geo_pcn.io._numbers import MAX_PATIENTS, MAX_POPULATION, _whole, to_number

__all__ = [
    "Source",
    "read_table",
    "normalise_name",
    "match_columns",
    "find_column",
    "to_number",
    "MAX_PATIENTS",
    "MAX_POPULATION",
    "normalise_code",
    "normalise_postcode",
    "apply_where",
    "split_where",
    "sheet_names",
    "warn",
]

_ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class Source:
    """A file named in a study file, with the options that go with it.

    Parameters
    ----------
    path
        The file (already resolved against the study file's folder).
    columns
        Explicit mapping ``canonical name -> column name in the file`` for columns the
        readers would not recognise (``{"practice_code": "Org Code"}``).
    where
        Equality filter on raw columns applied before anything else
        (``{"ICB_CODE": "QNC"}``); column names matched like any other.
    options
        Any other keys of the study-file entry (``kind``, ``sheet``, ...).
    """

    path: Path
    columns: Mapping[str, str] = field(default_factory=dict)
    where: Mapping[str, object] = field(default_factory=dict)
    options: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def coerce(cls, value: Source | str | Path) -> Source:
        """Accept a :class:`Source`, or a bare path."""
        if isinstance(value, Source):
            return value
        return cls(Path(value))

    @property
    def label(self) -> str:
        """How the file is named in messages."""
        return str(self.path)


def _check_exists(path: Path, role: str) -> None:
    if not path.exists():
        raise InputError(
            f"{path}: {role} file not found; check the path (relative paths are resolved "
            "against the study file's folder)"
        )
    if path.is_dir():
        raise InputError(f"{path}: {role} must be a file, but this is a folder")
    check_regular_file(path, f"{role} file")


def _wide_codec(raw: bytes) -> str | None:
    """``utf-32``/``utf-16`` (BOM), ``utf-16-le``/``-be`` (a NUL every other byte) or ``None``.

    Excel's "Unicode text" export and PowerShell's ``Out-File`` write UTF-16; read as
    UTF-8 it shows a NUL between every two characters.
    """
    if raw[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = raw[:4000]
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and head.count(0) >= len(head) // 3:
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def _decode(raw: bytes, path: Path) -> str:
    codec = _wide_codec(raw)
    if codec is not None:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: the file looks like {codec.upper()} text but cannot be decoded; "
                "save it again as CSV UTF-8"
            ) from None
    if b"\x00" in raw[:4000]:
        raise InputError(
            f"{path}: not a text file (it holds NUL bytes); give a CSV saved as UTF-8, "
            "or an .xlsx workbook"
        )
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    # cp1252 leaves five bytes undefined; latin-1 never fails.
    return raw.decode("latin-1")


_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other MS Office binary files)
_PARQUET_MAGIC = b"PAR1"
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def sniff(path: Path) -> str:
    """What a file holds, by its first bytes: ``gzip``, ``zip``, ``ole``, ``parquet``,
    ``text`` (anything else)."""
    with Path(path).open("rb") as fh:
        head = fh.read(4)
    if head[:2] == _GZIP_MAGIC:
        return "gzip"
    if head == _ZIP_MAGIC:
        return "zip"
    if head == _OLE_MAGIC:
        return "ole"
    if head == _PARQUET_MAGIC:
        return "parquet"
    return "text"


def _read_bytes(path: Path) -> bytes:
    kind = sniff(path)
    if path.suffix.lower() == ".gz" and kind != "gzip":
        what = {"zip": "a zip file", "ole": "an Excel .xls file", "parquet": "a Parquet file"}
        raise InputError(
            f"{path}: the file is named .gz but is not gzip-compressed (it is "
            f"{what.get(kind, 'plain text or something else')}); rename it without .gz, "
            "or download it again"
        )
    if kind == "gzip":
        import gzip
        import zlib

        try:
            with gzip.open(path, "rb") as fh:
                return read_capped(
                    fh, MAX_INFLATED_BYTES, f"{path}: the gzip file", "check the file"
                )
        except (EOFError, OSError, zlib.error) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(
                f"{path}: the gzip file is truncated or corrupt ({reason}); download it again"
            ) from None
    return path.read_bytes()


def _header_names(cells: Sequence[object]) -> tuple[list[str], list[str]]:
    """The header as written (stripped) and unique column labels for the frame.

    A blank header cell is labelled ``Unnamed: <i>`` and a repeated name gets ``.1``, ``.2``
    (as pandas does); the names as written are kept in ``attrs["header"]`` so that a
    repeated column a reader needs can be refused (:func:`find_column`).
    """
    raw = ["" if _blank(c) else str(c).strip() for c in cells]
    labels: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw):
        label = name or f"Unnamed: {i}"
        if label in seen:
            seen[label] += 1
            label = f"{label}.{seen[label]}"
            while label in seen:
                label += "_"
        seen.setdefault(label, 0)
        labels.append(label)
    return raw, labels


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) == ""


def read_table(
    path: Path | str,
    *,
    role: str = "input",
    header: bool | None = None,
    sheet: str | int | None = None,
    numbers: bool = False,
    columns: Sequence[str] | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) or an Excel sheet with every value as text.

    Parameters
    ----------
    path
        The file.
    role
        What the file is for (``"practices"``, ``"registrations"``...), used in messages.
    header
        ``True``: first row is the header; ``False``: no header, columns are numbered
        ``0..n-1``; ``None``: guess (a first row that looks like data, e.g. an ODS code in
        the first cell and a date-like cell, is taken as data).
    sheet
        Excel sheet name or position (only for ``.xlsx``).
    numbers
        Keep a Parquet column of whole numbers (int/uint, never missing) as numbers rather
        than writing it out as text (a reader that passes it on to :func:`to_number` and
        :func:`~geo_pcn.io._formats.canonical_table` with ``numbers=``); CSV and Excel are
        text either way.
    columns
        Parquet only: read only these columns (and the named index, which comes with
        them); the others are never parsed. Other formats are read whole.
    cache
        ``False``: keep no cache entry of the table as read (a reader that keeps its own
        smaller result, such as :func:`~geo_pcn.io.read_population`'s two columns).

    Returns
    -------
    pandas.DataFrame
        All values are ``str`` (but see ``numbers``); blank cells are ``""``.
        ``df.attrs["path"]`` is the path and
        ``df.attrs["first_line"]`` the file line of the row labelled ``0``.

    Raises
    ------
    InputError
        The file is missing, a folder, or empty.
    """
    path = Path(path)
    columns = None if columns is None else list(columns)

    def read() -> pd.DataFrame:
        return _read_table(
            path, role=role, header=header, sheet=sheet, numbers=numbers, columns=columns
        )

    if not cache or _plain_parquet(path, numbers):  # plain Parquet: as fast as an entry
        return read()
    options = {"path": str(path), "role": role, "header": header, "sheet": sheet}
    if numbers:  # a key of its own (the text-only entries keep theirs)
        options["numbers"] = True
    if columns is not None:
        options["columns"] = columns
    return cached("table", [path], options, read)


def _plain_parquet(path: Path, numbers: bool) -> bool:
    """A Parquet file whose columns are all text (or, with ``numbers``, text and integers):
    reading it costs no more than reading a cache entry of it (the national registrations:
    0.08 CPU s whole, 0.15 from an entry, 0.36 to parse and store one), so it is not
    cached. Anything else (floats, dates: written out through Python's ``str``) is."""
    try:
        if not path.is_file() or sniff(path) != "parquet":
            return False
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
    except Exception:  # unreadable: the reader says so in its own words
        return False
    kinds = [pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view]
    if numbers:
        kinds.append(pa.types.is_integer)
    return all(any(kind(f.type) for kind in kinds) for f in schema)


def _read_table(
    path: Path,
    *,
    role: str,
    header: bool | None,
    sheet: str | int | None,
    numbers: bool = False,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """:func:`read_table` without the cache."""
    _check_exists(path, role)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: {role} file is empty; export it again with its rows")
    kind = sniff(path)
    suffix = path.suffix.lower()
    if kind in {"zip", "ole"}:
        rows = _read_excel(path, sheet)
    elif kind == "parquet":
        return _read_parquet(path, role, numbers=numbers, columns=columns)
    else:
        if suffix in _EXCEL_SUFFIXES:
            warn(
                f"{path}: is a CSV file named {suffix} (it is text, not an Excel workbook); "
                "read it as CSV (rename it to .csv to silence this warning)"
            )
        text = _decode(_read_bytes(path), path)
        if not text.strip():
            raise InputError(f"{path}: {role} file is empty; export it again with its rows")
        sep = _delimiter(text)
        if header is None:
            header = _looks_like_header(text, sep)
        rows = _arrow_csv(text, sep)
        try:
            if rows is None:  # pandas reads it, and names what is wrong in its own words
                rows = pd.read_csv(
                    io.StringIO(text),
                    sep=sep,
                    dtype=str,
                    keep_default_na=False,
                    header=None,
                    skipinitialspace=False,
                    on_bad_lines="error",
                )
        except pd.errors.ParserError as exc:
            reason = " ".join(str(exc).split())
            raise InputError(f"{path}: not a readable CSV ({reason}); save it as CSV") from None
        except pd.errors.EmptyDataError:
            raise InputError(
                f"{path}: {role} file is empty; export it again with its rows"
            ) from None
    rows = rows.fillna("")
    if header is False:
        frame = rows
        frame.columns = list(range(frame.shape[1]))
        names: list[str] = []
    else:
        names, labels = _header_names(rows.iloc[0].tolist() if len(rows) else [])
        frame = rows.iloc[1:].reset_index(drop=True)
        frame.columns = labels
    if frame.empty:
        raise InputError(f"{path}: {role} file has a header but no rows")
    frame.attrs["path"] = str(path)
    # File line of the row with index label 0 (header-less CSV: 1; otherwise 2).
    frame.attrs["first_line"] = 1 if header is False else 2
    frame.attrs["duplicate_columns"] = _repeated(names)
    return frame


#: every cell as the text it shows, as the CSV reader keeps it: "NA", "N/A", "NULL" or
#: "nan" in a cell is that text, not a blank (pandas' default missing-value strings)
_AS_TEXT = {"header": None, "dtype": str, "keep_default_na": False}


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """Every cell of one sheet as text (the header is row 0)."""
    if sniff(path) == "zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                members = archive.namelist()
                inflated = sum(i.file_size for i in archive.infolist())
        except zipfile.BadZipFile:
            raise InputError(
                f"{path}: the file is truncated or corrupt (a damaged zip/xlsx); download or "
                "export it again"
            ) from None
        if inflated > MAX_MEMBER_BYTES:  # zipfile stops each member at its stated size
            raise InputError(
                f"{path}: the workbook inflates to {inflated / 2**20:,.0f} MB, far more than "
                "a real one; open it in Excel and save it again, or save the sheet as CSV"
            )
        if not any(m.startswith("xl/") for m in members):
            inside = [m for m in members if not m.endswith("/")]
            raise InputError(
                f"{path}: is a zip archive, not an Excel workbook (it holds "
                f"{list_some(inside, 4)}); unzip it and give the CSV file you mean"
            )
    which = 0 if sheet is None else sheet
    try:
        try:
            return pd.read_excel(path, sheet_name=which, engine=excel_engine(), **_AS_TEXT)
        except ValueError:
            raise  # an unknown sheet: the same with either engine
        except Exception:
            if excel_engine() == "openpyxl":
                raise
            # a workbook calamine cannot parse may still open with openpyxl
            return pd.read_excel(path, sheet_name=which, engine="openpyxl", **_AS_TEXT)
    except ValueError as exc:  # unknown sheet
        reason = " ".join(str(exc).split())
        names = sheet_names(path)
        raise SchemaError(
            f'{path}: {reason}; name the sheet with sheet = "..." (the workbook has '
            f"{list_some(names, 8) or 'no sheets'})"
        ) from None
    except Exception as exc:  # a damaged workbook
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{path}: not a readable Excel workbook ({reason}); open it in Excel and save it "
            "again, or export the sheet as CSV"
        ) from None


def _arrow_csv(text: str, sep: str) -> pd.DataFrame | None:
    """``pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
    header=None)`` through pyarrow's CSV parser: the same frame (every cell as text, blank
    lines skipped, quoted separators and line breaks kept, ``NA`` and ``null`` as text)
    about five times faster (Census population by single year of age, 94 columns: 0.29 ->
    0.07 CPU s). ``None`` when pyarrow will not read it (rows of different lengths, a
    malformed quote...): then pandas does, and says what is wrong in its own words."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(
            pa.BufferReader(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(
                autogenerate_column_names=True, use_threads=False, block_size=1 << 26
            ),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=_text_columns(),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                auto_dict_encode=False,
            ),
        )
    except Exception:
        return None
    if table.num_columns == 0 or not all(pa.types.is_string(t) for t in table.schema.types):
        return None
    frame = table.to_pandas()
    frame.columns = range(frame.shape[1])
    return frame


@functools.cache
def _text_columns() -> dict:
    """Every column of a CSV as text (pyarrow names a header-less file's columns f0, f1...)."""
    import pyarrow as pa

    return {f"f{i}": pa.string() for i in range(4096)}


def _read_parquet(
    path: Path, role: str, *, numbers: bool = False, columns: list[str] | None = None
) -> pd.DataFrame:
    """A Parquet table as text (with ``numbers``, whole-number columns kept as they are); a
    named index becomes a column. ``columns``: only those (and the named index)."""
    try:
        frame = pd.read_parquet(path, columns=columns)
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow; pip install pyarrow") from None
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{path}: the Parquet file is truncated or corrupt ({reason}); download it again"
        ) from None
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    if "geometry" in frame.columns:
        frame = frame.drop(columns="geometry")
    columns = list(frame.columns)
    frame = pd.DataFrame(
        {
            i: frame[c] if numbers and _whole(frame[c]) else _as_text(frame[c])
            for i, c in enumerate(frame.columns)
        }
    )
    frame.columns = [str(c).strip() for c in columns]
    if frame.empty:
        raise InputError(f"{path}: {role} file has no rows")
    frame.attrs["path"] = str(path)
    frame.attrs["first_line"] = 1
    frame.attrs["duplicate_columns"] = {}
    return frame


def _as_text(column: pd.Series) -> pd.Series:
    """One Parquet column as text, blank where missing: text columns as they are and whole
    numbers written out directly (the national registrations: 1.7 s -> 0.05 s), anything
    else through Python's ``str`` (floats, dates, booleans keep their usual spelling)."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return column.fillna("") if column.hasnans else column
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # no missing values possible
        return column.astype(str)
    return column.astype(object).where(column.notna(), "").astype(str)


_CODE_LIKE = re.compile(r"^[A-Z]{1,2}\d{2,6}[A-Z]?$|^[A-Z]\d[A-Z0-9]{3}$")
_DATE_LIKE = re.compile(r"^(19|20)\d{6}$")
_POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$")
_ONS_CODE_LIKE = re.compile(r"^[A-Z]\d{8}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _delimiter(text: str) -> str:
    """``,`` unless the first line has no comma but tabs (Excel's "Unicode text" export is
    tab-separated UTF-16) or semicolons (CSV from a European-locale Excel)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if "," in first:
        return ","
    if "\t" in first:
        return "\t"
    if ";" in first:
        return ";"
    return ","


def _looks_like_header(text: str, sep: str = ",") -> bool:
    """Guess whether a CSV's first row is a header (ODS and Code-Point files have none).

    The first row is data when it holds a postcode, an ONS code (``E01000001``) or an ODS
    code next to a date or another code; it is a header when some column is numeric below
    the first row but not in it; otherwise it is a header unless it holds a number.
    """
    rows = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:21])), delimiter=sep))
    if not rows or not rows[0]:
        return True
    cells = [c.strip() for c in rows[0]]
    if any(_POSTCODE_LIKE.match(c) or _ONS_CODE_LIKE.match(c) for c in cells):
        return False
    if _CODE_LIKE.match(cells[0]) and (
        any(_DATE_LIKE.match(c) for c in cells) or sum(bool(_CODE_LIKE.match(c)) for c in cells) > 1
    ):
        return False
    below = rows[1:]
    for j, first in enumerate(cells):
        column = [r[j].strip() for r in below if j < len(r) and r[j].strip()]
        if first and not _NUMBER.match(first) and column and all(_NUMBER.match(c) for c in column):
            return True
    return not any(_NUMBER.match(c) for c in cells if c)


def sheet_names(path: Path | str) -> list[str]:
    """Sheet names of an Excel workbook (``[]`` for any other file)."""
    path = Path(path)
    if not path.is_file() or sniff(path) not in {"zip", "ole"}:
        return []
    try:
        with pd.ExcelFile(path, engine=excel_engine()) as book:
            return [str(s) for s in book.sheet_names]
    except Exception:  # a corrupt workbook, or a zip of CSVs: read_table says which
        return []


def excel_engine() -> str:
    """The pandas engine for Excel: ``calamine`` (python-calamine, a Rust parser about five
    times faster than openpyxl on the NHS workbooks, same values: dates, whole numbers and
    text alike), else ``openpyxl`` when python-calamine is not installed."""
    if int(pd.__version__.split(".")[0]) < 3:
        return "openpyxl"  # pandas 2's calamine engine gives date cells as dates, not datetimes
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


def warn(message: str, category: type[Warning] = GeoPCNWarning) -> None:
    """Warn so that the warning points at the first caller outside the geo_pcn package."""
    package = str(Path(__file__).resolve().parents[1])
    level = 2  # 1 would be this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
