"""The checks: plain functions ``check_x(study, configuration, *, context) -> list[Finding]``.

A check may also carry ``check.update(parent, study, configuration, *, context, delta)``
that gives the same findings from its parent configuration's (the updater protocol, see
:mod:`geo_pcn.checks.delta`; attach one with :func:`updates`); a check without one is run
in full when a scenario step is re-validated. Every built-in check has one.

They are kept in a registry (:data:`CHECKS`) that a user can extend with
:func:`register_check`; :func:`geo_pcn.validate` runs every registered check (or those
named in ``checks=``; :func:`resolve_checks` refuses an unknown name). Agreed exceptions
(:mod:`geo_pcn.checks.exceptions`) are applied to the findings of every check, the
user's included.

Examples
--------
>>> from geo_pcn.checks import CHECKS
>>> sorted(CHECKS)
['alignment', 'boundaries', 'contiguity', 'coverage', 'size']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from geo_pcn.checks.alignment import check_alignment
from geo_pcn.checks.boundaries import check_boundaries
from geo_pcn.checks.context import Context, get_context
from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.checks.coverage import check_coverage
from geo_pcn.checks.delta import Delta, updates
from geo_pcn.checks.exceptions import apply_exceptions, stale_exceptions
from geo_pcn.checks.size import check_size
from geo_pcn.errors import UnknownCheckError
from geo_pcn.findings import Finding

__all__ = [
    "CHECKS",
    "Context",
    "Delta",
    "get_context",
    "updates",
    "register_check",
    "resolve_checks",
    "apply_exceptions",
    "stale_exceptions",
    "check_size",
    "check_contiguity",
    "check_boundaries",
    "check_coverage",
    "check_alignment",
]

CheckFunction = Callable[..., list[Finding]]

#: name -> check function; run in this order by :func:`geo_pcn.validate`.
CHECKS: dict[str, CheckFunction] = {
    "size": check_size,
    "contiguity": check_contiguity,
    "boundaries": check_boundaries,
    "coverage": check_coverage,
    "alignment": check_alignment,
}


#: Check name reserved for the notes on agreed exceptions (see :mod:`.exceptions`).
_RESERVED = "exceptions"


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator adding a check to :data:`CHECKS` (replacing one of the same name).

    The function is called as ``func(study, configuration, context=context)`` and returns
    a list of :class:`~geo_pcn.findings.Finding` (their ``check`` should be ``name``, so
    that agreed exceptions to it apply). It runs after the built-in checks, in full
    every time (also in a scenario's incremental re-validation). To take it out again,
    ``del CHECKS[name]``.

    Raises
    ------
    ValueError
        ``name`` is blank or ``"exceptions"`` (reserved for the notes on agreed
        exceptions).

    Examples
    --------
    >>> from geo_pcn.findings import Finding, Severity
    >>> @register_check("practice_count")
    ... def check_practice_count(study, configuration, *, context):
    ...     return [
    ...         Finding("practice_count", "many", Severity.WARNING, f"{code} has {len(m)}.",
    ...                 pcn_code=code)
    ...         for code, m in configuration.members.items() if len(m) > 6
    ...     ]
    >>> "practice_count" in CHECKS
    True
    >>> del CHECKS["practice_count"]
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register_check needs a check name (text), got {name!r}")
    if name == _RESERVED:
        raise ValueError(f"{name!r} is reserved for the notes on agreed exceptions; pick another")

    def decorate(func: CheckFunction) -> CheckFunction:
        if not callable(func):
            raise TypeError(f"register_check({name!r}) decorates a function, got {func!r}")
        CHECKS[name] = func
        return func

    return decorate


def resolve_checks(checks: str | Iterable[str] | None) -> list[str]:
    """Names of the checks to run: every registered one for ``None``, else those given.

    Raises
    ------
    UnknownCheckError
        A name no check is registered under (the message lists the registered ones).

    Examples
    --------
    >>> resolve_checks("size")
    ['size']
    >>> try:
    ...     resolve_checks(["size", "sise"])
    ... except UnknownCheckError as error:
    ...     print(str(error)[:60])
    unknown check 'sise'; registered checks: size, contiguity, b
    """
    if checks is None:
        return list(CHECKS)
    names = [checks] if isinstance(checks, str) else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        plural = "s" * (len(unknown) > 1)
        raise UnknownCheckError(
            f"unknown check{plural} {', '.join(repr(n) for n in unknown)}; registered checks: "
            f"{', '.join(CHECKS)}; add your own with geo_pcn.checks.register_check"
        )
    if not names:
        raise UnknownCheckError(
            f"checks= names no check; registered checks: {', '.join(CHECKS)} "
            "(leave checks out to run them all)"
        )
    return list(dict.fromkeys(names))
