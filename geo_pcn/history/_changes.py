"""The changes between two extracts, worked out: practices gone, new, moved, placed or
taken out; PCNs closed, opened, re-coded, renamed, split or merged; list sizes and band
status; findings resolved, introduced and changed. :func:`geo_pcn.history.diff` puts them
in a :class:`~geo_pcn.history.Diff`; the rule behind each word is in
:mod:`geo_pcn.history`'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from geo_pcn._words import move_kind
from geo_pcn.compare import FindingChange, _match_findings
from geo_pcn.findings import Finding
from geo_pcn.history.extracts import Extract
from geo_pcn.settings import (
    DEFAULT_BAND,
    LIST_SIZE,
    PCN_CODE,
    PCN_NAME,
    PRACTICE_CODE,
    PRACTICE_NAME,
)

#: Practice changes, in the order they are listed.
PRACTICE_CHANGES = ("disappeared", "appeared", "moved", "placed", "taken out")


#: PCN changes, in the order they are listed.
PCN_CHANGES = ("closed", "opened", "re-coded", "renamed", "split", "merged")


def _same_name(a: pd.Series, b: pd.Series) -> pd.Series:
    def key(s: pd.Series) -> pd.Series:
        return s.fillna("").astype(str).str.split().str.join(" ").str.casefold()

    return key(a).to_numpy() == key(b).to_numpy()


def _counts(pairs: pd.DataFrame, by: str, other: str) -> dict[str, str]:
    """``{code: "U2 (3), U3 (1)"}``: where the practices of each ``by`` PCN are on the
    other side (most practices first, then code)."""
    if pairs.empty:
        return {}
    n = pairs.groupby([by, other]).size().rename("n").reset_index()
    n = n.sort_values([by, "n", other], ascending=[True, False, True])
    return {
        code: ", ".join(f"{o} ({k})" for o, k in zip(g[other], g["n"], strict=True))
        for code, g in n.groupby(by, sort=True)
    }


def _practice_changes(
    before: Extract, after: Extract, recoded: dict[str, str], statuses: pd.Series | None
) -> pd.DataFrame:
    ask = statuses is not None
    statuses = statuses if statuses is not None else pd.Series(dtype=object)
    b, a = before.membership, after.membership
    codes = b.index.union(a.index).sort_values()
    in_b, in_a = codes.isin(b.index), codes.isin(a.index)
    pb = b[PCN_CODE].reindex(codes).fillna("")
    pa = a[PCN_CODE].reindex(codes).fillna("")
    mapped = pb.map(lambda c: recoded.get(c, c))
    kind = pd.Series("", index=codes, dtype=object)
    kind[in_b & ~in_a] = "disappeared"
    kind[~in_b & in_a] = "appeared"
    both = in_b & in_a & (mapped.to_numpy() != pa.to_numpy())
    kind[both] = [move_kind(f, t) for f, t in zip(pb[both], pa[both], strict=True)]
    keep = kind.ne("")
    names = a[PRACTICE_NAME].reindex(codes).where(in_a, b[PRACTICE_NAME].reindex(codes))
    sizes_b = before.list_sizes.reindex(codes) if before.list_sizes is not None else None
    sizes_a = after.list_sizes.reindex(codes) if after.list_sizes is not None else None
    patients = pd.Series(pd.NA, index=codes, dtype="Int64")
    if sizes_a is not None:
        patients[in_a] = sizes_a[in_a].astype("Int64")
    if sizes_b is not None:
        patients[~in_a] = sizes_b[~in_a].astype("Int64")
    known = codes.isin(statuses.index)
    status = statuses.reindex(codes).fillna("")
    own = a["status"].reindex(codes).fillna("")
    status = status.where(known, own)
    reason = pd.Series("", index=codes, dtype=object)
    gone = kind.eq("disappeared").to_numpy()
    words = {"active": "ODS status active (left the extract)"}
    reason[gone] = [
        words.get(s, f"ODS status {s}") if s else ("not in the practices file" if ask else "")
        for s in status[gone]
    ]
    unallocated = kind.eq("taken out")
    reason[unallocated] = "became unallocated"
    out = pd.DataFrame(
        {
            PRACTICE_CODE: codes[keep].to_numpy(dtype=object),
            PRACTICE_NAME: names[keep].fillna("").to_numpy(dtype=object),
            "change": kind[keep].to_numpy(dtype=object),
            "from_pcn_code": pb[keep].to_numpy(dtype=object),
            "to_pcn_code": pa[keep].to_numpy(dtype=object),
            "patients": patients[keep].to_numpy(),
            "reason": reason[keep].to_numpy(dtype=object),
        }
    )
    order = {c: i for i, c in enumerate(PRACTICE_CHANGES)}
    out["_o"] = out["change"].map(order)
    out = out.sort_values(["_o", PRACTICE_CODE], kind="stable").drop(columns="_o")
    out["patients"] = out["patients"].astype("Int64")
    return out.reset_index(drop=True)


def _pcn_changes(before: Extract, after: Extract) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per PCN change (:data:`PCN_CHANGES` order, then code) and the re-coded PCNs
    (``{old code: new code}``)."""
    b, a = before.membership, after.membership
    common = b.index.intersection(a.index)
    pairs = pd.DataFrame(
        {"before": b.loc[common, PCN_CODE].to_numpy(), "after": a.loc[common, PCN_CODE].to_numpy()}
    )
    pairs = pairs[pairs["before"].ne("") & pairs["after"].ne("")]
    sides = _Sides(
        names_b=b[b[PCN_CODE].ne("")].groupby(PCN_CODE)[PCN_NAME].first(),
        names_a=a[a[PCN_CODE].ne("")].groupby(PCN_CODE)[PCN_NAME].first(),
        size_b=b[b[PCN_CODE].ne("")].groupby(PCN_CODE).size(),
        size_a=a[a[PCN_CODE].ne("")].groupby(PCN_CODE).size(),
        dest=pairs.groupby("before")["after"].agg(lambda s: tuple(sorted(set(s)))),
        src=pairs.groupby("after")["before"].agg(lambda s: tuple(sorted(set(s)))),
        where_now=_counts(pairs, "before", "after"),
        came_from=_counts(pairs, "after", "before"),
    )
    closed = sorted(set(sides.names_b.index) - set(sides.names_a.index))
    opened = sorted(set(sides.names_a.index) - set(sides.names_b.index))
    recoded = _recoded(closed, set(opened), sides, b.loc[common], a.loc[common])
    closed_set = set(closed) - set(recoded)
    opened_set = set(opened) - set(recoded.values())
    rows = _pcn_change_rows(sides, closed_set, opened_set, recoded)
    out = pd.DataFrame(
        rows,
        columns=[
            PCN_CODE,
            PCN_NAME,
            "change",
            "to_pcn_code",
            "name_after",
            "n_practices",
            "detail",
        ],
    )
    order = {c: i for i, c in enumerate(PCN_CHANGES)}
    out["_o"] = out["change"].map(order)
    out = out.sort_values(["_o", PCN_CODE], kind="stable").drop(columns="_o")
    out["n_practices"] = out["n_practices"].astype("int64")
    return out.reset_index(drop=True), recoded


@dataclass(frozen=True)
class _Sides:
    """The PCNs of both sides: names and practice counts, and, for the practices in both,
    where each PCN's practices went (``dest``, ``where_now``) and came from (``src``,
    ``came_from``)."""

    names_b: pd.Series
    names_a: pd.Series
    size_b: pd.Series
    size_a: pd.Series
    dest: pd.Series
    src: pd.Series
    where_now: dict[str, str]
    came_from: dict[str, str]


def _recoded(
    closed: list[str],
    opened: set[str],
    sides: _Sides,
    common_b: pd.DataFrame,
    common_a: pd.DataFrame,
) -> dict[str, str]:
    """Re-coded: a closed code and an opened code with the same practices (of those in
    both), ``{old: new}``."""
    members_b = common_b.groupby(PCN_CODE).groups
    members_a = common_a.groupby(PCN_CODE).groups
    recoded: dict[str, str] = {}
    for x in closed:
        targets = sides.dest.get(x, ())
        if len(targets) != 1 or targets[0] not in opened:
            continue
        y = targets[0]
        if sides.src.get(y, ()) == (x,) and set(members_b.get(x, [])) == set(members_a.get(y, [])):
            recoded[x] = y
    return recoded


def _pcn_change_rows(
    sides: _Sides, closed_set: set[str], opened_set: set[str], recoded: dict[str, str]
) -> list[dict[str, Any]]:
    """The rows of the PCN changes, in the order they are found."""
    names_b, names_a, size_b, size_a = sides.names_b, sides.names_a, sides.size_b, sides.size_a
    where_now, came_from = sides.where_now, sides.came_from
    rows: list[dict[str, Any]] = []

    def row(
        code: str, name: str, change: str, n: int, detail: str, to: str = "", name_after: str = ""
    ):
        rows.append(
            {
                PCN_CODE: code,
                PCN_NAME: name,
                "change": change,
                "to_pcn_code": to,
                "name_after": name_after,
                "n_practices": int(n),
                "detail": detail,
            }
        )

    for x in sorted(closed_set):
        row(
            x,
            names_b[x],
            "closed",
            size_b[x],
            f"its practices now in {where_now[x]}"
            if x in where_now
            else "none of its practices is in a PCN now",
        )
    for y in sorted(opened_set):
        row(
            y,
            names_a[y],
            "opened",
            size_a[y],
            f"its practices came from {came_from[y]}"
            if y in came_from
            else "none of its practices was in a PCN before",
        )
    for x, y in sorted(recoded.items()):
        same = "" if _same_name(names_b[[x]], names_a[[y]])[0] else f"; renamed {names_a[y]}"
        row(
            x,
            names_b[x],
            "re-coded",
            size_b[x],
            f"now {y}, the same {size_a[y]} practice(s){same}",
            to=y,
            name_after=names_a[y],
        )
    kept = names_b.index.intersection(names_a.index)
    renamed = kept[~_same_name(names_b[kept], names_a[kept])]
    for code in renamed:
        row(
            code,
            names_b[code],
            "renamed",
            size_b[code],
            f"now {names_a[code]}",
            name_after=names_a[code],
        )
    for x, targets in sides.dest.items():
        if len(targets) >= 2 and (x in closed_set or opened_set & set(targets)):
            row(x, names_b[x], "split", size_b[x], f"its practices now in {where_now[x]}")
    for y, sources in sides.src.items():
        if len(sources) >= 2 and (y in opened_set or closed_set & set(sources)):
            row(y, names_a[y], "merged", size_a[y], f"holds the practices of {came_from[y]}")
    return rows


def _band(size: pd.Series, band: tuple[int, int]) -> pd.Series:
    low, high = band
    return pd.Series(
        ["below" if v < low else "above" if v > high else "within" for v in size], index=size.index
    )


def _size_changes(before: Extract, after: Extract, recoded: dict[str, str]) -> pd.DataFrame:
    """PCNs whose list size or band status changed; a re-coded PCN is compared with itself
    (under its new code)."""
    columns = [
        PCN_CODE,
        PCN_NAME,
        "list_size_before",
        "list_size_after",
        "list_size_change",
        "band_status_before",
        "band_status_after",
    ]
    if before.list_sizes is None or after.list_sizes is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    sides = []
    for ext in (before, after):
        if ext.report is not None:
            t = ext.report.pcns.set_index("pcn_code")[["pcn_name", LIST_SIZE, "band_status"]]
        else:
            m = ext.membership[ext.membership[PCN_CODE].ne("")]
            size = ext.list_sizes.reindex(m.index).fillna(0).groupby(m[PCN_CODE]).sum()
            t = pd.DataFrame(
                {
                    "pcn_name": m.groupby(PCN_CODE)[PCN_NAME].first(),
                    LIST_SIZE: size,
                    "band_status": _band(size, DEFAULT_BAND),
                }
            )
        sides.append(t)
    sides[0] = sides[0].rename(index=recoded)
    codes = sorted(set(sides[0].index) | set(sides[1].index))
    tb, ta = sides[0].reindex(codes), sides[1].reindex(codes)
    out = pd.DataFrame(
        {
            PCN_CODE: codes,
            PCN_NAME: ta["pcn_name"].fillna(tb["pcn_name"]).fillna("").to_numpy(dtype=object),
            "list_size_before": tb[LIST_SIZE].fillna(0).astype("int64").to_numpy(),
            "list_size_after": ta[LIST_SIZE].fillna(0).astype("int64").to_numpy(),
            "band_status_before": tb["band_status"].fillna("").to_numpy(dtype=object),
            "band_status_after": ta["band_status"].fillna("").to_numpy(dtype=object),
        }
    )
    out.insert(4, "list_size_change", out["list_size_after"] - out["list_size_before"])
    changed = out["list_size_change"].ne(0) | out["band_status_before"].ne(out["band_status_after"])
    return out[changed].reset_index(drop=True)[columns]


def _findings(
    before: list[Finding], after: list[Finding], recoded: dict[str, str]
) -> tuple[list[Finding], list[Finding], list[FindingChange]]:
    """Findings resolved, introduced and changed (:func:`geo_pcn.compare.compare`'s
    matching), a re-coded PCN's findings matched under its new code: the code change is
    the PCN's (``re-coded``), so a finding is changed only when its figures differ."""
    if not recoded:
        return _match_findings(before, after)
    renamed = [replace(f, pcn_code=recoded.get(f.pcn_code, f.pcn_code)) for f in before]
    original = {id(r): f for r, f in zip(renamed, before, strict=True)}
    resolved, introduced, changed = _match_findings(renamed, after)
    changed = [
        FindingChange(before=original[id(c.before)], after=c.after, what=c.what) for c in changed
    ]
    return [original[id(f)] for f in resolved], introduced, changed
