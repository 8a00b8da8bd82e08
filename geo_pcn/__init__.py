"""geo_pcn: check Primary Care Network configurations against their geography.

>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> report = geo_pcn.validate(demo())
>>> report.summary["n_pcns"] > 0
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from geo_pcn.compare import Comparison, compare
from geo_pcn.configuration import Change, Configuration, UnknownCodeError
from geo_pcn.errors import (
    CRSError,
    GeometryError,
    GeoPCNError,
    GeoPCNWarning,
    InputError,
    SchemaError,
    StudyFileError,
)
from geo_pcn.findings import Finding, Severity
from geo_pcn.history import Diff, History, diff, history
from geo_pcn.pipeline import revalidate, validate
from geo_pcn.proposal import Proposal, propose
from geo_pcn.report import Report
from geo_pcn.scenario import Scenario, ScenarioError
from geo_pcn.study import Rules, Study

try:
    __version__ = version("geo_pcn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "Study",
    "Rules",
    "Configuration",
    "Change",
    "validate",
    "revalidate",
    "compare",
    "Comparison",
    "diff",
    "Diff",
    "history",
    "History",
    "Scenario",
    "propose",
    "Proposal",
    "Report",
    "Finding",
    "Severity",
    "GeoPCNError",
    "InputError",
    "SchemaError",
    "CRSError",
    "GeometryError",
    "StudyFileError",
    "UnknownCodeError",
    "ScenarioError",
    "GeoPCNWarning",
]
