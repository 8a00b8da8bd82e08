"""What changed between two extracts: quarter on quarter (issue 23).

:func:`diff` sets two dated extracts side by side (:class:`Diff`): two configuration or map
files (membership only: which practice is in which PCN), or two study files (membership,
list sizes, band status and findings). Unlike :func:`geo_pcn.compare`, the two sides need
not hold the same practices, and PCN codes may change between them.

What is reported, and the one rule behind each word:

* a practice *appeared* (in ``after`` only) or *disappeared* (in ``before`` only), with
  the reason an input gives: its ODS status (closed, dormant) from the ``practices`` file;
* a practice that is in both: *moved*, *placed* or *taken out*
  (:func:`geo_pcn._words.move_kind`: from one PCN to another, from no PCN into one, from
  its PCN into none, "became unallocated");
* a PCN *opened* (its code is only in ``after``) or *closed* (only in ``before``);
  *renamed* (same code, a name that differs beyond case and spacing); *re-coded* (a code
  that closed and a code that opened holding the same practices: one PCN, not a closure
  and an opening);
* a PCN *split*: its practices are now in two or more PCNs, and it closed or one of
  them opened (a practice moving between two PCNs that both carry on is a move, not a
  split); *merged*: an ``after`` PCN holds the practices of two or more ``before`` PCNs,
  and it opened or one of them closed;
* per PCN (when both sides have list sizes): the list size before and after, and the band
  status; findings *resolved*, *introduced* and *changed* when both sides are validated
  studies (matched as :func:`geo_pcn.compare.compare` matches them).

Examples
--------
>>> import pandas as pd
>>> before = pd.DataFrame({"practice_code": ["A1", "A2", "A3"], "pcn_code": ["U1", "U1", "U2"]})
>>> after = pd.DataFrame({"practice_code": ["A1", "A2", "A4"], "pcn_code": ["U9", "U9", "U2"]})
>>> d = diff(before, after)
>>> d.practices[["practice_code", "change"]].to_dict("records")
[{'practice_code': 'A3', 'change': 'disappeared'}, {'practice_code': 'A4', 'change': 'appeared'}]
>>> d.pcns[["pcn_code", "change", "to_pcn_code"]].to_dict("records")
[{'pcn_code': 'U1', 'change': 're-coded', 'to_pcn_code': 'U9'}]
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn._json import dump_json
from geo_pcn._words import move_kind
from geo_pcn.compare import FindingChange, _match_findings
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, SchemaError
from geo_pcn.findings import Finding
from geo_pcn.io.nhs import read_practices
from geo_pcn.io.tables import Source
from geo_pcn.pipeline import validate
from geo_pcn.report import Report
from geo_pcn.settings import (
    DEFAULT_BAND,
    LIST_SIZE,
    PCN_CODE,
    PCN_NAME,
    PRACTICE_CODE,
    PRACTICE_NAME,
)
from geo_pcn.study import Study

__all__ = ["Diff", "Extract", "History", "diff", "history", "read_extract", "split_at_date"]

#: Practice changes, in the order they are listed.
PRACTICE_CHANGES = ("disappeared", "appeared", "moved", "placed", "taken out")
#: PCN changes, in the order they are listed.
PCN_CHANGES = ("closed", "opened", "re-coded", "renamed", "split", "merged")
#: The columns of ``diff.csv``: one row per change.
CHANGE_COLUMNS = ("level", "change", "code", "name", "from", "to", "patients", "detail")

_DATE_TAIL = re.compile(r"^(?P<path>.+)@(?P<date>\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Extract:
    """One side of a :class:`Diff`: who is in which PCN on a date, and what else is known.

    Attributes
    ----------
    label
        How the side is named in the outputs (the file, and its ``as_of`` date).
    membership
        Indexed by ``practice_code``: ``practice_name, pcn_code, pcn_name, status``
        (``""`` when not known; ``pcn_code`` ``""`` is no PCN).
    list_sizes
        Registered patients per practice, or ``None`` (a map without list sizes).
    report
        The validated report of a study, or ``None`` for a configuration file.
    """

    label: str
    membership: pd.DataFrame = field(repr=False)
    list_sizes: pd.Series | None = field(default=None, repr=False)
    report: Report | None = field(default=None, repr=False)


def split_at_date(text: str) -> tuple[str, str | None]:
    """``"ePCN.xlsx@2022-07-01"`` -> ``("ePCN.xlsx", "2022-07-01")``; a name without a
    date tail is returned whole with ``None``.

    Examples
    --------
    >>> split_at_date("ePCN.xlsx@2022-07-01"), split_at_date("map.csv")
    (('ePCN.xlsx', '2022-07-01'), ('map.csv', None))
    """
    match = _DATE_TAIL.match(str(text))
    if match is None:
        return str(text), None
    try:
        dt.date.fromisoformat(match["date"])
    except ValueError as exc:
        raise InputError(f"{text}: {match['date']} is not a date; write FILE@YYYY-MM-DD") from exc
    return match["path"], match["date"]


def _membership(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    if PCN_CODE not in frame.columns:
        raise SchemaError(
            f"{label}: no PCN column (looked for pcn_code / PCN_CODE / PCN Code); give a "
            "configuration or map file (practice_code,pcn_code[,pcn_name]) or a study file"
        )
    out = pd.DataFrame(index=pd.Index(frame[PRACTICE_CODE].astype(str), name=PRACTICE_CODE))
    for column in (PRACTICE_NAME, PCN_CODE, PCN_NAME, "status"):
        values = frame[column] if column in frame.columns else pd.Series("", frame.index)
        out[column] = values.fillna("").astype(str).to_numpy(dtype=object)
    return out.sort_index()


def _from_report(report: Report, label: str) -> Extract:
    config = report.configuration
    practices = report.study.practices
    codes = pd.Index(config.practice_codes, name=PRACTICE_CODE)
    pcn = config.assignments.reindex(codes).fillna("")
    frame = pd.DataFrame(
        {
            PRACTICE_CODE: codes,
            PRACTICE_NAME: practices["practice_name"].reindex(codes).fillna("").to_numpy(),
            PCN_CODE: pcn.to_numpy(),
            PCN_NAME: [config.name_of(c) if c else "" for c in pcn],
            "status": (
                practices["status"].reindex(codes).fillna("").to_numpy()
                if "status" in practices.columns
                else ""
            ),
        }
    )
    sizes = report.partition.list_sizes.reindex(codes).fillna(0).astype("int64")
    return Extract(label, _membership(frame, label), sizes, report)


def read_extract(source: Any, *, as_of: str | None = None, label: str | None = None) -> Extract:
    """One side of a diff, from whatever names it.

    Parameters
    ----------
    source
        A study file (``.toml``: read and validated), a configuration or map file (any
        file :func:`geo_pcn.io.nhs.read_configuration` reads; ``FILE@YYYY-MM-DD`` or
        ``as_of`` for the ePCN workbook on a date), a :class:`~geo_pcn.study.Study`, a
        :class:`~geo_pcn.report.Report`, a :class:`~geo_pcn.configuration.Configuration`
        or a frame ``practice_code, pcn_code[, pcn_name, practice_name]``.
    as_of
        The date (ISO) for an ePCN workbook.
    label
        How the side is named (default: the file name and date).

    Returns
    -------
    Extract
    """
    if isinstance(source, Extract):
        return source
    if isinstance(source, Report):
        return _from_report(source, label or source.study.name)
    if isinstance(source, Study):
        return _from_report(validate(source), label or source.name)
    if isinstance(source, Configuration):
        frame = source.to_frame()
        return Extract(label or "configuration", _membership(frame, "configuration"))
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        if PCN_CODE in frame.columns:
            frame[PCN_CODE] = frame[PCN_CODE].fillna("").astype(str)
        return Extract(label or "table", _membership(frame, label or "table"))
    text, tail = split_at_date(str(source))
    as_of = as_of or tail
    path = Path(text)
    name = label or (f"{path.name} at {as_of}" if as_of else path.name)
    if path.suffix.lower() == ".toml":
        if as_of:
            raise InputError(
                f"{path}: a date applies to an ePCN workbook, not a study file; put "
                "as_of = YYYY-MM-DD in the study file's [configuration] section"
            )
        study = Study.from_toml(path)
        return _from_report(validate(study), label or study.name)
    options = {"as_of": as_of} if as_of else {}
    frame = read_practices(Source(path, options=options))
    extract = frame.attrs.get("extract_date")
    if extract and not label and not as_of:
        name = f"{path.name} ({extract})"
    return Extract(name, _membership(frame, str(path)))


def _statuses(source: Any) -> pd.Series | None:
    """ODS status per practice (``closed``, ``dormant``...) from a practices file."""
    if source is None:
        return None
    frame = source if isinstance(source, pd.DataFrame) else read_practices(source)
    if "status" not in frame.columns:
        raise SchemaError(
            f"{frame.attrs.get('path', source)}: has no practice status; give ODS epraccur "
            "(or any practices file with a status column) for the reasons practices went"
        )
    return frame.set_index(PRACTICE_CODE)["status"].astype(str)


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


@dataclass(eq=False)
class Diff:
    """What changed between two extracts (:func:`diff`).

    Attributes
    ----------
    before, after
        The two :class:`Extract` s.
    practices
        One row per practice that changed: ``practice_code, practice_name, change``
        (:data:`PRACTICE_CHANGES`), ``from_pcn_code, to_pcn_code, patients`` (its list
        size after, or before when it disappeared; missing when not known), ``reason``.
    pcns
        One row per PCN change: ``pcn_code, pcn_name, change`` (:data:`PCN_CHANGES`),
        ``to_pcn_code`` (re-coded), ``name_after`` (renamed), ``n_practices`` (before;
        after for one opened or merged), ``detail`` (where its practices are now, or came from).
    sizes
        One row per PCN whose list size or band status changed (empty without list sizes):
        ``pcn_code, pcn_name, list_size_before, list_size_after, list_size_change,
        band_status_before, band_status_after`` (``""`` status: no PCN on that side).
    resolved, introduced, changed
        Findings, when both sides are validated studies (else empty).
    """

    before: Extract
    after: Extract
    practices: pd.DataFrame = field(repr=False)
    pcns: pd.DataFrame = field(repr=False)
    sizes: pd.DataFrame = field(repr=False)
    resolved: list[Finding] = field(default_factory=list, repr=False)
    introduced: list[Finding] = field(default_factory=list, repr=False)
    changed: list[FindingChange] = field(default_factory=list, repr=False)

    @property
    def has_findings(self) -> bool:
        """Both sides are validated studies (findings are compared)."""
        return self.before.report is not None and self.after.report is not None

    def n_practices(self, change: str) -> int:
        """Practices of one change (``"moved"``, ``"disappeared"``...)."""
        return int(self.practices["change"].eq(change).sum())

    def n_pcns(self, change: str) -> int:
        """PCNs of one change (``"opened"``, ``"split"``...)."""
        return int(self.pcns["change"].eq(change).sum())

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Headline counts."""
        m_b, m_a = self.before.membership, self.after.membership
        out: dict[str, Any] = {
            "before": self.before.label,
            "after": self.after.label,
            "n_practices": {"before": len(m_b), "after": len(m_a)},
            "n_pcns": {
                "before": int(m_b[PCN_CODE].replace("", pd.NA).nunique()),
                "after": int(m_a[PCN_CODE].replace("", pd.NA).nunique()),
            },
            "n_unallocated": {
                "before": int(m_b[PCN_CODE].eq("").sum()),
                "after": int(m_a[PCN_CODE].eq("").sum()),
            },
            "practices": {c: self.n_practices(c) for c in PRACTICE_CHANGES},
            "pcns": {c: self.n_pcns(c) for c in PCN_CHANGES},
            "n_pcns_list_size_changed": int(
                (self.sizes["list_size_change"] != 0).sum() if len(self.sizes) else 0
            ),
            "n_pcns_band_status_changed": int(
                (self.sizes["band_status_before"] != self.sizes["band_status_after"]).sum()
                if len(self.sizes)
                else 0
            ),
        }
        if self.has_findings:
            out["findings"] = {
                "resolved": len(self.resolved),
                "introduced": len(self.introduced),
                "changed": len(self.changed),
            }
        return out

    def changes(self) -> pd.DataFrame:
        """Every change, one row each (``diff.csv``): :data:`CHANGE_COLUMNS`."""
        p = self.practices
        rows = [
            pd.DataFrame(
                {
                    "level": "practice",
                    "change": p["change"],
                    "code": p[PRACTICE_CODE],
                    "name": p[PRACTICE_NAME],
                    "from": p["from_pcn_code"],
                    "to": p["to_pcn_code"],
                    "patients": p["patients"],
                    "detail": p["reason"],
                }
            )
        ]
        q = self.pcns
        rows.append(
            pd.DataFrame(
                {
                    "level": "pcn",
                    "change": q["change"],
                    "code": q[PCN_CODE],
                    "name": q[PCN_NAME],
                    "from": q[PCN_CODE]
                    .where(q["change"].eq("re-coded"), q[PCN_NAME])
                    .where(q["change"].isin(["re-coded", "renamed"]), ""),
                    "to": q["to_pcn_code"].where(q["change"].eq("re-coded"), q["name_after"]),
                    "patients": pd.array([pd.NA] * len(q), dtype="Int64"),
                    "detail": q["detail"],
                }
            )
        )
        z = self.sizes
        if len(z):
            moved = z[z["list_size_change"] != 0]
            rows.append(
                pd.DataFrame(
                    {
                        "level": "pcn",
                        "change": "list size",
                        "code": moved[PCN_CODE],
                        "name": moved[PCN_NAME],
                        "from": moved["list_size_before"].map("{:,}".format),
                        "to": moved["list_size_after"].map("{:,}".format),
                        "patients": moved["list_size_change"].astype("Int64"),
                        "detail": "",
                    }
                )
            )
            band = z[z["band_status_before"] != z["band_status_after"]]
            rows.append(
                pd.DataFrame(
                    {
                        "level": "pcn",
                        "change": "band status",
                        "code": band[PCN_CODE],
                        "name": band[PCN_NAME],
                        "from": band["band_status_before"].replace("", "(no PCN)"),
                        "to": band["band_status_after"].replace("", "(no PCN)"),
                        "patients": band["list_size_after"].astype("Int64"),
                        "detail": "",
                    }
                )
            )
        for change, items in (
            ("resolved", self.resolved),
            ("introduced", self.introduced),
            ("changed", self.changed),
        ):
            if items:
                rows.append(
                    pd.DataFrame(
                        {
                            "level": "finding",
                            "change": change,
                            "code": [f.pcn_code for f in items],
                            "name": [f"{f.check}/{f.kind}" for f in items],
                            "from": [
                                f.before.severity.value if change == "changed" else ""
                                for f in items
                            ],
                            "to": [f.severity.value for f in items],
                            "patients": pd.array([pd.NA] * len(items), dtype="Int64"),
                            "detail": [
                                (f"{f.describe()}. " if change == "changed" else "") + f.message
                                for f in items
                            ],
                        }
                    )
                )
        rows = [r for r in rows if len(r)]
        if not rows:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
        out = pd.concat(rows, ignore_index=True)[list(CHANGE_COLUMNS)]
        out["patients"] = out["patients"].astype("Int64")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: the summary and every table."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if v is pd.NA else v) for k, v in r.items()}
                for r in frame.astype(object).to_dict(orient="records")
            ]

        return {
            "summary": self.summary,
            "practices": records(self.practices),
            "pcns": records(self.pcns),
            "sizes": records(self.sizes),
            "resolved": [f.to_dict() for f in self.resolved],
            "introduced": [f.to_dict() for f in self.introduced],
            "changed": [c.to_dict() for c in self.changed],
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def __repr__(self) -> str:
        s = self.summary
        parts = [f"{n} {c}" for c, n in s["practices"].items() if n]
        pcns = [f"{n} {c}" for c, n in s["pcns"].items() if n]
        return (
            f"<Diff {self.before.label!r} -> {self.after.label!r}: practices "
            f"{', '.join(parts) or 'unchanged'}; PCNs {', '.join(pcns) or 'unchanged'}>"
        )


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
    b, a = before.membership, after.membership
    names_b = b[b[PCN_CODE].ne("")].groupby(PCN_CODE)[PCN_NAME].first()
    names_a = a[a[PCN_CODE].ne("")].groupby(PCN_CODE)[PCN_NAME].first()
    size_b = b[b[PCN_CODE].ne("")].groupby(PCN_CODE).size()
    size_a = a[a[PCN_CODE].ne("")].groupby(PCN_CODE).size()
    common = b.index.intersection(a.index)
    pairs = pd.DataFrame(
        {"before": b.loc[common, PCN_CODE].to_numpy(), "after": a.loc[common, PCN_CODE].to_numpy()}
    )
    pairs = pairs[pairs["before"].ne("") & pairs["after"].ne("")]
    dest = pairs.groupby("before")["after"].agg(lambda s: tuple(sorted(set(s))))
    src = pairs.groupby("after")["before"].agg(lambda s: tuple(sorted(set(s))))
    closed = sorted(set(names_b.index) - set(names_a.index))
    opened = sorted(set(names_a.index) - set(names_b.index))
    opened_set = set(opened)
    # re-coded: a closed code and an opened code with the same practices (of those in both)
    members_b = b.loc[common].groupby(PCN_CODE).groups
    members_a = a.loc[common].groupby(PCN_CODE).groups
    recoded: dict[str, str] = {}
    for x in closed:
        targets = dest.get(x, ())
        if len(targets) != 1 or targets[0] not in opened_set:
            continue
        y = targets[0]
        if src.get(y, ()) == (x,) and set(members_b.get(x, [])) == set(members_a.get(y, [])):
            recoded[x] = y
    closed_set = set(closed) - set(recoded)
    opened_set -= set(recoded.values())
    where_now = _counts(pairs, "before", "after")
    came_from = _counts(pairs, "after", "before")
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
    for x, targets in dest.items():
        if len(targets) >= 2 and (x in closed_set or opened_set & set(targets)):
            row(x, names_b[x], "split", size_b[x], f"its practices now in {where_now[x]}")
    for y, sources in src.items():
        if len(sources) >= 2 and (y in opened_set or closed_set & set(sources)):
            row(y, names_a[y], "merged", size_a[y], f"holds the practices of {came_from[y]}")
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


def diff(
    before: Any,
    after: Any,
    *,
    practices: Any = None,
    before_as_of: str | None = None,
    after_as_of: str | None = None,
) -> Diff:
    """What changed between two extracts: practices, PCNs, list sizes, findings.

    Parameters
    ----------
    before, after
        Anything :func:`read_extract` reads: two study files, two configuration or map
        files (``gp-reg-pat-prac-map.csv``, ``practice_code,pcn_code`` CSVs, the ePCN
        workbook at a date as ``ePCN.xlsx@2022-07-01``), studies, reports, configurations.
    practices
        An ODS practices file (``epraccur.csv``) whose status says why a practice
        disappeared (closed, dormant); the ``after`` file's own status is used otherwise.
    before_as_of, after_as_of
        Dates (ISO) for ePCN workbooks (the same as ``FILE@DATE``).

    Returns
    -------
    Diff

    Examples
    --------
    >>> import pandas as pd
    >>> before = pd.DataFrame({"practice_code": ["A1", "A2", "B1", "B2"],
    ...                        "pcn_code": ["U1", "U1", "U2", "U2"]})
    >>> after = pd.DataFrame({"practice_code": ["A1", "A2", "B1", "B2"],
    ...                       "pcn_code": ["U1", "U1", "U1", ""]})
    >>> d = diff(before, after)
    >>> d.practices[["practice_code", "change"]].to_dict("records")
    [{'practice_code': 'B1', 'change': 'moved'}, {'practice_code': 'B2', 'change': 'taken out'}]
    >>> d.pcns[["pcn_code", "change"]].to_dict("records")
    [{'pcn_code': 'U2', 'change': 'closed'}, {'pcn_code': 'U1', 'change': 'merged'}]
    """
    b = read_extract(before, as_of=before_as_of)
    a = read_extract(after, as_of=after_as_of)
    statuses = _statuses(
        Source.coerce(practices) if isinstance(practices, str | Path) else practices
    )
    pcns, recoded = _pcn_changes(b, a)
    moves = _practice_changes(b, a, recoded, statuses)
    sizes = _size_changes(b, a, recoded)
    resolved: list[Finding] = []
    introduced: list[Finding] = []
    changed: list[FindingChange] = []
    if b.report is not None and a.report is not None:
        resolved, introduced, changed = _findings(b.report.findings, a.report.findings, recoded)
    return Diff(b, a, moves, pcns, sizes, resolved, introduced, changed)


# -- the history of a region: several dated studies ---------------------------------------
#: The columns of :attr:`History.table`.
HISTORY_COLUMNS = (
    "pcn_code",
    "pcn_name",
    "extract",
    "position",
    "n_practices",
    "list_size",
    "band_status",
    "n_findings",
)


@dataclass(eq=False)
class History:
    """Several dated studies of one region side by side (:func:`history`).

    Attributes
    ----------
    labels
        The studies' names, in the order given (oldest first, as the user lists them).
    table
        One row per PCN and study it is in: :data:`HISTORY_COLUMNS` (``position`` is the
        study's place in ``labels``; ``n_findings`` counts the findings naming the PCN).
    band
        The size band of the last study.
    """

    labels: list[str]
    table: pd.DataFrame = field(repr=False)
    band: tuple[int, int]

    def list_sizes(self) -> pd.DataFrame:
        """PCNs by study: list size (``0`` where the PCN is not in that study), rows
        sorted by PCN code, columns in study order."""
        wide = self.table.pivot(index="pcn_code", columns="position", values="list_size")
        wide = wide.reindex(columns=range(len(self.labels))).fillna(0).astype("int64")
        wide.columns = list(self.labels)
        return wide.sort_index()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: the labels, the band and every row."""
        return {
            "labels": list(self.labels),
            "band": list(self.band),
            "pcns": self.table.astype(object).to_dict(orient="records"),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def __repr__(self) -> str:
        return (
            f"<History of {self.table['pcn_code'].nunique()} PCNs over {len(self.labels)} studies>"
        )


def history(sources: list[Any], *, labels: list[str] | None = None) -> History:
    """Per PCN over several dated studies: practices, list size, band status, findings.

    Parameters
    ----------
    sources
        Study files (``.toml``), studies or reports, oldest first.
    labels
        Names for the studies (default: each study's ``name``).

    Returns
    -------
    History

    Raises
    ------
    InputError
        Fewer than two studies, a configuration file (a history needs list sizes), or
        two studies of the same name without ``labels``.
    """
    if len(sources) < 2:
        raise InputError("a history needs two or more studies, oldest first")
    reports = []
    for source in sources:
        ext = read_extract(source)
        if ext.report is None:
            raise InputError(
                f"{source}: a history needs study files (list sizes and findings), not a "
                "configuration file; use geo-pcn diff for two configuration files"
            )
        reports.append(ext.report)
    names = list(labels) if labels else [r.study.name for r in reports]
    if len(set(names)) != len(names):
        raise InputError(
            f"two studies share the name {next(n for n in names if names.count(n) > 1)!r}; "
            'give each study file its own name = "..." (e.g. with its date)'
        )
    rows = []
    for position, (name, report) in enumerate(zip(names, reports, strict=True)):
        pcns = report.pcns
        counts = pd.Series([f.pcn_code for f in report.findings if f.pcn_code]).value_counts()
        rows.append(
            pd.DataFrame(
                {
                    "pcn_code": pcns["pcn_code"].to_numpy(dtype=object),
                    "pcn_name": pcns["pcn_name"].fillna("").to_numpy(dtype=object),
                    "extract": name,
                    "position": position,
                    "n_practices": pcns["n_practices"].astype("int64").to_numpy(),
                    "list_size": pcns[LIST_SIZE].astype("int64").to_numpy(),
                    "band_status": pcns["band_status"].to_numpy(dtype=object),
                    "n_findings": counts.reindex(pcns["pcn_code"])
                    .fillna(0)
                    .astype("int64")
                    .to_numpy(),
                }
            )
        )
    table = pd.concat(rows, ignore_index=True).sort_values(["pcn_code", "position"])
    band = tuple(reports[-1].summary["band"])
    return History(names, table.reset_index(drop=True)[list(HISTORY_COLUMNS)], band)
