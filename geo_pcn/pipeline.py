"""The pipeline: run the checks on a configuration and give a :class:`~geo_pcn.report.Report`.

:func:`validate` runs every registered check (in full, or, for a scenario step whose parent
was validated, incrementally through :func:`revalidate`: only the PCNs and practices the
change touches are checked again; the result is the same as a full run).
"""

from __future__ import annotations

from geo_pcn.checks import CHECKS, apply_exceptions, get_context, resolve_checks, stale_exceptions
from geo_pcn.checks.context import remember_report, report_of
from geo_pcn.checks.delta import Delta
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding
from geo_pcn.progress import stage
from geo_pcn.report import Report

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
    parent = getattr(context.configuration, "parent", None)
    use_base = incremental and checks is None and parent is not None
    base = report_of(parent, context.geography) if use_base else None
    if (
        base is not None
        and base.configuration.practice_codes == context.configuration.practice_codes
    ):
        # a scenario step: only the PCNs and practices the change touches are checked again
        report = revalidate(base, context.configuration)
        remember_report(report)
        return report
    findings: list[Finding] = []
    for name in names:
        with stage(f"check {name}"):
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
        remember_report(report)
    return report


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
    if old_cfg.practice_codes != configuration.practice_codes:
        return validate(study, configuration)
    context = get_context(study, configuration)
    if context.base is None and "footprints" not in context.__dict__:
        context.base = report.context  # update the footprints from the report's
    delta = Delta.between(report.context, report.findings, context)
    findings: list[Finding] = []
    for name, func in CHECKS.items():
        update = getattr(func, "update", None)
        if update is None:  # a check that only computes from scratch: run it in full
            findings += func(study, configuration, context=context)
        else:
            parent = [f for f in report.findings if f.check == name]
            findings += update(parent, study, configuration, context=context, delta=delta)
    # reused findings already carry their exception; applying again leaves them as they are
    findings = apply_exceptions(findings, study.rules)
    findings += stale_exceptions(
        findings, study.rules, checks=list(CHECKS), pcn_codes=configuration.pcn_codes
    )
    findings.sort(key=_sort_key)
    return Report(study=study, configuration=configuration, findings=findings, context=context)
