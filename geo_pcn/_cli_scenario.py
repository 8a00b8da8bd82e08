"""`geo-pcn` subcommands kept in their own module; they register on :data:`geo_pcn.cli.cli`."""

from __future__ import annotations
