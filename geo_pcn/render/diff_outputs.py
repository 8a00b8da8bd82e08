"""The files of ``geo-pcn diff``: ``diff.md``, ``diff.json``, ``diff.csv``, ``diff.xlsx`` and,
when both sides are studies, ``diff_map.html`` (the change map of
:mod:`geo_pcn.render.change_map`, drawn on the ``after`` study).

Every string is escaped for its format (:mod:`geo_pcn._escape`); every file is the same
bytes when re-run on the same inputs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from geo_pcn._escape import excel_cell, markdown
from geo_pcn.compare import Comparison
from geo_pcn.history import PCN_CHANGES, PRACTICE_CHANGES, Diff
from geo_pcn.progress import stage
from geo_pcn.render._files import write_atomic, writing
from geo_pcn.render.change_map import write_change_map
from geo_pcn.render.markdown import findings_changes_markdown
from geo_pcn.render.outputs import write_outputs
from geo_pcn.render.tables import write_csv
from geo_pcn.render.xlsx import FIXED_TIME, _fixed_zip, _frame_sheet, _rows_xml
from geo_pcn.settings import PRACTICE_CODE

__all__ = ["diff_markdown", "diff_xlsx", "diff_comparison", "write_diff"]

_PRACTICE_TITLES = {
    "disappeared": "Practices gone (in the before extract only)",
    "appeared": "Practices new (in the after extract only)",
    "moved": "Practices that changed PCN",
    "placed": "Practices in no PCN placed in one",
    "taken out": "Practices that became unallocated",
}
_PCN_TITLES = {
    "closed": "PCNs closed",
    "opened": "PCNs opened",
    "re-coded": "PCNs re-coded (same practices, new code)",
    "renamed": "PCNs renamed",
    "split": "PCNs split (their practices now in two or more PCNs)",
    "merged": "PCNs merged (practices of two or more PCNs now in one)",
}


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, int) or hasattr(value, "__index__"):
        return f"{int(value):,}"
    return markdown(str(value)) or "-"


def _table(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> list[str]:
    head = "| " + " | ".join(title for _, title in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join(_cell(v) for v in row) + " |"
        for row in frame[[c for c, _ in columns]].astype(object).itertuples(index=False)
    ]
    return [head, rule, *body]


def diff_markdown(d: Diff) -> str:
    """``diff.md``: the counts first, then one section per kind of change."""
    s = d.summary
    lines = [
        f"# What changed: {markdown(s['before'])} -> {markdown(s['after'])}",
        "",
        f"- practices: {s['n_practices']['before']:,} -> {s['n_practices']['after']:,}; "
        f"PCNs: {s['n_pcns']['before']:,} -> {s['n_pcns']['after']:,}; in no PCN: "
        f"{s['n_unallocated']['before']:,} -> {s['n_unallocated']['after']:,}",
        "- practices: " + ", ".join(f"{s['practices'][c]:,} {c}" for c in PRACTICE_CHANGES),
        "- PCNs: " + ", ".join(f"{s['pcns'][c]:,} {c}" for c in PCN_CHANGES),
    ]
    if len(d.sizes):
        lines.append(
            f"- PCNs whose list size changed: {s['n_pcns_list_size_changed']:,}; whose band "
            f"status changed: {s['n_pcns_band_status_changed']:,}"
        )
    else:
        lines.append("- list sizes: not compared (give two study files for list sizes)")
    if d.has_findings:
        f = s["findings"]
        lines.append(
            f"- findings resolved: {f['resolved']:,}; introduced: {f['introduced']:,}; "
            f"changed (still there, other figures): {f['changed']:,}"
        )
    columns = [
        (PRACTICE_CODE, "practice"),
        ("practice_name", "name"),
        ("from_pcn_code", "from"),
        ("to_pcn_code", "to"),
        ("patients", "patients registered"),
        ("reason", "reason"),
    ]
    for change in PRACTICE_CHANGES:
        part = d.practices[d.practices["change"] == change]
        if len(part):
            lines += ["", f"## {_PRACTICE_TITLES[change]} ({len(part):,})", ""]
            lines += _table(part, columns)
    pcn_columns = [
        ("pcn_code", "PCN"),
        ("pcn_name", "name"),
        ("n_practices", "practices"),
        ("detail", "what"),
    ]
    for change in PCN_CHANGES:
        part = d.pcns[d.pcns["change"] == change]
        if len(part):
            lines += ["", f"## {_PCN_TITLES[change]} ({len(part):,})", ""]
            lines += _table(part, pcn_columns)
    if len(d.sizes):
        lines += ["", f"## List sizes and band status ({len(d.sizes):,} PCNs changed)", ""]
        lines += _table(
            d.sizes,
            [
                ("pcn_code", "PCN"),
                ("pcn_name", "name"),
                ("list_size_before", "before"),
                ("list_size_after", "after"),
                ("list_size_change", "change"),
                ("band_status_before", "band before"),
                ("band_status_after", "band after"),
            ],
        )
    if d.has_findings:
        lines += _findings_diff_markdown(d)
    return "\n".join(lines) + "\n"


def _findings_diff_markdown(d: Diff) -> list[str]:
    """The findings resolved, introduced and changed, in compare.md's lines."""
    return findings_changes_markdown(d.resolved, d.introduced, d.changed)


def diff_xlsx(d: Diff) -> bytes:
    """``diff.xlsx``: sheets Summary, Changes (one row per change, as ``diff.csv``),
    Practices, PCNs and, with list sizes, List sizes (formula-safe; the same bytes on
    every run)."""
    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("Summary")
    s = d.summary
    rows = [
        ("before", s["before"]),
        ("after", s["after"]),
        ("practices before", s["n_practices"]["before"]),
        ("practices after", s["n_practices"]["after"]),
        ("PCNs before", s["n_pcns"]["before"]),
        ("PCNs after", s["n_pcns"]["after"]),
        *((f"practices {c}", n) for c, n in s["practices"].items()),
        *((f"PCNs {c}", n) for c, n in s["pcns"].items()),
        *((f"findings {c}", n) for c, n in s.get("findings", {}).items()),
    ]
    for key, value in rows:
        ws.append([excel_cell(key), excel_cell(value) if isinstance(value, str) else value])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 60
    bulk: dict = {}
    _frame_sheet(wb.create_sheet("Changes"), d.changes(), bulk)
    _frame_sheet(wb.create_sheet("Practices"), d.practices, bulk)
    _frame_sheet(wb.create_sheet("PCNs"), d.pcns, bulk)
    if len(d.sizes):
        _frame_sheet(wb.create_sheet("List sizes"), d.sizes, bulk)
    props = wb.properties
    props.creator = "geo_pcn"
    props.title = excel_cell(f"What changed: {s['before']} -> {s['after']}")
    props.created = props.modified = FIXED_TIME
    props.lastModifiedBy = None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    fixed = {
        w.path.lstrip("/"): (
            _rows_xml(values, [f' s="{c.style_id}"' if c.has_style else "" for c in row2]),
            last_row,
        )
        for w, (values, row2, last_row) in bulk.items()
    }
    return _fixed_zip(buffer.getvalue(), fixed)


def diff_comparison(d: Diff) -> Comparison | None:
    """The diff as a :class:`~geo_pcn.compare.Comparison` for the change map (``None``
    unless both sides are validated studies): the practices in both extracts that changed
    PCN, the PCNs whose list size or band status changed, and the findings."""
    b, a = d.before.report, d.after.report
    if b is None or a is None:
        return None
    p = d.practices[d.practices["change"].isin(["moved", "placed", "taken out"])]
    moves = pd.DataFrame(
        {
            PRACTICE_CODE: p[PRACTICE_CODE].to_numpy(dtype=object),
            "practice_name": p["practice_name"].to_numpy(dtype=object),
            "list_size": p["patients"].fillna(0).astype("int64").to_numpy(),
            "from_pcn_code": p["from_pcn_code"].to_numpy(dtype=object),
            "to_pcn_code": p["to_pcn_code"].to_numpy(dtype=object),
            "change": p["change"].to_numpy(dtype=object),
        }
    )
    cols = ["pcn_code", "pcn_name", "list_size", "n_practices", "band_status"]
    pb, pa = b.pcns[cols].set_index("pcn_code"), a.pcns[cols].set_index("pcn_code")
    codes = sorted(set(pb.index) | set(pa.index))
    pcns = pd.DataFrame({"pcn_code": codes})
    for side, table in (("before", pb), ("after", pa)):
        t = table.reindex(codes)
        pcns[f"pcn_name_{side}"] = t["pcn_name"].fillna("").to_numpy(dtype=object)
        pcns[f"list_size_{side}"] = t["list_size"].fillna(0).astype("int64").to_numpy()
        pcns[f"n_practices_{side}"] = t["n_practices"].fillna(0).astype("int64").to_numpy()
        pcns[f"band_status_{side}"] = t["band_status"].fillna("").to_numpy(dtype=object)
    pcns["list_size_change"] = pcns["list_size_after"] - pcns["list_size_before"]
    return Comparison(
        before=b,
        after=a,
        moves=moves,
        pcns=pcns,
        resolved=list(d.resolved),
        introduced=list(d.introduced),
        changed=list(d.changed),
        crossings={},
        alignment={},
        changes=None,
    )


def _words(d: Diff) -> dict[str, str]:
    """The change map's words for two extracts (not a scenario)."""
    return {
        "title": "After",
        "before_layer": "PCN footprints before",
        "changes_layer": "What changed",
        "after_option": "after",
        "before": f"before ({d.before.label})",
        "after": f"after ({d.after.label})",
    }


def write_diff_files(d: Diff, folder: str | Path, *, map_html: bool = True, tiles=None) -> None:
    """Write every file of a diff into ``folder`` as it is."""
    folder = Path(folder)
    with stage("diff.md, diff.json, diff.csv, diff.xlsx"):
        with writing(folder / "diff.md"):
            (folder / "diff.md").write_text(diff_markdown(d), encoding="utf-8")
        with writing(folder / "diff.json"):
            d.to_json(folder / "diff.json")
        with writing(folder / "diff.csv"):
            write_csv(d.changes(), folder / "diff.csv")
        write_atomic(folder / "diff.xlsx", diff_xlsx(d))
    comparison = diff_comparison(d) if map_html else None
    if comparison is not None:
        with stage("diff_map.html"), writing(folder / "diff_map.html"):
            write_change_map(comparison, folder / "diff_map.html", tiles=tiles, words=_words(d))


def write_diff(
    d: Diff, out_dir: str | Path, *, map_html: bool = True, tiles: str | None = None
) -> list[Path]:
    """Write ``diff.md``, ``diff.json``, ``diff.csv``, ``diff.xlsx`` and (two studies,
    ``map_html``) ``diff_map.html`` into ``out_dir`` as one run that owns the folder
    (:func:`geo_pcn.render.outputs.write_outputs`).

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.
    """
    return write_outputs(
        out_dir, lambda folder: write_diff_files(d, folder, map_html=map_html, tiles=tiles)
    )
