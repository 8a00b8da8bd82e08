"""Agreement between two partitions of the same patients (PCNs and service areas), and
the shares that decide when an area holds part of a PCN."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: A service area "holds" part of a PCN (or a PCN part of an area) from this share up.
MIN_SHARE = 0.05
#: A PCN is "in one service area" when that area holds at least this share of its patients.
ONE_AREA_SHARE = 0.95


def _entropy(weights: np.ndarray, total: float) -> float:
    p = weights[weights > 0] / total
    return float(-(p * np.log(p)).sum())


def partition_scores(contingency: pd.DataFrame | pd.Series | np.ndarray) -> dict[str, float]:
    """Agreement between two partitions of the same items, from their contingency table.

    The items are patients (or km² for area weighting): cell ``(i, j)`` holds how many
    items are in class ``i`` of the first partition (PCNs) and class ``j`` of the second
    (service areas).

    * ``nmi``: normalised mutual information ``I(U; V) / mean(H(U), H(V))`` (arithmetic
      mean, scikit-learn's default); 1 for identical partitions, 0 for independent ones;
      1 when both partitions have a single class.
    * ``ari``: adjusted Rand index (Hubert & Arabie), pair counting with
      ``C(n, 2) = n (n - 1) / 2`` on the (weighted) counts; 1 for identical partitions,
      about 0 for chance agreement, negative below chance. 1 when undefined (both
      partitions trivial), as scikit-learn does.
    * ``vi``: variation of information ``H(U | V) + H(V | U)`` in nats (natural log); 0 for
      identical partitions, at most ``log(n_items)``.

    Parameters
    ----------
    contingency
        A 2-D table (DataFrame or array, rows one partition, columns the other) or a long
        Series indexed by ``(row, column)`` pairs. Weights must be >= 0.

    Returns
    -------
    dict
        ``nmi``, ``ari``, ``vi``, ``mutual_information``, ``entropy_rows``,
        ``entropy_columns`` (nats) and ``n`` (the total weight). NaN scores when empty.

    Examples
    --------
    >>> import math
    >>> s = partition_scores(np.array([[2, 0, 0], [0, 1, 1]]).T)  # [0,0,1,2] vs [0,0,1,1]
    >>> round(s["nmi"], 6), round(s["ari"], 6), round(s["vi"] / math.log(2), 6)
    (0.8, 0.571429, 0.5)
    """
    if isinstance(contingency, pd.Series):
        frame = contingency.reset_index()
        values = frame.iloc[:, -1].to_numpy(dtype=float)
        rows = pd.factorize(frame.iloc[:, 0])[0]
        cols = pd.factorize(frame.iloc[:, 1])[0]
    else:
        table = np.asarray(contingency, dtype=float)
        rows, cols = np.nonzero(table)
        values = table[rows, cols]
    keep = values > 0
    values, rows, cols = values[keep], rows[keep], cols[keep]
    total = float(values.sum())
    if total <= 0:
        nan = float("nan")
        return {"nmi": nan, "ari": nan, "vi": nan, "mutual_information": nan,
                "entropy_rows": nan, "entropy_columns": nan, "n": 0.0}  # fmt: skip
    a = np.bincount(rows, weights=values)
    b = np.bincount(cols, weights=values)
    h_u, h_v = _entropy(a, total), _entropy(b, total)
    mi = float((values / total * np.log(values * total / (a[rows] * b[cols]))).sum())
    mi = max(0.0, min(mi, h_u, h_v))
    mean_h = (h_u + h_v) / 2
    nmi = 1.0 if mean_h == 0 else mi / mean_h

    def comb2(x: np.ndarray | float) -> Any:
        return x * (x - 1) / 2

    index = float(comb2(values).sum())
    sum_a, sum_b = float(comb2(a).sum()), float(comb2(b).sum())
    n_pairs = comb2(total)
    expected = sum_a * sum_b / n_pairs if n_pairs else 0.0
    maximum = (sum_a + sum_b) / 2
    ari = 1.0 if np.isclose(maximum, expected) else (index - expected) / (maximum - expected)
    vi = max(0.0, h_u + h_v - 2 * mi)
    return {
        "nmi": float(min(max(nmi, 0.0), 1.0)),
        "ari": float(ari),
        "vi": float(vi),
        "mutual_information": mi,
        "entropy_rows": h_u,
        "entropy_columns": h_v,
        "n": total,
    }
