"""Small areas of one census vintage to another: registrations in LSOA 2011 codes against
LSOA 2021 polygons (or the reverse), through the ONS lookup named in the study
(``[areas] lookup``).

Unchanged and merged areas carry their patients over; a split (or complex) area shares its
patients out among its pieces by their resident population (the study's ``[areas]
population``, keyed by the areas layer's codes), equally when no population is given.
Patients are conserved exactly: whole patients, shared by the largest remainder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_pcn.errors import InputError, list_some
from geo_pcn.io._isin import isin
from geo_pcn.io.tables import Source, read_table
from geo_pcn.settings import AREA_CODE, N_PATIENTS, PRACTICE_CODE

__all__ = ["read_area_lookup", "convert_registrations"]

#: An ONS small-area code (OA, LSOA, MSOA; England or Wales).
_SMALL_AREA = r"^[EW]0[012]\d{6}$"


def read_area_lookup(source: Source | str) -> pd.DataFrame:
    """The code columns of a small-area lookup (every column whose values are mostly ONS
    small-area codes), upper-cased; at least two are needed.

    Raises
    ------
    InputError
        Fewer than two columns of small-area codes.
    """
    src = Source.coerce(source)
    raw = read_table(src.path, role="area lookup", header=src.options.get("header"))
    codes = {}
    for column in raw.columns:
        values = raw[column].astype(str).str.strip().str.upper()
        if values.str.match(_SMALL_AREA).mean() > 0.9:
            codes[str(column)] = values.to_numpy(dtype=object)
    if len(codes) < 2:
        raise InputError(
            f"{src.label}: a small-area lookup needs two columns of ONS small-area codes (e.g. "
            f"lsoa11_code and lsoa21_code); the file has {list_some(list(raw.columns), 10)}"
        )
    out = pd.DataFrame(codes)
    out.attrs["label"] = src.label
    return out


def convert_registrations(
    registrations: pd.DataFrame,
    lookup: pd.DataFrame,
    target: pd.Index,
    *,
    population: pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, int | str]]:
    """Registrations re-coded to the small areas in ``target`` (the areas layer).

    Long because: its docstring (parameters, the counts returned, an example) is 31 lines;
    the code, one recipe, is 69.

    Parameters
    ----------
    registrations
        ``practice_code, area_code, n_patients[, area_kind]``.
    lookup
        From :func:`read_area_lookup`: the column holding most of the registrations' codes
        is the source, the one holding most of ``target`` the target.
    target
        The areas layer's codes.
    population
        Residents of the target areas (weights for splits); equal shares without it.

    Returns
    -------
    (DataFrame, dict)
        The registrations (rows of codes the layer already holds, or that the lookup does
        not know, are kept as they are; converted rows summed per practice and area) and
        what happened: ``from``, ``to`` (the lookup's columns), ``n_patients_converted``,
        ``n_patients_split`` (moved through areas with several pieces), ``n_codes``.

    Examples
    --------
    >>> reg = pd.DataFrame({"practice_code": ["A"], "area_code": ["OLD"], "n_patients": [5]})
    >>> lk = pd.DataFrame({"old": ["OLD", "OLD"], "new": ["N1", "N2"]})
    >>> out, info = convert_registrations(reg, lk, pd.Index(["N1", "N2"]),
    ...                                   population=pd.Series({"N1": 1, "N2": 3}))
    >>> out.set_index("area_code")["n_patients"].to_dict(), info["n_patients_split"]
    ({'N1': 1, 'N2': 4}, 5)
    """
    codes = registrations[AREA_CODE].astype(str)
    held = isin(codes, target)
    foreign = pd.Index(codes[~held].unique())
    src = max(lookup.columns, key=lambda c: (np.isin(lookup[c], foreign).sum(), c))
    tgt = max(lookup.columns, key=lambda c: (np.isin(lookup[c], target).sum(), c))
    label = lookup.attrs.get("label", "the area lookup")
    if src == tgt or not np.isin(lookup[src], foreign).any():
        info = {"from": "", "to": str(tgt), "n_patients_converted": 0, "n_patients_split": 0}
        return registrations, {**info, "n_codes": 0, "label": label}
    pairs = lookup[[src, tgt]].drop_duplicates()
    pairs.columns = ["src", "tgt"]
    pairs = pairs[isin(pairs["tgt"], target)]
    weight = (
        population.reindex(pairs["tgt"]).astype("Float64").fillna(0).to_numpy(dtype=float)
        if population is not None
        else np.ones(len(pairs))
    )
    pairs = pairs.assign(w=weight)
    # a source whose pieces have no population at all shares equally
    total_w = pairs.groupby("src")["w"].transform("sum").to_numpy()
    pairs.loc[total_w <= 0, "w"] = 1.0
    pairs["w"] = pairs["w"] / pairs.groupby("src")["w"].transform("sum")
    n_pieces = pairs.groupby("src")["tgt"].transform("size")
    pairs = pairs.assign(split=n_pieces.to_numpy() > 1)

    moving = registrations[~held & isin(codes, pairs["src"])]
    staying = registrations.drop(index=moving.index)
    rows = moving.reset_index(drop=True).reset_index(names="_row")
    joined = rows.merge(pairs, left_on=AREA_CODE, right_on="src", how="inner")
    exact = joined[N_PATIENTS].to_numpy(dtype=float) * joined["w"].to_numpy()
    whole = np.floor(exact + 1e-9).astype("int64")
    joined = joined.assign(_whole=whole, _frac=exact - whole)
    short = joined.groupby("_row")[N_PATIENTS].first() - joined.groupby("_row")["_whole"].sum()
    # largest remainder: the biggest fractions get one more patient (ties: smaller code)
    joined = joined.sort_values(["_row", "_frac", "tgt"], ascending=[True, False, True])
    rank = joined.groupby("_row").cumcount().to_numpy()
    joined["_whole"] += (rank < short.reindex(joined["_row"]).to_numpy()).astype("int64")
    joined = joined.sort_values(["_row", "tgt"])
    converted = joined.assign(**{AREA_CODE: joined["tgt"].to_numpy()})
    keep = [PRACTICE_CODE, AREA_CODE, "_whole"] + (
        ["area_kind"] if "area_kind" in converted else []
    )
    converted = converted[keep].rename(columns={"_whole": N_PATIENTS})
    if "area_kind" in converted:
        converted["area_kind"] = "small_area"
    out = pd.concat([staying, converted], ignore_index=True)
    group = [PRACTICE_CODE, AREA_CODE] + (["area_kind"] if "area_kind" in out else [])
    out = out.groupby(group, as_index=False, sort=False)[N_PATIENTS].sum()
    out[N_PATIENTS] = out[N_PATIENTS].astype("int64")
    if int(out[N_PATIENTS].sum()) != int(registrations[N_PATIENTS].sum()):  # pragma: no cover
        raise AssertionError("patients not conserved through the area lookup")
    split_rows = joined.drop_duplicates("_row")
    info = {
        "from": str(src),
        "to": str(tgt),
        "n_patients_converted": int(moving[N_PATIENTS].sum()),
        "n_patients_split": int(split_rows.loc[split_rows["split"], N_PATIENTS].sum()),
        "n_codes": int(moving[AREA_CODE].nunique()),
        "label": label,
    }
    out.attrs = dict(registrations.attrs)
    return out, info
