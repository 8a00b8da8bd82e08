"""The files of a ``geo-pcn init`` folder: zips unpacked, every file identified, and what
the practice file says about the study's practices (the ``--where`` rows, their sub-ICB
and ICB codes). :mod:`geo_pcn.cli.init` chooses among them and writes the study file.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
import zipfile
from pathlib import Path

from geo_pcn.errors import InputError, list_some
from geo_pcn.io._formats import ODS_COLUMNS
from geo_pcn.io._limits import MAX_INFLATED_BYTES, MAX_MEMBER_BYTES
from geo_pcn.io.identify import Found, identify, is_codepoint_folder, is_codepoint_zip
from geo_pcn.io.tables import normalise_name, read_table

__all__ = [
    "extract_date",
    "level_codes",
    "newest_first",
    "of_kind",
    "scan",
    "share_of",
    "sub_icbs",
    "unzip",
    "where_practices",
]


def unzip(folder: Path, notes: list[str]) -> None:
    """Unpack every zip under ``folder`` (but Code-Point Open, read as it is) into a folder
    beside it named after it, once; members that would leave that folder, or are bigger
    than the reader's caps, are refused with a note."""
    for zpath in sorted(folder.rglob("*.zip")):
        if any(part.startswith(".") for part in zpath.relative_to(folder).parts):
            continue
        try:
            with zipfile.ZipFile(zpath) as archive:
                infos = archive.infolist()
                names = [i.filename for i in infos]
                if is_codepoint_zip(names):
                    continue
                target = zpath.with_suffix("")
                if target.exists():
                    notes.append(f"{zpath.name}: already unpacked in {target.name}/")
                    continue
                total = sum(i.file_size for i in infos)
                bad = [
                    i.filename
                    for i in infos
                    if i.file_size > MAX_MEMBER_BYTES
                    or Path(i.filename).is_absolute()
                    or ".." in Path(i.filename).parts
                ]
                if bad or total > MAX_INFLATED_BYTES:
                    notes.append(f"{zpath.name}: not unpacked (members too big or outside it)")
                    continue
                archive.extractall(target)
                notes.append(f"{zpath.name}: unpacked into {target.name}/ beside it")
        except (zipfile.BadZipFile, OSError) as exc:
            notes.append(f"{zpath.name}: not a readable zip ({exc})")


def scan(folder: Path, out: Path) -> list[Found]:
    """Every file under ``folder`` identified (Code-Point folders as one input)."""
    found: list[Found] = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if is_codepoint_folder(here):
            found.append(identify(here))
            dirs[:] = []
            continue
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or path.suffix.lower() in {".toml", ".md", ".pdf"}:
                continue
            if os.path.abspath(path) == os.path.abspath(out):
                continue
            with warnings.catch_warnings():
                # only looking: validate shows the readers' warnings when it reads the file
                warnings.simplefilter("ignore")
                found.append(identify(path))
    return found


def extract_date(found: Found) -> dt.date | None:
    for fmt in ("%d%b%Y", "%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
        try:
            return dt.datetime.strptime(found.extract, fmt).date()
        except ValueError:
            continue
    return None


def newest_first(candidates: list[Found]) -> list[Found]:
    return sorted(
        candidates, key=lambda f: (-(extract_date(f) or dt.date.min).toordinal(), str(f.path))
    )


def share_of(wanted: frozenset[str], held: frozenset[str]) -> float:
    return len(wanted & held) / len(wanted) if wanted else 0.0


def where_practices(
    practice: Found, where: dict[str, str]
) -> tuple[dict[str, str], frozenset[str], int]:
    """``where`` with the file's own spelling of each column, the practice codes it keeps
    and the rows it keeps; raise naming the file's columns when one is not there."""
    raw = read_table(practice.path, role="practices")
    headerless = not practice.columns
    names = (
        {normalise_name(k): k for k in ODS_COLUMNS if not k.startswith("_")}
        if headerless
        else {normalise_name(c): c for c in raw.columns}
    )
    spelled: dict[str, str] = {}
    mask = None
    for key, value in where.items():
        column = names.get(normalise_name(key))
        if column is None:
            shown = ", ".join(names.values())
            raise InputError(
                f"--where {key}={value}: {practice.path} has no column {key!r}; its columns "
                f"are {shown}; give --where with one of them"
            )
        spelled[column] = value
        cells = raw[int(ODS_COLUMNS[column][0])] if headerless else raw[column]
        hit = cells.astype(str).str.strip().str.upper() == value.strip().upper()
        mask = hit if mask is None else mask & hit
    if mask is None:
        return {}, practice.practices, len(raw)
    if not mask.any():
        column = next(iter(spelled))
        cells = raw[int(ODS_COLUMNS[column][0])] if headerless else raw[column]
        raise InputError(
            f"--where {column}={spelled[column]}: no row of {practice.path} has it; values "
            f"there are {list_some(sorted(set(cells.astype(str).str.strip())), 8)}"
        )
    code = raw.columns[0] if headerless else _practice_column(raw)
    codes = raw.loc[mask, code].astype(str).str.strip().str.upper()
    return spelled, frozenset(codes), int(mask.sum())


def sub_icbs(practice: Found, codes: frozenset[str]) -> list[str]:
    """The sub-ICB codes of the practices ``codes`` in the practice file (epraccur column
    14, or its sub-ICB column), to narrow a national ePCN workbook to the same region."""
    from geo_pcn import settings as s
    from geo_pcn.io._formats import PRACTICE_ALIASES
    from geo_pcn.io.tables import find_column

    raw = read_table(practice.path, role="practices")
    if not practice.columns:
        code, sub = raw.columns[0], raw.columns[int(ODS_COLUMNS[s.SUB_ICB_CODE][0])]
    else:
        code, sub = _practice_column(raw), find_column(raw, PRACTICE_ALIASES[s.SUB_ICB_CODE])
    if code is None or sub is None:
        return []
    kept = raw[code].astype(str).str.strip().str.upper().isin(codes)
    return sorted(set(raw.loc[kept, sub].astype(str).str.strip().str.upper()) - {""})


def level_codes(practice: Found, codes: frozenset[str]) -> dict[str, frozenset[str]]:
    """``sub_icb`` / ``icb`` -> the codes (ODS and ONS) the study's practices carry in the
    practice file, to tell the level of polygons whose columns do not."""
    from geo_pcn import settings as s
    from geo_pcn.io._formats import PRACTICE_ALIASES
    from geo_pcn.io.tables import find_column

    if not practice.columns:
        return {}
    raw = read_table(practice.path, role="practices")
    code = _practice_column(raw)
    kept = raw[code].astype(str).str.strip().str.upper().isin(codes)
    out: dict[str, frozenset[str]] = {}
    for level, keys in (
        ("sub_icb", (s.SUB_ICB_CODE, s.ONS_SUB_ICB_CODE)),
        ("icb", (s.ICB_CODE, s.ONS_ICB_CODE)),
    ):
        held: set[str] = set()
        for key in keys:
            col = find_column(raw, PRACTICE_ALIASES[key])
            if col is not None:
                held |= set(raw.loc[kept, col].astype(str).str.strip().str.upper()) - {""}
        if held:
            out[level] = frozenset(held)
    return out


def _practice_column(raw) -> object:
    from geo_pcn import settings as s
    from geo_pcn.io._formats import PRACTICE_ALIASES
    from geo_pcn.io.tables import find_column

    return find_column(raw, PRACTICE_ALIASES[s.PRACTICE_CODE])


def of_kind(found: list[Found], *kinds: str) -> list[Found]:
    return [f for f in found if f.kind in kinds]
