"""What aligning a community layer gives: :class:`AreaAlignment`, :class:`SiteAlignment`,
and every layer's in an :class:`Alignment`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo_pcn.settings import (
    PCN_CODE,
)


@dataclass(frozen=True, eq=False)
class AreaAlignment:
    """How a community ``areas`` layer lines up with the PCN footprints.

    Attributes
    ----------
    layer
        The community layer's name.
    weight
        ``"patients"`` (registrations) or ``"km2"`` (area overlap, voronoi footprints).
    contingency
        Long table ``pcn_code, area_code, n`` (``n`` in ``weight`` units): the PCN's
        patients living in the service area (or km² of its footprint there). Only pairs
        with ``n > 0``.
    footprint
        Long table ``pcn_code, area_code, n``: the PCN's *footprint* in each service
        area, weighted by registered residents (all study practices) or km².
    pcns
        One row per PCN: ``n`` (patients living in the layer's areas), ``n_outside``
        (in none of them), the dominant and second service areas and their shares
        (``pct_`` are percentages), ``n_areas`` (any patients) and ``n_areas_5pct``,
        ``in_one_area`` (dominant >= 95 %), footprint shares and ``split``.
    areas
        One row per service area that concerns the study (its representative point is in
        the study boundary, or it holds patients or footprint): ``n``, ``n_pcns`` (any
        patients), ``n_pcns_5pct``,
        dominant PCN and its share, ``docked_pcn_codes`` (PCNs whose dominant area it is),
        ``cut_pcn_codes`` (split PCNs whose footprint it cuts), ``why_no_pcn`` (why an area
        that hosts no PCN hosts none: see :func:`_why_no_pcn`); ``declared_pcn_code`` and
        ``pct_declared_pcn`` (its share of the area) when the layer has a ``pcn_code``.
    actions
        PCN/area pairs that do not fit the docking and hold >= 5 % of the PCN's patients:
        ``pcn_code, area_code, n, pct, docked_area_code, action``.
    summary
        Whole-study figures (see :meth:`to_dict`).
    small_areas
        Registrations method: ``area_code -> service area code`` of every small area of
        the study (``""`` when in none); ``None`` for area weighting.
    """

    layer: str
    weight: str
    contingency: pd.DataFrame
    footprint: pd.DataFrame
    pcns: pd.DataFrame
    areas: pd.DataFrame
    actions: pd.DataFrame
    summary: dict[str, Any]
    small_areas: pd.Series | None = None
    kind: str = "areas"

    @property
    def docking(self) -> pd.Series:
        """``pcn_code -> area_code``: each PCN docked to its dominant service area."""
        d = self.pcns.set_index(PCN_CODE)["dominant_area_code"]
        return d[d != ""]

    @property
    def split_pcns(self) -> pd.DataFrame:
        """The PCNs whose footprint the service-area lines cut."""
        return self.pcns[self.pcns["split"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``kind, weight, summary, pcns, areas, actions``."""
        return {
            "kind": self.kind,
            "weight": self.weight,
            "summary": _plain(self.summary),
            "pcns": _records(self.pcns),
            "areas": _records(self.areas),
            "actions": _records(self.actions),
        }


@dataclass(frozen=True, eq=False)
class SiteAlignment:
    """How a community ``sites`` layer lines up with the PCN footprints.

    Attributes
    ----------
    layer
        The community layer's name.
    sites
        One row per site (located or not): ``code, name, postcode, declared_pcn_code,
        located, locate_method, footprint_pcn_code`` (the footprint it lies in),
        ``distance_to_declared_m`` (0 inside; NaN when no declared PCN, unknown PCN or
        not located), ``outside_declared`` and ``declared_pcn_known``.
    pcns
        One row per PCN: ``list_size``, ``n_sites`` (in its footprint), ``sites_per_10k``,
        ``n_declared_sites``, ``n_declared_outside``, practices' nearest-site distance
        (``max_/median_practice_to_site_m``).
    practices
        One row per located practice: ``practice_code, pcn_code, nearest_site_code,
        distance_m, site_guessed`` (the distance is from a guessed site: the practice was
        placed at its registered residents' centre; the summary's
        ``practices_site_guessed`` names them).
    summary
        Counts (see :meth:`to_dict`).
    """

    layer: str
    sites: pd.DataFrame
    pcns: pd.DataFrame
    practices: pd.DataFrame
    summary: dict[str, Any]
    kind: str = "sites"

    @property
    def not_located(self) -> pd.DataFrame:
        """Sites that could not be placed (listed, never dropped)."""
        return self.sites[~self.sites["located"]]

    @property
    def outside_declared(self) -> pd.DataFrame:
        """Sites lying outside the footprint of the PCN they declare."""
        return self.sites[self.sites["outside_declared"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``kind, summary, pcns, sites_outside_declared, not_located,
        practices``."""
        cols = ["code", "name", "postcode", "declared_pcn_code", "footprint_pcn_code"]
        return {
            "kind": self.kind,
            "summary": _plain(self.summary),
            "pcns": _records(self.pcns),
            "sites_outside_declared": _records(
                self.outside_declared[[*cols, "distance_to_declared_m"]]
            ),
            "not_located": _records(self.not_located[["code", "name", "postcode"]]),
            "practices": _records(self.practices),
        }


@dataclass(frozen=True, eq=False)
class Alignment:
    """Every community layer of a study against one configuration's PCN footprints.

    Attributes
    ----------
    layers
        ``name -> AreaAlignment | SiteAlignment``, in study-file order.
    """

    layers: dict[str, AreaAlignment | SiteAlignment]

    def pcn_table(self) -> pd.DataFrame:
        """Per PCN per layer (long: a ``layer`` and ``kind`` column first)."""
        frames = [
            r.pcns.assign(layer=name, kind=r.kind, weight=getattr(r, "weight", ""))[
                ["layer", "kind", "weight", *r.pcns.columns]
            ].convert_dtypes()
            for name, r in self.layers.items()
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def area_table(self) -> pd.DataFrame:
        """Per service area of every ``areas`` layer (a ``layer`` column first)."""
        frames = [
            r.areas.assign(layer=name, weight=r.weight)[
                ["layer", "weight", *r.areas.columns]
            ].convert_dtypes()
            for name, r in self.layers.items()
            if isinstance(r, AreaAlignment)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        """``layer -> dict`` (see the layers' ``to_dict``)."""
        return {name: r.to_dict() for name, r in self.layers.items()}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k} ({v.kind})" for k, v in self.layers.items())
        return f"<Alignment: {parts or 'no community layers'}>"


def _plain(summary: dict[str, Any]) -> dict[str, Any]:
    """NaN figures as ``None`` (valid JSON)."""
    return {
        k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in summary.items()
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_dict(orient="records")
