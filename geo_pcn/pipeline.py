"""The pipeline: run the checks on a configuration and give a :class:`~geo_pcn.report.Report`.

:func:`validate` runs every registered check (in full, or, for a scenario step whose parent
was validated, incrementally through :func:`revalidate`: only the PCNs and practices the
change touches are checked again; the result is the same as a full run).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_pcn.checks import CHECKS, apply_exceptions, get_context, resolve_checks, stale_exceptions
from geo_pcn.checks._context import Context, study_cache
from geo_pcn.checks.boundaries import check_boundaries
from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.checks.coverage import check_coverage
from geo_pcn.checks.size import check_size
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding
from geo_pcn.footprints import Footprints
from geo_pcn.report import Report
from geo_pcn.settings import AREA_CODE, PRACTICE_CODE

__all__ = ["validate", "revalidate"]


def validate(
    study, configuration: Configuration | None = None, *, checks=None, incremental: bool = True
) -> Report:
    """Check a configuration against a study's geography and rules.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        The configuration to check; default the study's own.
    checks
        Names of the checks to run (default: every registered check, see
        :data:`geo_pcn.checks.CHECKS`). Agreed exceptions (``study.rules.exceptions``)
        are applied to their findings (see :mod:`geo_pcn.checks.exceptions`).
    incremental
        When the configuration was made from one validated recently (a scenario step),
        re-check only what the change touches (:func:`revalidate`); the
        result is the same as a full run. ``False`` forces a full run.

    Returns
    -------
    Report

    Raises
    ------
    geo_pcn.errors.UnknownCheckError
        ``checks`` names a check that is not registered.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> report = validate(demo())
    >>> report.ok
    False
    """
    names = resolve_checks(checks)  # an unknown name raises here, before any work
    if configuration is not None and configuration is not study.configuration:
        study.check_configuration(configuration)  # unknown practices raise here
    context = get_context(study, configuration)
    cache = context.cache
    parent = getattr(context.configuration, "parent", None)
    use_base = incremental and checks is None and parent is not None
    base = cache.report_of(parent) if use_base else None
    if (
        base is not None
        and base.configuration.practice_codes == context.configuration.practice_codes
    ):
        # a scenario step: only the PCNs and practices the change touches are checked again
        report = revalidate(base, context.configuration)
        cache.remember_report(report)
        return report
    findings: list[Finding] = []
    for name in names:
        findings.extend(CHECKS[name](study, context.configuration, context=context))
    findings = apply_exceptions(findings, study.rules)
    findings += stale_exceptions(
        findings, study.rules, checks=names, pcn_codes=context.configuration.pcn_codes
    )
    findings.sort(key=lambda f: (f.severity.rank, f.check, f.pcn_code, f.practice_codes, f.kind))
    report = Report(
        study=study, configuration=context.configuration, findings=findings, context=context
    )
    if checks is None:
        cache.remember_report(report)
    return report


#: findings of these (check, kind) belong to one practice: they change only when it moves
_PRACTICE_KINDS = {("boundaries", "outside_layer"), ("boundaries", "recorded_code_mismatch")}


class _ConfigurationView:
    """A configuration as a check sees it, with ``members`` limited to some PCNs."""

    def __init__(self, configuration: Configuration, pcn_codes) -> None:
        self._configuration = configuration
        members = configuration.members
        self.members = {c: members[c] for c in sorted(pcn_codes) if c in members}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._configuration, name)


class _View:
    """An object with some attributes replaced; the rest come from ``inner``."""

    def __init__(self, inner: Any, **replaced: Any) -> None:
        self._inner = inner
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _sort_key(f: Finding):
    return (f.severity.rank, f.check, f.pcn_code, f.practice_codes, f.kind)


def revalidate(report: Report, configuration: Configuration) -> Report:
    """Validate ``configuration`` reusing the work of ``report`` (typically the report of
    its parent): only the PCNs and practices the change touches are checked again.

    The findings, tables and summary are the same as :func:`geo_pcn.validate` gives for
    ``configuration``; this is just faster. Checks registered by the user (and the
    community alignment check, whose scores are study-wide) always run in full.

    Parameters
    ----------
    report
        A report from :func:`geo_pcn.validate` (every registered check run) or from
        :func:`revalidate`, of any configuration of the same study.
    configuration
        The configuration to check.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        The configuration names practices the study does not have.

    Examples
    --------
    >>> import geo_pcn
    >>> from geo_pcn.datasets import demo
    >>> study = demo()
    >>> report = geo_pcn.validate(study)
    >>> moved = study.configuration.move("Z00024", to="UZ002")
    >>> revalidate(report, moved).findings == geo_pcn.validate(study, moved).findings
    True
    """
    study = report.study
    if configuration is report.configuration:
        return report
    old_cfg = report.configuration
    if configuration is not study.configuration:
        study.check_configuration(configuration)  # unknown practices raise here
    if tuple(old_cfg.practice_codes) != tuple(configuration.practice_codes):
        return validate(study, configuration)
    cache = study_cache(study)
    context = cache.context_of(configuration)
    if context is None:
        context = Context(study, configuration, cache, base=report.context)
        cache.remember(context)

    plan = _plan(report, context)
    findings: list[Finding] = []
    for name, func in CHECKS.items():
        if func is check_size:
            findings += _rerun(report, context, name, func, plan, members=plan.redo)
        elif func is check_contiguity:
            footprints = _near_footprints(context.footprints, plan.near)
            findings += _rerun(
                report,
                context,
                name,
                func,
                plan,
                members=plan.redo,
                context_view={"footprints": footprints},
            )
        elif func is check_boundaries:
            keep = plan.practices
            site_areas = {
                layer: where[where.index.isin(keep)]
                for layer, where in context.cache.site_areas.items()
            }
            findings += _rerun(
                report,
                context,
                name,
                func,
                plan,
                members=plan.redo,
                context_view={"cache": _View(context.cache, site_areas=site_areas)},
            )
        elif func is check_coverage:
            view = {}
            if not plan.holes_changed:
                footprints = dataclasses.replace(context.footprints)
                uncovered = context.footprints.uncovered_areas
                footprints.__dict__["uncovered_areas"] = (
                    None if uncovered is None else uncovered.iloc[:0]
                )
                view = {"footprints": footprints}
            findings += _rerun(report, context, name, func, plan, members=None, context_view=view)
        else:  # a check we know nothing about: run it in full
            findings += func(study, configuration, context=context)
    # reused findings already carry their exception; applying again leaves them as they are
    findings = apply_exceptions(findings, study.rules)
    findings += stale_exceptions(
        findings, study.rules, checks=list(CHECKS), pcn_codes=configuration.pcn_codes
    )
    findings.sort(key=_sort_key)
    return Report(study=study, configuration=configuration, findings=findings, context=context)


def _near_footprints(footprints: Footprints, near: set[str]) -> Footprints:
    """The footprints of the ``near`` PCNs only, on territories cut down to the small areas
    whose representative point lies in them (all the contiguity check looks at)."""
    pcns = footprints.pcns.loc[sorted(near)]
    terr = footprints.territories
    if terr.study_areas is None:
        return dataclasses.replace(footprints, pcns=pcns)
    _, hit = terr.area_point_tree.query(pcns.geometry.to_numpy(), predicate="intersects")
    idx = np.unique(hit)
    areas = terr.study_areas.iloc[idx]
    rows = areas.index.get_indexer(terr.residents[AREA_CODE]) >= 0
    sub = dataclasses.replace(terr, study_areas=areas, residents=terr.residents[rows])
    sub.__dict__["area_points"] = terr.area_points[idx]
    return dataclasses.replace(footprints, pcns=pcns, territories=sub)


@dataclass
class _Plan:
    """What a change touches, relative to the report it is re-validated from."""

    moved: set[str]
    touched: set[str]  # PCNs (old or new) whose findings cannot be reused
    redo: set[str]  # touched PCNs that exist in the new configuration
    near: set[str]  # PCNs whose footprints the redone PCNs' checks may look at
    practices: set[str]  # practices whose site lookups the boundary check needs
    holes_changed: bool


def _plan(report: Report, context: Context) -> _Plan:
    old_cfg, new_cfg = report.configuration, context.configuration
    diff = old_cfg.diff(new_cfg)
    moved = set(diff[PRACTICE_CODE])
    touched = (set(diff["from_pcn_code"]) | set(diff["to_pcn_code"])) - {""}
    old_names, new_names = old_cfg.names, new_cfg.names
    touched |= {c for c in new_names if c in old_names and old_names[c] != new_names[c]}
    old_fp, new_fp = report.context.footprints.pcns.geometry, context.footprints.pcns.geometry
    touched |= set(old_fp.index) ^ set(new_fp.index)
    common = old_fp.index.intersection(new_fp.index)
    a, b = old_fp.reindex(common).to_numpy(), new_fp.reindex(common).to_numpy()
    differ = np.array([x is not y for x, y in zip(a, b, strict=True)], dtype=bool)
    if differ.any():
        idx = np.flatnonzero(differ)
        same = shapely.equals_exact(a[idx], b[idx], 0.0)
        touched |= set(common[idx[~same]])
    # untouched PCNs whose detached-group message may name a changed footprint
    changed = [g for g in (*old_fp.reindex(list(touched)), *new_fp.reindex(list(touched))) if g]
    if changed:
        boxes = shapely.box(*np.asarray(shapely.bounds(np.asarray(changed, dtype=object))).T)
        tree = shapely.STRtree(boxes)
        for f in report.findings:
            if (
                f.check == "contiguity"
                and f.kind == "detached_group"
                and f.pcn_code not in touched
                and f.geometry is not None
                and len(tree.query(f.geometry, predicate="intersects"))
            ):
                touched.add(f.pcn_code)
    redo = touched & set(new_cfg.pcn_codes)
    # footprints the redone PCNs' contiguity may look at: those near their territories
    near = set(redo)
    territory = context.territories.practices.geometry
    members = [p for c in redo for p in new_cfg.members[c]]
    if members:
        bounds = shapely.bounds(territory.reindex(members).to_numpy())
        groups = np.repeat(np.arange(len(redo)), [len(new_cfg.members[c]) for c in sorted(redo)])
        frame = pd.DataFrame(bounds, columns=["x0", "y0", "x1", "y1"]).assign(g=groups)
        box = frame.groupby("g").agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
        box = box.dropna()
        if len(box):
            fp = context.footprints.pcns
            _, hit = fp.sindex.query(
                shapely.box(box.x0, box.y0, box.x1, box.y1), predicate="intersects"
            )
            near |= set(fp.index[hit])
    practices = moved | {p for c in redo for p in new_cfg.members[c]}
    old_holes = report.context.footprints.uncovered_areas
    new_holes = context.footprints.uncovered_areas
    holes_changed = set(old_cfg.unassigned) != set(new_cfg.unassigned) or (
        old_holes is not None and not old_holes.index.equals(new_holes.index)
    )
    return _Plan(moved, touched, redo, near, practices, holes_changed)


def _rerun(
    report: Report,
    context: Context,
    name: str,
    func: Callable[..., list[Finding]],
    plan: _Plan,
    *,
    members: set[str] | None,
    context_view: dict[str, Any] | None = None,
) -> list[Finding]:
    """One built-in check on the touched part of the configuration, merged with the
    parent report's findings for the rest."""
    configuration = context.configuration
    view_cfg = configuration if members is None else _ConfigurationView(configuration, members)
    view_ctx = _View(context, **context_view) if context_view else context
    new = [f for f in func(report.study, view_cfg, context=view_ctx) if _keep_new(f, plan)]
    old = [f for f in report.findings if f.check == name and _keep_old(f, plan)]
    return old + new


def _keep_new(f: Finding, plan: _Plan) -> bool:
    if (f.check, f.kind) in _PRACTICE_KINDS:
        return f.practice_codes[0] in plan.moved
    if f.check == "coverage":
        return f.kind != "hole" or plan.holes_changed
    return f.pcn_code in plan.redo


def _keep_old(f: Finding, plan: _Plan) -> bool:
    if (f.check, f.kind) in _PRACTICE_KINDS:
        return f.practice_codes[0] not in plan.moved
    if f.check == "coverage":
        return f.kind == "hole" and not plan.holes_changed
    return f.pcn_code not in plan.touched
