"""Every docstring example in the package runs and gives what it shows (numpydoc Examples,
run on the demo data). Modules are found by walking the package folder, so a module that
moves (``render/``, ``cli/``, ``geography/`` ...) keeps its doctests collected."""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

import geo_pcn

PACKAGE = Path(geo_pcn.__file__).resolve().parent
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    """Dotted names of the package's modules whose source holds an example (``>>>``).

    Read from the files, not imported, so that collection never fails on an import."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts or path.stem == "__main__":
            continue
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


MODULES = _module_names()


def _doctests(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    return sorted((t for t in tests if t.examples), key=lambda t: t.name)


@pytest.fixture
def quiet_cwd(tmp_path, monkeypatch):
    """Examples run in a temporary folder (anything they write lands there), headless."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    return tmp_path


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, quiet_cwd):
    tests = _doctests(name)
    if not tests:
        pytest.skip(f"{name}: '>>>' appears in the source but in no docstring")
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed:\n" + (
        report.getvalue()
    )


def test_the_doctests_are_all_collected():
    """The walk finds the modules wherever they live, and none of the examples is lost
    (issue 12 counted 37 passing doctests before they were collected)."""
    assert "geo_pcn" in MODULES and "geo_pcn.configuration" in MODULES
    n_docstrings = sum(len(_doctests(name)) for name in MODULES)
    assert n_docstrings >= 37
