"""The hand-made design of the synthetic demo region: PCNs, practices, places, teams.

Coordinates are British National Grid metres. Each PCN lists its practices as
``(easting, northing, attractiveness)``; attractiveness scales how strongly a practice
draws registrations (a big health centre draws from further away). The planted problems
are marked with ``role`` so the generator can check that each one comes out of the data
exactly as intended (see ``generate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PCNSpec", "PCN_SPECS", "PLACES", "SUB_ICBS", "TEAMS", "SITES"]


@dataclass(frozen=True)
class PCNSpec:
    """One PCN of the design (``key`` ``"U"`` holds the unallocated practice)."""

    key: str
    name: str
    target: int  # wanted list size (registrations incl. pseudo rows)
    place: str  # place key, or "" when the PCN straddles places (per practice below)
    team: str  # community team key, or "" when split (per practice below)
    practices: tuple[tuple[float, float, float], ...]
    practice_names: tuple[str, ...]
    practice_places: tuple[str, ...] = ()
    practice_teams: tuple[str, ...] = ()
    roles: tuple[str, ...] = field(default=())


# Places (local authority districts) and sub-ICB locations.
PLACES = {
    "P1": ("Z07000001", "Brackenford (synthetic)", "SA"),
    "P2": ("Z07000002", "Thornmere and Uplands (synthetic)", "SA"),
    "P3": ("Z07000003", "Stallingford and Kelsham (synthetic)", "SB"),
}
SUB_ICBS = {
    "SA": ("Z38000001", "ZZA", "NHS Demo Vale ICB - ZZA (synthetic)"),
    "SB": ("Z38000002", "ZZB", "NHS Demo Vale ICB - ZZB (synthetic)"),
}
TEAMS = {
    "T1": ("CT01", "Brackenford North and Central Community Team (synthetic)"),
    "T2": ("CT02", "Brackenford West and South Community Team (synthetic)"),
    "T3": ("CT03", "Thornmere, Uplands and Mid Vale Community Team (synthetic)"),
    "T4": ("CT04", "Stallingford Community Team (synthetic)"),
    "T5": ("CT05", "Kelsham and Southern Vale Community Team (synthetic)"),
}

# A table reads better than one value per line here.
# fmt: off
PCN_SPECS: tuple[PCNSpec, ...] = (
    PCNSpec(
        "A1", "BRACKENFORD CENTRAL PCN (SYNTHETIC)", 62_000, "P1", "T1",
        (
            (446_700, 267_300, 1.0), (447_500, 267_600, 1.0), (447_900, 266_700, 1.0),
            (447_200, 266_200, 1.0), (446_300, 266_500, 1.0), (446_100, 267_700, 1.0),
            (447_000, 268_200, 1.0), (448_300, 267_900, 1.0),
        ),
        ("MARKET SQUARE SURGERY", "CHURCH STREET MEDICAL CENTRE", "STATION ROAD SURGERY",
         "THE HIGH STREET PRACTICE", "CASTLE GATE SURGERY", "WESTGATE MEDICAL PRACTICE",
         "NORTHGATE HEALTH CENTRE", "ABBEY FIELDS SURGERY"),
        roles=("above_band",),
    ),
    PCNSpec(
        "A2", "BRACKENFORD NORTH PCN (SYNTHETIC)", 33_000, "P1", "T1",
        (
            (446_200, 270_000, 1.0), (447_600, 270_300, 1.0), (445_000, 269_200, 1.0),
            (447_000, 271_700, 1.0), (443_400, 270_300, 1.0),
        ),
        ("NORTHFIELD SURGERY", "HILLTOP MEDICAL PRACTICE", "BEACON LANE SURGERY",
         "MOORSIDE HEALTH CENTRE", "HEATHCOTE SURGERY"),
    ),
    PCNSpec(
        "A3", "BRACKENFORD WEST PCN (SYNTHETIC)", 37_000, "P1", "T2",
        (
            (443_900, 267_000, 1.25), (443_900, 267_000, 0.8), (442_700, 265_700, 1.0),
            (444_500, 265_300, 1.0), (442_300, 268_200, 1.0),
        ),
        ("WESTBROOK HEALTH CENTRE", "WESTBROOK FAMILY PRACTICE", "ELM TREE SURGERY",
         "ORCHARD MEDICAL CENTRE", "KNOLL FARM SURGERY"),
        roles=("co_located",),
    ),
    PCNSpec(
        "A4", "BRACKENFORD SOUTH PCN (SYNTHETIC)", 46_000, "P1", "T2",
        (
            (446_800, 264_200, 1.0), (448_400, 264_600, 1.0), (445_400, 263_600, 1.0),
            (447_600, 262_700, 1.0), (449_300, 263_100, 1.0),
        ),
        ("SOUTHWAY SURGERY", "MILL LANE MEDICAL PRACTICE", "BRIDGE END SURGERY",
         "RIVERSIDE HEALTH CENTRE", "WHARF ROAD SURGERY"),
    ),
    PCNSpec(
        "U", "Unallocated", 5_000, "P1", "T1",
        ((449_300, 269_300, 0.9),),
        ("FOXHOLES SURGERY",),
        roles=("unallocated",),
    ),
    PCNSpec(
        "A5", "BRACKENFORD EAST PCN (SYNTHETIC)", 34_000, "P1", "",
        (
            (449_400, 267_300, 1.1), (450_200, 266_000, 1.2), (451_500, 268_200, 1.0),
            (452_300, 266_500, 1.0),
        ),
        ("EASTFIELD SURGERY", "GREEN LANE MEDICAL PRACTICE", "LARKHILL SURGERY",
         "PARKSIDE MEDICAL CENTRE"),
        practice_teams=("T1", "T1", "T3", "T3"),
        roles=("split_across_teams",),
    ),
    PCNSpec(
        "M", "MID VALE PCN (SYNTHETIC)", 38_000, "", "T3",
        (
            (453_800, 267_200, 1.0), (454_200, 264_600, 1.0), (457_300, 266_700, 1.0),
            (457_200, 263_900, 1.0),
        ),
        ("OAKWOOD SURGERY", "FERNHILL MEDICAL PRACTICE", "ASHLEY GREEN SURGERY",
         "CROSSWAYS HEALTH CENTRE"),
        practice_places=("P1", "P1", "P2", "P2"),
        roles=("crosses_place",),
    ),
    PCNSpec(
        "B1", "THORNMERE PCN (SYNTHETIC)", 48_000, "P2", "T3",
        (
            (462_700, 268_700, 1.0), (463_500, 269_300, 1.0), (463_700, 268_200, 1.0),
            (462_300, 269_900, 1.0), (461_000, 268_500, 1.0),
        ),
        ("THORNMERE HEALTH CENTRE", "KINGS ROAD SURGERY", "MEADOWBANK SURGERY",
         "POUND HILL PRACTICE", "WILLOW BROOK SURGERY"),
    ),
    PCNSpec(
        "B2", "THORNMERE EAST PCN (SYNTHETIC)", 25_000, "P2", "T3",
        ((465_400, 267_800, 1.0), (464_700, 266_100, 1.0), (466_300, 269_300, 1.3)),
        ("EASTMERE SURGERY", "LOWER GREEN MEDICAL PRACTICE", "HOLLY BANK SURGERY"),
        roles=("below_band",),
    ),
    PCNSpec(
        "UP", "UPLANDS RURAL PCN (SYNTHETIC)", 26_000, "P2", "T3",
        ((452_800, 272_300, 1.0), (457_000, 272_400, 1.0), (460_800, 273_000, 1.0)),
        ("HIGH MOOR SURGERY", "FELLSIDE MEDICAL PRACTICE", "UPPER VALE SURGERY"),
        roles=("below_band_exempt",),
    ),
    PCNSpec(
        "S1", "STALLINGFORD NORTH PCN (SYNTHETIC)", 37_000, "P3", "T4",
        (
            (449_300, 256_500, 1.0), (450_800, 256_300, 1.0), (447_800, 256_400, 1.0),
            (450_000, 257_600, 1.0), (449_600, 253_400, 0.75),
        ),
        ("STALLINGFORD MEDICAL CENTRE", "NORTH STREET SURGERY", "PRIORY ROAD SURGERY",
         "FERRY LANE PRACTICE", "SOUTHBROOK SURGERY"),
        roles=("split", "exclave"),
    ),
    PCNSpec(
        "S2", "STALLINGFORD SOUTH PCN (SYNTHETIC)", 44_000, "P3", "T4",
        (
            (449_500, 254_900, 1.0), (447_900, 254_300, 1.0), (451_200, 253_400, 1.0),
            (449_900, 252_500, 1.0), (445_200, 255_200, 1.0),
        ),
        ("VICTORIA ROAD SURGERY", "WESTLEIGH MEDICAL PRACTICE", "HOLMWOOD SURGERY",
         "SOUTHFIELDS HEALTH CENTRE", "LITTLE STALLING SURGERY"),
    ),
    PCNSpec(
        "K", "KELSHAM PCN (SYNTHETIC)", 34_000, "P3", "T5",
        ((463_800, 253_900, 1.4),),
        ("KELSHAM HEALTH CENTRE",),
        roles=("single_practice",),
    ),
    PCNSpec(
        "SV", "SOUTHERN VALE PCN (SYNTHETIC)", 36_000, "P3", "T5",
        (
            (455_400, 253_700, 1.0), (456_700, 255_200, 1.0), (459_700, 257_900, 1.0),
            (459_400, 252_200, 1.0), (453_700, 255_800, 1.0),
        ),
        ("ELMSTEAD SURGERY", "RIVERMEAD PRACTICE", "BARROW HILL SURGERY",
         "CHALKPIT LANE SURGERY", "WOODBRIDGE MEDICAL PRACTICE"),
        roles=("sub_icb_mismatch",),  # RIVERMEAD PRACTICE is recorded in the other sub-ICB
    ),
)
# fmt: on
#: (spec key, practice index) of the practice recorded in the wrong sub-ICB.
MISRECORDED = ("SV", 1)
#: (spec key, practice index) of the practice sitting inside another PCN.
DETACHED = ("S1", 4)

# Community sites: (name, pcn key, where) — "where" is the PCN whose footprint holds the
# site; one site (the planted one) declares a PCN it does not sit in.
SITES = (
    ("Brackenford Central Clinic (synthetic)", "A1", "A1"),
    ("Northfield Community Hub (synthetic)", "A2", "A2"),
    ("Westbrook Nursing Base (synthetic)", "A3", "A3"),
    ("Southway Clinic (synthetic)", "A4", "A4"),
    ("Mid Vale Community Hub (synthetic)", "M", "M"),
    ("Thornmere Clinic (synthetic)", "B1", "B1"),
    ("Thornmere East Nursing Base (synthetic)", "B2", "B1"),
    ("Uplands Community Hub (synthetic)", "UP", "UP"),
    ("Stallingford Clinic (synthetic)", "S1", "S1"),
    ("Kelsham Community Hospital (synthetic)", "K", "K"),
    ("Southern Vale Clinic (synthetic)", "SV", "SV"),
)
