"""The tiny hand-drawn study used across the tests (import it: ``from tiny import ...``)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# -- a tiny hand-drawn study ------------------------------------------------------------
#
#   northing (km above 300 000)
#    2 +------+------+------+------+
#      | T05  | T06  | T07  | T08  |      place WEST = T01 T02 T05 T06
#    1 +------+------+------+------+      place EAST = T03 T04 T07 T08
#      | T01  | T02  | T03  | T04  |
#    0 +------+------+------+------+
#      0      1      2      3      4   easting (km above 400 000)
#
#   practices (sites at the centre of the box named):
#     A00001 in T01, A00002 in T02  -> PCN U00001 "WEST PCN"
#     A00003 in T03, A00004 in T04  -> PCN U00002 "EAST PCN"
#     A00005 at the same site as A00004 -> PCN U00002
X0, Y0 = 400_000, 300_000

TINY_PRACTICES = """PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE
A00001,WEST ONE SURGERY,AB1 1AA,U00001,WEST PCN,01A,QXX
A00002,WEST TWO SURGERY,AB1 2AA,U00001,WEST PCN,01A,QXX
A00003,EAST THREE SURGERY,AB1 3AA,U00002,EAST PCN,01A,QXX
A00004,EAST FOUR SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXX
A00005,EAST FIVE SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXX
"""

TINY_LOCATIONS = "PRACTICE_CODE,EASTING,NORTHING\n" + "".join(
    f"A0000{i},{X0 + 500 + 1000 * col},{Y0 + 500}\n"
    for i, col in ((1, 0), (2, 1), (3, 2), (4, 3), (5, 3))
)

TINY_REGISTRATIONS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,1000\nA00001,T05,900\nA00001,CLOSED,5\n"
    "A00002,T02,1100\nA00002,T06,800\nA00002,EMPTY,3\n"
    "A00003,T03,1200\nA00003,T07,700\nA00003,W01000001,2\n"
    "A00004,T04,1300\nA00004,T08,600\n"
    "A00005,T04,400\nA00005,T08,450\n"
)


#: Residents of each area: exactly those registered at the tiny practices (nobody is
#: registered elsewhere, so every area is the study's and nothing is served from outside).
TINY_POPULATION = "area_code,population\n" + "".join(
    f"{code},{n}\n"
    for code, n in {
        "T01": 1000,
        "T02": 1100,
        "T03": 1200,
        "T04": 1700,
        "T05": 900,
        "T06": 800,
        "T07": 700,
        "T08": 1050,
    }.items()
)


def population_of(registrations_csv: str) -> str:
    """A population file whose areas hold exactly the residents the registrations name
    (nobody registered elsewhere), for tests that swap the registrations."""
    totals: dict[str, int] = {}
    for line in registrations_csv.strip().splitlines()[1:]:
        _, area, n = line.split(",")
        if area.startswith("T"):
            totals[area] = totals.get(area, 0) + int(n)
    return "area_code,population\n" + "".join(f"{a},{n}\n" for a, n in sorted(totals.items()))


def box_features(cells: dict[str, tuple[int, int]], props: dict[str, dict] | None = None) -> str:
    """GeoJSON (EPSG:27700) of 1 km boxes; ``cells`` maps code -> (column, row)."""
    feats = []
    for code, (col, row) in cells.items():
        x, y = X0 + 1000 * col, Y0 + 1000 * row
        ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": f"Area {code}", **(props or {}).get(code, {})},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
            "features": feats,
        }
    )


TINY_CELLS = {f"T0{i + 1}": (i % 4, i // 4) for i in range(8)}


def union_box(code: str, cols: range, rows: range = range(2)) -> str:
    """One feature covering whole columns of the tiny grid."""

    x1, x2 = X0 + 1000 * cols.start, X0 + 1000 * cols.stop
    y1, y2 = Y0 + 1000 * rows.start, Y0 + 1000 * rows.stop
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code.title()},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]],
        },
    }


def feature_collection(features: list[dict], crs: bool = True) -> str:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    return json.dumps(doc)


TINY_TOML = """name = "Tiny test study"
[practices]
file = "practices.csv"
locations = "locations.csv"
[registrations]
file = "registrations.csv"
[areas]
file = "areas.geojson"
population = "population.csv"
[boundaries]
place = "place.geojson"
[rules]
band = [3000, 5000]
"""


def write_tiny_study(
    folder: Path, *, codes: str = "ods", shuffle: int | None = None, **overrides: str
) -> Path:
    """Write the tiny study into ``folder``; ``overrides`` replace files by name
    (``practices_csv=...``, ``study_toml=...``). Returns the study file path.

    ``codes`` names a style of :data:`CODE_STYLES` in which the practice, PCN and area codes
    are written (overrides included); ``shuffle`` is a seed: the rows of every CSV and the
    features of every GeoJSON file are put in a random order (see :class:`TinyVariant`)."""
    files = {
        "practices.csv": TINY_PRACTICES,
        "locations.csv": TINY_LOCATIONS,
        "registrations.csv": TINY_REGISTRATIONS,
        "areas.geojson": box_features(TINY_CELLS),
        "population.csv": TINY_POPULATION,
        "place.geojson": feature_collection(
            [union_box("WEST", range(0, 2)), union_box("EAST", range(2, 4))]
        ),
        "study.toml": TINY_TOML,
    }
    for key, value in overrides.items():
        name = key[::-1].replace("_", ".", 1)[::-1]
        files[name] = value
    style = CODE_STYLES[codes]
    rng = random.Random(shuffle)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        if text is None:
            continue
        if name.endswith((".csv", ".geojson")):
            text = _write_codes(text, style, geojson=name.endswith(".geojson"))
            if shuffle is not None:
                text = _shuffled(text, rng, geojson=name.endswith(".geojson"))
        elif name.endswith(".toml"):
            text = TINY_CODE.sub(lambda m: style.read(m.group(0)), text)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "study.toml"


# -- the same study written other ways (libpysal parametrises its graphs over id types and
# shuffled input; here: how codes are written and the order of every file's rows) -------------

#: The codes of the tiny study (and of the extra practices some tests add): practices
#: A0000n / B0000n, PCNs U0000n, small areas T0n.
TINY_CODE = re.compile(r"\b(?:[ABU]0000\d|T0\d)\b")
WHOLE_FIELD_CODE = re.compile(rf'(?:^|(?<=[,"])){TINY_CODE.pattern}(?=[,"]|$)', re.MULTILINE)


@dataclass(frozen=True)
class CodeStyle:
    """How a tiny code is written in the input files, and what the results must call it."""

    written: Callable[[str], str]
    read: Callable[[str], str]
    #: GeoJSON codes written as JSON numbers ("code": 3001), not strings
    numbers_in_geojson: bool = False
    #: only codes that are a whole CSV field or JSON string (not those inside names)
    whole_fields: bool = False


def _digits(prefixes: dict[str, str]) -> Callable[[str], str]:
    return lambda code: prefixes[code[0]] + code[-1]


_NUMERIC = _digits({"A": "100", "B": "400", "U": "200", "T": "300"})
_ZEROS = _digits({"A": "0010", "B": "0040", "U": "0020", "T": "0030"})

#: Code styles: ODS-like as drawn; numeric-looking strings (which a CSV reader must not
#: turn into numbers); leading zeros (which it must not drop); numbers in the GeoJSON;
#: codes padded with spaces (trimmed on reading); lower case (upper-cased on reading).
CODE_STYLES: dict[str, CodeStyle] = {
    "ods": CodeStyle(str, str),
    "numeric": CodeStyle(_NUMERIC, _NUMERIC),
    "zeros": CodeStyle(_ZEROS, _ZEROS),
    "json_numbers": CodeStyle(_NUMERIC, _NUMERIC, numbers_in_geojson=True),
    "padded": CodeStyle(lambda code: f" {code} ", str, whole_fields=True),
    "lower": CodeStyle(str.lower, str),
}


def _write_codes(text: str, style: CodeStyle, *, geojson: bool) -> str:
    pattern = WHOLE_FIELD_CODE if style.whole_fields else TINY_CODE
    text = pattern.sub(lambda m: style.written(m.group(0)), text)
    if style.numbers_in_geojson and geojson:
        text = re.sub(r'"code": "(\d+)"', r'"code": \1', text)
    return text


def _shuffled(text: str, rng: random.Random, *, geojson: bool) -> str:
    if geojson:
        doc = json.loads(text)
        rng.shuffle(doc["features"])
        return json.dumps(doc)
    header, *rows = text.strip("\n").split("\n")
    rng.shuffle(rows)
    return "\n".join([header, *rows]) + "\n"


@dataclass(frozen=True)
class TinyVariant:
    """The tiny study written another way: codes in a style of :data:`CODE_STYLES` and,
    with a ``shuffle`` seed, the rows of every input file in a random order. Whatever the
    variant, validate() must give the same answers, with the codes read as :meth:`code`
    says."""

    codes: str = "ods"
    shuffle: int | None = None

    def __str__(self) -> str:
        return self.codes + ("" if self.shuffle is None else f"-shuffled{self.shuffle}")

    def write(self, folder: Path, **overrides: str) -> Path:
        """:func:`write_tiny_study` in this variant (overrides use the drawn codes)."""
        return write_tiny_study(folder, codes=self.codes, shuffle=self.shuffle, **overrides)

    def code(self, code: str) -> str:
        """What the results call the drawn code ``code`` (``"A00001"`` -> ``"1001"``...);
        every tiny code in a longer string is translated (``"EAST PCN (U00002)"``)."""
        return TINY_CODE.sub(lambda m: CODE_STYLES[self.codes].read(m.group(0)), code)

    def codes_of(self, value):
        """:meth:`code` applied through dicts, lists and tuples (keys and values)."""
        if isinstance(value, str):
            return self.code(value)
        if isinstance(value, dict):
            return {self.codes_of(k): self.codes_of(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.codes_of(v) for v in value)
        return value


#: The variants the ``tiny`` fixture runs a test in.
TINY_VARIANTS = [
    TinyVariant(),
    TinyVariant(shuffle=1),
    TinyVariant("numeric", shuffle=2),
    TinyVariant("zeros", shuffle=3),
    TinyVariant("json_numbers"),
    TinyVariant("padded", shuffle=4),
    TinyVariant("lower", shuffle=5),
]


@pytest.fixture(params=TINY_VARIANTS, ids=str)
def tiny(request: pytest.FixtureRequest) -> TinyVariant:
    """The tiny study's writer in each of :data:`TINY_VARIANTS` (a test that takes it runs
    once per variant and states its answers through ``tiny.code(...)``)."""
    return request.param
