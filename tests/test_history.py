"""What changed between two extracts (issue 23): ``geo_pcn.diff`` and ``geo-pcn diff``.

Known answers are worked out by hand on the tiny memberships below, or with plain pandas
on the raw files in ../shared/data (tests marked ``real_data``); never read back from
geo_pcn's own output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from cli_checks import one_line
from click.testing import CliRunner

import geo_pcn
from geo_pcn.cli import cli
from geo_pcn.history import read_extract
from geo_pcn.render.diff_outputs import write_diff

ROOT = Path(__file__).resolve().parents[1]

#: Before and after, by hand (PCN code: practices)::
#:
#:     before                          after
#:     U1 "ALPHA PCN"  A1 A2           U9 "ALPHA PCN"   A1 A2        U1 re-coded to U9
#:     U2 "BETA PCN"   B1 B2 B3 B4     U2 "BETA PCN"    B1 B2        U2 split: B3 B4 -> U7 (new)
#:     U3 "GAMMA PCN"  C1 C2           U7 "DELTA PCN"   B3 B4 C1 C2  U7 opened, merged U2+U3
#:     U4 "EPS PCN"    E1 E2 E3        U4 "Epsilon PCN" E1 E2        U3 closed; U4 renamed
#:     (none)          N1              U4               N1           N1 placed
#:                                     (none)           E3           E3 taken out
#:     X1 in U4                        X1 gone (closed in ODS)
#:                                     Y1 in U2 (new practice)
BEFORE = {
    "A1": "U1", "A2": "U1", "B1": "U2", "B2": "U2", "B3": "U2", "B4": "U2",
    "C1": "U3", "C2": "U3", "E1": "U4", "E2": "U4", "E3": "U4", "N1": "", "X1": "U4",
}  # fmt: skip
AFTER = {
    "A1": "U9", "A2": "U9", "B1": "U2", "B2": "U2", "B3": "U7", "B4": "U7",
    "C1": "U7", "C2": "U7", "E1": "U4", "E2": "U4", "E3": "", "N1": "U4", "Y1": "U2",
}  # fmt: skip
NAMES_BEFORE = {"U1": "ALPHA PCN", "U2": "BETA PCN", "U3": "GAMMA PCN", "U4": "EPS PCN"}
NAMES_AFTER = {"U9": "alpha  pcn", "U2": "BETA PCN", "U7": "DELTA PCN", "U4": "Epsilon PCN"}


def _frame(assign: dict[str, str], names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "practice_code": list(assign),
            "practice_name": [f"SURGERY {c}" for c in assign],
            "pcn_code": list(assign.values()),
            "pcn_name": [names.get(p, "") for p in assign.values()],
        }
    )


def _tiny_diff():
    statuses = pd.DataFrame({"practice_code": ["X1"], "status": ["closed"]})
    return geo_pcn.diff(
        _frame(BEFORE, NAMES_BEFORE), _frame(AFTER, NAMES_AFTER), practices=statuses
    )


def test_hand_drawn_practice_changes():
    d = _tiny_diff()
    got = {
        r.practice_code: (r.change, r.from_pcn_code, r.to_pcn_code)
        for r in d.practices.itertuples()
    }
    assert got == {
        "X1": ("disappeared", "U4", ""),
        "Y1": ("appeared", "", "U2"),
        "B3": ("moved", "U2", "U7"),
        "B4": ("moved", "U2", "U7"),
        "C1": ("moved", "U3", "U7"),
        "C2": ("moved", "U3", "U7"),
        "N1": ("placed", "", "U4"),
        "E3": ("taken out", "U4", ""),
    }  # A1, A2: their PCN was re-coded, they did not move
    reason = d.practices.set_index("practice_code")["reason"]
    assert reason["X1"] == "ODS status closed"
    assert reason["E3"] == "became unallocated"


def test_hand_drawn_pcn_changes():
    d = _tiny_diff()
    got = sorted((r.pcn_code, r.change) for r in d.pcns.itertuples())
    assert got == sorted(
        [
            ("U3", "closed"),  # its practices all went to U7
            ("U7", "opened"),
            ("U1", "re-coded"),  # same practices A1 A2 under U9; name differs only in case
            ("U4", "renamed"),  # EPS PCN -> Epsilon PCN (not a case-only change)
            ("U2", "split"),  # into U2 and U7 (new)
            ("U7", "merged"),  # U2 + U3 (closed) in one
        ]
    )
    recoded = d.pcns.set_index("pcn_code").loc["U1"]
    assert recoded["to_pcn_code"] == "U9" and recoded["n_practices"] == 2
    assert d.pcns.set_index(["pcn_code", "change"]).loc[("U2", "split"), "detail"] == (
        "its practices now in U2 (2), U7 (2)"
    )
    assert d.summary["n_unallocated"] == {"before": 1, "after": 1}
    assert not d.has_findings and d.sizes.empty


def test_a_move_between_two_pcns_that_carry_on_is_not_a_split():
    """U1 {A1 A2 A3}, U2 {B1 B2}; A3 moves to U2: one move, no split, no merge."""
    before = pd.DataFrame({"practice_code": ["A1", "A2", "A3", "B1", "B2"],
                           "pcn_code": ["U1", "U1", "U1", "U2", "U2"]})  # fmt: skip
    after = before.assign(pcn_code=["U1", "U1", "U2", "U2", "U2"])
    d = geo_pcn.diff(before, after)
    assert d.practices["change"].tolist() == ["moved"]
    assert d.pcns.empty


def test_outputs_escaped_and_byte_identical(tmp_path):
    """A name that Excel would run and Markdown would break stays inert; a re-run writes
    the same bytes."""
    names = dict(NAMES_AFTER, U7='=HYPERLINK("http://x") | <b>')
    d = geo_pcn.diff(_frame(BEFORE, NAMES_BEFORE), _frame(AFTER, names))
    first = write_diff(d, tmp_path / "one")
    second = write_diff(d, tmp_path / "two")
    assert [p.name for p in first] == ["diff.csv", "diff.json", "diff.md", "diff.xlsx"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    csv = (tmp_path / "one" / "diff.csv").read_text()
    assert "\n" + "pcn,opened,U7,'=HYPERLINK" in csv.replace('"', "")
    md = (tmp_path / "one" / "diff.md").read_text()
    assert "\\| \\<b>" in md and "| <b>" not in md
    rows = pd.read_csv(tmp_path / "one" / "diff.csv", dtype=str, keep_default_na=False)
    # one row per change: 8 practices + 6 PCN changes
    assert len(rows) == 14


def test_cli_bad_input_is_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["diff", str(tmp_path / "nope.csv"), str(tmp_path / "x.csv"),
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    one_line(result, "nope.csv", "not found")
    plain = tmp_path / "plain.csv"
    plain.write_text("practice_code,pcn_code\nA1,U1\n")
    result = runner.invoke(cli, ["diff", f"{plain}@2022-07-01", str(plain),
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    one_line(result, "plain.csv", "as_of", "ePCN")
    assert not (tmp_path / "out").exists()


# -- real data ---------------------------------------------------------------------------------
def _map(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str).set_index("PRACTICE_CODE")
    frame["PCN_CODE"] = frame["PCN_CODE"].where(frame["PCN_CODE"] != "U", "")
    return frame


@pytest.mark.real_data
def test_national_maps_october_2025_to_january_2026(shared_data, tmp_path):
    oct25 = shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv"
    jan26 = shared_data / "ssot_stw_pcn_boundaries" / "gp-reg-pat-prac-map.csv"
    a, b = _map(oct25), _map(jan26)
    assert a["EXTRACT_DATE"].unique().tolist() == ["01Oct2025"]
    assert b["EXTRACT_DATE"].unique().tolist() == ["01Jan2026"]
    assert b["ICB_CODE"].nunique() == 42  # national, as the data README says
    gone = set(a.index) - set(b.index)
    new = set(b.index) - set(a.index)
    both = a.index.intersection(b.index)
    changed = both[a.loc[both, "PCN_CODE"] != b.loc[both, "PCN_CODE"]]
    unallocated = {c for c in changed if b.loc[c, "PCN_CODE"] == ""}
    pcns_a, pcns_b = set(a["PCN_CODE"]) - {""}, set(b["PCN_CODE"]) - {""}
    name_a = a[a["PCN_CODE"] != ""].groupby("PCN_CODE")["PCN_NAME"].first().str.upper()
    name_b = b[b["PCN_CODE"] != ""].groupby("PCN_CODE")["PCN_NAME"].first().str.upper()
    kept = sorted(pcns_a & pcns_b)
    renamed = {c for c in kept if name_a[c] != name_b[c]}
    assert (len(gone), len(new), len(changed), len(unallocated)) == (31, 0, 13, 3)  # README

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["diff", str(oct25), str(jan26), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "diff.csv", dtype=str, keep_default_na=False)
    practice = rows[rows["level"] == "practice"]
    pcn = rows[rows["level"] == "pcn"]
    assert set(practice.loc[practice["change"] == "disappeared", "code"]) == gone
    assert set(practice.loc[practice["change"] == "appeared", "code"]) == new
    moved_or_out = practice[practice["change"].isin(["moved", "placed", "taken out"])]
    assert set(moved_or_out["code"]) == set(changed)
    assert set(practice.loc[practice["change"] == "taken out", "code"]) == unallocated
    for r in moved_or_out.itertuples():
        assert (r._5, r.to) == (a.loc[r.code, "PCN_CODE"], b.loc[r.code, "PCN_CODE"])
    assert set(pcn.loc[pcn["change"] == "closed", "code"]) == pcns_a - pcns_b
    assert set(pcn.loc[pcn["change"] == "opened", "code"]) == pcns_b - pcns_a
    assert set(pcn.loc[pcn["change"] == "renamed", "code"]) == renamed == {"U63233"}
    summary = json.loads((out / "diff.json").read_text())["summary"]
    assert summary["n_unallocated"] == {
        "before": int((a["PCN_CODE"] == "").sum()),
        "after": int((b["PCN_CODE"] == "").sum()),
    }
    again = tmp_path / "again"
    CliRunner().invoke(cli, ["diff", str(oct25), str(jan26), "--out", str(again)])
    for name in ("diff.csv", "diff.json", "diff.md", "diff.xlsx"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def _epcn_rows(shared_data: Path) -> pd.DataFrame:
    x = pd.read_excel(
        shared_data / "ods_2023_blackwellrd" / "ePCN.xlsx",
        sheet_name="PCN Core Partner Details",
        dtype=str,
    )
    x.columns = [" ".join(str(c).split()) for c in x.columns]
    x["start"] = pd.to_datetime(x["Practice to PCN Relationship Start Date"], format="%Y%m%d")
    x["end"] = pd.to_datetime(x["Practice to PCN Relationship End Date"], format="%Y%m%d")
    return x


@pytest.mark.real_data
def test_epcn_workbook_at_two_dates_against_its_own_rows(shared_data, tmp_path):
    rows = _epcn_rows(shared_data)
    code = "Partner Organisation Code"
    expected = {}
    for day in ("2022-07-01", "2023-01-01"):
        t = pd.Timestamp(day)
        live = rows[(rows["start"] <= t) & (rows["end"].isna() | (rows["end"] >= t))]
        # F82001 is handed over on 2022-07-01 itself (one ends, the next starts): the new one
        handed = live[code].duplicated(keep=False) & live["end"].eq(t)
        live = live[~handed]
        assert not live[code].duplicated().any()
        expected[day] = live.set_index(code)["PCN Code"]
    workbook = shared_data / "ods_2023_blackwellrd" / "ePCN.xlsx"
    for day, want in expected.items():
        got = read_extract(f"{workbook}@{day}").membership["pcn_code"]
        assert got.sort_index().to_dict() == want.sort_index().to_dict(), day
    assert expected["2022-07-01"]["F82001"] == "U11211"

    b, a = expected["2022-07-01"], expected["2023-01-01"]
    both = b.index.intersection(a.index)
    moved = set(both[b[both].to_numpy() != a[both].to_numpy()])
    d = geo_pcn.diff(str(workbook), str(workbook), before_as_of="2022-07-01",
                     after_as_of="2023-01-01")  # fmt: skip
    p = d.practices
    assert set(p.loc[p["change"] == "disappeared", "practice_code"]) == set(b.index) - set(a.index)
    assert set(p.loc[p["change"] == "appeared", "practice_code"]) == set(a.index) - set(b.index)
    recoded = set(d.pcns.loc[d.pcns["change"] == "re-coded", "pcn_code"])
    moved_by_diff = set(p.loc[p["change"] == "moved", "practice_code"])
    in_recoded = set(b[b.isin(recoded)].index)
    assert moved_by_diff == moved - in_recoded
    assert set(d.pcns.loc[d.pcns["change"] == "opened", "pcn_code"]) | set(
        d.pcns.loc[d.pcns["change"] == "re-coded", "to_pcn_code"]
    ) == set(a) - set(b)


@pytest.mark.real_data
def test_qnc_july_2022_to_october_2025(shared_data, tmp_path):
    studies = []
    for name in ("qnc_national_2022.toml", "qnc_oct2025.toml"):
        text = (
            (ROOT / "tests" / "real" / name)
            .read_text()
            .replace("../../../shared/data", shared_data.resolve().as_posix())
        )
        (tmp_path / name).write_text(text)
        studies.append(tmp_path / name)
    # list sizes by PCN, with plain pandas: registrations summed per practice
    m22 = pd.read_excel(shared_data / "national_2022" / "gp-reg-pat-prac-map-jul22.xlsx",
                        dtype=str, engine="openpyxl")  # fmt: skip
    m22 = m22[m22["ICB22"] == "QNC"]
    r22 = pd.read_parquet(shared_data / "national_2022" / "gp-registrations.parquet")
    size22 = m22["PRACTICE_CODE"].map(r22.groupby("OrganisationCode")["Patient"].sum())
    pcn22 = size22.fillna(0).groupby(m22["PCN_CODE"]).sum().drop("U", errors="ignore")
    r25 = pd.read_csv(shared_data / "ssot_pcn_boundaries" / "SSOT_GP_Patients_Oct25.csv",
                      usecols=range(8), dtype={"NUMBER_OF_PATIENTS": float})  # fmt: skip
    m25 = pd.read_csv(shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv", dtype=str)
    m25 = m25[m25["ICB_CODE"] == "QNC"]
    size25 = m25["PRACTICE_CODE"].map(r25.groupby("PRACTICE_CODE")["NUMBER_OF_PATIENTS"].sum())
    pcn25 = size25.fillna(0).groupby(m25["PCN_CODE"]).sum()
    above22, above25 = set(pcn22[pcn22 > 50_000].index), set(pcn25[pcn25 > 50_000].index)
    assert above22 == {"U57641", "U79533"}

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["diff", str(studies[0]), str(studies[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "diff.csv", "diff.json", "diff.md", "diff.xlsx", "diff_map.html",
    ]  # fmt: skip
    data = json.loads((out / "diff.json").read_text())
    sizes = pd.DataFrame(data["sizes"]).set_index("pcn_code")
    # every PCN's list size moved between 2022 and 2025, so every PCN is listed
    assert set(sizes.index) == set(pcn22.index) | set(pcn25.index)
    for code in sizes.index:
        assert sizes.loc[code, "list_size_before"] == int(pcn22.get(code, 0)), code
        assert sizes.loc[code, "list_size_after"] == int(pcn25.get(code, 0)), code
    assert set(sizes.index[sizes["band_status_before"] == "above"]) == above22
    assert set(sizes.index[sizes["band_status_after"] == "above"]) == above25

    # detached groups resolved and introduced: the two studies' own findings, set apart
    before = geo_pcn.validate(geo_pcn.Study.from_toml(studies[0]))
    after = geo_pcn.validate(geo_pcn.Study.from_toml(studies[1]))

    def groups(report):
        return {f.pcn_code for f in report.findings if f.kind == "detached_group"}

    def listed(key):
        return {f["pcn_code"] for f in data[key] if f["kind"] == "detached_group"}

    assert listed("resolved") == groups(before) - groups(after)
    assert listed("introduced") == groups(after) - groups(before)
    assert listed("resolved") == {"U06256", "U87255"}


def test_study_file_as_of_is_a_date(tmp_path):
    from geo_pcn.errors import StudyFileError
    from geo_pcn.studyfile import parse_study_file

    for name in ("practices.csv", "registrations.csv", "ePCN.xlsx"):
        (tmp_path / name).write_text("x\n")
    head = '[practices]\nfile = "practices.csv"\n[registrations]\nfile = "registrations.csv"\n'
    good = tmp_path / "good.toml"
    good.write_text(head + '[configuration]\nfile = "ePCN.xlsx"\nas_of = 2022-07-01\n')
    assert parse_study_file(good).configuration.options["as_of"] == "2022-07-01"
    bad = tmp_path / "bad.toml"
    bad.write_text(head + '[configuration]\nfile = "ePCN.xlsx"\nas_of = "July 2022"\n')
    with pytest.raises(StudyFileError, match=r"as_of must be a date, e\.g\. as_of = 2022-07-01"):
        parse_study_file(bad)


@pytest.mark.real_data
def test_study_with_the_epcn_as_of_a_date(shared_data, tmp_path):
    """QNC July 2022 with its configuration from the ePCN workbook as of 2022-07-01: the
    study's membership is the workbook's rows in force that day for QNC's sub-ICBs."""
    sub_icbs = ["04Y", "05D", "05G", "05Q", "05V", "05W"]
    text = (
        (ROOT / "tests" / "real" / "qnc_national_2022.toml")
        .read_text()
        .replace("../../../shared/data", shared_data.resolve().as_posix())
    )
    text += (
        f'\n[configuration]\nfile = "{shared_data.resolve().as_posix()}/ods_2023_blackwellrd/'
        'ePCN.xlsx"\nas_of = 2022-07-01\n'
        f'where = {{ "Practice Parent Sub ICB Loc Code" = {json.dumps(sub_icbs)} }}\n'
    )
    path = tmp_path / "qnc_epcn.toml"
    path.write_text(text)
    study = geo_pcn.Study.from_toml(path)
    rows = _epcn_rows(shared_data)
    t = pd.Timestamp("2022-07-01")
    live = rows[
        rows["Practice Parent Sub ICB Loc Code"].isin(sub_icbs)
        & (rows["start"] <= t)
        & (rows["end"].isna() | (rows["end"] >= t))
    ]
    want = live.set_index("Partner Organisation Code")["PCN Code"]
    got = study.configuration.assignments
    assert got[got != ""].sort_index().to_dict() == want.sort_index().to_dict()
    # Cannock South (U97504) had no practice on that day in the workbook, though the NHS
    # map of July 2022 still lists it
    assert "U97504" not in set(want)


@pytest.mark.slow
def test_diff_map_opens_in_chromium_with_no_console_error(tmp_path):
    """Two demo reports (Z00024 and Z00035 moved to UZ008): diff_map.html is drawn, says
    'What changed' (not 'scenario'), lists the two practices, and logs no error."""
    browser_tests = pytest.importorskip("test_maps_browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not browser_tests.CHROMIUM.exists():
        pytest.skip(f"{browser_tests.CHROMIUM} not found")
    from geo_pcn.datasets import demo

    study = demo()
    before = geo_pcn.validate(study)
    after = geo_pcn.revalidate(before, study.configuration.move(["Z00024", "Z00035"], to="UZ008"))
    d = geo_pcn.diff(before, after)
    assert dict(zip(d.practices["practice_code"], d.practices["change"], strict=True)) == {
        "Z00035": "moved",
        "Z00024": "placed",  # in no PCN in the demo
    }
    written = write_diff(d, tmp_path / "out")
    assert "diff_map.html" in [p.name for p in written]
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(browser_tests.CHROMIUM),
            args=browser_tests.CHROMIUM_ARGS,
            headless=True,
        )
        try:
            visit = browser_tests.Visit(chromium, tmp_path / "out" / "diff_map.html")
            legend = visit.page.locator(".gp-legend").inner_text()
            panel = visit.page.locator(".gp-changes").inner_text()
            visit.close(tmp_path / "diff_map.png")
        finally:
            chromium.close()
    assert visit.errors == [] and visit.left == []
    assert "What changed" in legend and "scenario" not in legend
    assert "Z00024" in panel and "Z00035" in panel


# -- geo-pcn history ---------------------------------------------------------------------------
def test_history_of_two_demo_reports(tmp_path):
    """The demo, then Z00035 moved to UZ008: UZ008 has one practice more and Z00035's
    patients (its list size in the demo's practices file) more."""
    from geo_pcn.datasets import demo
    from geo_pcn.render.history_outputs import write_history

    study = demo()
    before = geo_pcn.validate(study)
    after = geo_pcn.revalidate(before, study.configuration.move("Z00035", to="UZ008"))
    h = geo_pcn.history([before, after], labels=["2025 Q3", "2025 Q4"])
    z35 = int(study.practices.loc["Z00035", "list_size"])
    t = h.table.set_index(["pcn_code", "extract"])
    assert (
        t.loc[("UZ008", "2025 Q4"), "n_practices"] == t.loc[("UZ008", "2025 Q3"), "n_practices"] + 1
    )
    assert (
        t.loc[("UZ008", "2025 Q4"), "list_size"] == t.loc[("UZ008", "2025 Q3"), "list_size"] + z35
    )
    first = write_history(h, tmp_path / "one")
    second = write_history(h, tmp_path / "two")
    assert [p.name for p in first] == [
        "history.csv", "history.json", "history.md", "history.png", "report.html",
    ]  # fmt: skip
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    html = (tmp_path / "one" / "report.html").read_text()
    assert html.count('class="pcn-line"') == h.table["pcn_code"].nunique()
    # the chart colours and names the PCNs outside the band at some study (or in one study
    # only) and draws the rest grey: worked out here from the table's list sizes
    low, high = h.band
    wide = h.table.pivot(index="pcn_code", columns="extract", values="list_size")
    loud = {
        code
        for code, row in wide.iterrows()
        if row.isna().any() or ((row < low) | (row > high)).any()
    }
    assert loud and loud != set(wide.index)  # the demo has both kinds
    lines = dict(
        re.findall(r'<polyline class="pcn-line" data-pcn="([^"]+)"[^>]*stroke="([^"]+)"', html)
    )
    assert {c for c, colour in lines.items() if colour != "#c3c8cf"} == loud
    assert f"grey: {len(wide) - len(loud)} PCNs inside the band" in html
    with pytest.raises(geo_pcn.InputError, match="two or more studies"):
        geo_pcn.history([before])
    with pytest.raises(geo_pcn.InputError, match="share the name"):
        geo_pcn.history([before, after])


def test_history_cli_refuses_a_configuration_file(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("practice_code,pcn_code\nA1,U1\n")
    result = CliRunner().invoke(
        cli, ["history", str(plain), str(plain), "--out", str(tmp_path / "out")]
    )
    one_line(result, "plain.csv", "needs study files")


@pytest.mark.real_data
def test_history_qnc_2022_and_2025(shared_data, tmp_path):
    studies = []
    for name in ("qnc_national_2022.toml", "qnc_oct2025.toml"):
        text = (
            (ROOT / "tests" / "real" / name)
            .read_text()
            .replace("../../../shared/data", shared_data.resolve().as_posix())
        )
        (tmp_path / name).write_text(text)
        studies.append(str(tmp_path / name))
    m22 = pd.read_excel(shared_data / "national_2022" / "gp-reg-pat-prac-map-jul22.xlsx",
                        dtype=str, engine="openpyxl")  # fmt: skip
    m22 = m22[(m22["ICB22"] == "QNC") & (m22["PCN_CODE"] != "U")]
    m25 = pd.read_csv(shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv", dtype=str)
    m25 = m25[(m25["ICB_CODE"] == "QNC") & (m25["PCN_CODE"] != "U")]
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["history", *studies, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out / "history.csv", dtype={"pcn_code": str})
    for position, m in ((0, m22), (1, m25)):
        got = rows[rows["position"] == position].set_index("pcn_code")["n_practices"]
        assert got.sort_index().to_dict() == m.groupby("PCN_CODE").size().sort_index().to_dict()
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_re_coded_pcn_in_two_reports():
    """The demo with PCN UZ008 re-coded UZ099 (same practices, same name): one PCN
    re-coded, no practice moved, no list size changed, its findings not resolved and
    introduced again."""
    from geo_pcn.configuration import Configuration
    from geo_pcn.datasets import demo

    study = demo()
    before = geo_pcn.validate(study)
    frame = study.configuration.to_frame()
    frame["pcn_code"] = frame["pcn_code"].replace("UZ008", "UZ099")
    after = geo_pcn.revalidate(before, Configuration.from_frame(frame))
    d = geo_pcn.diff(before, after)
    assert d.pcns[["pcn_code", "change", "to_pcn_code"]].values.tolist() == [
        ["UZ008", "re-coded", "UZ099"]
    ]
    assert d.practices.empty and d.sizes.empty
    # the demo's community layer declares its site CS07 in UZ008, so the new code really
    # breaks that declaration; every other finding of the PCN is matched under UZ099
    assert [(f.check, f.kind) for f in d.resolved] == [("alignment", "site_outside_pcn")]
    assert [(f.check, f.kind) for f in d.introduced] == [("alignment", "site_pcn_unknown")]
    n_uz008 = sum(f.pcn_code == "UZ008" for f in before.findings)
    assert n_uz008 > 0  # the demo plants problems in it, so the matching is exercised
    # diff.md lists them in compare.md's lines: severity, check / kind, the PCN, message
    from geo_pcn.render.diff_outputs import diff_markdown
    from geo_pcn.render.markdown import to_markdown

    (r,) = d.resolved
    line = f"- {r.severity.value.upper()} **alignment / site_outside_pcn** UZ008: "
    md = diff_markdown(d)
    assert line in md.split("## Findings resolved (1)", 1)[1].split("## Findings introduced")[0]
    moved = geo_pcn.revalidate(before, study.configuration.move("Z00024", to="UZ005"))
    cmd = to_markdown(geo_pcn.compare(before, moved))
    for f in geo_pcn.compare(before, moved).introduced:
        pcn = f" {f.pcn_code}" if f.pcn_code else ""
        assert f"- {f.severity.value.upper()} **{f.check} / {f.kind}**{pcn}: " in cmd


def test_a_re_coded_pcns_finding_without_practices_is_matched_under_its_new_code():
    """A PCN-level finding naming no practices (so only its PCN code identifies it): U1
    re-coded U9, its 'above the band' finding is the same finding, figures changed."""
    from geo_pcn.findings import Finding, Severity
    from geo_pcn.history import _findings

    old = Finding("size", "above_band", Severity.ERROR, "U1 is above", "U1", (), 51_000.0)
    new = Finding("size", "above_band", Severity.ERROR, "U9 is above", "U9", (), 52_000.0)
    resolved, introduced, changed = _findings([old], [new], {"U1": "U9"})
    assert (resolved, introduced) == ([], [])
    assert [(c.before, c.after) for c in changed] == [(old, new)]
    # without the re-coding it would read as one resolved and one introduced
    assert _findings([old], [new], {})[:2] == ([old], [new])
