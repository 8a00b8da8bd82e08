"""``Study._repr_html_`` and ``Report._repr_html_`` through their Jinja2 templates
(``study.html.j2``, ``report.html.j2``; issue 20 item 4).

The references below are the hand-built HTML the methods wrote before the templates, kept
here verbatim (but for their names) as an independent statement of the expected bytes: the
templates must give exactly the same HTML on the demo, on the real QNC study and on a study
whose PCN is named ``<script>alert(1)</script>`` + BEL. One difference is meant: the study's
method escaped with the standard library's ``html.escape``, which lets BEL through; the
template escapes through ``geo_pcn._escape.html_text`` (the one escaper), which shows it as
its control picture U+2407. The report's method already used ``html_text``: no difference.

``Editor._repr_html_`` builds no HTML (it shows its report's), so it has no template.
"""

from __future__ import annotations

import dataclasses
import html

import pytest

from geo_pcn import Study, validate
from geo_pcn._escape import html_table, html_text
from geo_pcn._words import count
from geo_pcn._words import count as _count
from geo_pcn.datasets import demo
from geo_pcn.findings import Severity

NASTY = "<script>alert(1)</script>\x07"


def _study_hand_built(self) -> str:
    """The pre-template ``Study._repr_html_``, verbatim."""
    s = self.summary()
    rows = [
        ("Practices", f"{s['n_practices']:,} ({s['n_located']:,} located)"),
        ("PCNs", f"{s['n_pcns']:,} ({_count(len(s['unassigned']), 'practice')} in no PCN)"),
        ("Registered patients", f"{s['n_patients']:,}"),
        ("Small areas", "none" if s["areas"] is None else f"{s['areas']:,}"),
        (
            "Boundary layers",
            ", ".join(f"{k} ({v})" for k, v in s["boundaries"].items()) or "none",
        ),
        ("Community layers", ", ".join(s["community"]) or "none"),
        ("Band", f"{s['rules']['band'][0]:,}-{s['rules']['band'][1]:,}"),
    ]
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    out = [f"<div><strong>Study: {html.escape(self.name)}</strong><table>{body}</table>"]
    if s["unassigned"] or s["not_located"]:
        items = [
            ("In no PCN", s["unassigned"]),
            ("Not located", s["not_located"]),
            ("No list size", s["no_list_size"]),
        ]
        lis = "".join(
            f"<li>{html.escape(k)}: {html.escape(', '.join(v))}</li>" for k, v in items if v
        )
        out.append(f"<details open><summary>Practices to look at</summary><ul>{lis}</ul></details>")
    members = self.configuration.members
    pcn_rows = "".join(
        f"<tr><td>{html.escape(code)}</td><td>{html.escape(self.configuration.name_of(code))}"
        f"</td><td>{len(m)}</td></tr>"
        for code, m in members.items()
    )
    out.append(
        f"<details><summary>PCNs ({len(members)})</summary><table><tr><th>pcn_code</th>"
        f"<th>pcn_name</th><th>n_practices</th></tr>{pcn_rows}</table></details>"
    )
    if self.notes:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        out.append(
            f"<details><summary>Notes on the inputs ({len(self.notes)})</summary>"
            f"<ul>{notes}</ul></details>"
        )
    return "".join(out) + "</div>"


def _report_hand_built(self) -> str:
    """The pre-template ``Report._repr_html_``, verbatim."""
    esc = html_text
    s = self.summary
    sev = s["findings"]
    verdict = "PASS" if self.ok else "FAIL"
    colour = "#1a7f37" if self.ok else "#b42318"
    parts = [
        f"<div><h3>{esc(self.study.name)}: <span style='color:{colour}'>{verdict}</span>"
        f"</h3><p>{count(s['n_practices'], 'practice')} in {count(s['n_pcns'], 'PCN')}, "
        f"{count(s['n_patients'], 'registered patient')}; {count(sev['error'], 'error')}, "
        f"{count(sev['warning'], 'warning')}, {count(sev['info'], 'note')}. In no PCN: "
        f"{count(s['n_practices_in_no_pcn'], 'practice')}, "
        f"{count(s['n_patients_in_no_pcn'], 'patient')}. "
        f"Band {s['band'][0]:,}-{s['band'][1]:,} patients; territories from "
        f"{esc(s['footprint_method'])}.</p>"
    ]
    if s.get("synthetic"):
        parts.append("<p><i>SYNTHETIC demo region: not real practices or patients.</i></p>")
    for severity in Severity:
        items = [f for f in self.findings if f.severity is severity]
        if not items:
            continue
        lis = "".join(
            f"<li><b>{esc(f.check)}/{esc(f.kind)}</b>: {esc(f.message)}</li>" for f in items
        )
        opened = " open" if severity is not Severity.INFO else ""
        parts.append(
            f"<details{opened}><summary>{esc(severity.value.title())}s ({len(items)})"
            f"</summary><ul>{lis}</ul></details>"
        )
    parts.append(
        f"<details><summary>PCNs ({len(self.pcns)})</summary>{html_table(self.pcns)}</details>"
    )
    practice_cols = ["practice_code", "practice_name", "pcn_code", "list_size", "n_findings"]
    parts.append(
        f"<details><summary>Practices ({len(self.practices)})</summary>"
        f"{html_table(self.practices[practice_cols])}</details>"
    )
    if self.study.notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.study.notes)
        parts.append(
            f"<details><summary>Notes on the inputs ({len(self.study.notes)})</summary>"
            f"<ul>{notes}</ul></details>"
        )
    return "".join(parts) + "</div>"


def _nasty(study: Study) -> Study:
    """The demo with PCN UZ002 named NASTY, practice Z00040 moved into it, and the study
    and a note named so too (every string the study's HTML prints from the inputs)."""
    config = study.configuration.rename("UZ002", NASTY).move("Z00040", to="UZ002")
    nasty = study.with_configuration(config)
    return dataclasses.replace(nasty, name=NASTY, notes=(*study.notes, NASTY))


@pytest.fixture(scope="module")
def demo_study() -> Study:
    return demo()


def _same_bytes(study: Study) -> None:
    assert study._repr_html_() == _study_hand_built(study)
    report = validate(study)
    assert report._repr_html_() == _report_hand_built(report)


def test_demo_gives_the_hand_built_bytes(demo_study):
    _same_bytes(demo_study)
    # the demo shows every section: practices to look at, notes, synthetic, every severity
    page = demo_study._repr_html_()
    assert "<details open><summary>Practices to look at</summary>" in page
    assert "<td>508,614</td>" in page and "\n" not in page
    report = validate(demo_study)._repr_html_()
    for section in ("<details open><summary>Errors (4)", "<details open><summary>Warnings (5)"):
        assert section in report
    assert "<details><summary>Infos (3)</summary>" in report and "SYNTHETIC demo" in report


def test_no_practice_to_look_at_and_no_notes(demo_study):
    """The sections that come and go: every practice placed and no notes on the inputs."""
    placed = demo_study.with_configuration(demo_study.configuration.move("Z00024", to="UZ001"))
    quiet = dataclasses.replace(placed, notes=())
    assert "Practices to look at" not in quiet._repr_html_()
    assert "Notes on the inputs" not in quiet._repr_html_()
    _same_bytes(quiet)


@pytest.mark.real_data
def test_qnc_gives_the_hand_built_bytes(qnc_study_file):
    qnc = Study.from_toml(qnc_study_file)
    _same_bytes(qnc)
    assert "<strong>Study: " in qnc._repr_html_()


def test_a_script_and_a_bell_in_names(demo_study):
    """``<`` ``>`` as entities everywhere; BEL shown as U+2407 by the study's template where
    ``html.escape`` let it through, and that is the only difference from the hand-built
    HTML; the report's HTML is the same bytes as before."""
    study = _nasty(demo_study)
    new, old = study._repr_html_(), _study_hand_built(study)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # the study's name, the PCN's row and the note
    assert new.count(escaped + "\u2407") == 3 and old.count(escaped + "\x07") == 3
    assert "<script" not in new and "\x07" not in new
    assert new != old and new == old.replace("\x07", "\u2407")
    assert "<tr><td>UZ002</td><td>" + escaped + "\u2407</td><td>6</td></tr>" in new
    report = validate(study)
    text = report._repr_html_()
    assert text == _report_hand_built(report)
    assert "<script" not in text and "\x07" not in text and escaped + "\u2407" in text


def test_a_tiny_study_by_hand(tiny_study_file):
    """The tiny study (tests/tiny.py: 5 practices, A00001-A00002 in U00001 "WEST PCN",
    A00003-A00005 in U00002 "EAST PCN", 8 small areas T01-T08, one place layer of 2 places,
    band 3,000-5,000) with A00005 taken out of its PCN and one note of our own. Registered
    patients by hand from its registrations.csv: 1,905 + 1,903 + 1,902 + 1,900 + 850 =
    8,460."""
    study = Study.from_toml(tiny_study_file)
    study = study.with_configuration(study.configuration.unassign("A00005"))
    study = dataclasses.replace(study, notes=("A & B",))
    row = "<tr><th style='text-align:left'>{}</th><td>{}</td></tr>".format
    assert study._repr_html_() == (
        "<div><strong>Study: Tiny test study</strong><table>"
        + row("Practices", "5 (5 located)")
        + row("PCNs", "2 (1 practice in no PCN)")
        + row("Registered patients", "8,460")
        + row("Small areas", "8")
        + row("Boundary layers", "place (2)")
        + row("Community layers", "none")
        + row("Band", "3,000-5,000")
        + "</table><details open><summary>Practices to look at</summary><ul>"
        "<li>In no PCN: A00005</li></ul></details>"
        "<details><summary>PCNs (2)</summary><table><tr><th>pcn_code</th><th>pcn_name</th>"
        "<th>n_practices</th></tr><tr><td>U00001</td><td>WEST PCN</td><td>2</td></tr>"
        "<tr><td>U00002</td><td>EAST PCN</td><td>2</td></tr></table></details>"
        "<details><summary>Notes on the inputs (1)</summary><ul><li>A &amp; B</li></ul>"
        "</details></div>"
    )
