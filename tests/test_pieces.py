"""Contiguity judged on the pieces the map draws (issue 18, items 1 and 2), each on a tiny
hand-drawn study in 1 km boxes whose answer is worked out in its docstring.

A territory is in pieces (its areas joined where they touch or lie within the 250 m
adjacency tolerance); a practice's home piece holds its site; practices are adjacent through
their home pieces only; a footprint's pieces are joined the same way (a point touch joins);
an area in several polygon parts is one area.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from tiny import X0, Y0, write_tiny_study

from geo_pcn import Severity, Study, validate
from geo_pcn.proposal import propose


def _ring(x0, y0, x1, y1):
    return [
        [X0 + 1000 * x, Y0 + 1000 * y]
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    ]


def make_study(folder: Path, areas, practices, registrations, band=(3000, 5000)) -> Study:
    """``areas``: code -> list of boxes (x0, y0, x1, y1) in km (several boxes: one area in
    several polygon parts); ``practices``: (code, PCN, (x, y) of its site in km);
    ``registrations``: (practice, area, patients). Everyone living in an area is registered
    at these practices (population = registrations)."""
    feats = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": f"Area {code}"},
            "geometry": (
                {"type": "Polygon", "coordinates": [_ring(*boxes[0])]}
                if len(boxes) == 1
                else {"type": "MultiPolygon", "coordinates": [[_ring(*b)] for b in boxes]}
            ),
        }
        for code, boxes in areas.items()
    ]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    areas_geojson = json.dumps({"type": "FeatureCollection", "crs": crs, "features": feats})
    place = {
        "type": "FeatureCollection",
        "crs": crs,
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "ALL", "name": "All"},
                "geometry": {"type": "Polygon", "coordinates": [_ring(-5, -5, 20, 20)]},
            }
        ],
    }
    rows = [
        "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE"
    ]
    sites = ["PRACTICE_CODE,EASTING,NORTHING"]
    for i, (code, pcn, (x, y)) in enumerate(practices, 1):
        rows.append(f"{code},{code} SURGERY,AB{i} 1AA,{pcn},{pcn} PCN,01A,QXX")
        sites.append(f"{code},{X0 + 1000 * x},{Y0 + 1000 * y}")
    reg = "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n" + "".join(
        f"{p},{a},{n}\n" for p, a, n in registrations
    )
    totals: dict[str, int] = {}
    for _, a, n in registrations:
        totals[a] = totals.get(a, 0) + n
    population = "area_code,population\n" + "".join(f"{a},{n}\n" for a, n in sorted(totals.items()))
    path = write_tiny_study(
        folder,
        practices_csv="\n".join(rows) + "\n",
        locations_csv="\n".join(sites) + "\n",
        registrations_csv=reg,
        areas_geojson=areas_geojson,
        population_csv=population,
        place_geojson=json.dumps(place),
    )
    path.write_text(
        path.read_text().replace("band = [3000, 5000]", f"band = [{band[0]}, {band[1]}]")
    )
    return Study.from_toml(path)


def contiguity(report):
    return sorted(
        (f.kind, f.severity, f.pcn_code, f.practice_codes)
        for f in report.findings
        if f.check == "contiguity"
    )


FAR_PIECE = dict(
    areas={f"T0{i + 1}": [(i, 0, i + 1, 1)] for i in range(5)},
    registrations=[
        ("A00001", "T01", 1500),
        ("A00002", "T05", 2000),
        ("A00002", "T02", 60),  # a thinly populated piece far from its site
        ("A00003", "T03", 2000),
        ("A00003", "T04", 2000),
    ],
)


def test_a_far_thin_piece_joins_no_one(tmp_path):
    """A00002's site is in T05; it also wins T02 (60 patients, nobody else lives there)::

        T01     T02        T03     T04     T05
        A00001  (A00002)   A00003  A00003  A00002
        U00001             U00002          U00001

    Its home piece is T05; T02 is an outlying piece and joins it to no one. U00001's
    footprint is two pieces, {T01, T02} and {T05}, each holding one practice's home: the
    PCN is not contiguous. A00002 has more patients (2,060 against 1,500), so A00001 is the
    detached group, 3 km from A00002's home (T01 ends at x=1 km, T05 starts at x=4 km).
    """
    study = make_study(
        tmp_path,
        FAR_PIECE["areas"],
        [
            ("A00001", "U00001", (0.5, 0.5)),
            ("A00002", "U00001", (4.5, 0.5)),
            ("A00003", "U00002", (2.5, 0.5)),
        ],
        FAR_PIECE["registrations"],
    )
    report = validate(study)
    terr = report.context.territories
    assert terr.practices.loc["A00002", "n_pieces"] == 2
    assert terr.practices.loc["A00002", "home"] == "site"
    assert terr.home["A00002"].equals(shapely.box(X0 + 4000, Y0, X0 + 5000, Y0 + 1000))
    graph = report.context.graph
    assert not graph.has_edge("A00001", "A00002")
    assert graph.has_edge("A00002", "A00003") and graph.has_edge("A00001", "A00003") is False
    (detached,) = [f for f in report.findings if f.kind == "detached_group"]
    assert (detached.pcn_code, detached.practice_codes, detached.severity) == (
        "U00001",
        ("A00001",),
        Severity.ERROR,
    )
    assert detached.value == 3000.0
    assert detached.details["main_group"] == ["A00002"]


def test_propose_does_not_join_through_a_far_piece(tmp_path):
    """The same map, each practice its own PCN: U00001 = A00001 (1,500) and U00003 = A00002
    (2,060) are below the band (3,000-5,000). Merging them (3,560) would be in the band, but
    they are adjacent only through A00002's far piece T02; A00001's home T01 touches no
    other home, so no contiguous repair can put A00001 with anyone: propose must not merge
    them (the graph it searches has no edge A00001 - A00002)."""
    study = make_study(
        tmp_path,
        FAR_PIECE["areas"],
        [
            ("A00001", "U00001", (0.5, 0.5)),
            ("A00002", "U00003", (4.5, 0.5)),
            ("A00003", "U00002", (2.5, 0.5)),
        ],
        FAR_PIECE["registrations"],
    )
    proposal = propose(study, workers=1, time_limit=30)
    pcn = proposal.configuration.pcn_of
    assert pcn("A00001") != pcn("A00002")
    after = validate(study, proposal.configuration)
    assert not [f for f in after.findings if f.kind == "detached_group"]


def test_footprint_pieces_touching_at_a_point_are_one(tmp_path):
    """U00001's footprint is T01, T05 and T03, which touch only at corners::

        row 1:           T05
        row 0:   T01     T02     T03              T07
                 A00001  A00004  A00002           A00005

    A00001 (home T01) and A00002 (home T03) are 1 km apart: not adjacent. T05's most
    numerous practice is A00005 (150; its site is in T07, 4 km away: T05 is an outlying
    piece), but U00001 has more there (100 + 100), so U00001's footprint holds T05, and its
    three areas are one piece (a point touch joins, as territories within the tolerance
    do). The check joins the two practices through the footprint: contiguous (INFO), no
    detached group and no exclave."""
    areas = {
        "T01": [(0, 0, 1, 1)],
        "T02": [(1, 0, 2, 1)],
        "T03": [(2, 0, 3, 1)],
        "T05": [(1, 1, 2, 2)],
        "T07": [(6, 0, 7, 1)],
    }
    practices = [
        ("A00001", "U00001", (0.5, 0.5)),
        ("A00002", "U00001", (2.5, 0.5)),
        ("A00004", "U00002", (1.5, 0.5)),
        ("A00005", "U00003", (6.5, 0.5)),
    ]
    regs = [
        ("A00001", "T01", 3000),
        ("A00001", "T05", 100),
        ("A00002", "T03", 3000),
        ("A00002", "T05", 100),
        ("A00004", "T02", 3000),
        ("A00005", "T07", 3000),
        ("A00005", "T05", 150),
    ]
    report = validate(make_study(tmp_path, areas, practices, regs, band=(3000, 7000)))
    assert not report.context.graph.has_edge("A00001", "A00002")
    fp = report.context.footprints
    assert sorted(fp.area_pcn[fp.area_pcn == "U00001"].index) == ["T01", "T03", "T05"]
    assert contiguity(report) == [
        ("joined_by_footprint", Severity.INFO, "U00001", ("A00001", "A00002"))
    ]


def test_an_island_part_goes_with_its_area(tmp_path):
    """T02 is one small area in two polygon parts: its mainland (1-2 km) and an island
    400 m south of it (1.2-1.4 km east, 0.6-0.4 km south), touching nothing::

        T01     T02      T03
        A00001  A00002   A00003
                 ▫ (T02's island)

    A00002 wins T02, island and all: one piece, no exclave for U00001 (the island is part
    of an area whose mainland is in the footprint), and T02's residents are placed on its
    largest part (the mainland), never on the island."""
    areas = {
        "T01": [(0, 0, 1, 1)],
        "T02": [(1, 0, 2, 1), (1.2, -0.6, 1.4, -0.4)],
        "T03": [(2, 0, 3, 1)],
    }
    practices = [
        ("A00001", "U00001", (0.5, 0.5)),
        ("A00002", "U00001", (1.5, 0.5)),
        ("A00003", "U00002", (2.5, 0.5)),
    ]
    regs = [("A00001", "T01", 2000), ("A00002", "T02", 2000), ("A00003", "T03", 3000)]
    report = validate(make_study(tmp_path, areas, practices, regs))
    terr = report.context.territories
    assert terr.practices.loc["A00002", "n_pieces"] == 1
    assert contiguity(report) == []
    at = list(terr.study_areas.index).index("T02")
    point = terr.area_points[at]
    assert shapely.contains(shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000), point)
    # the footprint drawn still holds the island
    fp = report.context.footprints.pcns.geometry["U00001"]
    assert shapely.get_num_geometries(fp) == 2
    assert np.isclose(fp.area, 2_000_000 + 200 * 200)


def test_a_footprint_drawn_in_pieces_is_said(tmp_path):
    """A00001 wins T01 and T02 (100 there), so its home piece touches A00002's (T03): the
    practices join up. But U00002 has more in T02 (A00003 90 + A00004 90 = 180 against
    100), so U00001's footprint is T01 and T03, drawn 1 km apart, each holding a home::

        T01       T02        T03       T04
        A00001    (U00002)   A00002    A00003, A00004 (one site)
        U00001               U00001    U00002

    The check says so (WARNING ``footprint_in_pieces``; A00002, 2,000 patients, is 1 km
    from A00001's piece, 3,100); no detached group (the homes join up). U00002's T02 holds
    none of its homes or sites: an exclave of 1 area with its 180 patients, 1 km away."""
    areas = {f"T0{i + 1}": [(i, 0, i + 1, 1)] for i in range(4)}
    practices = [
        ("A00001", "U00001", (0.5, 0.5)),
        ("A00002", "U00001", (2.5, 0.5)),
        ("A00003", "U00002", (3.5, 0.5)),
        ("A00004", "U00002", (3.5, 0.5)),
    ]
    regs = [
        ("A00001", "T01", 3000),
        ("A00001", "T02", 100),
        ("A00002", "T03", 2000),
        ("A00003", "T04", 3000),
        ("A00003", "T02", 90),
        ("A00004", "T04", 1000),
        ("A00004", "T02", 90),
    ]
    report = validate(make_study(tmp_path, areas, practices, regs, band=(1000, 9000)))
    assert report.context.graph.has_edge("A00001", "A00002")
    assert contiguity(report) == [
        ("exclave", Severity.WARNING, "U00002", ()),
        ("footprint_in_pieces", Severity.WARNING, "U00001", ("A00002",)),
    ]
    (split,) = [f for f in report.findings if f.kind == "footprint_in_pieces"]
    assert split.value == 1000.0
    assert split.details["main_group"] == ["A00001"]
    (exclave,) = [f for f in report.findings if f.kind == "exclave"]
    assert (exclave.details["areas"], exclave.value) == (["T02"], 180)
    assert exclave.details["distance_m"] == 1000.0


def _drawn_pieces_with_homes(report, code, members, tol):
    """How many parts of the PCN's drawn footprint (buffered by half the tolerance, so
    pieces within it merge) hold a member's home or site, parts held by one practice
    counted as one: judged on the geometry, not by the piece code. A part holds a home
    when it overlaps the home piece with some area (the home piece's representative point
    may lie in an area another PCN wins), and a site when it contains the site."""
    fp = report.context.footprints.pcns.geometry[code]
    if fp.is_empty:
        return 0
    parts = shapely.get_parts(shapely.buffer(fp, tol / 2))
    home = report.context.territories.home.reindex(list(members)).to_numpy()
    sites = report.study.practices.geometry.reindex(list(members)).to_numpy()
    held = []
    for h, site in zip(home, sites, strict=True):
        mine = set()
        if h is not None and not h.is_empty:
            overlap = shapely.intersection(h, fp)
            if shapely.area(overlap) > 1.0:
                mine |= {i for i, part in enumerate(parts) if shapely.area(part & overlap) > 1.0}
        if site is not None and not site.is_empty and fp.intersects(site):
            mine |= {i for i, part in enumerate(parts) if part.intersects(site)}
        if mine:
            held.append(mine)
    groups: list[set] = []
    for mine in held:  # parts held by one practice are one group
        joined = [g for g in groups if g & mine]
        for g in joined:
            groups.remove(g)
            mine = mine | g
        groups.append(mine)
    return len(groups)


@pytest.mark.real_data
@pytest.mark.slow
def test_every_configuration_propose_returns_is_contiguous_as_drawn(qnc_study_file):
    """Real Staffordshire (QNC, October 2025): whatever answer propose reaches on this
    machine (optimal or not), each PCN it changes passes the contiguity check; a PCN whose
    drawn footprint holds its practices' homes in more than one piece is said by the check
    (``footprint_in_pieces``), and propose draws no PCN in more pieces than it was."""
    study = Study.from_toml(qnc_study_file)
    before = validate(study)
    proposal = propose(study, gap=0.02, time_limit=20)
    after = validate(study, proposal.configuration)
    tol = study.rules.adjacency_tolerance_m
    changed = (set(proposal.changes["to_pcn"]) | set(proposal.changes["from_pcn"])) - {""}
    errors = {
        f.pcn_code
        for f in after.findings
        if f.kind == "detached_group" and f.severity is Severity.ERROR
    }
    assert not errors & changed, errors & changed
    said = {
        f.pcn_code
        for f in after.findings
        if f.kind in ("footprint_in_pieces", "detached_group")  # a detached group is apart too
    }
    for code in changed:
        members = proposal.configuration.members.get(code)
        if not members:
            continue
        drawn = _drawn_pieces_with_homes(after, code, members, tol)
        assert (drawn > 1) == (code in said), (code, drawn)
        old = study.configuration.members.get(code)
        if old:
            assert drawn <= max(1, _drawn_pieces_with_homes(before, code, old, tol)), code


@pytest.mark.real_data
def test_every_pcn_drawn_in_pieces_is_said(qnc_study_file):
    """Real Staffordshire (QNC, October 2025), the configuration as given: for every PCN,
    its drawn footprint holds its practices' homes and sites in more than one piece
    (measured on the geometry) exactly when the check says it is apart
    (``footprint_in_pieces`` or ``detached_group``)."""
    study = Study.from_toml(qnc_study_file)
    report = validate(study)
    tol = study.rules.adjacency_tolerance_m
    said = {
        f.pcn_code for f in report.findings if f.kind in ("footprint_in_pieces", "detached_group")
    }
    drawn = {
        code: _drawn_pieces_with_homes(report, code, members, tol)
        for code, members in study.configuration.members.items()
    }
    assert {code for code, n in drawn.items() if n > 1} == said
    assert said  # QNC has PCNs drawn apart (U56729, U93998 among them)


def test_components_are_those_of_networkx_on_random_graphs():
    """``connected_labels`` (numpy hooking and pointer jumping) gives each node the smallest
    node of its component; networkx's breadth-first components are the independent
    answer, on sparse random graphs with chains, isolated nodes and repeated links."""
    import networkx as nx

    from geo_pcn._spatial import connected_labels

    rng = np.random.default_rng(21)
    for n, m in [(1, 0), (2, 1), (50, 30), (400, 380), (2000, 1500), (3000, 6000)]:
        left = rng.integers(0, n, m)
        right = rng.integers(0, n, m)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(zip(left.tolist(), right.tolist(), strict=True))
        expected = np.empty(n, dtype=np.int64)
        for nodes in nx.connected_components(graph):
            expected[sorted(nodes)] = min(nodes)
        assert connected_labels(left, right, n).tolist() == expected.tolist()
    chain = np.arange(999)  # a long chain, numbered backwards
    assert set(connected_labels(chain[::-1] + 1, chain[::-1], 1000).tolist()) == {0}
