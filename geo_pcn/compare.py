"""Two reports of the same study side by side: what a change fixes and what it breaks.

:func:`compare` sets a report before a change beside the report after it
(:class:`Comparison`): practices and patients moved, list sizes and band status per PCN,
findings resolved, introduced and changed, boundary crossings and community alignment before and
after. The comparison is a result object: :mod:`geo_pcn.render` writes it out
(``compare.md``, ``compare.json``, the change map).

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

A finding keeps its identity (check, kind, PCN, practices) across the change: one whose
figures moved is *changed*, not resolved and introduced again.

>>> [(c.check, c.kind, c.pcn_code, c.what) for c in comparison.changed][:1]
[('coverage', 'residents_registered_outside', '', ('value', 'message', 'details'))]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_pcn._escape import html_table
from geo_pcn._json import dump_json
from geo_pcn._templates import Markup, render
from geo_pcn._words import alignment_score, count, finding_units, move_kind, with_unit
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding
from geo_pcn.report import Report
from geo_pcn.settings import LIST_SIZE, PRACTICE_CODE

__all__ = ["Comparison", "FindingChange", "compare", "moved_words"]

#: What can change in a finding that keeps its identity, in the order it is reported.
_CHANGEABLE = ("severity", "pcn_code", "practices", "value", "threshold", "message", "details")


@dataclass(frozen=True)
class FindingChange:
    """One finding that is there before and after a change, with different figures.

    Attributes
    ----------
    before, after
        The finding in each report.
    what
        What differs, in this order: ``severity``, ``pcn_code``, ``practices``, ``value``,
        ``threshold``, ``message``, ``details``.
    """

    before: Finding
    after: Finding
    what: tuple[str, ...]

    # the finding's identity, read from ``after`` (so a change reads like a finding)
    @property
    def check(self) -> str:
        return self.after.check

    @property
    def kind(self) -> str:
        return self.after.kind

    @property
    def severity(self):
        return self.after.severity

    @property
    def pcn_code(self) -> str:
        return self.after.pcn_code

    @property
    def practice_codes(self) -> tuple[str, ...]:
        return self.after.practice_codes

    @property
    def message(self) -> str:
        return self.after.message

    def describe(self) -> str:
        """What changed in a few words: ``value 37.2 -> 41.0; practices 4 -> 5``."""
        b, a = self.before, self.after
        parts = []
        if "severity" in self.what:
            parts.append(f"severity {b.severity.value} -> {a.severity.value}")
        if "pcn_code" in self.what:
            parts.append(f"PCN {b.pcn_code or '(none)'} -> {a.pcn_code or '(none)'}")
        if "practices" in self.what:
            n_b, n_a = len(b.practice_codes), len(a.practice_codes)
            parts.append(f"practices {n_b} -> {n_a}" if n_b != n_a else "other practices")
        value_unit, threshold_unit = finding_units(a.check, a.kind)
        if "value" in self.what:
            parts.append(
                f"value {with_unit(b.value, value_unit) or 'none'} -> "
                f"{with_unit(a.value, value_unit) or 'none'}"
            )
        if "threshold" in self.what:
            parts.append(
                f"threshold {with_unit(b.threshold, threshold_unit) or 'none'} -> "
                f"{with_unit(a.threshold, threshold_unit) or 'none'}"
            )
        if not parts and "message" in self.what:
            parts.append("same figures; what its message names changed")
        if not parts:
            parts.append("same figures; what lies behind them changed")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: the identity, what changed and both sides' figures."""
        a = self.after

        def side(f: Finding) -> dict[str, Any]:
            return {
                "severity": f.severity.value,
                "pcn_code": f.pcn_code,
                "practice_codes": list(f.practice_codes),
                "value": f.value,
                "threshold": f.threshold,
                "message": f.message,
                "details": f.details,
            }

        return {
            "check": a.check,
            "kind": a.kind,
            "pcn_code": a.pcn_code,
            "practice_codes": list(a.practice_codes),
            "what": list(self.what),
            "summary": self.describe(),
            "before": side(self.before),
            "after": side(a),
        }


def _plain(value: Any) -> str:
    """A value as JSON text (NaN equals NaN, numpy scalars equal their Python ones)."""
    return dump_json(value, None, indent=None)


def _same_figure(x: Any, y: Any) -> bool:
    """Two values or thresholds are the same figure (numbers within rounding noise)."""
    numeric = (int, float, np.integer, np.floating)
    if isinstance(x, numeric) and isinstance(y, numeric) and not isinstance(x, bool):
        x, y = float(x), float(y)
        return (np.isnan(x) and np.isnan(y)) or bool(np.isclose(x, y, rtol=1e-9, atol=1e-9))
    return _plain(x) == _plain(y)


#: What a reader sees of a finding: a pair that differs only in ``details`` (the
#: breakdown behind the figures, e.g. another PCN's share of a study-wide count) reads
#: the same before and after, so it is not listed as changed.
_SEEN = ("severity", "pcn_code", "practices", "value", "threshold", "message")


def _what_changed(b: Finding, a: Finding) -> tuple[str, ...]:
    same = {
        "severity": b.severity == a.severity,
        "pcn_code": b.pcn_code == a.pcn_code,
        "practices": b.practice_codes == a.practice_codes,
        "value": _same_figure(b.value, a.value),
        "threshold": _same_figure(b.threshold, a.threshold),
        "message": b.message == a.message,
        "details": _plain(b.details) == _plain(a.details),
    }
    if all(same[k] for k in _SEEN):
        return ()
    return tuple(k for k in _CHANGEABLE if not same[k])


def _match_findings(
    before: list[Finding], after: list[Finding]
) -> tuple[list[Finding], list[Finding], list[FindingChange]]:
    """Resolved, introduced and changed findings.

    A finding's identity is :attr:`Finding.key` (check, kind, PCN, practices) and the
    boundary layer it is about, if any (a PCN crossing place lines before and sub-ICB and
    place lines after has *introduced* a sub-ICB crossing). What is left unmatched is then
    paired on (check, kind, PCN) for a PCN's findings (the PCN still splits or crosses a
    line, with other practices), then on (check, kind, practices) for a practice's (the
    practice moved PCN and its mismatch stays), each with the layer. Matched pairs whose
    figures differ are *changed*; each finding is matched at most once, in report order.
    """

    def layer(f: Finding) -> str:
        return str((f.details or {}).get("layer", ""))

    rules = (
        lambda f: (*f.key, layer(f)),
        lambda f: (f.check, f.kind, f.pcn_code, layer(f)) if f.pcn_code else None,
        lambda f: (f.check, f.kind, f.practice_codes, layer(f)) if f.practice_codes else None,
    )
    left_b, left_a = list(before), list(after)
    pairs: list[tuple[Finding, Finding]] = []
    for rule in rules:
        waiting: dict[Any, list[int]] = {}
        for i, f in enumerate(left_a):
            k = rule(f)
            if k is not None:
                waiting.setdefault(k, []).append(i)
        used: set[int] = set()
        rest_b = []
        for f in left_b:
            k = rule(f)
            if k is not None and waiting.get(k):
                j = waiting[k].pop(0)
                used.add(j)
                pairs.append((f, left_a[j]))
            else:
                rest_b.append(f)
        left_b = rest_b
        left_a = [f for i, f in enumerate(left_a) if i not in used]
    order = {id(f): i for i, f in enumerate(after)}
    pairs.sort(key=lambda p: order[id(p[1])])
    changed = []
    for b, a in pairs:
        what = _what_changed(b, a)
        if what:
            changed.append(FindingChange(before=b, after=a, what=what))
    return left_b, left_a, changed


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
        list_size, from_pcn_code, to_pcn_code, change`` (``moved`` from one PCN to
        another, ``placed`` from no PCN, ``taken out`` into none).
    pcns
        One row per PCN of either configuration: list size, practices and band status
        before and after (``""`` status: the PCN does not exist on that side).
    resolved, introduced
        Findings of ``before`` not in ``after`` and of ``after`` not in ``before``.
    changed
        :class:`FindingChange` pairs: findings there before and after (the same identity,
        :attr:`Finding.key`, or the same PCN's or practices' finding of that check and
        kind) whose figures differ: value, details, message, severity, practices.
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
    changed: list[FindingChange] = field(repr=False)
    crossings: dict[str, dict[str, list[str]]] = field(repr=False)
    alignment: dict[str, dict[str, dict[str, Any]]] = field(repr=False)
    changes: list[str] | None = field(repr=False)

    # -- facts ----------------------------------------------------------------------------
    # One definition (geo_pcn._words.move_kind), as proposal.md and `geo-pcn rank` count:
    # a practice *moved* from one PCN to another, *placed* from no PCN into one, *taken
    # out* of its PCN into none.
    def _of_kind(self, kind: str) -> pd.DataFrame:
        return self.moves[self.moves["change"] == kind]

    @property
    def n_practices_moved(self) -> int:
        """Practices moved from one PCN to another (not those placed or taken out)."""
        return len(self._of_kind("moved"))

    @property
    def n_patients_moved(self) -> int:
        """Registered patients of the practices moved from one PCN to another."""
        return int(self._of_kind("moved")[LIST_SIZE].sum())

    @property
    def n_practices_placed(self) -> int:
        """Practices in no PCN before that are in one after."""
        return len(self._of_kind("placed"))

    @property
    def n_patients_placed(self) -> int:
        """Registered patients of the practices placed."""
        return int(self._of_kind("placed")[LIST_SIZE].sum())

    @property
    def n_practices_taken_out(self) -> int:
        """Practices in a PCN before that are in none after."""
        return len(self._of_kind("taken out"))

    @property
    def n_patients_taken_out(self) -> int:
        """Registered patients of the practices taken out of their PCN."""
        return int(self._of_kind("taken out")[LIST_SIZE].sum())

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
            "n_practices_placed": self.n_practices_placed,
            "n_patients_placed": self.n_patients_placed,
            "n_practices_taken_out": self.n_practices_taken_out,
            "n_patients_taken_out": self.n_patients_taken_out,
            "n_pcns_outside_band": {
                "before": _n_outside(self.pcns["band_status_before"]),
                "after": _n_outside(self.pcns["band_status_after"]),
            },
            "n_resolved": len(self.resolved),
            "n_introduced": len(self.introduced),
            "n_changed": len(self.changed),
            "crossings": {
                layer: {"before": len(v["before"]), "after": len(v["after"])}
                for layer, v in self.crossings.items()
            },
        }

    # -- plain forms and display ----------------------------------------------------------
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
            "changed": [c.to_dict() for c in self.changed],
            "crossings": self.crossings,
            "alignment": self.alignment,
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def _repr_html_(self) -> str:
        """HTML for notebooks: the summary first, the tables in collapsible sections
        (``geo_pcn/templates/comparison.html.j2``; every string escaped)."""
        s = self.summary
        return render(
            "comparison.html.j2",
            s=s,
            before=s["findings"]["before"],
            after=s["findings"]["after"],
            moved=moved_words(s),
            n_resolved=count(s["n_resolved"], "finding"),
            changes=self.changes,
            resolved=self.resolved,
            introduced=self.introduced,
            changed=self.changed,
            n_moves=len(self.moves),
            moves_table=Markup(html_table(self.moves)),
            n_pcns_changed=len(self.changed_pcns),
            pcns_table=Markup(html_table(self.changed_pcns)),
            crossings=[
                (layer, ", ".join(v["before"]) or "-", ", ".join(v["after"]) or "-")
                for layer, v in self.crossings.items()
            ],
            alignment=[
                (
                    layer,
                    alignment_score(k, None)[0],
                    alignment_score(k, v["before"].get(k))[1],
                    alignment_score(k, v["after"].get(k))[1],
                )
                for layer, v in self.alignment.items()
                for k in v["after"]
            ],
        )

    def __repr__(self) -> str:
        s = self.summary
        fb, fa = s["findings"]["before"], s["findings"]["after"]
        return (
            f"<Comparison {s['study']!r}: {moved_words(s)}; "
            f"errors {fb['error']} -> {fa['error']}; {s['n_resolved']} resolved, "
            f"{s['n_introduced']} introduced, {s['n_changed']} changed>"
        )


def moved_words(summary: dict[str, Any]) -> str:
    """The moves of a comparison's summary in words, as compare.md, the CLI and the
    notebook say them: ``5 practices moved (35,889 patients); 1 placed (8,616 patients)``
    (placed and taken out only when there are any)."""
    s = summary
    out = (
        f"{count(s['n_practices_moved'], 'practice')} moved between PCNs "
        f"({count(s['n_patients_moved'], 'patient')})"
    )
    if s.get("n_practices_placed"):
        out += (
            f"; {count(s['n_practices_placed'], 'practice')} in no PCN placed "
            f"({count(s['n_patients_placed'], 'patient')})"
        )
    if s.get("n_practices_taken_out"):
        out += (
            f"; {count(s['n_practices_taken_out'], 'practice')} taken out of their PCN "
            f"({count(s['n_patients_taken_out'], 'patient')})"
        )
    return out


def _n_outside(status: pd.Series) -> int:
    return int(status.isin(["below", "above"]).sum())


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
        for layer in report.partition.geography.site_areas
        if f"n_{layer}" in pcns
    }


def compare(before: Report, after: Report) -> Comparison:
    """What changed between two reports of the same study.

    Long because: one recipe, side by side (moves, PCN table, crossings, alignment scores,
    findings), under a 27-line docstring; the code is 57 lines.

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
    sizes = after.partition.list_sizes
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
            "change": [
                move_kind(f, t)
                for f, t in zip(diff["from_pcn_code"], diff["to_pcn_code"], strict=True)
            ],
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
    resolved, introduced, changed = _match_findings(before.findings, after.findings)
    return Comparison(
        before=before,
        after=after,
        moves=moves,
        pcns=pcns,
        resolved=resolved,
        introduced=introduced,
        changed=changed,
        crossings=crossings,
        alignment=alignment,
        changes=_changes_between(b_cfg, a_cfg),
    )
