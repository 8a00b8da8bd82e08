"""Finding and Severity: what a check says about a configuration.

A broken planning rule is a :class:`Finding`, never an exception. Findings explain
themselves: a message a planner can read, the value that broke the rule and the threshold
it broke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shapely.geometry.base import BaseGeometry

__all__ = ["Severity", "Finding"]


class Severity(StrEnum):
    """How much a finding matters: ERROR fails the configuration."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for ERROR, 1 for WARNING, 2 for INFO (for sorting)."""
        return ("error", "warning", "info").index(self.value)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Finding:
    """One thing a check found.

    Parameters
    ----------
    check
        Name of the check (``size``, ``contiguity``, ``boundaries``, ``coverage``...).
    kind
        What exactly was found, within the check (``above_band``, ``detached_group``...).
    severity
        :class:`Severity`.
    message
        One sentence a planner understands, with the figures in it.
    pcn_code
        The PCN concerned (``""`` when none, e.g. a practice in no PCN).
    practice_codes
        The practices concerned.
    value, threshold
        The figure that broke the rule and the rule's figure (``None`` when not numeric).
    details
        Anything else worth keeping (patients on each side, distances...), JSON-able.
    geometry
        Where it is (BNG), for the map and the GeoPackage; ``None`` when not spatial.
    """

    check: str
    kind: str
    severity: Severity
    message: str
    pcn_code: str = ""
    practice_codes: tuple[str, ...] = ()
    value: float | None = None
    threshold: float | str | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False)
    geometry: BaseGeometry | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (geometry left out)."""
        return {
            "check": self.check,
            "kind": self.kind,
            "severity": self.severity.value,
            "pcn_code": self.pcn_code,
            "practice_codes": list(self.practice_codes),
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
            "details": self.details,
        }

    @property
    def key(self) -> tuple[str, str, str, tuple[str, ...]]:
        """Identity used to match findings across configurations (resolved/introduced)."""
        return (self.check, self.kind, self.pcn_code, self.practice_codes)
