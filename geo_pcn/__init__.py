"""geo_pcn: check Primary Care Network configurations against their geography.

>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> report = geo_pcn.validate(demo())
>>> report.summary["n_pcns"] > 0
True
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from geo_pcn.errors import (
    CRSError,
    GeometryError,
    GeoPCNError,
    GeoPCNWarning,
    InputError,
    SchemaError,
    StudyFileError,
)

#: public name -> the module holding it, imported on first use (PEP 562): ``import
#: geo_pcn.cli`` for ``geo-pcn info`` does not import the proposal's solvers, the history,
#: the comparison or the package metadata (issue 21: ``info`` <= 2 s warm)
_LAZY = {
    "Comparison": "geo_pcn.compare",
    "compare": "geo_pcn.compare",
    "Change": "geo_pcn.configuration",
    "Configuration": "geo_pcn.configuration",
    "UnknownCodeError": "geo_pcn.configuration",
    "Finding": "geo_pcn.findings",
    "Severity": "geo_pcn.findings",
    "Diff": "geo_pcn.history",
    "History": "geo_pcn.history",
    "diff": "geo_pcn.history",
    "history": "geo_pcn.history",
    "revalidate": "geo_pcn.pipeline",
    "validate": "geo_pcn.pipeline",
    "Proposal": "geo_pcn.proposal",
    "propose": "geo_pcn.proposal",
    "Report": "geo_pcn.report",
    "Scenario": "geo_pcn.scenario",
    "ScenarioError": "geo_pcn.scenario",
    "Rules": "geo_pcn.study",
    "Study": "geo_pcn.study",
}

if TYPE_CHECKING:
    from geo_pcn.compare import Comparison, compare
    from geo_pcn.configuration import Change, Configuration, UnknownCodeError
    from geo_pcn.findings import Finding, Severity
    from geo_pcn.history import Diff, History, diff, history
    from geo_pcn.pipeline import revalidate, validate
    from geo_pcn.proposal import Proposal, propose
    from geo_pcn.report import Report
    from geo_pcn.scenario import Scenario, ScenarioError
    from geo_pcn.study import Rules, Study


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("geo_pcn")
        except PackageNotFoundError:  # running from a source tree that is not installed
            value = "0+unknown"
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'geo_pcn' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module: ``geo_pcn.compare`` and ``geo_pcn.history`` stay the functions
    when their modules are first imported after ``geo_pcn`` (the import system sets a
    submodule as an attribute of its package, which would hide the lazy function of the
    same name; the modules stay in ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
