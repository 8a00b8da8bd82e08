"""The small-area layer as read, before its polygons are checked and projected: a region
study projects, repairs and overlap-checks only the areas in play.

:class:`AreaLayer` holds the file's features as GDAL (or GeoParquet) gives them, in the
file's own CRS, with the codes and names picked as :func:`geo_pcn.io.read_areas` picks them.
Its whole-layer facts (how many areas, their codes) cost no polygon work, so the notes and
the registrations' classes are those of the whole layer; :meth:`AreaLayer.project` then
projects and repairs any rows (each polygon on its own, so a slice holds exactly the
polygons of the whole layer's rows), and :meth:`AreaLayer.check` overlap-checks them.

The features as read are one cache entry (``area features``): a warm run reads them back
without parsing the file, and parses the WKB of the rows it takes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import settings as s
from geo_pcn.io._cache import cached
from geo_pcn.io.ons import (
    _as_areas,
    _boundary_columns,
    _boundary_files,
    _check_coverage,
    _check_degrees,
    _check_features,
    _read_boundaries,
    _read_layer,
    _repair,
    _set_crs,
    _text,
    _to_bng,
    _warn_repaired,
    read_areas,
)
from geo_pcn.io.tables import Source

__all__ = ["AreaLayer"]

#: Metres added around each feature's bounds in BNG, and a share of their size: the bounds
#: of a feature in another CRS (longitude/latitude) are its own bounds' corners projected,
#: and a box's edges are curves in BNG, bowing at most ``L**2 / (8 R)`` off the straight
#: line between its corners (R, the radius of a parallel's image: over 3,600 km in Great
#: Britain; 25 m for a 30 km box at 55 degrees north): 1% of the size holds that for any
#: box under 280 km. The bounds only choose which polygons to project, so they may be wide.
_MARGIN_M, _MARGIN_SHARE = 10.0, 0.01


@dataclass(frozen=True, eq=False)
class AreaLayer:
    """An ``[areas]`` layer's features as read (see the module).

    Attributes
    ----------
    source
        The ``[areas]`` entry.
    features
        One row a feature, in file order: ``code`` and ``name`` as
        :func:`~geo_pcn.io.read_areas` gives them (text, spaces stripped), ``nhs_code``,
        ``wkb`` (the polygon as the file gives it, in its own CRS) and ``x0, y0, x1, y1``
        (bounds in BNG holding the projected polygon). ``attrs``: ``crs`` (the layer's,
        the study file's ``crs`` when the file has none), ``file_crs``, ``format``,
        ``columns`` (the file's columns read) and ``sliceable``.
    """

    source: Source
    features: pd.DataFrame

    @classmethod
    def read(cls, source: Source) -> AreaLayer:
        """Read the layer, pick its columns and check its features (or read all that back
        from the cache when its bytes were read before: no polygon is parsed then)."""
        src = Source.coerce(source)
        features = cached(
            "area features", _boundary_files(src), {"source": src}, lambda: _features(src)
        )
        return cls(source=src, features=features)

    @property
    def codes(self) -> np.ndarray:
        return self.features["code"].to_numpy(dtype=object)

    @property
    def sliceable(self) -> bool:
        """Whether rows can be taken one by one: no ``where`` filter, features to read, and
        every code once (a code given twice is dissolved, or refused, by :meth:`whole`)."""
        return bool(self.features.attrs["sliceable"])

    def whole(self) -> gpd.GeoDataFrame:
        """Every area, as :func:`~geo_pcn.io.read_areas` gives them (its cache entry; the
        file is parsed again only for a layer with a ``where`` filter or a code twice)."""
        src = self.source
        info = self.features.attrs
        if not info["sliceable"]:
            return read_areas(src)
        options = {"source": src, "level": "areas", "check_coverage": None}
        gdf = cached(
            "boundaries",
            _boundary_files(src),
            options,
            lambda: _read_boundaries(src, level="areas", check_coverage=None, layer=self._raw()),
        )
        return _as_areas(gdf)

    def _raw(self) -> gpd.GeoDataFrame:
        """The features as the file gives them: its columns read, polygons in its CRS."""
        info = self.features.attrs
        raw = gpd.GeoDataFrame(
            {column: self.features[key].to_numpy() for key, column in info["columns"].items()},
            geometry=shapely.from_wkb(self.features["wkb"].to_numpy(dtype=object)),
            crs=info["file_crs"],
        )
        raw.attrs["format"] = info["format"]
        return raw

    def table(self) -> pd.DataFrame:
        """``area_code, area_name`` of every feature, in file order (no polygon read), with
        the ``attrs`` :func:`~geo_pcn.io.read_areas` gives (path, format, skipped, columns)."""
        out = pd.DataFrame(
            {
                s.AREA_CODE: self.features["code"].to_numpy(dtype=object),
                s.AREA_NAME: self.features["name"].to_numpy(dtype=object),
            }
        )
        info = self.features.attrs
        out.attrs = {
            "path": str(self.source.path),
            "format": info["format"],
            "skipped": {},
            "columns": dict(info["columns"]),
        }
        return out

    @property
    def bounds_bng(self) -> np.ndarray:
        """``(n, 4)`` bounds in BNG holding each feature's projected polygon: they choose
        which rows to project."""
        return self.features[["x0", "y0", "x1", "y1"]].to_numpy(dtype=float)

    @cached_property
    def _bounds_tree(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.box(*self.bounds_bng.T))

    def holding(self, points: np.ndarray) -> np.ndarray:
        """Rows whose bounds hold one of ``points`` (BNG): every row whose polygon could
        hold one (sorted)."""
        if not len(points):
            return np.array([], dtype=np.intp)
        return np.unique(self._bounds_tree.query(points, predicate="intersects")[1])

    def around(self, rows: np.ndarray, distance: float) -> np.ndarray:
        """``rows`` and every row whose bounds come within ``distance`` of theirs: every row
        whose polygon could be within ``distance`` of theirs (sorted)."""
        if not len(rows):
            return np.array([], dtype=np.intp)
        x0, y0, x1, y1 = self.bounds_bng[rows].T
        boxes = shapely.box(x0 - distance, y0 - distance, x1 + distance, y1 + distance)
        hit = self._bounds_tree.query(boxes, predicate="intersects")[1]
        return np.union1d(rows, hit).astype(np.intp)

    def project(self, rows: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
        """The polygons of ``rows`` (positions in the file) in BNG, 2D and repaired, and
        ``row -> "code (reason)"`` for each repaired one (:meth:`check` warns)."""
        codes = self.codes[rows]
        wkb = self.features["wkb"].to_numpy(dtype=object)[rows]
        located = gpd.GeoSeries(shapely.from_wkb(wkb), crs=self.features.attrs["crs"])
        geoms = _to_bng(located, codes, self.source.label)
        valid = shapely.is_valid(geoms)
        geoms, repaired = _repair(geoms, codes, self.source.label)
        return geoms, dict(zip(np.asarray(rows)[~valid].tolist(), repaired, strict=True))

    def check(self, rows: np.ndarray, geoms: np.ndarray, repaired: dict[int, str]) -> None:
        """One warning naming the repaired polygons (in file order), then refuse overlaps
        among the polygons of ``rows``, as the whole layer's read does."""
        label = self.source.label
        _warn_repaired([repaired[r] for r in sorted(repaired)], label)
        _check_coverage(geoms, self.codes[rows], label, level="areas")


def _features(src: Source) -> pd.DataFrame:
    """:meth:`AreaLayer.read` without the cache: the layer read, its code, name and NHS
    code columns picked, every feature checked (a code, a polygon), the CRS set and the
    bounds of each feature in BNG worked out."""
    raw = _read_layer(src, "areas")
    columns = ["code", "name", "nhs_code", "wkb", "x0", "y0", "x1", "y1"]
    attrs = {"format": raw.attrs.get("format", "OGR"), "sliceable": False}
    if len(raw) == 0 or src.where:  # read whole, as read_areas reads it
        out = pd.DataFrame({c: [] for c in columns})
        out.attrs = attrs
        return out
    frame = pd.DataFrame(raw.drop(columns=raw.geometry.name))
    keys = ("code", "name", "nhs_code")
    picked = _boundary_columns(frame, dict(src.columns), keys, "areas", src.label)
    text = {k: _text(frame[picked[k]]).to_numpy(dtype=object) for k in picked}
    blank = np.full(len(frame), "", dtype=object)
    codes = text["code"]
    geoms = np.asarray(raw.geometry.values, dtype=object)
    table = pd.DataFrame({"code": codes}, index=frame.index)
    _check_features(table, geoms, codes, picked, src.label)
    located = _set_crs(raw, src)
    _check_degrees(located, src.label)
    bounds = _bounds_bng(geoms, located.crs)
    out = pd.DataFrame(
        {
            "code": codes,
            "name": text.get("name", blank),
            "nhs_code": text.get("nhs_code", blank),
            "wkb": shapely.to_wkb(geoms),
            "x0": bounds[:, 0],
            "y0": bounds[:, 1],
            "x1": bounds[:, 2],
            "y1": bounds[:, 3],
        }
    )
    out.attrs = {
        **attrs,
        "sliceable": not pd.Series(codes).str.upper().duplicated().any(),
        "crs": located.crs,
        "file_crs": raw.crs,
        "columns": {k: str(v) for k, v in picked.items()},
    }
    return out


def _bounds_bng(geoms: np.ndarray, crs) -> np.ndarray:
    """``(n, 4)`` bounds in BNG holding each polygon of ``geoms`` (in ``crs``) projected:
    its own bounds' corners projected, with a margin (:data:`_MARGIN_M`)."""
    bounds = shapely.bounds(geoms)
    if crs.equals(s.BNG):
        return bounds
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs, s.BNG, always_xy=True)
    xs = bounds[:, [0, 2, 2, 0]]  # the corners: south-west, south-east, north-east...
    ys = bounds[:, [1, 1, 3, 3]]
    ex, ey = transformer.transform(xs.ravel(), ys.ravel())
    ex, ey = np.reshape(ex, xs.shape), np.reshape(ey, ys.shape)
    out = np.column_stack([ex.min(axis=1), ey.min(axis=1), ex.max(axis=1), ey.max(axis=1)])
    size = np.maximum(out[:, 2] - out[:, 0], out[:, 3] - out[:, 1])
    pad = _MARGIN_M + _MARGIN_SHARE * size
    out[:, :2] -= pad[:, None]
    out[:, 2:] += pad[:, None]
    return out
