"""Readers that turn real NHS England, ODS, ONS and OS files into canonical tables.

Every reader takes a path or a :class:`Source` (path + explicit ``columns`` + ``where``
filter + ``options``), recognises the format by content, and returns a new frame whose
``attrs`` hold ``path``, ``format`` and ``skipped`` (reason -> rows deliberately left out).
Bad input raises a one-line :class:`~geo_pcn.errors.InputError` (or subclass) naming the
file, the rows/columns/codes and the fix.
"""

from __future__ import annotations

from geo_pcn.io.locations import locate, read_locations
from geo_pcn.io.nhs import (
    AREA_KINDS,
    read_configuration,
    read_list_sizes,
    read_practices,
    read_registrations,
)
from geo_pcn.io.ons import read_areas, read_boundaries, read_population
from geo_pcn.io.postcodes import geocode, read_postcode_lookup
from geo_pcn.io.sites import read_sites
from geo_pcn.io.tables import Source

__all__ = [
    "AREA_KINDS",
    "Source",
    "geocode",
    "locate",
    "read_areas",
    "read_boundaries",
    "read_configuration",
    "read_list_sizes",
    "read_locations",
    "read_population",
    "read_postcode_lookup",
    "read_practices",
    "read_registrations",
    "read_sites",
]
