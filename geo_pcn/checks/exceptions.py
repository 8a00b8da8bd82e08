"""Agreed exceptions: findings a study has agreed to live with, kept visible as notes.

Policy allows locally agreed exceptions to the size band (rural PCNs below 30,000), to
contiguity and to boundary lines. A study records them per PCN and per check, with the
reason and the date (``[rules.exceptions]`` in the study file, kept in
:attr:`geo_pcn.study.Rules.exceptions`; ``[rules] exempt = [...]`` is an exception to
``size`` with the reason "listed in exempt").

:func:`apply_exceptions` turns every ERROR or WARNING finding of an excepted PCN and check
into an INFO finding. It keeps the finding's ``check`` and ``kind`` (so that scenario
comparisons and incremental re-validation match it with the same finding elsewhere) and
says what happened in two places: ``details["exception"]`` (reason, date and the
severity it had) and the message, which ends ``Agreed exception: <reason> (<date>); noted,
not failed.`` The size check's own ``exempt`` note (a PCN outside the band with an
exception to ``size``, already INFO) gets the same ``details["exception"]`` and ends
``Reason: <reason> (<date>).``

:func:`stale_exceptions` lists the exceptions no finding needed: one INFO finding (check
``exceptions``, kind ``stale_exception``) per exception whose checks (those that ran)
found nothing for its PCN, or whose PCN is not in the configuration. They may be out of
date; nothing fails because of them.

:func:`geo_pcn.validate` and :func:`geo_pcn.pipeline.revalidate` apply both, in that order.

Examples
--------
>>> from geo_pcn.studyfile import AgreedException
>>> from geo_pcn.findings import Finding, Severity
>>> from geo_pcn.study import Rules
>>> rules = Rules(exceptions=(AgreedException("U1", ("contiguity",), "river crossing agreed"),))
>>> split = Finding("contiguity", "split", Severity.ERROR, "U1 is in 2 parts.", pcn_code="U1")
>>> [excepted] = apply_exceptions([split], rules)
>>> excepted.severity, excepted.kind
(<Severity.INFO: 'info'>, 'split')
>>> excepted.message
'U1 is in 2 parts. Agreed exception: river crossing agreed (no date recorded); noted, not failed.'
>>> stale_exceptions([excepted], rules, pcn_codes=["U1"])
[]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from geo_pcn.findings import Finding, Severity
from geo_pcn.studyfile import AgreedException

__all__ = ["AgreedException", "apply_exceptions", "stale_exceptions", "exception_for"]

_FAILING = (Severity.ERROR, Severity.WARNING)


def exception_for(rules, pcn_code: str, check: str) -> AgreedException | None:
    """The agreed exception of ``rules`` for ``pcn_code`` and ``check``, or ``None``.

    Examples
    --------
    >>> from geo_pcn.study import Rules
    >>> exception_for(Rules(exempt=("U1",)), "U1", "size").reason
    'listed in exempt'
    """
    if not pcn_code:
        return None
    for exception in rules.exceptions:
        if exception.covers(pcn_code, check):
            return exception
    return None


def _when(exception: AgreedException) -> str:
    return exception.date.isoformat() if exception.date else "no date recorded"


def _is_exempt_note(finding: Finding) -> bool:
    """The size check's own note for a PCN outside the band with an agreed exception."""
    return finding.check == "size" and finding.kind == "exempt"


def apply_exceptions(findings: Iterable[Finding], rules) -> list[Finding]:
    """``findings`` with those of excepted PCNs and checks made INFO, quoting the reason.

    Parameters
    ----------
    findings
        Findings of any checks (already-excepted findings are left as they are, so that
        applying twice changes nothing).
    rules
        :class:`geo_pcn.study.Rules` (its ``exceptions``).

    Returns
    -------
    list of Finding
        In the same order. An excepted finding keeps its ``check``, ``kind``, PCN,
        practices, value, threshold and geometry; its severity becomes INFO, its message
        ends with ``Agreed exception: <reason> (<date>); noted, not failed.`` and its
        ``details["exception"]`` holds ``reason``, ``date`` (``YYYY-MM-DD`` or ``None``)
        and ``severity`` (what it would have been).
    """
    out: list[Finding] = []
    for finding in findings:
        exception = None
        if "exception" not in finding.details and (
            finding.severity in _FAILING or _is_exempt_note(finding)
        ):
            exception = exception_for(rules, finding.pcn_code, finding.check)
        if exception is None:
            out.append(finding)
            continue
        quoted = f"{exception.reason} ({_when(exception)})"
        if finding.severity in _FAILING:
            message = f"{finding.message.rstrip()} Agreed exception: {quoted}; noted, not failed."
        else:  # the size check's own note already says the PCN has an agreed exception
            message = f"{finding.message.rstrip()} Reason: {quoted}."
        details = dict(finding.details)
        details["exception"] = {
            "reason": exception.reason,
            "date": exception.to_dict()["date"],
            "severity": finding.severity.value,
        }
        out.append(
            dataclasses.replace(finding, severity=Severity.INFO, message=message, details=details)
        )
    return out


def stale_exceptions(
    findings: Iterable[Finding],
    rules,
    *,
    checks: Iterable[str] | None = None,
    pcn_codes: Sequence[str] | None = None,
) -> list[Finding]:
    """An INFO finding for every agreed exception that no finding needed.

    Parameters
    ----------
    findings
        The findings, before or after :func:`apply_exceptions`.
    rules
        :class:`geo_pcn.study.Rules` (its ``exceptions``).
    checks
        Names of the checks that ran (default: every check an exception names); an
        exception to a check that did not run is not called stale.
    pcn_codes
        The configuration's PCNs: an exception for a PCN not among them is stale and
        says so.

    Returns
    -------
    list of Finding
        Check ``exceptions``, kind ``stale_exception``, one per stale exception, with
        ``details`` ``checks`` (those that found nothing), ``reason`` and ``date``.
    """
    ran = None if checks is None else set(checks)
    known = None if pcn_codes is None else set(pcn_codes)
    used = {
        (f.pcn_code, f.check)
        for f in findings
        if f.severity in _FAILING or "exception" in f.details or _is_exempt_note(f)
    }
    out: list[Finding] = []
    for exception in rules.exceptions:
        code = exception.pcn_code
        considered = [c for c in exception.checks if ran is None or c in ran]
        unused = [c for c in considered if (code, c) not in used]
        if not unused:
            continue
        when = exception.to_dict()["date"]
        quoted = f'"{exception.reason}" ({_when(exception)})'
        if known is not None and code not in known:
            message = (
                f"The agreed exception for {code} ({', '.join(exception.checks)}: {quoted}) "
                "names a PCN that is not in the configuration; check the code, or remove "
                "the exception if the PCN has gone."
            )
        else:
            message = (
                f"The agreed exception for {code} to {', '.join(unused)} ({quoted}) matched "
                f"no finding: {code} now passes {'that check' if len(unused) == 1 else 'them'}, "
                "so the exception may no longer be needed."
            )
        out.append(
            Finding(
                check="exceptions",
                kind="stale_exception",
                severity=Severity.INFO,
                message=message,
                pcn_code=code,
                details={"checks": unused, "reason": exception.reason, "date": when},
            )
        )
    return out
