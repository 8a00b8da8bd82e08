"""What the checks see of one configuration: the study, its geography and the footprints.

A :class:`Context` joins a study, its :class:`~geo_pcn.geography.Geography` (built once per
study) and one configuration, and derives the configuration's PCN footprints and list
sizes once. Contexts and reports are cached on the configuration itself (like GerryChain's
``Partition`` holds its updaters' results): a scenario step finds its parent's and updates
from it (:func:`~geo_pcn.geography.footprints.update_footprints`) instead of dissolving
every footprint again. Nothing is kept in a module-level table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.geography import (
    Footprints,
    Geography,
    Territories,
    build_footprints,
    geography_of,
    update_footprints,
)
from geo_pcn.progress import stage

__all__ = ["Context", "get_context", "remember_report", "report_of"]

#: attribute of a Configuration that holds what was derived for it (context, report)
_ATTR = "_geo_pcn_results"
#: how many generations of parents a new configuration looks through for footprints
_MAX_GENERATIONS = 6


@dataclass(eq=False)
class Context:
    """A study, one configuration, and what the checks derive from them."""

    study: object
    configuration: Configuration
    geography: Geography
    base: Context | None = None

    @property
    def territories(self) -> Territories:
        return self.geography.territories

    @property
    def graph(self) -> nx.Graph:
        return self.geography.graph

    @property
    def cache(self) -> Geography:
        """The geography (the name earlier code used for it)."""
        return self.geography

    @cached_property
    def footprints(self) -> Footprints:
        """PCN footprints, updated from the base context's when there is one."""
        base, self.base = self.base, None  # keep no chain of contexts alive
        if (
            base is not None
            and "pcn_setting" in base.__dict__
            and "pcn_setting" not in self.__dict__
        ):
            # what pcn_setting updates from (the table and the assignment it is of)
            self.__dict__["_parent_setting"] = (
                base.configuration.assignments,
                base.__dict__["pcn_setting"],
            )
        if base is not None and "footprints" in base.__dict__:
            return update_footprints(base.footprints, self.configuration)
        with stage("footprints"):
            return build_footprints(self.study, self.configuration, territories=self.territories)

    @property
    def list_sizes(self) -> pd.Series:
        return self.geography.list_sizes

    @cached_property
    def pcn_list_sizes(self) -> pd.Series:
        """pcn_code -> list size."""
        assign = self.configuration.assignments
        sizes = self.list_sizes.reindex(assign.index).fillna(0)
        out = sizes[assign != ""].groupby(assign[assign != ""]).sum().astype("int64")
        return out.reindex(list(self.configuration.pcn_codes), fill_value=0)

    @cached_property
    def pcn_setting(self) -> pd.DataFrame:
        """Per PCN, where its registered patients live: ``pct_rural`` (of those in a small
        area with a rural-urban class), ``imd_score`` (patient-weighted mean) and
        ``imd_decile`` (patient-weighted median decile; 1 = most deprived); empty when the
        study has neither ``[areas] rural`` nor ``deprivation``.

        A scenario step takes its parent's rows for the PCNs whose practices are the same
        and computes the others from their practices' registrations only (the same rows in
        the same order: the same figures as a full computation)."""
        codes = list(self.configuration.pcn_codes)
        rows = self.geography.__dict__.get("_setting_rows")
        if rows is None:
            rows = _setting_rows(self.study)
            self.geography.__dict__["_setting_rows"] = rows  # once per geography
        if rows is None:
            return pd.DataFrame(index=pd.Index(codes, name="pcn_code"))
        parent = self.__dict__.pop("_parent_setting", None)
        base = self.base  # (footprints not built yet: the base is still held)
        if parent is None and base is not None and "pcn_setting" in base.__dict__:
            parent = (base.configuration.assignments, base.__dict__["pcn_setting"])
        assign = self.configuration.assignments
        if parent is not None and parent[0].index.equals(assign.index):
            old, table = parent
            changed = old.to_numpy() != assign.to_numpy()
            redo = (set(old[changed]) | set(assign[changed])) - {""}
            redo |= set(codes) - set(table.index)
            keep = [c for c in codes if c not in redo]
            fresh = _setting_of(rows, assign, sorted(redo & set(codes)))
            out = pd.concat([table.reindex(keep), fresh]) if len(fresh) else table.reindex(keep)
            out = out.reindex(codes)
            for column in table.columns:
                out[column] = out[column].astype(table[column].dtype)
            out.index.name = "pcn_code"
            return out
        return _setting_of(rows, assign, codes)

    def pcn_label(self, code: str) -> str:
        """``NAME (CODE)`` for messages."""
        name = self.configuration.name_of(code)
        return code if name == code else f"{name} ({code})"


def _results(configuration: Configuration, geography: Geography) -> dict:
    """What was derived for ``configuration`` on ``geography`` (another study's is dropped)."""
    held = configuration.__dict__.get(_ATTR)
    if held is None or held.get("geography") is not geography:
        held = {"geography": geography}
        configuration.__dict__[_ATTR] = held
    return held


def _base(configuration: Configuration, geography: Geography) -> Context | None:
    """The context of the nearest ancestor with footprints built, on the same geography and
    the same practices (a scenario's parent, or its parent...)."""
    parent = configuration.parent
    for _ in range(_MAX_GENERATIONS):
        if parent is None:
            return None
        held = parent.__dict__.get(_ATTR)
        context = None if held is None else held.get("context")
        if (
            context is not None
            and held.get("geography") is geography
            and "footprints" in context.__dict__
            and parent.practice_codes == configuration.practice_codes
        ):
            return context
        parent = parent.parent
    return None


def get_context(study, configuration: Configuration | None = None) -> Context:
    """A :class:`Context` for ``configuration`` (default: the study's), on the study's
    geography, with footprints updated from its nearest validated ancestor."""
    configuration = study.configuration if configuration is None else configuration
    geography = geography_of(study)
    held = _results(configuration, geography)
    context = held.get("context")
    if context is None or context.study is not study:
        context = Context(study, configuration, geography, base=_base(configuration, geography))
        held["context"] = context
    return context


def remember_report(report) -> None:
    """Keep a full report on its configuration: the base for re-validating its children."""
    _results(report.configuration, report.context.geography)["report"] = report


def report_of(configuration: Configuration | None, geography: Geography):
    """The report kept on ``configuration`` for this geography, if any."""
    if configuration is None:
        return None
    held = configuration.__dict__.get(_ATTR)
    if held is None or held.get("geography") is not geography:
        return None
    return held.get("report")


def _setting_rows(study) -> dict | None:
    """The small-area registrations of a study with what :attr:`Context.pcn_setting` needs
    of each (patients, rural class, IMD score and decile), the row positions of each
    practice's rows, in the registrations' order; ``None`` without rural or deprivation."""
    areas = study.areas
    reg = study.registrations
    if areas is None or reg is None or not {"rural", "imd_score"} & set(areas.columns):
        return None
    rows = reg[(reg["area_kind"] == "small_area").to_numpy()]
    practice, practices = pd.factorize(rows["practice_code"].to_numpy(dtype=object))
    area = rows["area_code"]
    out: dict = {
        "practice": practice,  # each row's practice, as a position in "practices"
        "practices": pd.Index(np.asarray(practices, dtype=object), dtype=object),
        "n": rows["n_patients"].astype(float).to_numpy(),
        "by_practice": pd.Series(np.arange(len(rows))).groupby(practice, sort=False).indices,
    }
    at = areas.index.get_indexer(area)  # once, for every column below

    def per_row(column: str) -> np.ndarray:
        if (at < 0).any():
            return areas[column].reindex(area).to_numpy()
        return areas[column].to_numpy()[at]

    if "rural" in areas:
        out["rural"] = per_row("rural")
    if "imd_score" in areas:
        out["imd_score"] = per_row("imd_score").astype(float)
        out["imd_decile"] = per_row("imd_decile")
    return out


def _setting_of(rows: dict, assign: pd.Series, codes: list[str]) -> pd.DataFrame:
    """:attr:`Context.pcn_setting` of the PCNs ``codes`` from their practices' rows (the
    PCNs as numbers in code order while grouping: grouping 800,000 rows by text is slow)."""
    out = pd.DataFrame(index=pd.Index(codes, name="pcn_code"))
    ordered = np.asarray(sorted(codes), dtype=object)
    members = assign[assign.isin(codes).to_numpy()] if codes else assign.iloc[:0]
    # practice position -> PCN number (-1: none of these PCNs)
    practices = rows["practices"]
    at = practices.get_indexer(pd.Index(members.index.to_numpy(dtype=object), dtype=object))
    lut = np.full(len(practices) + 1, -1, dtype=np.intp)
    lut[at[at >= 0]] = pd.Index(ordered).get_indexer(members.to_numpy(dtype=object))[at >= 0]
    by_practice = rows["by_practice"]
    picked = [by_practice[i] for i in at[at >= 0] if i in by_practice]
    pos = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.intp)
    pcn = lut[rows["practice"][pos]]
    n = pd.Series(rows["n"][pos])

    def by_code(series: pd.Series) -> pd.Series:
        return pd.Series(series.to_numpy(), index=ordered[series.index.to_numpy(dtype=np.intp)])

    if "rural" in rows:
        rural = rows["rural"][pos]
        known = ~pd.isna(rural)
        flag = rural[known].astype(bool)
        num = by_code((n[known] * flag).groupby(pcn[known]).sum())
        den = by_code(n[known].groupby(pcn[known]).sum())
        out["pct_rural"] = (100 * num / den).round(1).reindex(codes)
    if "imd_score" in rows:
        score = rows["imd_score"][pos]
        known = ~np.isnan(score)
        k = pd.DataFrame({"pcn": pcn[known], "s": score[known], "w": n[known].to_numpy()})
        k = k.assign(sw=k["s"] * k["w"])
        sums = k.groupby("pcn")[["sw", "w"]].sum()
        mean = (sums["sw"] / sums["w"]).round(2)
        out["imd_score"] = by_code(mean).reindex(codes)
        k = k.assign(d=rows["imd_decile"][pos][known]).sort_values(["pcn", "d"])
        cum = k.groupby("pcn")["w"].cumsum() / k["pcn"].map(sums["w"])
        med = k[cum.to_numpy() >= 0.5].groupby("pcn")["d"].first()
        out["imd_decile"] = by_code(med).reindex(codes).astype("Int64")
    return out
