"""The Jupyter editor (issue 13, item 5): the controller moves, undoes and exports a
scenario that `geo-pcn scenario` turns back into the same report; the map widget is built
and driven; notebook 04 runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

import geo_pcn
from geo_pcn import Scenario
from geo_pcn.cli import cli
from geo_pcn.datasets import demo, demo_study_file
from geo_pcn.editor import Editor
from geo_pcn.errors import InputError, UnknownCodeError

ROOT = Path(__file__).resolve().parents[1]
FIXES = [
    ("Z00024", "UZ002"),
    ("Z00035", "UZ008"),
    ("Z00003", "UZ005"),
    ("Z00006", "UZ003"),
    ("Z00048", "UZ011"),
    ("Z00051", "UZ010"),
]


@pytest.fixture(scope="module")
def study():
    return demo()


def _keys(report):
    return [(f.key, f.severity, f.value, f.message) for f in report.findings]


def test_move_revalidates_like_a_full_run(study):
    editor = Editor(study)
    assert not editor.report.ok and editor.history == []
    report = editor.move("z00024", to="uz002")  # any case
    assert report is editor.report
    assert editor.history == ["move Z00024 from no PCN to UZ002"]
    full = geo_pcn.validate(
        study, geo_pcn.Configuration(editor.configuration.assignments, editor.configuration.names)
    )
    assert _keys(report) == _keys(full)
    assert ("coverage", "practice_in_no_pcn") not in set(
        zip(editor.findings.check, editor.findings.kind, strict=True)
    )
    sizes = editor.pcn_sizes
    assert sizes.loc["UZ002", "n_practices"] == 6
    assert list(editor.findings.columns)[:3] == ["severity", "check", "kind"]


def test_the_tables_follow_moves_undo_and_reset_and_a_read_is_a_copy(study):
    """The tables are made when read (issue 20), yet always those of the current report:
    UZ002's list size is its practices' list sizes summed with plain pandas, before and
    after Z00024 (in no PCN at the start) joins it, after the undo and after a reset."""
    editor = Editor(study)
    start = study.configuration.assignments
    list_size = study.practices["list_size"]
    before = int(list_size[start.index[start == "UZ002"]].sum())
    after = before + int(list_size["Z00024"])
    assert int(editor.pcn_sizes.loc["UZ002", "list_size"]) == before
    n_start = len(editor.findings)
    editor.move("Z00024", to="UZ002")
    assert int(editor.pcn_sizes.loc["UZ002", "list_size"]) == after
    unplaced = editor.findings.practices[editor.findings.kind == "practice_in_no_pcn"]
    assert "Z00024" not in set(unplaced)
    editor.undo()
    assert int(editor.pcn_sizes.loc["UZ002", "list_size"]) == before
    assert len(editor.findings) == n_start
    editor.move("Z00024", to="UZ002")
    _ = editor.pcn_sizes  # read, then reset: the start's table again
    editor.reset()
    assert int(editor.pcn_sizes.loc["UZ002", "list_size"]) == before
    editor.pcn_sizes.loc["UZ002", "list_size"] = -1  # a read is the caller's copy
    editor.findings["message"] = ""
    assert int(editor.pcn_sizes.loc["UZ002", "list_size"]) == before
    assert (editor.findings.message != "").all()
    editor.move("Z00024", to="UZ002")
    assert "pcns" not in vars(editor.report)  # a move alone makes no PCN table


def test_the_fixes_made_in_the_editor_pass_as_a_full_validate_says(study):
    """The editor re-checks only what each move touches; after the fixes its report is the
    full validation's (no wall-clock assertion: CI machines are loaded)."""
    editor = Editor(study)
    for practice, pcn in FIXES:
        editor.move(practice, to=pcn)
    assert editor.report.ok
    full = geo_pcn.validate(study, editor.configuration)
    assert _keys(editor.report) == _keys(full)


def test_undo_goes_back_and_unassign(study):
    editor = Editor(study)
    start = _keys(editor.report)
    editor.move("Z00040", to="UZ007")
    editor.move("Z00041", to=None)  # into no PCN
    assert editor.configuration.pcn_of("Z00041") == ""
    editor.undo()
    assert editor.configuration.pcn_of("Z00041") == "UZ009"
    editor.undo()
    assert _keys(editor.report) == start and editor.history == [] and not editor.can_undo
    with pytest.raises(InputError, match="nothing to undo"):
        editor.undo()
    with pytest.raises(UnknownCodeError):
        editor.move("Z99999", to="UZ001")
    editor.move("Z00040", to="UZ008")  # already there: no step
    assert not editor.can_undo


def test_export_round_trips_through_geo_pcn_scenario(study, tmp_path):
    editor = Editor(study)
    for practice, pcn in FIXES[:3]:
        editor.move(practice, to=pcn)
    editor.move("Z00003", to="UZ004")  # moved twice: the scenario holds the net change
    editor.move("Z00056", to="")  # into no PCN
    path = editor.to_scenario(tmp_path / "edits.toml")
    assert Scenario.from_file(path).apply(study.configuration) == editor.configuration
    out = tmp_path / "after"
    result = CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(path), "--out", str(out), "-q"]
    )
    assert result.exit_code in (0, 1), result.output
    written = json.loads((out / "report.json").read_text())
    expected = json.loads(editor.report.to_json())
    assert written["findings"] == expected["findings"]
    assert written["summary"] == expected["summary"]


def test_export_from_another_starting_configuration(study, tmp_path):
    start = study.configuration.move("Z00040", to="UZ007")
    editor = Editor(study, start)
    editor.move("Z00024", to="UZ002")
    path = editor.to_scenario(tmp_path / "edits.toml")
    # relative to the study's own configuration, so geo-pcn scenario gives the same
    assert Scenario.from_file(path).apply(study.configuration) == editor.configuration


def test_widget_builds_and_drives_the_editor(study, tmp_path):
    pytest.importorskip("ipyleaflet")
    from geo_pcn.editor_widget import editor_widget

    editor = Editor(study)
    w = editor_widget(editor)
    layers = [type(layer).__name__ for layer in w.map.layers]
    assert layers == ["GeoJSON", "GeoJSON"]  # footprints and practices, no tiles
    assert "FAIL" in w.status.value
    # a click on a practice selects it
    w._clicked(event="click", feature={}, properties={"practice_code": "Z00024"})
    assert w.practice.value == "Z00024" and w.pcn.value == ""
    w.move_to("UZ002")
    assert editor.history == ["move Z00024 from no PCN to UZ002"]
    assert "1 move since the start" in w.status.value
    assert "practice_in_no_pcn" not in w.findings.value
    assert "UZ002" in w.sizes.value
    chosen = [
        f for f in w.practices.data["features"] if f["properties"]["practice_code"] == "Z00024"
    ]
    assert chosen[0]["properties"]["pcn_code"] == "UZ002"
    w.undo()
    assert editor.history == [] and "practice_in_no_pcn" in w.findings.value
    assert w.export(tmp_path / "s.toml").exists()
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()
    assert editor.widget().editor is editor


def test_notebook_04_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "matplotlib"))
    path = ROOT / "notebooks" / "04_editor.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None  # stripped
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert 'it says "PASS" and "6 moves since the start"' in text
    # the widget (built above the cells that move the editor) as it is at the end
    nb.cells.append(
        nbformat.v4.new_code_cell("print('WIDGET', widget.status.value if widget else None)")
    )
    nbclient.NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    if pytest.importorskip("ipyleaflet"):
        (status,) = [
            line
            for out in nb.cells[-1].outputs
            for line in out.get("text", "").splitlines()
            if line.startswith("WIDGET")
        ]
        assert "PASS" in status and "6 moves since the start" in status
    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert "PASS after 6 moves" in text
    assert "[[move]]" in text and 'to = "UZ002"' in text


def test_observers_hear_every_change_and_only_changes(study):
    editor = Editor(study)
    heard: list[tuple[str, int]] = []
    callback = editor.observe(lambda ed, what: heard.append((what, len(ed.history))))
    editor.move("Z00024", to="UZ002")
    editor.move("Z00024", to="UZ002")  # already there: no change, nobody told
    editor.move("Z00035", to="UZ008")
    editor.undo()
    editor.move("Z00003", to="UZ005")
    editor.reset()
    editor.reset()  # at the start already: nothing to tell
    assert heard == [("move", 1), ("move", 2), ("undo", 1), ("move", 2), ("reset", 0)]
    assert editor.history == [] and _keys(editor.report) == _keys(editor.start)
    editor.unobserve(callback)
    editor.move("Z00024", to="UZ002")
    assert len(heard) == 5
    with pytest.raises(TypeError, match="callable"):
        editor.observe("not a function")


def _feature(layer, key, code):
    return next(f["properties"] for f in layer.data["features"] if f["properties"][key] == code)


def test_widget_follows_moves_made_on_its_editor_from_code(study):
    """Issue 24, item 2: notebook 04 moves the editor in cells below the widget; the
    widget's status, move list, footprints, practices and findings must follow."""
    pytest.importorskip("ipyleaflet")
    editor = Editor(study)
    w = editor.widget()
    assert "FAIL" in w.status.value and "0 moves since the start" in w.status.value
    assert "practice_in_no_pcn" in w.findings.value
    editor.move("Z00024", to="UZ002")  # from code, not through the widget
    assert "1 move since the start" in w.status.value
    assert "move Z00024 from no PCN to UZ002" in w.moves.value
    assert _feature(w.practices, "practice_code", "Z00024")["pcn_code"] == "UZ002"
    # UZ002 had 5 practices in the demo's practices.csv; with Z00024 it has 6
    members = study.practices.index[study.practices["pcn_code"] == "UZ002"]
    uz002 = _feature(w.footprints, "pcn_code", "UZ002")
    assert uz002["n_practices"] == len(members) + 1 == 6
    expected = int(study.practices.loc[[*members, "Z00024"], "list_size"].sum())
    assert uz002["list_size"] == expected
    assert "practice_in_no_pcn" not in w.findings.value
    for practice, pcn in FIXES[1:]:
        editor.move(practice, to=pcn)
    assert "PASS" in w.status.value and "6 moves since the start" in w.status.value
    assert w.findings.value == "<p>No findings.</p>" or "error" not in w.findings.value
    editor.undo()
    assert "5 moves since the start" in w.status.value
    # a click and a Move on the widget carry on from the editor's state, not the widget's
    w._clicked(properties={"practice_code": "Z00051"})
    w.move_to("UZ010")
    assert "6 moves since the start" in w.status.value and "PASS" in w.status.value
    editor.reset()
    assert "0 moves since the start" in w.status.value and w.moves.value == ""
    w.close()  # no longer follows
    editor.move("Z00024", to="UZ002")
    assert "0 moves since the start" in w.status.value


def test_widget_map_colours_hover_spread_and_messages(study, tmp_path):
    pytest.importorskip("ipyleaflet")
    import geopandas as gpd
    import shapely

    editor = Editor(study)
    w = editor.widget()
    # touching footprints (worked out here with shapely) never share a colour
    fp = editor.report.partition.footprints.pcns
    fp = fp[~fp.geometry.is_empty]
    fill = {
        f["properties"]["pcn_code"]: f["properties"]["style"]["fillColor"]
        for f in w.footprints.data["features"]
    }
    assert set(fill) == set(fp.index)
    codes = list(fp.index)
    touching = [
        (a, b)
        for i, a in enumerate(codes)
        for b in codes[i + 1 :]
        if shapely.intersects(fp.geometry[a], fp.geometry[b])
    ]
    assert touching, "the demo has PCNs that touch"
    assert all(fill[a] != fill[b] for a, b in touching)
    # a practice is filled with its PCN's colour
    assert _feature(w.practices, "practice_code", "Z00003")["style"]["fillColor"] == fill["UZ001"]
    # Z00014 and Z00015 share one site in the demo: drawn apart, on opposite sides of it,
    # each far enough out that at the first view (Web Mercator: 156,543 m per pixel at zoom
    # 0 on the equator) their 6 px circles do not overlap
    pts = {
        f["properties"]["practice_code"]: f["geometry"]["coordinates"]
        for f in w.practices.data["features"]
    }
    assert pts["Z00014"] != pts["Z00015"]
    drawn = gpd.GeoSeries(
        gpd.points_from_xy(*zip(pts["Z00014"], pts["Z00015"], strict=True)), crs=4326
    ).to_crs(27700)
    site = study.practices.geometry["Z00014"]
    assert site.equals(study.practices.geometry["Z00015"])
    d1, d2 = drawn.distance(site)
    assert abs(d1 - d2) < 0.5 and 25 <= d1 <= 400
    assert abs(drawn.iloc[0].distance(drawn.iloc[1]) - 2 * d1) < 0.5  # opposite sides
    lat = w.map.center[0]
    metres_per_px = 156_543.034 * math.cos(math.radians(lat)) / 2**w.map.zoom
    assert 2 * d1 / metres_per_px >= 12
    # hovering a practice, then a PCN, names it in the box on the map
    w._hovered(properties=_feature(w.practices, "practice_code", "Z00024"))
    name = study.practices.loc["Z00024", "practice_name"]
    size = int(study.practices.loc["Z00024", "list_size"])
    assert "Z00024" in w.hover.value and name in w.hover.value
    assert "no PCN" in w.hover.value and f"{size:,} registered patients" in w.hover.value
    w._hovered(properties=_feature(w.footprints, "pcn_code", "UZ002"))
    members = study.practices[study.practices["pcn_code"] == "UZ002"]
    assert f"{int(members['list_size'].sum()):,} registered patients" in w.hover.value
    assert f"{len(members)} practices" in w.hover.value
    # after a move the box no longer shows what may have changed PCN
    editor.move("Z00040", to="UZ007")
    assert "Z00024" not in w.hover.value
    editor.undo()
    # "Select a practice first" goes once one is selected; the verdict stays on show
    w.move_to("UZ002")
    assert "Select a practice first" in w.notice.value and "FAIL" in w.status.value
    w.select("Z00024")
    assert w.notice.value == ""
    # the dropdowns are wide enough for the longest full name
    longest = max(len(label) for label, _ in w.practice.options)
    assert int(w.practice.layout.width.removesuffix("ch")) >= min(60, longest)
    # Export writes the scenario where the box says and says where
    w.move_to("UZ002")
    w.export_path.value = str(tmp_path / "mine.toml")
    w.export_button.click()
    assert (tmp_path / "mine.toml").exists()
    assert str((tmp_path / "mine.toml").resolve()) in w.notice.value
    assert Scenario.from_file(tmp_path / "mine.toml").apply(study.configuration) == (
        editor.configuration
    )
    # the move list sits under the map
    assert w.box.children.index(w.moves) > w.box.children.index(w.map)
