"""``Comparison._repr_html_`` through its Jinja2 template (``comparison.html.j2``).

The reference below is the hand-built HTML the method wrote before the template (issue
20 item 4), kept here as an independent statement of the expected bytes: the template must
give exactly the same HTML for comparisons with and without changes, moves, changed
findings, crossings and alignment, and escape every input string the same way.
"""

from __future__ import annotations

import pytest

from geo_pcn import compare, revalidate, validate
from geo_pcn._escape import html_table
from geo_pcn._escape import html_text as esc
from geo_pcn._words import alignment_score, count
from geo_pcn.compare import moved_words
from geo_pcn.datasets import demo


def _hand_built(c) -> str:
    """The pre-template ``Comparison._repr_html_``, verbatim but for its name."""
    s = c.summary

    def verdict(ok: bool) -> str:
        colour = "#1a7f37" if ok else "#b42318"
        return f"<span style='color:{colour}'>{'PASS' if ok else 'FAIL'}</span>"

    fb, fa = s["findings"]["before"], s["findings"]["after"]
    head = (
        f"<h3>Comparison: {esc(s['study'])}: {verdict(s['ok']['before'])} &rarr; "
        f"{verdict(s['ok']['after'])}</h3><p>Errors {fb['error']} &rarr; {fa['error']}, "
        f"warnings {fb['warning']} &rarr; {fa['warning']}, notes {fb['info']} &rarr; "
        f"{fa['info']}. {moved_words(s)}; "
        f"{count(s['n_resolved'], 'finding')} resolved, {s['n_introduced']:,} introduced, "
        f"{s['n_changed']:,} changed.</p>"
    )

    def items(findings) -> str:
        return (
            "<ul>"
            + "".join(
                f"<li><b>{esc(f.severity.value)}</b> {esc(f.check)}/{esc(f.kind)}: "
                f"{esc(f.message)}</li>"
                for f in findings
            )
            + "</ul>"
            if findings
            else "<p>none</p>"
        )

    parts = [head]
    if c.changes:
        parts.append(
            f"<details open><summary>Changes ({len(c.changes)})</summary><ol>"
            + "".join(f"<li>{esc(x)}</li>" for x in c.changes)
            + "</ol></details>"
        )
    parts.append(
        f"<details open><summary>Resolved ({len(c.resolved)})</summary>"
        f"{items(c.resolved)}</details>"
    )
    parts.append(
        f"<details open><summary>Introduced ({len(c.introduced)})</summary>"
        f"{items(c.introduced)}</details>"
    )
    parts.append(
        f"<details open><summary>Changed ({len(c.changed)})</summary>"
        + (
            "<ul>"
            + "".join(
                f"<li><b>{esc(x.severity.value)}</b> {esc(x.check)}/{esc(x.kind)}"
                f"{' ' + esc(x.pcn_code) if x.pcn_code else ''}: {esc(x.describe())}. "
                f"{'Now: ' if 'message' in x.what else ''}{esc(x.message)}</li>"
                for x in c.changed
            )
            + "</ul>"
            if c.changed
            else "<p>none</p>"
        )
        + "</details>"
    )
    parts.append(
        f"<details><summary>Practices moved ({len(c.moves)})</summary>"
        f"{html_table(c.moves)}</details>"
    )
    changed = c.changed_pcns
    parts.append(
        f"<details><summary>PCNs changed ({len(changed)})</summary>{html_table(changed)}</details>"
    )
    if c.crossings:
        rows = "".join(
            f"<tr><td>{esc(layer)}</td><td>{esc(', '.join(v['before']) or '-')}</td>"
            f"<td>{esc(', '.join(v['after']) or '-')}</td></tr>"
            for layer, v in c.crossings.items()
        )
        parts.append(
            "<details><summary>Boundary crossings</summary><table><tr><th>layer</th>"
            f"<th>PCNs before</th><th>PCNs after</th></tr>{rows}</table></details>"
        )
    if c.alignment:
        rows = "".join(
            f"<tr><td>{esc(layer)}</td><td>{esc(alignment_score(k, None)[0])}</td>"
            f"<td>{esc(alignment_score(k, v['before'].get(k))[1])}</td>"
            f"<td>{esc(alignment_score(k, v['after'].get(k))[1])}</td></tr>"
            for layer, v in c.alignment.items()
            for k in v["after"]
        )
        parts.append(
            "<details><summary>Community alignment</summary><table><tr><th>layer</th>"
            f"<th>score</th><th>before</th><th>after</th></tr>{rows}</table></details>"
        )
    return "<div>" + "".join(parts) + "</div>"


#: a PCN name with every character HTML escapes, and ESC (shown as its control picture)
NASTY = "<script>alert('1') & \"x\"</script>\x1b"


@pytest.fixture(scope="module")
def comparisons():
    study = demo()
    start = validate(study)
    moved = revalidate(start, study.configuration.move("Z00040", to="UZ007"))
    nasty = study.configuration.rename("UZ002", NASTY).move("Z00024", to="UZ002")
    back = moved.configuration.move("Z00024", to="UZ002").move("Z00040", to="UZ008")
    return {
        "unchanged": compare(start, start),
        "one move": compare(start, moved),
        "renamed to a script": compare(start, revalidate(start, nasty)),
        "two moves after one": compare(moved, revalidate(moved, back)),
    }


def test_the_template_gives_the_hand_built_bytes(comparisons):
    """Every comparison's HTML is byte for byte the hand-built one; between them they
    show no changes and changes, ``none`` and listed findings, a changed finding whose
    message changed (``Now:``), crossings and alignment (asserted, so the cases cannot
    quietly stop covering them)."""
    for name, c in comparisons.items():
        assert c._repr_html_() == _hand_built(c), name
    pages = "".join(c._repr_html_() for c in comparisons.values())
    assert "<p>none</p>" in pages and "Now: " in pages
    assert "<summary>Changes (" in pages and "<summary>Boundary crossings" in pages
    assert "<summary>Community alignment" in pages
    assert not comparisons["unchanged"].changes
    assert "\n" not in comparisons["unchanged"]._repr_html_()  # no white space between tags


def test_a_script_in_an_input_is_escaped(comparisons):
    """The PCN renamed to ``NASTY`` appears only escaped, by hand: ``<`` ``>`` ``&`` ``'``
    ``"`` as entities and ESC as its control picture U+241B."""
    text = comparisons["renamed to a script"]._repr_html_()
    assert "<script" not in text and "\x1b" not in text
    escaped = "&lt;script&gt;alert(&#x27;1&#x27;) &amp; &quot;x&quot;&lt;/script&gt;\u241b"
    assert escaped in text
    assert text.count(escaped) >= 2  # in the change list and in a finding's message
