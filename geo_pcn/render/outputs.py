"""Every file of a run: ``geo-pcn validate`` and ``geo-pcn scenario``, and the folder they own.

:func:`write_report` writes a report's files (``report.json``, ``report.md``,
``report.html``, ``report.xlsx``, the CSVs, ``footprints.gpkg``, ``map.html`` and, when
asked, ``map.png``); :func:`write_comparison`
writes the ``after`` report's files with ``compare.md``, ``compare.json`` and
``compare_map.html``.

A run owns its output folder. Every run writes its files into a temporary folder inside
``--out`` first and moves them into place only when all of them were written (nothing
half-written). The folder keeps a manifest, :data:`MANIFEST`, of the files the last run
wrote: the next run removes those it does not write again (a stale ``map.png`` or alignment
CSV never sits beside a new report), and a folder that holds files no run wrote is refused,
untouched.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from geo_pcn._escape import html_text
from geo_pcn.compare import Comparison
from geo_pcn.errors import InputError, OutputError, list_some
from geo_pcn.progress import reporting, stage
from geo_pcn.render._files import _cannot, writing
from geo_pcn.render._fork import side_by_side
from geo_pcn.render._lock import LOCK, out_lock
from geo_pcn.render.change_map import write_change_map
from geo_pcn.render.gpkg import write_gpkg
from geo_pcn.render.map import write_map
from geo_pcn.render.markdown import to_markdown
from geo_pcn.render.png import write_png
from geo_pcn.render.report_html import write_report_html
from geo_pcn.render.tables import write_csv
from geo_pcn.render.xlsx import write_xlsx
from geo_pcn.report import Report

__all__ = [
    "MANIFEST",
    "check_out_dir",
    "write_outputs",
    "write_report",
    "write_comparison",
    "write_report_files",
    "write_comparison_files",
    "write_split",
]

#: The manifest of the files a run wrote, kept in the output folder.
MANIFEST = ".geo_pcn-manifest.json"
_TMP_PREFIX = ".geo-pcn-"
#: names a run writes: a letter, digit or underscore first, then those, "." and "-"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _previous_files(out_dir: Path) -> list[str]:
    """The files the previous run wrote into ``out_dir`` (by its manifest)."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return []
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            f"{path}: the manifest of an earlier run is unreadable, so geo-pcn cannot tell "
            "which files there are its own; delete the folder's outputs (or the folder) "
            "or choose another --out"
        ) from None
    # only names a run can write: no path separators, no "." or "..", nothing hidden
    # (a doctored manifest must never make a run delete outside its folder)
    return [name for name in files if isinstance(name, str) and _SAFE_NAME.fullmatch(name)]


def check_out_dir(out_dir: str | Path) -> list[str]:
    """Check that a run may write into ``out_dir``: it is absent, empty, or holds only the
    files of an earlier run (listed in its manifest).

    Returns
    -------
    list of str
        The files of the earlier run.

    Raises
    ------
    InputError
        The folder holds files no run wrote (named in the message), or is a file.
    """
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file, not a folder; give --out a folder")
    previous = _previous_files(out_dir)
    links = sorted(p.name for p in out_dir.iterdir() if p.is_symlink())
    if links:
        what = "is a symbolic link" if len(links) == 1 else "are symbolic links"
        raise InputError(
            f"{out_dir}: {list_some(links)} {what}"
            " (a run replaces what is in its folder and never follows a link out of it); "
            "remove the link(s), or choose another --out"
        )
    ours = {*previous, MANIFEST, LOCK}
    foreign = sorted(
        p.name
        for p in out_dir.iterdir()
        if p.name not in ours and not (p.name.startswith(_TMP_PREFIX) and p.is_dir())
    )
    if foreign:
        raise InputError(
            f"{out_dir}: holds {len(foreign)} file(s) geo-pcn did not write "
            f"({list_some(foreign)}); a run owns its output folder, so give --out a new or "
            "empty folder, or one written by an earlier run, or move those files"
        )
    return previous


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(out_dir: Path, files: dict[str, str]) -> None:
    text = json.dumps({"written_by": "geo_pcn", "files": dict(sorted(files.items()))}, indent=2)
    tmp = out_dir / f"{MANIFEST}.tmp"
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)


def write_outputs(out_dir: str | Path, write: Callable[[Path], None]) -> list[Path]:
    """Run ``write(folder)`` on a temporary folder inside ``out_dir`` and move what it
    wrote into place: the files of the earlier run that this run does not write are removed,
    and the manifest lists exactly this run's files.

    Parameters
    ----------
    out_dir
        The output folder (created).
    write
        Writes every output into the folder it is given (files, or whole sub-folders).

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    InputError
        ``out_dir`` holds files no run wrote (see :func:`check_out_dir`); nothing is
        written then.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir)  # before the lock makes the folder
    created = not out_dir.exists()
    # the lock: no other run writes here until this one is done (another run's temporary
    # folder is never taken for a killed run's, nor its files for foreign ones)
    with out_lock(out_dir):
        previous = check_out_dir(out_dir)
        for stale in out_dir.glob(f"{_TMP_PREFIX}*"):  # left by a run that was killed
            shutil.rmtree(stale, ignore_errors=True)
        try:
            return _write_and_move(out_dir, write, previous)
        except (OutputError, OSError) as exc:
            if created:
                shutil.rmtree(out_dir, ignore_errors=True)
            raise _named(exc, out_dir) from None
        except BaseException:
            if created:  # leave no trace: not even the empty folder
                shutil.rmtree(out_dir, ignore_errors=True)
            raise


def _named(exc: OutputError | OSError, out_dir: Path) -> OutputError:
    """The error as the user reads it: the file named where it would have been (in
    ``out_dir``, not the temporary folder), the folder named when no file is known."""
    text = str(exc) if isinstance(exc, OutputError) else _cannot(exc.filename or out_dir, exc)
    temporary = re.escape(str(out_dir / _TMP_PREFIX)) + r"[^/\\]*"
    return OutputError(re.sub(temporary, lambda _: str(out_dir), text))


def _write_and_move(
    out_dir: Path, write: Callable[[Path], None], previous: list[str]
) -> list[Path]:
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=_TMP_PREFIX) as tmp:
        tmp_path = Path(tmp)
        write(tmp_path)
        # files, and whole folders (a split run's one folder per ICB)
        new = {p.name: _sha256(p) if p.is_file() else "folder" for p in sorted(tmp_path.iterdir())}
        # the manifest names every entry that may be there until the move is over
        _write_manifest(out_dir, {**dict.fromkeys(previous, ""), **new})
        for name in new:
            target = out_dir / name
            if (tmp_path / name).is_dir() and target.is_dir():
                shutil.rmtree(target)
            os.replace(tmp_path / name, target)
        for name in set(previous) - set(new):
            target = out_dir / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.is_file() or target.is_symlink():
                target.unlink()
        _write_manifest(out_dir, new)
    return [out_dir / name for name in new]


# -- a report and a comparison ----------------------------------------------------------------
def write_report(
    report: Report,
    out_dir: str | Path,
    *,
    map_html: bool = True,
    tiles: str | None = None,
    png: bool = False,
    dpi: int | None = None,
) -> list[Path]:
    """Write every output of a report into ``out_dir``, as ``geo-pcn validate`` does.

    Files are written to a temporary folder first and moved into place only when all
    succeeded: nothing half-written. The run owns the folder (see the module docstring).

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.
    out_dir
        The folder (created): new, empty, or written by an earlier run.
    map_html
        Write ``map.html`` (self-contained, offline).
    tiles
        Basemap for the map (off by default).
    png
        Also write ``map.png``, a static picture.

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    geo_pcn.errors.InputError
        ``out_dir`` holds files geo-pcn did not write; nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> import geo_pcn
    >>> from geo_pcn.datasets import demo
    >>> report = geo_pcn.validate(demo())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     names = [p.name for p in write_report(report, tmp, map_html=False)]
    >>> names[:3]
    ['alignment_areas.csv', 'alignment_pcns.csv', 'areas.csv']
    """
    return write_outputs(
        out_dir,
        lambda folder: write_report_files(
            report, folder, map_html=map_html, tiles=tiles, png=png, dpi=dpi
        ),
    )


def write_report_files(
    report: Report,
    folder: str | Path,
    *,
    map_html: bool = True,
    tiles: str | None = None,
    png: bool = False,
    dpi: int | None = None,
) -> None:
    """Write every output of a report into ``folder`` as it is (no manifest, no temporary
    folder: :func:`write_report` and :func:`write_comparison` wrap it)."""
    folder = Path(folder)
    # what both groups below read, made once before they part
    _ = report.summary, report.pcns, report.practices, report.areas

    def tables_and_workbook() -> None:
        with stage("report.json"), writing(folder / "report.json"):
            report.to_json(folder / "report.json")
        with stage("report.md"), writing(folder / "report.md"):
            (folder / "report.md").write_text(to_markdown(report), encoding="utf-8")
        with stage("tables (csv)"):
            tables = [("pcns.csv", report.pcns), ("practices.csv", report.practices)]
            tables.append(("findings.csv", report.findings_frame()))
            if report.areas is not None:
                tables.append(("areas.csv", report.areas))
            if report.alignment.layers:
                tables.append(("alignment_pcns.csv", report.alignment.pcn_table()))
                area_rows = report.alignment.area_table()
                if len(area_rows):
                    tables.append(("alignment_areas.csv", area_rows))
            for name, frame in tables:
                with writing(folder / name):
                    write_csv(frame, folder / name)
        with stage("footprints.gpkg"), writing(folder / "footprints.gpkg"):
            write_gpkg(report.geodata(), folder / "footprints.gpkg")
        with stage("report.xlsx"), writing(folder / "report.xlsx"):
            write_xlsx(report, folder / "report.xlsx")

    def pages() -> None:
        if map_html:
            with stage("map.html"), writing(folder / "map.html"):
                write_map(report, folder / "map.html", tiles=tiles)
        # report.html embeds map.html as written (built once); without the map, none
        with stage("report.html"), writing(folder / "report.html"):
            map_page = (folder / "map.html").read_text(encoding="utf-8") if map_html else None
            write_report_html(
                report, folder / "report.html", map_page=map_page, include_map=map_html
            )

    # the pages in a child process while this one writes the rest (each file by one
    # process: the same bytes as one after the other); the pages are half the time
    side_by_side(tables_and_workbook, pages)
    if png:
        with stage("map.png"), writing(folder / "map.png"):
            write_png(report, folder / "map.png", **({} if dpi is None else {"dpi": dpi}))


def write_comparison(
    comparison: Comparison,
    out_dir: str | Path,
    *,
    map_html: bool = True,
    tiles: str | None = None,
    png: bool = False,
) -> list[Path]:
    """Write a scenario's outputs into ``out_dir`` as one run, as ``geo-pcn scenario``
    does: the ``after`` report's files (:func:`write_report`), ``compare.md``,
    ``compare.json`` and, with ``map_html``, ``compare_map.html``.

    The run owns the folder: files of an earlier run that this one does not write are
    removed, a folder holding files no run wrote is refused, and nothing is half-written.

    Parameters
    ----------
    comparison
        A :class:`~geo_pcn.compare.Comparison`.
    out_dir, map_html, tiles, png
        As for :func:`write_report`.

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    geo_pcn.errors.InputError
        ``out_dir`` holds files geo-pcn did not write.
    """

    def write_all(folder: Path) -> None:
        write_report_files(comparison.after, folder, map_html=map_html, tiles=tiles, png=png)
        with stage("compare.md, compare.json"):
            write_comparison_files(comparison, folder)
        if map_html:
            with stage("compare_map.html"), writing(folder / "compare_map.html"):
                write_change_map(comparison, folder / "compare_map.html", tiles=tiles)

    return write_outputs(out_dir, write_all)


def write_comparison_files(comparison: Comparison, folder: str | Path) -> list[Path]:
    """Write ``compare.md`` and ``compare.json`` into ``folder`` as it is."""
    folder = Path(folder)
    md, js = folder / "compare.md", folder / "compare.json"
    with writing(md):
        md.write_text(to_markdown(comparison), encoding="utf-8")
    with writing(js):
        comparison.to_json(js)
    return [md, js]


def write_split(
    report: Report,
    parts,
    out_dir: str | Path,
    *,
    tiles: str | None = None,
    png: bool = False,
    dpi: int | None = None,
    label: str = "ICB",
) -> list[Path]:
    """Write a whole-study report and one folder per part with ``index.html`` linking
    them, all owned by one run of ``out_dir`` (nothing half-written; re-runs replace it).

    ``parts`` maps each part's code (an ICB) to its report, or to a function making it:
    parts are then made one at a time, written and let go (a national split holds one ICB
    in memory at a time, not 42).
    """

    _check_folder_names(parts, label)

    def write(folder: Path) -> None:
        write_report_files(report, folder, tiles=tiles, png=png, dpi=dpi)
        done: dict[str, Report] = {}
        for i, (code, part) in enumerate(parts.items(), start=1):
            # one progress line per part, not one per stage and file of it
            with stage(f"{label} {i}/{len(parts)} {code}"), reporting(False):
                made = part() if callable(part) else part
                sub = folder / _folder_name(code)
                sub.mkdir()
                write_report_files(made, sub, tiles=tiles, png=png, dpi=dpi)
            done[code] = _Brief(made)
            del made
            gc.collect()  # a part's study and report hold each other: free them now
        with writing(folder / "index.html"):
            (folder / "index.html").write_text(_index_html(report, done, label), encoding="utf-8")

    return write_outputs(out_dir, write)


class _Brief:
    """What the index needs of a part's report (the report itself is let go)."""

    def __init__(self, report: Report) -> None:
        self.summary = report.summary
        self.ok = report.ok
        self.name = report.study.name


def _check_folder_names(parts, label: str) -> None:
    """Two codes that make one folder name (``Q/X`` and ``Q_X``, or ``QNC`` and ``qnc`` on
    a disk that ignores case) would write one part over the other: refuse, naming them."""
    by_name: dict[str, list[str]] = {}
    for code in parts:
        by_name.setdefault(_folder_name(code).casefold(), []).append(str(code))
    clashes = [codes for codes in by_name.values() if len(codes) > 1]
    if clashes:
        shown = "; ".join(
            f"{' and '.join(repr(c) for c in codes)} -> {_folder_name(codes[0])}/"
            for codes in clashes
        )
        raise InputError(
            f"{label} codes that make one folder name: {shown}; each {label} needs its own "
            f"folder: correct the {label} codes in the inputs"
        )


def _folder_name(code: str) -> str:
    """A code as a safe folder name."""
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(code))
    return name or "_"


def _index_html(report: Report, parts: dict, label: str) -> str:
    """One page linking the whole study's report and each part's report and map."""
    h = html_text

    rows = []
    for code, part in parts.items():
        s = part.summary
        sev = s["findings"]
        folder = _folder_name(code)
        rows.append(
            f"<tr><td>{h(code)}</td><td>{h(part.name)}</td>"
            f"<td class='{'pass' if part.ok else 'fail'}'>{'PASS' if part.ok else 'FAIL'}</td>"
            f"<td>{s['n_pcns']:,}</td><td>{s['n_practices']:,}</td><td>{s['n_patients']:,}</td>"
            f"<td>{sev['error']:,}</td><td>{sev['warning']:,}</td>"
            f"<td><a href='{h(folder)}/report.html'>report</a> · "
            f"<a href='{h(folder)}/map.html'>map</a> · "
            f"<a href='{h(folder)}/report.xlsx'>workbook</a></td></tr>"
        )
    s = report.summary
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{h(report.study.name)}: by {h(label)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left}td.pass{color:#1a7f37;font-weight:bold}"
        "td.fail{color:#b42318;font-weight:bold}</style></head><body>"
        f"<h1>{h(report.study.name)}</h1><p>{s['n_pcns']:,} PCNs, {s['n_practices']:,} "
        f"practices, {s['n_patients']:,} registered patients: "
        f"{'PASS' if report.ok else 'FAIL'}. The whole study: "
        "<a href='report.html'>report</a> · <a href='map.html'>map</a> · "
        "<a href='report.xlsx'>workbook</a>.</p>"
        f"<h2>By {h(label)} ({len(parts)})</h2><table><tr><th>{h(label)}</th><th>name</th>"
        "<th>verdict</th><th>PCNs</th><th>practices</th><th>patients</th><th>errors</th>"
        f"<th>warnings</th><th>files</th></tr>{''.join(rows)}</table></body></html>\n"
    )
