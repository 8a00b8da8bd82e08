"""The pipeline: a :class:`~geo_pcn.partition.Partition`, its checks, the
:class:`~geo_pcn.report.Report`.

:func:`validate` builds a partition of the configuration from scratch and runs every
registered check on it; :func:`revalidate` flips a report's partition to another
configuration (the new partition holds the flows and updates its metrics from the
report's) and runs every check again, whole. The two give the same report.
"""

from __future__ import annotations

import warnings

from geo_pcn.checks import CHECKS, apply_exceptions, resolve_checks, run_check, stale_exceptions
from geo_pcn.configuration import Configuration
from geo_pcn.errors import GeoPCNWarning
from geo_pcn.findings import Finding
from geo_pcn.partition import Partition
from geo_pcn.progress import stage
from geo_pcn.report import Report

__all__ = ["validate", "revalidate"]


def validate(
    study, configuration: Configuration | None = None, *, checks=None, incremental=None
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
        Ignored (kept so that earlier calls still run, with a warning): ``validate``
        always builds the partition from scratch; :func:`revalidate` updates one from a
        report's.

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
    if incremental is not None:
        warnings.warn(
            "validate(incremental=...) is ignored: validate always computes from scratch; "
            "use geo_pcn.revalidate(report, configuration) to update from a report",
            GeoPCNWarning,
            stacklevel=2,
        )
    names = resolve_checks(checks)  # an unknown name raises here, before any work
    if configuration is not None and configuration is not study.configuration:
        study.check_configuration(configuration)  # unknown practices raise here
    return _report(Partition(study, configuration), names)


def revalidate(report: Report, configuration: Configuration) -> Report:
    """Validate ``configuration`` from ``report`` (typically the report of its parent):
    the report's partition is flipped to ``configuration`` and every metric is updated
    from the report's where it holds one (only the PCNs and practices the change touches
    are worked out again); every registered check then runs whole.

    The findings, tables and summary are the same as :func:`geo_pcn.validate` gives for
    ``configuration``; this is just faster.

    Parameters
    ----------
    report
        A report from :func:`geo_pcn.validate` or from :func:`revalidate`, of any
        configuration of the same study.
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
    if configuration is not study.configuration:
        study.check_configuration(configuration)  # unknown practices raise here
    return _report(report.partition.with_configuration(configuration), list(CHECKS))


def _sort_key(f: Finding):
    return (f.severity.rank, f.check, f.pcn_code, f.practice_codes, f.kind)


def _report(partition: Partition, names: list[str]) -> Report:
    """Run the checks ``names`` on ``partition``, apply the agreed exceptions, sort."""
    study = partition.study
    findings: list[Finding] = []
    for name in names:
        with stage(f"check {name}"):
            findings.extend(run_check(CHECKS[name], partition))
    findings = apply_exceptions(findings, study.rules)
    findings += stale_exceptions(
        findings, study.rules, checks=names, pcn_codes=partition.configuration.pcn_codes
    )
    findings.sort(key=_sort_key)
    return Report(
        study=study, configuration=partition.configuration, findings=findings, partition=partition
    )
