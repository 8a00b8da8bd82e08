"""Constants shared by every stage: CRS, the default size band, canonical column names."""

from __future__ import annotations

#: All geometry is measured in British National Grid.
BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

#: Default PCN list-size band (inclusive), NHS England DES guidance.
DEFAULT_BAND: tuple[int, int] = (30_000, 50_000)

#: The built-in checks, in the order :func:`geo_pcn.validate` runs them (their registry is
#: :data:`geo_pcn.checks.CHECKS`); a study file's ``[rules.exceptions]`` may name these.
CHECK_NAMES: tuple[str, ...] = ("size", "contiguity", "boundaries", "coverage", "alignment")

#: Default distance (metres) within which two practice territories count as adjacent.
DEFAULT_ADJACENCY_TOLERANCE_M = 250.0

#: Bounding box of Great Britain and its islands in British National Grid (metres).
GB_BOUNDS_BNG = (-10_000.0, -10_000.0, 700_000.0, 1_250_000.0)
#: The same as latitude / longitude (degrees): (min_lon, min_lat, max_lon, max_lat).
GB_BOUNDS_LONLAT = (-8.8, 49.8, 2.0, 61.0)

# Canonical column names (NHS words for NHS things).
PRACTICE_CODE = "practice_code"
PRACTICE_NAME = "practice_name"
POSTCODE = "postcode"
PCN_CODE = "pcn_code"
PCN_NAME = "pcn_name"
SUB_ICB_CODE = "sub_icb_code"
SUB_ICB_NAME = "sub_icb_name"
ONS_SUB_ICB_CODE = "ons_sub_icb_code"
ICB_CODE = "icb_code"
ICB_NAME = "icb_name"
ONS_ICB_CODE = "ons_icb_code"
LIST_SIZE = "list_size"
AREA_CODE = "area_code"
AREA_NAME = "area_name"
N_PATIENTS = "n_patients"
POPULATION = "population"
EASTING = "easting"
NORTHING = "northing"
LATITUDE = "latitude"
LONGITUDE = "longitude"
CODE = "code"
NAME = "name"

#: ``locate_method`` of a practice with no known site (no coordinates, no postcode found),
#: placed at the patient-weighted centre of its registered residents: a guess, said so
GUESSED_SITE = "residents' centre"

#: PCN codes/names that mean "in no PCN".
UNALLOCATED_PCN_CODES = frozenset({"", "U", "UNALLOCATED", "NONE", "N/A", "NA", "-"})
