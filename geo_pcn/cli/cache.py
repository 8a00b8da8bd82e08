"""``geo-pcn cache info`` and ``geo-pcn cache clear``: the parsed-input cache.

Each input file is parsed once into the cache (:mod:`geo_pcn.io._cache`): Parquet /
GeoParquet keyed by the file's content; ``GEO_PCN_CACHE`` moves it (``off`` turns it off),
``geo-pcn --no-cache`` bypasses it for one run.
"""

from __future__ import annotations

import click

from geo_pcn.io._cache import ENV, cache_dir, cache_entries, clear_cache

__all__ = ["cache"]


def _folder_words() -> str:
    folder = cache_dir()
    if folder is None:
        return f"the input cache is off ({ENV}=off)"
    return str(folder)


@click.group()
def cache() -> None:
    """Show or empty the cache of parsed input files."""


@cache.command("info")
def cache_info() -> None:
    """Where the cache is, and its entries and size per reader."""
    folder = cache_dir()
    click.echo(f"Input cache: {_folder_words()}")
    if folder is None:
        return
    entries = cache_entries(folder)
    n = sum(k for k, _ in entries.values())
    size = sum(b for _, b in entries.values())
    click.echo(f"  {n:,} entr{'y' if n == 1 else 'ies'}, {size / 1e6:,.1f} MB")
    for kind, (k, b) in entries.items():
        click.echo(f"  {kind}: {k:,} ({b / 1e6:,.1f} MB)")


@cache.command("clear")
def cache_clear() -> None:
    """Remove every entry of the cache (the next run parses its files again)."""
    folder = cache_dir()
    if folder is None:
        click.echo(f"Input cache: {_folder_words()}; nothing to clear")
        return
    n, size = clear_cache(folder)
    words = "entry" if n == 1 else "entries"
    click.echo(f"Input cache {folder}: removed {n:,} {words} ({size / 1e6:,.1f} MB)")
