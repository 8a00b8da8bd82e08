"""``Configuration._repr_html_`` through its Jinja2 template (``configuration.html.j2``).

The reference below is the hand-built HTML the method wrote before the template (issue
20 item 4), kept here as an independent statement of the expected bytes: the template must
give exactly the same HTML for configurations with and without changes, practices in no
PCN and PCNs, and escape names the same way. One difference is meant: a control character
in a name is shown as its Unicode control picture (through ``geo_pcn._escape``, the one
escaper), where ``html.escape`` let it through.
"""

from __future__ import annotations

import html

import pytest

from geo_pcn import Configuration

NASTY = "<script>alert('1') & \"x\"</script>"


def _hand_built(self) -> str:
    """The pre-template ``Configuration._repr_html_``, verbatim."""
    esc = html.escape
    sizes = {code: len(m) for code, m in self.members.items()}
    rows = "".join(
        f"<tr><td>{esc(code)}</td><td>{esc(self._names[code])}</td><td>{sizes[code]}</td>"
        f"<td>{esc(', '.join(self.members[code]))}</td></tr>"
        for code in self.pcn_codes
    )
    table = (
        "<table><thead><tr><th>pcn_code</th><th>pcn_name</th><th>n_practices</th>"
        f"<th>practices</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    history = self.history
    changes = "".join(f"<li>{esc(str(c))}</li>" for c in history)
    unassigned = esc(", ".join(self.unassigned)) or "none"
    return (
        f"<div><strong>Configuration</strong>: {len(self):,} practices in "
        f"{self.n_pcns:,} PCNs; in no PCN: {unassigned}"
        + (
            f"<details open><summary>{len(history)} change(s) from the original"
            f"</summary><ol>{changes}</ol></details>"
            if history
            else ""
        )
        + f"<details><summary>PCNs ({self.n_pcns})</summary>{table}</details></div>"
    )


@pytest.fixture(scope="module")
def configurations():
    start = Configuration(
        {"A1": "U1", "A2": "U1", "A3": "", "A4": "U2"}, {"U1": "WEST", "U2": NASTY}
    )
    many = Configuration({f"P{i:04d}": f"U{i % 3}" for i in range(1234)})
    return {
        "empty": Configuration({}),
        "start": start,
        "moved and renamed": start.move("A4", to="U1").rename("U1", NASTY),
        "all placed, one emptied": start.move(["A3", "A4"], to="U1"),
        "over a thousand practices": many.unassign("P0001"),
    }


def test_the_template_gives_the_hand_built_bytes(configurations):
    for name, config in configurations.items():
        assert config._repr_html_() == _hand_built(config), name
    pages = "".join(c._repr_html_() for c in configurations.values())
    assert "in no PCN: none" in pages and "<details open>" in pages
    assert "1,234 practices in 3 PCNs" in pages  # thousands commas, as before
    assert "\n" not in pages  # no white space between tags


def test_a_tiny_configuration_by_hand():
    """Two practices in one PCN, one in none, after one move: written out by hand."""
    config = Configuration({"A1": "U1", "A2": "U2", "A3": ""}).move("A2", to="U1")
    assert config._repr_html_() == (
        "<div><strong>Configuration</strong>: 3 practices in 1 PCNs; in no PCN: A3"
        "<details open><summary>1 change(s) from the original</summary><ol>"
        "<li>move A2 from U2 to U1</li></ol></details>"
        "<details><summary>PCNs (1)</summary><table><thead><tr><th>pcn_code</th>"
        "<th>pcn_name</th><th>n_practices</th><th>practices</th></tr></thead><tbody>"
        "<tr><td>U1</td><td>U1</td><td>2</td><td>A1, A2</td></tr></tbody></table>"
        "</details></div>"
    )


def test_a_script_and_a_control_character_in_a_name_are_escaped(configurations):
    """``<`` ``>`` ``&`` ``'`` ``"`` as entities (in the PCN table and the change list);
    BEL as its control picture U+2407 (the one difference from the hand-built HTML)."""
    text = configurations["moved and renamed"]._repr_html_()
    escaped = "&lt;script&gt;alert(&#x27;1&#x27;) &amp; &quot;x&quot;&lt;/script&gt;"
    assert "<script" not in text and text.count(escaped) == 2
    bell = Configuration({"A1": "U1"}, {"U1": "ONE\x07"})
    assert "<td>ONE\u2407</td>" in bell._repr_html_()
    assert "\x07" not in bell._repr_html_() and "\x07" in _hand_built(bell)
