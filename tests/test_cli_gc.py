"""``geo-pcn`` sets the garbage collector's thresholds for its own process (issue 21: the
collector walked a national run's long-lived objects 1,473 times); the library alone,
as a notebook imports it, leaves them as they are."""

from __future__ import annotations

import gc

import pytest

from geo_pcn.cli import GC_THRESHOLDS, main


@pytest.fixture
def python_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_command_sets_the_thresholds(python_thresholds, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert "geo-pcn, version" in capsys.readouterr().out
    assert gc.get_threshold() == GC_THRESHOLDS == (20_000, 10, 10)


def test_the_library_leaves_them(python_thresholds):
    from geo_pcn import validate
    from geo_pcn.datasets import demo

    validate(demo())
    assert gc.get_threshold() == (700, 10, 10)
