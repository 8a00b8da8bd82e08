"""The outputs written side by side (``map.html`` and ``report.html`` in a forked child, the
rest in this process): the same bytes as one after the other, the child's failures raised
here, the child never left behind, its stage times counted."""

from __future__ import annotations

import io
import os
import signal
import sys

import pytest

import geo_pcn
from geo_pcn.datasets import demo
from geo_pcn.errors import OutputError
from geo_pcn.progress import reporting, stage
from geo_pcn.render import _fork, write_report
from geo_pcn.render._fork import can_fork, side_by_side

ON_LINUX = sys.platform.startswith("linux") and hasattr(os, "fork")
needs_fork = pytest.mark.skipif(not ON_LINUX, reason="outputs are forked on Linux only")


@pytest.fixture
def forking(monkeypatch):
    """Fork even when an earlier test left a thread running (a browser test's driver, a
    cluster's): ``can_fork`` would write one after the other then, and a child's
    ``os.kill(os.getpid(), ...)`` would kill the test run itself."""
    monkeypatch.setattr(_fork, "can_fork", lambda: True)


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@needs_fork
def test_forked_outputs_are_the_bytes_written_one_after_the_other(tmp_path, monkeypatch):
    monkeypatch.setattr(_fork, "can_fork", lambda: True)
    report = geo_pcn.validate(demo())
    write_report(report, tmp_path / "forked")
    monkeypatch.setattr(_fork, "can_fork", lambda: False)
    write_report(geo_pcn.validate(demo()), tmp_path / "serial")
    forked, serial = _files(tmp_path / "forked"), _files(tmp_path / "serial")
    assert {"map.html", "report.html", "report.xlsx", "footprints.gpkg"} <= set(forked)
    assert forked.keys() == serial.keys()
    for name in forked:
        assert forked[name] == serial[name], name


@needs_fork
def test_a_failure_in_the_child_is_raised_here_with_its_traceback(forking):
    def child():
        raise OutputError("/out/map.html: cannot write the file (File too large)")

    with pytest.raises(OutputError, match="map.html: cannot write") as caught:
        side_by_side(lambda: None, child)
    assert "in the output writer process" in "\n".join(caught.value.__notes__)
    assert "raise OutputError" in "\n".join(caught.value.__notes__)


@needs_fork
def test_a_child_killed_without_a_word_is_an_output_error(forking):
    with pytest.raises(OutputError, match="ended without a word.*GEO_PCN_FORK=0"):
        side_by_side(lambda: None, lambda: os.kill(os.getpid(), signal.SIGKILL))


@needs_fork
def test_a_failure_here_kills_the_child_and_waits_for_it(monkeypatch, forking):
    """The child would wait for ever (``signal.pause``); the failure here kills it and the
    call returns (an alarm fails the test instead of hanging it), the child reaped."""
    forked: list[int] = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)

    def boom():
        raise KeyError("here")

    def alarm(*_):
        raise AssertionError("the child was left running")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(120)
    try:
        with pytest.raises(KeyError, match="here"):
            side_by_side(boom, signal.pause)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):  # killed and waited for: nothing left to reap
        os.waitpid(forked[0], os.WNOHANG)


@needs_fork
def test_the_childs_stage_times_are_added_here(tmp_path, forking):
    timings: dict[str, float] = {}

    def here():
        with stage("report.xlsx"):
            (tmp_path / "a").write_text("a")

    def child():
        with stage("map.html"):
            (tmp_path / "b").write_text("b")

    with reporting(True, stream=io.StringIO(), timings=timings):
        side_by_side(here, child)
    assert set(timings) == {"report.xlsx", "map.html"}
    assert (tmp_path / "a").read_text() == "a" and (tmp_path / "b").read_text() == "b"


def test_without_fork_both_run_here_in_order(monkeypatch):
    monkeypatch.setenv("GEO_PCN_FORK", "0")
    order: list[str] = []
    side_by_side(lambda: order.append("here"), lambda: order.append("child"))
    assert order == ["here", "child"]


def test_never_forked_beside_another_thread():
    """A notebook kernel or a server runs threads: a lock one of them holds at the fork
    would stay held in the child, so the files are written one after the other there."""
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        order: list[str] = []
        side_by_side(lambda: order.append("here"), lambda: order.append("child"))
        assert order == ["here", "child"]
    finally:
        release.set()
        thread.join()
