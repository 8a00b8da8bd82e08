"""Notebook 04 used by hand in a real JupyterLab (issue 24): a JupyterLab server on
loopback with a real Python kernel, Debian's chromium driven by Playwright, clicks as a
planner would make them. Run All; the widget built above the cells that move the editor
from code shows what they did (it observes its editor); then a practice is pointed at (the
hover box names it), clicked, taken out of its PCN with *Move* (status, footprints and
practice colour change), *Undo* (all back), *Export* (the file is written where the widget
says and reproduces the session); then a new cell moves the editor from code and the widget
follows. Every click runs the widget's Python callbacks in the kernel: nothing here is a
static widget state.

Skipped when chromium, playwright or jupyterlab is missing (``pip install -e '.[test]'``
installs jupyterlab and playwright; scripts/test.sh installs chromium; never
``playwright install``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
FIXES = [
    ("Z00024", "UZ002"),
    ("Z00035", "UZ008"),
    ("Z00003", "UZ005"),
    ("Z00006", "UZ003"),
    ("Z00048", "UZ011"),
    ("Z00051", "UZ010"),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (Debian chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) not installed")

#: waits for the UI: long, so that a loaded machine is slow, never a failure
_LONG = 300_000
pytest.importorskip("jupyterlab", reason="jupyterlab not installed: pip install -e '.[test]'")
pytest.importorskip("ipyleaflet", reason="ipyleaflet not installed: pip install -e '.[test]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 04 from ``tmp_path``;
    yields ``(url of the notebook, folder)``; stopped (its own process only) after."""
    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("01_validate_demo.ipynb", "04_editor.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    port, token = _free_port(), "geo-pcn-test"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={folder}", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # up to 10 minutes on a loaded machine
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "server.log").read_text())
        assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
        yield f"{base}/lab/tree/04_editor.ipynb?token={token}", folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _texts(page) -> list[str]:
    return page.eval_on_selector_all(".widget-html-content", "els => els.map(e => e.textContent)")


def _status(page) -> str:
    (line,) = [t for t in _texts(page) if "since the start." in t]
    return line


def _wait_status(page, *parts: str, timeout: float = _LONG) -> str:
    page.wait_for_function(
        """(parts) => [...document.querySelectorAll('.widget-html-content')].some(
            e => e.textContent.includes('since the start.')
                 && parts.every(p => e.textContent.includes(p)))""",
        arg=list(parts),
        timeout=timeout,
    )
    return _status(page)


_FOOTPRINTS = """() => [...document.querySelectorAll('.leaflet-container path.leaflet-interactive')]
    .map(p => p.getAttribute('d') || '').filter(d => !/a/.test(d)).sort()"""

#: The centre of a practice circle (an SVG path with arcs) that nothing covers there.
_FREE_PRACTICE = """() => {
    for (const el of document.querySelectorAll('.leaflet-container path.leaflet-interactive')) {
        if (!/a/.test(el.getAttribute('d') || '')) continue;
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
        if (document.elementFromPoint(x, y) === el) return [x, y, el.getAttribute('fill')];
    }
    return null;
}"""


def _wait_footprints(page, expected: list[str]) -> None:
    """Wait until the map's footprint paths are ``expected`` (the map redraws a moment
    after the status line changes)."""
    page.wait_for_function(
        f"(want) => JSON.stringify(({_FOOTPRINTS})()) === JSON.stringify(want)",
        arg=expected,
        timeout=_LONG,
    )


def test_notebook_04_by_hand_in_jupyterlab(lab, tmp_path):
    from geo_pcn import Scenario
    from geo_pcn.datasets import demo

    url, folder = lab
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            headless=True,
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=_LONG)
            # a fresh JupyterLab asks which kernel: the notebook's own (python3)
            with contextlib.suppress(sync_api.TimeoutError):
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=30_000)
            page.wait_for_selector(".jp-Dialog", state="detached", timeout=_LONG)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=_LONG
            )
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.get_by_text("Run All Cells", exact=True).click()
            # the cells below the widget moved the editor six times: the widget says so
            # (the last cell prints this once every cell above it has run)
            page.get_by_text("PASS after 6 moves").wait_for(timeout=_LONG)
            status = _wait_status(page, "6 moves since the start", timeout=_LONG)
            assert status.startswith("PASS: 0 errors")
            texts = _texts(page)
            assert any("move Z00051 from UZ011 to UZ010" in t for t in texts)  # the move list

            leaflet = page.locator(".leaflet-container")
            leaflet.scroll_into_view_if_needed()
            # drawn and scrolled into view: the footprints, and a practice dot to point at
            page.wait_for_function(
                f"() => ({_FOOTPRINTS})().length >= 13 && ({_FREE_PRACTICE})() !== null",
                timeout=_LONG,
            )
            before = page.evaluate(_FOOTPRINTS)
            assert len(before) >= 13  # the demo's 13 PCN footprints (some in pieces)
            assert all("NaN" not in d for d in before)
            x, y, fill = page.evaluate(_FREE_PRACTICE)
            # point at it: the box on the map names the practice
            page.mouse.move(x, y)
            box = ".leaflet-control .widget-html-content"  # the hover box on the map
            page.wait_for_function(
                "(box) => document.querySelector(box)?.textContent.includes('registered patient')",
                arg=box,
                timeout=_LONG,
            )
            hover = page.locator(box).text_content()
            code = hover.split()[0]
            assert code.startswith("Z000") and "PCN: UZ0" in hover
            practices = demo().practices
            assert practices.loc[code, "practice_name"] in hover
            assert f"{int(practices.loc[code, 'list_size']):,} registered patient" in hover
            # click it: it is selected; take it out of its PCN with Move
            page.mouse.click(x, y)
            selects = page.locator(".widget-dropdown select")
            page.wait_for_function(
                "(code) => document.querySelector('.widget-dropdown select')"
                ".selectedOptions[0]?.textContent.startsWith(code)",
                arg=code,
                timeout=_LONG,
            )
            selects.nth(1).select_option(label="(no PCN)")
            page.get_by_role("button", name="Move", exact=True).click()
            status = _wait_status(page, "7 moves since the start")
            assert status.startswith("FAIL: 1 error")
            page.wait_for_function(
                f"(before) => JSON.stringify(({_FOOTPRINTS})()) !== JSON.stringify(before)",
                arg=before,
                timeout=_LONG,
            )
            page.wait_for_timeout(300)
            page.screenshot(path=str(tmp_path / "widget_after_move.png"))
            after = page.evaluate(_FOOTPRINTS)
            assert after != before  # its PCN's footprint lost its patients' areas
            # in no PCN: the practice is drawn white (it was its PCN's colour)
            assert fill.lower() != "#ffffff"
            page.wait_for_function(
                """([x, y]) => (document.elementFromPoint(x, y).getAttribute('fill') || '')
                    .toLowerCase() === '#ffffff'""",
                arg=[x, y],
                timeout=_LONG,
            )
            # Undo: back to the six fixes, the same footprints as before
            page.get_by_role("button", name="Undo", exact=True).click()
            status = _wait_status(page, "6 moves since the start")
            assert status.startswith("PASS")
            _wait_footprints(page, before)
            # Export: the file is where the widget says, and reproduces the session
            page.get_by_role("button", name="Export", exact=True).click()
            target = folder / "editor_scenario.toml"
            page.get_by_text(str(target)).wait_for(timeout=_LONG)
            study = demo()
            fixed = study.configuration
            for practice, pcn in FIXES:
                fixed = fixed.move(practice, to=pcn)
            assert Scenario.from_file(target).apply(study.configuration) == fixed
            # a new cell at the end moves the editor from code: the widget follows
            page.locator(".jp-Cell").last.click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            page.keyboard.press("Enter")
            page.keyboard.type(f'editor.move("{code}", to="")')
            page.keyboard.press("Shift+Enter")
            status = _wait_status(page, "7 moves since the start")
            assert status.startswith("FAIL: 1 error")
            _wait_footprints(page, after)
            assert page.locator("text=Error displaying widget").count() == 0
            assert not [e for e in errors if "NaN" in e or "LatLng" in e], errors
        finally:
            page.screenshot(path=str(tmp_path / "jupyterlab.png"))
            browser.close()


def _kernels_idle(url: str) -> bool:
    base, token = url.split("/lab/")[0], url.split("token=")[1]
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as answer:
        kernels = json.loads(answer.read())
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def test_map_drawn_in_a_background_tab_is_fitted_when_shown(lab, tmp_path):
    """Issue 24, item 1, as a planner meets it: Run All on notebook 01, switch to another
    tab at once (the map cell runs while its notebook is hidden), come back: the map shows
    its footprints with finite coordinates and a view holding every practice, and no
    "Invalid LatLng object: (NaN, NaN)" is logged."""
    from geo_pcn.datasets import demo

    url, _ = lab
    url = url.replace("04_editor.ipynb", "01_validate_demo.ipynb")
    west, south, east, north = demo().practices.geometry.to_crs(4326).total_bounds
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
            headless=True,
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        logged: list[str] = []
        page.on("console", lambda msg: logged.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: logged.append(str(exc)))
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=_LONG)
            with contextlib.suppress(sync_api.TimeoutError):
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=30_000)
            page.wait_for_selector(".jp-Dialog", state="detached", timeout=_LONG)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=_LONG
            )
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.get_by_text("Run All Cells", exact=True).click()
            page.locator(".lm-TabBar-addButton:not(.lm-mod-hidden)").first.click()  # Launcher
            page.wait_for_selector(".jp-Launcher", timeout=_LONG)
            time.sleep(2)
            for _ in range(240):
                if _kernels_idle(url):
                    break
                time.sleep(0.5)
            time.sleep(2)  # the outputs are in the (hidden) page
            map_frames = []
            for _ in range(60):  # the map's own scripts (1 MB inline) run in the hidden tab
                map_frames = [f for f in page.frames if f.evaluate("() => !!window.L")]
                if map_frames:
                    break
                time.sleep(0.5)
            hidden_size = map_frames and map_frames[-1].evaluate(
                "() => [document.documentElement.clientWidth, document.documentElement.clientHeight]"
            )
            assert map_frames, f"the map cell drew no map: {[f.url[:60] for f in page.frames]}"
            page.locator(".lm-TabBar-tab", has_text="01_validate_demo.ipynb").click()
            page.locator("iframe").last.scroll_into_view_if_needed()
            frame = map_frames[-1]
            frame.wait_for_selector("path.gp-footprint", timeout=_LONG)
            # the fit happens when the frame first gets a size: wait for drawn footprints
            # (the old code left every one at "M0 0"; the assertions below still decide)
            with contextlib.suppress(sync_api.TimeoutError):
                frame.wait_for_function(
                    "() => [...document.querySelectorAll('path.gp-footprint')]"
                    ".every(e => (e.getAttribute('d') || 'M0 0') !== 'M0 0')",
                    timeout=60_000,
                )
            paths = frame.eval_on_selector_all(
                "path.gp-footprint", "els => els.map(e => e.getAttribute('d') || '')"
            )
            assert hidden_size == [0, 0], f"the map was not hidden while drawn: {hidden_size}"
            assert paths and all(d and "NaN" not in d for d in paths)
            holds = frame.evaluate(
                """([w, s, e, n]) => {
                    let m = null;
                    for (const k of Object.keys(window)) {
                        try { if (window[k] instanceof window.L.Map) m = window[k]; } catch (x) {}
                    }
                    const b = m.getBounds();
                    return [b.contains([s, w]), b.contains([n, e]), m.getSize().x];
                }""",
                [float(west), float(south), float(east), float(north)],
            )
            assert holds[0] and holds[1] and holds[2] > 0, holds
            assert not [e for e in logged if "NaN" in e or "LatLng" in e], logged
        finally:
            page.screenshot(path=str(tmp_path / "background_tab.png"))
            browser.close()
