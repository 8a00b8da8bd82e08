"""Errors and warnings raised by geo_pcn.

Bad *input* raises a :class:`GeoPCNError` subclass whose message is one line naming the
file, the offending rows/columns/codes and the fix. A broken *planning rule* (a PCN out of
band, a split PCN) is never an exception: it is a ``Finding`` in the report.

Every error also subclasses :class:`ValueError`, so code that already catches
``ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "GeoPCNError",
    "InputError",
    "SchemaError",
    "CRSError",
    "GeometryError",
    "StudyFileError",
    "UnknownCodeError",
    "ScenarioError",
    "UnknownCheckError",
    "OutputError",
    "GeoPCNWarning",
]


class GeoPCNError(ValueError):
    """Root of every geo_pcn error: a problem with the inputs the user can fix."""


class InputError(GeoPCNError):
    """A file is missing, empty, unreadable, or holds values that cannot be right."""


class SchemaError(InputError):
    """A file's format is not recognised or a required column is missing."""


class CRSError(InputError):
    """A spatial layer has no coordinate reference system, or an unusable one."""


class GeometryError(InputError):
    """Geometry is missing, of the wrong type, invalid, or outside Great Britain."""


class StudyFileError(InputError):
    """The study file (TOML) has a syntax error, an unknown key or a bad value."""


class UnknownCodeError(InputError):
    """A scenario names a practice or PCN code that the configuration does not have."""


class ScenarioError(InputError):
    """A scenario file cannot be read or names an operation that cannot be applied."""


class UnknownCheckError(GeoPCNError):
    """A check is asked for by a name no check is registered under."""


class OutputError(GeoPCNError):
    """An output could not be written (disk full, no permission, file too large): the
    message names the file; the previous outputs are left as they were."""


class GeoPCNWarning(UserWarning):
    """Something was repaired or assumed; the message says what and how to avoid it."""


def list_some(values, limit: int = 5) -> str:
    """Render up to ``limit`` values for an error message: ``A, B, C and 4 more``."""
    values = [str(v) for v in values]
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f" and {len(values) - limit} more"
