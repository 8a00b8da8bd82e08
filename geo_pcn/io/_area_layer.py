"""The small-area layer as read, before its polygons are checked and projected: a region
study projects, repairs and overlap-checks only the areas in play.

:class:`AreaLayer` holds the file's features as GDAL (or GeoParquet) gives them, in the
file's own CRS, with the codes and names picked as :func:`geo_pcn.io.read_areas` picks them.
Its whole-layer facts (how many areas, their codes) cost no polygon work, so the notes and
the registrations' classes are those of the whole layer; :meth:`AreaLayer.project` then
projects and repairs any rows (each polygon on its own, so a slice holds exactly the
polygons of the whole layer's rows), and :meth:`AreaLayer.check` overlap-checks them.

The features as read are one cache entry (``area layer``): a warm run reads them back
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
    raw
        The features as the file gives them (its own CRS; attribute columns as read).
    codes, names
        Each feature's code and name as :func:`~geo_pcn.io.read_areas` gives them (text,
        spaces stripped), in file order.
    """

    source: Source
    raw: gpd.GeoDataFrame
    codes: np.ndarray
    names: np.ndarray

    @classmethod
    def read(cls, source: Source) -> AreaLayer:
        """Read the layer (from the cache when its bytes were read before) and pick its
        code and name columns; a layer with a ``where`` filter is only read here (its
        columns and features are checked by :meth:`whole`, as :func:`read_areas` does)."""
        src = Source.coerce(source)
        raw = cached(
            "area layer",
            _boundary_files(src),
            {"source": src},
            lambda: _read_layer(src, "areas"),
        )
        if len(raw) == 0 or src.where:
            empty = np.array([], dtype=object)
            return cls(source=src, raw=raw, codes=empty, names=empty)
        frame = pd.DataFrame(raw.drop(columns=raw.geometry.name))
        picked = _boundary_columns(frame, dict(src.columns), ("code", "name"), "areas", src.label)
        codes = _text(frame[picked["code"]]).to_numpy(dtype=object)
        names = (
            _text(frame[picked["name"]]).to_numpy(dtype=object)
            if "name" in picked
            else np.full(len(frame), "", dtype=object)
        )
        table = pd.DataFrame({"code": codes}, index=frame.index)
        _check_features(
            table, np.asarray(raw.geometry.values, dtype=object), codes, picked, src.label
        )
        return cls(source=src, raw=raw, codes=codes, names=names)

    @cached_property
    def sliceable(self) -> bool:
        """Whether rows can be taken one by one: no ``where`` filter, features to read, and
        every code once (a code given twice is dissolved, or refused, by :meth:`whole`)."""
        if self.source.where or not len(self.codes):
            return False
        upper = pd.Series(self.codes).str.upper()
        return not upper.duplicated().any()

    def whole(self) -> gpd.GeoDataFrame:
        """Every area, as :func:`~geo_pcn.io.read_areas` gives them (its cache entry; the
        file is not parsed again)."""
        src = self.source
        options = {"source": src, "level": "areas", "check_coverage": None}
        gdf = cached(
            "boundaries",
            _boundary_files(src),
            options,
            lambda: _read_boundaries(src, level="areas", check_coverage=None, layer=self.raw),
        )
        return _as_areas(gdf)

    def table(self) -> pd.DataFrame:
        """``area_code, area_name`` of every feature, in file order (no polygon read)."""
        out = pd.DataFrame({s.AREA_CODE: self.codes, s.AREA_NAME: self.names})
        out.attrs = self.attrs
        return out

    @property
    def attrs(self) -> dict:
        """The ``attrs`` :func:`~geo_pcn.io.read_areas` gives (path, format, skipped)."""
        src = self.source
        frame = pd.DataFrame(self.raw.drop(columns=self.raw.geometry.name))
        picked = _boundary_columns(
            frame, dict(src.columns), ("code", "name", "nhs_code"), "areas", src.label
        )
        return {
            "path": str(src.path),
            "format": self.raw.attrs.get("format", "OGR"),
            "skipped": {},
            "columns": {k: str(v) for k, v in picked.items()},
        }

    @cached_property
    def _located(self) -> gpd.GeoSeries:
        """The features' geometries with the layer's CRS (the study file's ``crs`` when
        the file has none), checked for degrees given as metres."""
        raw = _set_crs(self.raw, self.source)
        _check_degrees(raw, self.source.label)
        return raw.geometry

    @cached_property
    def bounds_bng(self) -> np.ndarray:
        """``(n, 4)`` bounds in BNG holding each feature's projected polygon (its own bounds'
        corners projected, with a margin): they choose which rows to project."""
        geoms = self._located
        bounds = shapely.bounds(np.asarray(geoms.values, dtype=object))
        if geoms.crs.equals(s.BNG):
            return bounds
        from pyproj import Transformer

        transformer = Transformer.from_crs(geoms.crs, s.BNG, always_xy=True)
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
        geoms = _to_bng(self._located.iloc[rows], codes, self.source.label)
        valid = shapely.is_valid(geoms)
        geoms, repaired = _repair(geoms, codes, self.source.label)
        return geoms, dict(zip(np.asarray(rows)[~valid].tolist(), repaired, strict=True))

    def check(self, rows: np.ndarray, geoms: np.ndarray, repaired: dict[int, str]) -> None:
        """One warning naming the repaired polygons (in file order), then refuse overlaps
        among the polygons of ``rows``, as the whole layer's read does."""
        label = self.source.label
        _warn_repaired([repaired[r] for r in sorted(repaired)], label)
        _check_coverage(geoms, self.codes[rows], label, level="areas")
