"""Helpers shared by the areas and the sites alignments: PCN list sizes, the polygon a
point lies in, the largest and second shares of a contingency table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_pcn._spatial import polygon_of
from geo_pcn.alignment.scores import MIN_SHARE
from geo_pcn.configuration import Configuration
from geo_pcn.settings import (
    LIST_SIZE,
)


def _pcn_sizes(study, configuration: Configuration) -> pd.Series:
    assign = configuration.assignments
    assign = assign[assign != ""]
    sizes = study.practices[LIST_SIZE].fillna(0).astype("int64").reindex(assign.index).fillna(0)
    out = sizes.groupby(assign).sum().astype("int64")
    return out.reindex(list(configuration.pcn_codes), fill_value=0)


def _point_in(polygons, points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Code of the polygon each point lies in (``""`` when none; on overlaps the smallest
    code)."""
    at = polygon_of(polygons, points, keys=codes)
    out = np.full(len(at), "", dtype=object)
    out[at >= 0] = np.asarray(codes, dtype=object)[at[at >= 0]]
    return out


def _shares(table: pd.DataFrame, by: str, other: str) -> pd.DataFrame:
    """Per ``by``: total ``n``, the largest and second ``other`` and their shares, how many
    ``other`` have any weight and >= MIN_SHARE."""
    columns = ["n", "first", "pct_first", "second", "pct_second", "n_any", "n_5pct"]
    if table.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("first", "second") else float) for c in columns}
        )
    ordered = table.sort_values([by, "n", other], ascending=[True, False, True])
    total = ordered.groupby(by, sort=False)["n"].sum()
    rank = ordered.groupby(by, sort=False).cumcount()
    share = ordered["n"] / ordered[by].map(total)
    first = ordered[rank == 0].set_index(by)
    second = ordered[rank == 1].set_index(by)
    out = pd.DataFrame({"n": total})
    out["first"] = first[other]
    out["pct_first"] = (100 * first["n"] / total).round(1)
    out["second"] = second[other].reindex(out.index)
    out["pct_second"] = (100 * second["n"] / total).reindex(out.index).round(1)
    out["n_any"] = ordered.groupby(by, sort=False).size()
    out["n_5pct"] = (share >= MIN_SHARE).groupby(ordered[by], sort=False).sum()
    return out
