"""The package is layered by pipeline stage, and imports flow one way (issue 12).

Every ``import`` in every module (function-level ones included) is read from the source.
The graph of imports between geo_pcn's modules must be acyclic, and a module may import
only modules of its own layer or a lower one:

    0  leaves: errors, settings, findings, _spatial, _escape, _json, _words, _residents, progress
    1  io/                      readers of the real formats
    2  studyfile, configuration (and configuration_change, its Change), study, datasets
       (the demo loader), and the study loaders
       io/study_practices, io/study_areas (they read a parsed study file for Study.from_toml)
    3  geography/               territories, footprints, the practice graph
    4  alignment                how community layers line up with footprints
    5  partition/               one configuration's metrics (updaters from the parent)
    6  checks/                  metrics -> findings
    7  report, compare          the result objects
    8  pipeline                 validate, revalidate
    9  scenario, propose        scenario files and operations; the proposed repair
    10 render/                  every output
    11 cli/                     the command line (and the package's public names)
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_pcn"

LAYERS = {
    "geo_pcn.errors": 0,
    "geo_pcn.settings": 0,
    "geo_pcn.findings": 0,
    "geo_pcn._spatial": 0,
    "geo_pcn._escape": 0,
    "geo_pcn._templates": 0,  # Jinja2 templates of result objects' HTML (over _escape)
    "geo_pcn._json": 0,
    "geo_pcn._words": 0,  # units, labels and number formats shared by every output
    "geo_pcn.progress": 0,  # progress lines on stderr (off unless the CLI turns them on)
    "geo_pcn._residents": 0,  # the residents table in words (info, report.md/html/xlsx)
    "geo_pcn.io": 1,
    "geo_pcn.studyfile": 2,
    "geo_pcn.studyfile_keys": 2,  # the study-file grammar's keys, each described
    # Study.from_toml's steps: io/ by what they read, but they take a parsed study file
    # (studyfile.StudySpec), so they sit beside study, below it
    "geo_pcn.io.study_practices": 2,
    "geo_pcn.io.study_areas": 2,
    "geo_pcn.configuration": 2,
    "geo_pcn.configuration_change": 2,  # Change: an entry of a configuration's changes log
    "geo_pcn.study": 2,
    "geo_pcn.datasets": 2,
    "geo_pcn.geography": 3,
    "geo_pcn.alignment": 4,
    "geo_pcn.partition": 5,  # a configuration's metrics, updated from its parent's
    "geo_pcn.checks": 6,
    "geo_pcn.report": 7,
    "geo_pcn.compare": 7,
    "geo_pcn.pipeline": 8,
    "geo_pcn.scenario": 9,
    "geo_pcn.proposal": 9,  # the repair (an integer programme) and its scenario
    "geo_pcn.history": 9,  # what changed between two extracts (validates studies)
    "geo_pcn.render": 10,
    "geo_pcn.cli": 11,
    "geo_pcn.editor": 11,  # the Jupyter editor's controller (scenario + pipeline + compare)
    "geo_pcn.editor_widget": 11,  # its map widget (ipyleaflet, imported lazily)
    "geo_pcn": 11,  # the package's __init__: the public names (the CLI may use them)
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")


def _imports(modules: dict[str, Path]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("geo_pcn") and target != name:
                    graph.add_edge(name, target)
    return graph


def test_every_module_has_a_layer():
    for name in _modules():
        _layer(name)


def test_imports_are_acyclic():
    graph = _imports(_modules())
    # a package's __init__ re-exporting its own modules is not a cycle of stages
    stages = nx.DiGraph(
        (a, b)
        for a, b in graph.edges
        if not (a == b.rpartition(".")[0] or b == a.rpartition(".")[0])
    )
    cycles = list(nx.simple_cycles(stages))
    assert not cycles, f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize("name", sorted(_modules()))
def test_low_modules_never_import_high_ones(name):
    graph = _imports(_modules())
    high = [t for t in graph.successors(name) if _layer(t) > _layer(name)]
    assert not high, f"{name} (layer {_layer(name)}) imports higher modules: {high}"
