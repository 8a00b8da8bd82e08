"""The faster paths of issue 21 give the answers of the slow ones, on tiny hand-drawn
geometry whose answer is worked out in each docstring.

* the study outline when the areas are not a clean coverage (:func:`_union` in stretches);
* the pairs of areas within the adjacency tolerance (:func:`pairs_within`, used by the
  area links, the practice graph and the map's footprint colouring);
* what a map layer renders is text, not a template (:class:`TextElement`): a name holding
  ``{{ ... }}`` is shown as written, never run.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo_pcn.geography._pieces import area_links, pairs_within
from geo_pcn.geography._unions import _UNION_LEAF, _union
from geo_pcn.render._map_elements import TextElement, text_elements


def _odd_row(n: int, odd_at: int) -> np.ndarray:
    """``n`` unit boxes in a row, box ``odd_at`` drawn with an extra vertex halfway up its
    left edge, which its left neighbour does not have::

        +---+---+- ... -+---+---+
        | 0 | 1 |       |odd|   |      odd: (k, 0) (k+1, 0) (k+1, 1) (k, 1) (k, 0.5)
        +---+---+- ... -+---+---+

    The shared edge is noded on one side only, so GEOS refuses the coverage union; the
    union is still the box (0, 0) - (n, 1), area ``n``, one polygon with 4 corners.
    """
    boxes = shapely.box(np.arange(n, dtype=float), 0, np.arange(n) + 1.0, 1)
    k = float(odd_at)
    boxes[odd_at] = shapely.Polygon([(k, 0), (k + 1, 0), (k + 1, 1), (k, 1), (k, 0.5)])
    return boxes


@pytest.mark.parametrize("odd_at", [1, 63, 64, 199, 255])
def test_outline_of_a_coverage_with_a_wrongly_noded_edge(odd_at):
    """256 boxes (four times the leaf size: four stretches) with the odd
    edge at several places: inside a leaf, on each side of a leaf seam (63 | 64), inside
    the second half and at the last box. The union is the 256 x 1 box whatever the place."""
    assert 2 * _UNION_LEAF < 256
    geoms = _odd_row(256, odd_at)
    with pytest.raises(shapely.errors.GEOSException):
        shapely.coverage_union_all(geoms)  # the fast path really is refused here
    united = _union(geoms)
    assert united.geom_type == "Polygon"
    assert united.area == pytest.approx(256.0)
    assert shapely.equals(united, shapely.box(0, 0, 256, 1))


def test_outline_keeps_holes_and_separate_parts():
    """Two rings of 8 boxes around an empty middle, 10 units apart, one box of the second
    ring noded badly::

        +-+-+-+      +-+-+-+
        | | | |      | | | |
        +-+-+-+      +-+-+-+
        | |   |      | |   |       each ring: a 3 x 3 square less its middle
        +-+-+-+      +-+-+-+       (area 8, one hole of area 1)
        | | | |      | | | |
        +-+-+-+      +-+-+-+

    The union: a MultiPolygon of 2 parts, area 16, each part with one interior ring."""
    ring = [(x, y) for x in range(3) for y in range(3) if (x, y) != (1, 1)]
    boxes = [shapely.box(x, y, x + 1, y + 1) for x, y in ring]
    boxes += [shapely.box(x + 10, y, x + 11, y + 1) for x, y in ring]
    boxes[-1] = shapely.Polygon([(12, 2), (13, 2), (13, 3), (12, 3), (12, 2.5)])
    united = _union(np.array(boxes, dtype=object))
    assert united.geom_type == "MultiPolygon"
    assert len(united.geoms) == 2
    assert united.area == pytest.approx(16.0)
    assert [len(p.interiors) for p in united.geoms] == [1, 1]


def test_pairs_within_the_tolerance():
    """Boxes 1 x 1 at x = 0, 1 (touching), 2.5 (0.5 from the second), 10 (far), and one
    at (0, 3) (2 above the first)::

        [4]
                                      tolerance 0.6: pairs (0,1) 0.0 and (1,2) 0.5
        [0][1] [2]         [3]        tolerance 2.0: also (0,2) 1.5, (0,4) 2.0, (1,4) 2.0

    Distances are between the boxes' nearest edges (the corner of [1] and [4]: the boxes
    (1,0)-(2,1) and (0,3)-(1,4) are 2 apart vertically, 0 horizontally).
    """
    boxes = shapely.box([0, 1, 2.5, 10, 0], [0, 0, 0, 0, 3], [1, 2, 3.5, 11, 1], [1, 1, 1, 1, 4])
    left, right, dist = pairs_within(boxes, 0.6)
    assert sorted(zip(left.tolist(), right.tolist(), dist.tolist(), strict=True)) == [
        (0, 1, 0.0),
        (1, 2, 0.5),
    ]
    left, right, dist = pairs_within(boxes, 2.0)
    got = sorted(zip(left.tolist(), right.tolist(), dist.tolist(), strict=True))
    assert got == [(0, 1, 0.0), (0, 2, 1.5), (0, 4, 2.0), (1, 2, 0.5), (1, 4, 2.0)]
    assert pairs_within(boxes[:1], 2.0)[0].size == 0


def test_pairs_within_match_the_tree_query_in_its_order():
    """On a 30 x 30 grid of 1 x 1 boxes with 0.3 gaps (pitch 1.3), a tolerance of 0.35
    links each box to its 4 edge neighbours and not its diagonal ones (0.3 * sqrt 2 =
    0.42): 2 * 30 * 29 = 1,740 pairs; and they come in the order of the STRtree dwithin
    query (the graph's edges are added in that order)."""
    xs, ys = np.meshgrid(np.arange(30) * 1.3, np.arange(30) * 1.3)
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 1, ys.ravel() + 1)
    left, right, dist = pairs_within(boxes, 0.35)
    assert len(left) == 2 * 30 * 29
    assert np.allclose(dist, 0.3)
    tl, tr = shapely.STRtree(boxes).query(boxes, predicate="dwithin", distance=0.35)
    keep = tl < tr
    assert np.array_equal(left, tl[keep]) and np.array_equal(right, tr[keep])
    links = area_links(boxes, 0.35)
    assert len(links[0]) == 1740 and bool(np.all(links[0] < links[1]))


def test_text_element_is_written_as_given():
    """What a layer renders is kept as text: template syntax in it is not run; line endings
    and one trailing newline as branca's template gave them."""
    assert TextElement("a {{ 7*7 }} {% if 1 %}b{% endif %}\r\nc\n").render() == (
        "a {{ 7*7 }} {% if 1 %}b{% endif %}\nc"
    )
    assert TextElement("x\n\n").render() == "x\n"


def test_a_pcn_name_with_template_syntax_is_shown_as_written(tmp_path):
    """The demo with one PCN renamed ``Evil {{ 7*7 }} PCN``: map.html holds the name as
    written (its tooltip, its label) and never ``Evil 49 PCN``; the map is rendered with
    branca's ``Element`` back in place afterwards."""
    import branca.element

    from geo_pcn import validate
    from geo_pcn.datasets import demo
    from geo_pcn.render.map import write_map

    study = demo()
    config = study.configuration
    renamed = config.rename(config.pcn_codes[0], "Evil {{ 7*7 }} PCN")
    before = branca.element.Element
    page = write_map(validate(study, renamed), tmp_path / "map.html").read_text("utf-8")
    assert "Evil {{ 7*7 }} PCN" in page
    assert "Evil 49 PCN" not in page
    assert branca.element.Element is before
    with text_elements():
        assert branca.element.Element is TextElement
    assert branca.element.Element is before
