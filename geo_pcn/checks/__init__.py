"""The checks: plain functions ``check_x(partition) -> list[Finding]`` that turn a
:class:`~geo_pcn.partition.Partition`'s metrics into findings. They run whole after every
move: what a move changes is worked out by the partition's updaters (from the parent's
metrics and the flows), so a check is cheap.

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

import inspect
from collections.abc import Callable, Iterable

from geo_pcn.checks.alignment import check_alignment
from geo_pcn.checks.boundaries import check_boundaries
from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.checks.coverage import check_coverage
from geo_pcn.checks.exceptions import apply_exceptions, stale_exceptions
from geo_pcn.checks.size import check_size
from geo_pcn.errors import UnknownCheckError
from geo_pcn.findings import Finding

__all__ = [
    "CHECKS",
    "register_check",
    "run_check",
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

    The function is called as ``func(partition)`` with the
    :class:`~geo_pcn.partition.Partition` (``partition.study``,
    ``partition.configuration``, its metrics such as ``partition.pcn_list_sizes``) and
    returns a list of :class:`~geo_pcn.findings.Finding` (their ``check`` should be
    ``name``, so that agreed exceptions to it apply). A function written as
    ``func(study, configuration, *, context)`` (the earlier form) is called so, with the
    partition as ``context``. It runs after the built-in checks, whole, every time (also
    after a move, :func:`geo_pcn.revalidate`). To take it out again, ``del CHECKS[name]``.

    Raises
    ------
    ValueError
        ``name`` is blank or ``"exceptions"`` (reserved for the notes on agreed
        exceptions).

    Examples
    --------
    >>> from geo_pcn.findings import Finding, Severity
    >>> @register_check("practice_count")
    ... def check_practice_count(partition):
    ...     return [
    ...         Finding("practice_count", "many", Severity.WARNING, f"{code} has {len(m)}.",
    ...                 pcn_code=code)
    ...         for code, m in partition.configuration.members.items() if len(m) > 6
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


def run_check(func: CheckFunction, partition) -> list[Finding]:
    """The findings of one check on a partition (a check written in the earlier form,
    ``func(study, configuration, *, context)``, is called so)."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin or C callable: the plain form
        parameters = {}
    if "context" in parameters:
        return func(partition.study, partition.configuration, context=partition)
    return func(partition)


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
