"""The checks: plain functions ``check_x(study, configuration, *, context) -> list[Finding]``.

They are kept in a registry (:data:`CHECKS`) that a user can extend with
:func:`register_check`; :func:`geo_pcn.validate` runs every registered check.

Examples
--------
>>> from geo_pcn.checks import CHECKS
>>> sorted(CHECKS)
['alignment', 'boundaries', 'contiguity', 'coverage', 'size']
"""

from __future__ import annotations

from collections.abc import Callable

from geo_pcn.checks._context import Context, get_context
from geo_pcn.checks.alignment import check_alignment
from geo_pcn.checks.boundaries import check_boundaries
from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.checks.coverage import check_coverage
from geo_pcn.checks.size import check_size
from geo_pcn.findings import Finding

__all__ = [
    "CHECKS",
    "Context",
    "get_context",
    "register_check",
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


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator adding a check to :data:`CHECKS` (replacing one of the same name).

    The function is called as ``func(study, configuration, context=context)`` and returns
    a list of :class:`~geo_pcn.findings.Finding`.
    """

    def decorate(func: CheckFunction) -> CheckFunction:
        CHECKS[name] = func
        return func

    return decorate
