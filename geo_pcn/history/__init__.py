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

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn._json import dump_json
from geo_pcn.compare import FindingChange
from geo_pcn.errors import InputError
from geo_pcn.findings import Finding
from geo_pcn.history._changes import (
    PCN_CHANGES,
    PRACTICE_CHANGES,
    _findings,
    _pcn_changes,
    _practice_changes,
    _size_changes,
)
from geo_pcn.history.extracts import Extract, _statuses, read_extract, split_at_date
from geo_pcn.io.tables import Source
from geo_pcn.settings import (
    LIST_SIZE,
    PCN_CODE,
    PCN_NAME,
    PRACTICE_CODE,
    PRACTICE_NAME,
)

__all__ = ["Diff", "Extract", "History", "diff", "history", "read_extract", "split_at_date"]

#: The columns of ``diff.csv``: one row per change.
CHANGE_COLUMNS = ("level", "change", "code", "name", "from", "to", "patients", "detail")


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
        rows = [_practice_rows(self.practices), _pcn_rows(self.pcns)]
        if len(self.sizes):
            rows += _size_rows(self.sizes)
        for change, items in (
            ("resolved", self.resolved),
            ("introduced", self.introduced),
            ("changed", self.changed),
        ):
            if items:
                rows.append(_finding_rows(change, items))
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


def _practice_rows(p: pd.DataFrame) -> pd.DataFrame:
    """``diff.csv`` rows of the practices that changed."""
    return pd.DataFrame(
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


def _pcn_rows(q: pd.DataFrame) -> pd.DataFrame:
    """``diff.csv`` rows of the PCN changes (a re-coded PCN goes from its code to the new
    one, a renamed one from its name to the new name)."""
    return pd.DataFrame(
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


def _size_rows(z: pd.DataFrame) -> list[pd.DataFrame]:
    """``diff.csv`` rows of the PCNs whose list size changed, then of those whose band
    status changed."""
    moved = z[z["list_size_change"] != 0]
    band = z[z["band_status_before"] != z["band_status_after"]]
    return [
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
        ),
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
        ),
    ]


def _finding_rows(change: str, items: list) -> pd.DataFrame:
    """``diff.csv`` rows of the findings ``resolved``, ``introduced`` or ``changed``."""
    return pd.DataFrame(
        {
            "level": "finding",
            "change": change,
            "code": [f.pcn_code for f in items],
            "name": [f"{f.check}/{f.kind}" for f in items],
            "from": [f.before.severity.value if change == "changed" else "" for f in items],
            "to": [f.severity.value for f in items],
            "patients": pd.array([pd.NA] * len(items), dtype="Int64"),
            "detail": [
                (f"{f.describe()}. " if change == "changed" else "") + f.message for f in items
            ],
        }
    )


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
