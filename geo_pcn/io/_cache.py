"""The parsed-input cache: each input file parsed once, kept as Parquet / GeoParquet.

A reader asks :func:`cached` for its result under a key made of the reader's name and
version (:data:`READER_VERSION`), the options that shape the result, and the **content
fingerprint** (SHA-256 of the bytes) of every file it reads. The bytes are hashed on every
run, so a changed, truncated or replaced file can never be served from the cache, whatever
its name, size or modification time; only the parsing is saved.

Where: ``GEO_PCN_CACHE`` when set (``off`` turns the cache off), else the platform's user
cache folder (``platformdirs.user_cache_dir("geo_pcn")``: ``~/.cache/geo_pcn`` on Linux).
``geo-pcn --no-cache`` (or :func:`caching` ``(False)``) reads every file afresh;
``geo-pcn cache info`` and ``geo-pcn cache clear`` show and empty the folder.

An entry is written to a temporary file and renamed into place, so a killed run leaves no
half entry; an entry that cannot be read is parsed again (and replaced). A folder that
cannot be written is one warning, and the run goes on without the cache. The warnings a
reader gave when it parsed a file are kept with its entry and given again on every hit,
so a run says the same with and without the cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn.errors import GeoPCNWarning

__all__ = [
    "READER_VERSION",
    "cache_dir",
    "cache_entries",
    "cached",
    "caching",
    "clear_cache",
    "file_fingerprint",
    "frame_fingerprint",
]

#: Bumped whenever a cached reader's result changes shape or meaning: older entries are
#: then never read again (``geo-pcn cache clear`` removes them). 4: an Excel cell "NA",
#: "N/A", "NULL" is that text (3 read it as a blank); 3: Excel through calamine; entries of
#: version 2 replayed openpyxl's warnings (unclosed file, default engine).
READER_VERSION = "4"
#: The environment variable naming the cache folder (``off``: no cache).
ENV = "GEO_PCN_CACHE"
_OFF = {"off", "0", "no", "false", "none"}
_META = b"geo_pcn"
#: The sub-folder holding the entries (all that `geo-pcn cache clear` removes).
_ENTRIES = "inputs"

#: Whether the cache is used (``caching``); warned-about folders (one warning each).
_STATE: dict[str, Any] = {"on": True, "warned": set()}


@contextmanager
def caching(on: bool = True) -> Iterator[None]:
    """Use (or, with ``False``, bypass) the cache while inside; restores the state after."""
    before = _STATE["on"]
    _STATE["on"] = bool(on)
    try:
        yield
    finally:
        _STATE["on"] = before


def cache_dir() -> Path | None:
    """The cache folder: ``GEO_PCN_CACHE``, else the platform's user cache folder for
    geo_pcn; ``None`` when ``GEO_PCN_CACHE`` is ``off``."""
    given = os.environ.get(ENV)
    if given is not None:
        if given.strip().lower() in _OFF or not given.strip():
            return None
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("geo_pcn", appauthor=False))


def _active_dir() -> Path | None:
    return cache_dir() if _STATE["on"] else None


def file_fingerprint(path: Path | str) -> str:
    """SHA-256 of the file's bytes (read in blocks): the file's identity in every key."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A fingerprint of a frame's index, columns and values (geometry as WKB), for results
    computed from frames rather than files (a lookup dissolving the areas layer)."""
    import geopandas as gpd
    import shapely

    digest = hashlib.sha256()
    digest.update(repr(list(frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.index.to_series(), index=False).to_numpy())
    for column in frame.columns:
        values = frame[column]
        if isinstance(values, gpd.GeoSeries):
            # the CRS as WKT, as an entry stores it: a frame read back from the cache (its
            # CRS made from that WKT) has the fingerprint of the frame first parsed
            # (``EPSG:27700``), so what is keyed on it is found on the next run
            crs = values.crs
            digest.update(("None" if crs is None else crs.to_wkt()).encode())
            for wkb in shapely.to_wkb(values.to_numpy(), hex=False, include_srid=False):
                digest.update(b"\0" if wkb is None else wkb)
        else:
            digest.update(str(values.dtype).encode())
            digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy())
    return digest.hexdigest()


def _regular(path: Path | str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _key(kind: str, files: Sequence[Path | str], options: Mapping[str, Any]) -> str:
    parts = {
        "version": READER_VERSION,
        "pandas": pd.__version__,
        "kind": kind,
        "files": [[str(Path(f).resolve()), file_fingerprint(f)] for f in files],
        "options": {str(k): repr(v) for k, v in sorted(options.items(), key=lambda kv: str(kv[0]))},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cached(
    kind: str,
    files: Sequence[Path | str],
    options: Mapping[str, Any],
    compute: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """``compute()``'s frame, from the cache when the same reader has parsed the same bytes
    with the same options before; otherwise computed and stored.

    Parameters
    ----------
    kind
        The reader (``"table"``, ``"areas"``, ``"lookup layer"``...): one folder each.
    files
        Every file the result is read from (their bytes are fingerprinted each time).
    options
        Everything else that shapes the result (columns, filters, sheet, level...);
        compared by ``repr``.
    compute
        Reads the files; its errors pass through (never cached).
    """
    folder = _active_dir()
    if folder is None:
        return compute()
    if not all(_regular(f) for f in files):  # missing, a folder, a FIFO: the reader says so
        return compute()
    try:
        key = _key(kind, files, options)
    except OSError:  # a file that cannot be read: the reader says so in its own words
        return compute()
    entry = folder / _ENTRIES / kind.replace(" ", "_") / key[:2] / f"{key}.parquet"
    if entry.is_file():
        hit = _read_entry(entry)
        if hit is not None:
            frame, caught = hit
            for message, category in caught:
                warnings.warn(message, category, stacklevel=3)
            return frame
    record: list = []
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            frame = compute()
    finally:  # the reader's warnings, given as it gave them (also before its error)
        caught = [(str(w.message), w.category) for w in record]
        for message, category in caught:
            warnings.warn(message, category, stacklevel=3)
    # a ResourceWarning (a file left open by a parser, seen when it is collected) is about
    # that process, not the file's data: never replayed from the cache
    kept = [(m, c) for m, c in caught if not issubclass(c, ResourceWarning)]
    _write_entry(entry, frame, kept, folder)
    return frame


def _read_entry(entry: Path) -> tuple[pd.DataFrame, list] | None:
    """An entry's frame and warnings, or ``None`` when it cannot be read (then it is
    parsed again and replaced)."""
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(entry)
        meta = _loads(base64.b64decode(table.schema.metadata[_META]))
        frame = table.to_pandas()
        frame.columns = meta["columns"]
        if meta["geometry"] is not None:
            import geopandas as gpd
            import shapely

            name = meta["columns"][meta["geometry"]]
            frame[name] = shapely.from_wkb(frame[name].to_numpy(dtype=object))
            frame = gpd.GeoDataFrame(frame, geometry=name, crs=meta["crs"])
        frame.index.name = meta["index_name"]
        frame.attrs = meta["attrs"]
        return frame, meta["warnings"]
    except Exception:  # a damaged or foreign entry: parse the file again
        return None


#: warning classes an entry may name (anything else is replayed as a UserWarning)
def _warning_classes() -> dict[str, type]:
    from geo_pcn.errors import GeoPCNWarning

    classes = (GeoPCNWarning, UserWarning, RuntimeWarning, FutureWarning, DeprecationWarning)
    return {c.__name__: c for c in classes}


def _encode(obj: Any) -> Any:
    """Entry metadata as plain JSON (never pickle: a cache folder someone else can write
    must not be a way to run code): dates, tuples, CRSs, warning classes and non-text keys
    tagged."""
    import datetime as dt

    import numpy as np
    import pyproj

    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj)
    if isinstance(obj, dt.date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {"__map__": {k: _encode(v) for k, v in obj.items()}}
        return {"__pairs__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, pyproj.CRS):
        return {"__crs__": obj.to_wkt()}
    if isinstance(obj, type) and issubclass(obj, Warning):
        return {"__warning__": obj.__name__}
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def _decode(obj: Any) -> Any:
    import datetime as dt

    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    (tag, value), = obj.items()
    if tag == "__date__":
        return dt.date.fromisoformat(value)
    if tag == "__tuple__":
        return tuple(_decode(v) for v in value)
    if tag == "__map__":
        return {k: _decode(v) for k, v in value.items()}
    if tag == "__pairs__":
        return {_decode(k): _decode(v) for k, v in value}
    if tag == "__crs__":
        import pyproj

        return pyproj.CRS.from_wkt(value)
    if tag == "__warning__":
        return _warning_classes().get(value, UserWarning)
    raise ValueError(f"unknown tag {tag!r} in a cache entry")


def _dumps(meta: dict) -> bytes:
    return json.dumps(_encode(meta), sort_keys=False).encode("utf-8")


def _loads(data: bytes) -> dict:
    return _decode(json.loads(data.decode("utf-8")))


def _write_entry(entry: Path, frame: pd.DataFrame, caught: list, folder: Path) -> None:
    """Store ``frame`` (its column labels, index name, attrs, CRS and the reader's warnings
    in the file's metadata; geometry as WKB); a folder that cannot be written is one
    warning per folder."""
    import geopandas as gpd

    geo = isinstance(frame, gpd.GeoDataFrame)
    geometry = list(frame.columns).index(frame.geometry.name) if geo else None
    meta = {
        "geometry": geometry,
        "crs": frame.crs if geo else None,
        "columns": list(frame.columns),
        "index_name": frame.index.name,
        "attrs": dict(frame.attrs),
        "warnings": caught,
    }
    store = pd.DataFrame(
        {f"c{i}": frame.iloc[:, i] for i in range(frame.shape[1])}, index=frame.index
    )
    if geo:
        import shapely

        store[f"c{geometry}"] = shapely.to_wkb(frame.geometry.to_numpy(), include_srid=False)
    store.index.name = "_index"
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        entry.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(store, preserve_index=True)
        encoded = base64.b64encode(_dumps(meta))
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: encoded})
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".part")
        os.close(fd)
        try:
            # read whole, never filtered: no column statistics (a third of the write)
            pq.write_table(table, tmp, write_statistics=False)
            os.replace(tmp, entry)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except Exception as exc:  # no space, read-only, a frame Parquet cannot hold...
        if str(folder) not in _STATE["warned"]:
            _STATE["warned"].add(str(folder))
            reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
            warnings.warn(
                f"{folder}: the input cache cannot be written ({reason}); running without "
                f"it (set {ENV} to a writable folder, or {ENV}=off)",
                GeoPCNWarning,
                stacklevel=4,
            )


def cache_entries(folder: Path | None = None) -> dict[str, tuple[int, int]]:
    """Entries and bytes per reader in the cache folder: ``kind -> (entries, bytes)``."""
    folder = cache_dir() if folder is None else folder
    out: dict[str, tuple[int, int]] = {}
    if folder is None or not (folder / _ENTRIES).is_dir():
        return out
    for kind in sorted(p for p in (folder / _ENTRIES).iterdir() if p.is_dir()):
        files = [p for p in kind.rglob("*.parquet") if p.is_file()]
        out[kind.name.replace("_", " ")] = (len(files), sum(p.stat().st_size for p in files))
    return out


def clear_cache(folder: Path | None = None) -> tuple[int, int]:
    """Remove every entry (only the cache's own ``inputs`` sub-folder: the folder itself
    and anything else in it stay); returns (entries, bytes) removed."""
    folder = cache_dir() if folder is None else folder
    entries = cache_entries(folder)
    if folder is None or not (folder / _ENTRIES).is_dir():
        return 0, 0
    shutil.rmtree(folder / _ENTRIES)
    return sum(n for n, _ in entries.values()), sum(b for _, b in entries.values())
