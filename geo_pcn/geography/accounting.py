"""Every resident accounted for: the residents of the areas given, by where they are
registered and where they live (issue 18, item 5).

Two views of one computation, both for a configuration's footprints:

* :func:`area_status` gives **every** small area of the areas layer its *status*: in a PCN
  footprint, served by a practice in no PCN, served from outside (in the study's region),
  a hole (in the study area, in no footprint), nobody registered, or left out of the
  region, with *why* it was left out, and its residents registered at the study's PCN
  practices, at its practices in no PCN and at practices outside the study.
* :func:`account_residents` adds those up: one table whose rows (the statuses) add up to
  the residents of the areas given exactly, column by column; the study's patients who live
  in no area of the layer (residence unknown, Wales...); the areas left out of the region
  with residents of the study's practices, named with who serves them and why; and the
  population estimate against the registrations (a difference between two estimates, net
  and area by area: not people without a GP).

"Practices outside the study" are the practices that are not the study's (the other
practices of a national registrations file, or, with the study's registrations only, the
population less the study's registered residents). "The region" is the study area and
the areas of it served from outside (:attr:`~geo_pcn.geography.Territories.region`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_pcn._spatial import polygon_of, present
from geo_pcn.geography._codes import positions
from geo_pcn.geography._pieces import largest_part_points
from geo_pcn.geography.territories import _units_layer
from geo_pcn.settings import AREA_CODE, N_PATIENTS, POPULATION, PRACTICE_CODE

__all__ = ["STATUS_WORDS", "area_status", "account_residents", "RESIDENCE_WORDS"]

#: status -> words, in the order of the residents table.
STATUS_WORDS = {
    "pcn_footprint": "in a PCN footprint",
    "practice_in_no_pcn": "served by a practice in no PCN",
    "served_from_outside": "served from outside, in the region",
    "hole": "in the study area, in no footprint (hole)",
    "nobody_registered": "nobody registered",
    "left_out": "left out of the region",
}

#: Rows of the residents table: (key, words); ``left_out`` is shown in two rows.
_ROWS = {
    "pcn_footprint": "in PCN footprints",
    "practice_in_no_pcn": "in areas a practice in no PCN serves (in no footprint)",
    "served_from_outside": "in areas of the region served from outside",
    "hole": "in holes (the study area, in no footprint)",
    "nobody_registered": "in areas where nobody is registered",
    "left_out": "in areas left out of the region, where the study's practices have residents",
    "beyond_region": "in areas left out of the region, where none of the study's practices "
    "has residents",
}

#: The study's patients who live in no small area of the layer, by kind of residence code.
RESIDENCE_WORDS = {
    "outside_layer": "in English small areas the areas layer does not hold",
    "unknown": "of unknown residence (NO2011, CLOSED, EMPTY...)",
    "wales": "in Wales",
    "scotland": "in Scotland",
    "northern_ireland": "in Northern Ireland",
    "crown_dependencies": "in the Crown dependencies",
}


def area_status(study, footprints) -> pd.DataFrame | None:
    """Every small area of the areas layer with its status and residents.

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study`.
    footprints
        The configuration's :class:`~geo_pcn.geography.Footprints`.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by ``area_code`` in the layer's order: ``n_pcn`` / ``n_no_pcn`` (residents
        registered at the study's practices in a PCN / in no PCN), ``n_outside`` (at
        practices outside the study, or the population less the study's registered
        residents), ``in_region``, ``status`` (a key of :data:`STATUS_WORDS`) and ``why``
        (for an area left out of the region). ``None`` without registrations and areas.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> from geo_pcn.geography import build_footprints
    >>> study = demo()
    >>> table = area_status(study, build_footprints(study))
    >>> len(table) == len(study.areas), table["status"].value_counts().to_dict()
    (True, {'pcn_footprint': 293, 'practice_in_no_pcn': 5, 'served_from_outside': 2})
    """
    terr = footprints.territories
    if terr.areas is None or terr._soft is None:
        return None
    table = terr.areas
    codes = table.index
    soft = terr._soft
    # summed over positions (each distinct practice and area code looked up once), not by
    # mapping and grouping 866,000 rows of text
    assignments = footprints.configuration.assignments
    at, practice, practices = terr.soft_positions  # the rows' codes looked up once a study
    in_pcn = np.append(assignments.to_numpy(dtype=object) != "", False)
    in_pcn = np.append(in_pcn[positions(assignments.index, practices)], False)[practice]
    mine = in_pcn & (at >= 0)
    n_pcn = np.bincount(
        at[mine], weights=soft[N_PATIENTS].to_numpy()[mine].astype(float), minlength=len(codes)
    )
    out = pd.DataFrame(index=codes)
    out["n_pcn"] = n_pcn.astype("int64")
    out["n_no_pcn"] = table["n_study"].to_numpy(dtype="int64") - out["n_pcn"].to_numpy()
    out["n_outside"] = table["n_outside"].to_numpy(dtype="int64")
    out["in_region"] = table["in_region"].to_numpy(dtype=bool)
    served = table["served_from"].to_numpy(dtype=object)
    in_fp = _flag(codes, footprints.area_pcn)
    no_pcn = _flag(codes, footprints.area_unassigned)
    n_in = table["n_study"].to_numpy(dtype="int64")
    nobody = (n_in == 0) & (out["n_outside"].to_numpy() == 0)
    status = np.select(
        [in_fp, no_pcn, served == "outside", nobody & (served == "study"), served == "study"],
        ["pcn_footprint", "practice_in_no_pcn", "served_from_outside", "nobody_registered", "hole"],
        default="left_out",
    )
    # served from outside but not in the region (an edge area): left out of the region
    outside_region = (status == "served_from_outside") & ~out["in_region"].to_numpy()
    status = np.where(outside_region, "left_out", status)
    out["status"] = status
    out["why"] = _why_left_out(study, terr, out, n_in)
    return out


def _flag(codes: pd.Index, series: pd.Series | None) -> np.ndarray:
    if series is None or not len(series):
        return np.zeros(len(codes), dtype=bool)
    return pd.Index(series.index).get_indexer(codes) >= 0


def _why_left_out(study, terr, out: pd.DataFrame, n_in: np.ndarray) -> np.ndarray:
    """Why each area left out of the region is left out (``""`` for the others)."""
    left = out["status"].to_numpy() == "left_out"
    why = np.full(len(out), "", dtype=object)
    if not left.any():
        return why
    n_out = out["n_outside"].to_numpy()
    none_here = left & (n_in == 0)
    why[none_here] = "none of the study's practices has residents there"
    why[none_here & (n_out == 0)] = "nobody is registered there"
    rest = left & (n_in > 0)
    if not rest.any():
        return why
    if study.rules.study_boundary:
        name = study.rules.study_boundary
        why[rest] = f"outside the {_LAYER_WORDS.get(name, name)} layer given as study_boundary"
        return why
    if terr.basis == "none":
        why[rest] = "not in the boundary areas that hold the study's practices"
        return why
    layer, units = _units(study)
    where = np.full(len(out), "", dtype=object)
    if units is not None:
        at = np.flatnonzero(rest)
        geoms = study.areas.geometry.reindex(out.index[at]).to_numpy()
        unit = polygon_of(units, largest_part_points(geoms))
        label = (units["code"].astype(str) + " " + units["name"].fillna("").astype(str)).str.strip()
        named = np.where(unit >= 0, label.to_numpy(dtype=object)[np.maximum(unit, 0)], "")
        where[at] = named
    whose = (
        "are registered at practices outside the study"
        if terr.basis == "registrations"
        else "are not registered at the study's practices (population less its registrations)"
    )
    total = n_in + n_out
    text = (
        "most of its residents ("
        + pd.Series(n_out).map("{:,}".format).to_numpy(dtype=object)
        + " of "
        + pd.Series(total).map("{:,}".format).to_numpy(dtype=object)
        + f") {whose}, and it lies "
    )
    unit_text = np.where(
        where != "",
        f"in {layer} " + where.astype(str) + ", most of whose residents are served from outside",
        "outside the study area's outline, in no boundary area the study's practices mostly serve",
    )
    why[rest] = (text + unit_text)[rest]
    return why


def _units(study):
    """The finest boundary layer holding the study's practices (as the study area is
    decided) and its polygons, or ``(None, None)``."""
    name = _units_layer(study)
    if name is None:
        return None, None
    frame = study.boundaries[name]
    frame = frame[present(frame.geometry)].reset_index(drop=True)
    return _LAYER_WORDS.get(name, name.replace("_", " ")), frame


_LAYER_WORDS = {"sub_icb": "sub-ICB", "icb": "ICB", "ccg": "CCG", "lad": "district"}


def residents_fixed(study, footprints, *, max_named: int = 10) -> dict | None:
    """The parts of the residents table no configuration changes: the areas left out of
    the region (:func:`account_residents`' ``left_out``) and the population estimate
    against the registrations (``population``). Work them out once per study and pass them
    to :func:`account_residents` as ``fixed`` (a move then re-counts only the rest)."""
    status = area_status(study, footprints)
    if status is None:
        return None
    terr = footprints.territories
    return {
        "left_out": _left_out(study, terr, status, max_named),
        "population": _population(study, terr, status),
    }


def _status_rows(status: pd.DataFrame, terr) -> list[dict]:
    """The residents table's rows: one per area status with areas (the region's, then a
    subtotal and the areas left out of it when any are), then all the areas given."""
    known = terr.basis != "none"
    key = status["status"].to_numpy(dtype=object).copy()
    key[(key == "left_out") & (terr.areas["n_study"].to_numpy() == 0)] = "beyond_region"
    frame = status[["n_pcn", "n_no_pcn", "n_outside"]].assign(key=key)
    sums = frame.groupby("key", sort=False).agg(
        n_areas=("n_pcn", "size"),
        n_pcn=("n_pcn", "sum"),
        n_no_pcn=("n_no_pcn", "sum"),
        n_outside=("n_outside", "sum"),
    )
    region = [k for k in _ROWS if k not in ("left_out", "beyond_region")]
    rows = [_row(k, _ROWS[k], sums.loc[k], known) for k in region if k in sums.index]
    beyond = [k for k in ("left_out", "beyond_region") if k in sums.index]
    if beyond:  # a subtotal for the region, then the areas left out of it
        subtotal = sums.reindex(region).dropna().sum(numeric_only=True)
        rows.append(_row("region", "the study's region", subtotal, known))
        rows += [_row(k, _ROWS[k], sums.loc[k], known) for k in beyond]
    rows.append(_row("areas_given", "all the areas given", sums.sum(numeric_only=True), known))
    return rows


def _not_in_areas(study, configuration) -> list[dict]:
    """The study's patients living in no area of the layer, by kind (unknown residence,
    Wales...), at practices in a PCN and in none."""
    reg = study.registrations
    away = reg[(reg["area_kind"] != "small_area") & (reg[N_PATIENTS] > 0)]
    in_pcn = away[PRACTICE_CODE].map(configuration.assignments).fillna("") != ""
    not_in = []
    kinds = away.groupby("area_kind", sort=True)
    for kind, group in kinds:
        pcn = int(group.loc[in_pcn[group.index], N_PATIENTS].sum())
        not_in.append(
            {
                "where": str(kind),
                "label": RESIDENCE_WORDS.get(str(kind), str(kind).replace("_", " ")),
                "at_pcn_practices": pcn,
                "at_practices_in_no_pcn": int(group[N_PATIENTS].sum()) - pcn,
            }
        )
    return not_in


def account_residents(
    study, footprints, *, max_named: int = 10, fixed: dict | None = None
) -> dict | None:
    """The residents table: the residents of the areas given, registered anywhere, by
    where they live (the area's status) and where they are registered (the study's PCN
    practices, its practices in no PCN, practices outside the study); every row and
    column adds up exactly.

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study`.
    footprints
        The configuration's :class:`~geo_pcn.geography.Footprints`.
    max_named
        Name at most this many of the areas left out of the region (most residents
        first); all of them are in ``areas.csv``.
    fixed
        :func:`residents_fixed` of the same study (``max_named`` alike), when already
        worked out: the left-out areas and the population are taken from it.

    Returns
    -------
    dict or None
        ``basis``, ``rows`` (one per status with areas, then ``areas_given``: ``where``,
        ``label``, ``n_areas``, ``at_pcn_practices``, ``at_practices_in_no_pcn``,
        ``at_outside_practices`` and ``all``; the last two ``None`` when nothing says who
        else lives there), ``not_in_areas`` (the study's patients living in no area of the
        layer, by kind), ``left_out`` (``n_areas``, ``n_residents`` and the named areas)
        and ``population`` (the estimate against the registrations, net and area by area);
        in a region study also ``not_read``, the other practices' registrations away from
        its areas in play (:attr:`~geo_pcn.study.Study.registrations_not_read`).
        ``None`` without registrations and areas.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> from geo_pcn.geography import build_footprints
    >>> study = demo()
    >>> table = account_residents(study, build_footprints(study))
    >>> given = table["rows"][-1]
    >>> given["all"] == sum(r["all"] for r in table["rows"][:-1])
    True
    """
    status = area_status(study, footprints)
    if status is None:
        return None
    terr = footprints.territories
    rows = _status_rows(status, terr)
    not_in = _not_in_areas(study, footprints.configuration)
    if fixed is None:
        fixed = {
            "left_out": _left_out(study, terr, status, max_named),
            "population": _population(study, terr, status),
        }
    table = {
        "basis": terr.basis,
        "rows": rows,
        "not_in_areas": not_in,
        "left_out": fixed["left_out"],
        "population": fixed["population"],
    }
    if getattr(study, "registrations_not_read", None):  # a region study: the rest, counted
        table["not_read"] = dict(study.registrations_not_read)
    return table


def _row(where: str, label: str, r, known: bool) -> dict:
    pcn, no_pcn, outside = int(r["n_pcn"]), int(r["n_no_pcn"]), int(r["n_outside"])
    return {
        "where": where,
        "label": label,
        "n_areas": int(r["n_areas"]),
        "at_pcn_practices": pcn,
        "at_practices_in_no_pcn": no_pcn,
        "at_outside_practices": outside if known else None,
        "all": pcn + no_pcn + outside if known else None,
    }


def _left_out(study, terr, status: pd.DataFrame, max_named: int) -> dict:
    """The areas left out of the region where the study's practices have residents: how
    many, their residents, and the largest named with who serves them and why."""
    n_study = terr.areas["n_study"].to_numpy()
    mask = (status["status"].to_numpy() == "left_out") & (n_study > 0)
    hit = status[mask]
    total = hit["n_pcn"] + hit["n_no_pcn"] + hit["n_outside"]
    mine = (hit["n_pcn"] + hit["n_no_pcn"]).to_numpy()
    order = pd.DataFrame({"n": mine, "all": total.to_numpy(), "code": hit.index})
    order = order.sort_values(["n", "all", "code"], ascending=[False, False, True], kind="stable")
    layer, units = _units(study)
    lies_in = {}
    if units is not None and len(order):
        codes = order["code"].head(max_named).to_numpy(dtype=object)
        geoms = study.areas.geometry.reindex(codes).to_numpy()
        at = polygon_of(units, largest_part_points(geoms))
        lies_in = {
            c: f"{layer} {units['code'].iat[i]} {units['name'].fillna('').iat[i]}".strip()
            for c, i in zip(codes, at, strict=True)
            if i >= 0
        }
    names = study.areas.get("area_name")
    named = []
    for code in order["code"].head(max_named):
        row = hit.loc[code]
        named.append(
            {
                "area_code": str(code),
                "area_name": "" if names is None or pd.isna(names.get(code)) else str(names[code]),
                "residents": int(row["n_pcn"] + row["n_no_pcn"] + row["n_outside"]),
                "at_study_practices": int(row["n_pcn"] + row["n_no_pcn"]),
                "at_outside_practices": int(row["n_outside"]),
                "lies_in": lies_in.get(code, ""),
                "served_by": _served_by(terr, code),
                "why": str(row["why"]),
            }
        )
    return {
        "n_areas": int(mask.sum()),
        "n_residents": int(total.sum()),
        "n_at_study_practices": int((hit["n_pcn"] + hit["n_no_pcn"]).sum()),
        "named": named,
    }


def _served_by(terr, code: str, top: int = 3) -> list[dict]:
    """The practices outside the study with most residents in the area ``code``."""
    res = terr.outside_residents
    if res is None:
        return []
    here = res[res[AREA_CODE].to_numpy(dtype=object) == code]
    by = here.groupby(PRACTICE_CODE)[N_PATIENTS].sum().reset_index()
    by = by.sort_values([N_PATIENTS, PRACTICE_CODE], ascending=[False, True]).head(top)
    return [
        {"practice_code": str(p), "patients": int(n)}
        for p, n in zip(by[PRACTICE_CODE], by[N_PATIENTS], strict=True)
    ]


def _population(study, terr, status: pd.DataFrame) -> dict | None:
    """The population estimate of the areas given against everyone registered there: net,
    and summed over the areas where the estimate is the higher (registrations basis with a
    population only)."""
    pop = terr.areas[POPULATION]
    if terr.basis != "registrations" or not pop.notna().any():
        return None
    has = pop.notna().to_numpy()
    registered = (status["n_pcn"] + status["n_no_pcn"] + status["n_outside"]).to_numpy()
    diff = pop.to_numpy(dtype=float)[has] - registered[has]
    return {
        "n_areas": int(has.sum()),
        "population": int(pop[has].sum()),
        "registered": int(registered[has].sum()),
        "net": int(round(diff.sum())),
        "n_areas_population_higher": int((diff > 0).sum()),
        "population_higher_by": int(round(diff[diff > 0].sum())),
        "n_areas_registrations_higher": int((diff < 0).sum()),
        "registrations_higher_by": int(round(-diff[diff < 0].sum())),
    }
