"""Report: the result of validating a configuration (the result object only).

:func:`geo_pcn.validate` builds a :class:`Report`: the findings, a summary, a per-PCN
table, a per-practice table, per-area coverage, community alignment and the layers of its
GeoPackage (:meth:`Report.geodata`). It gives itself as a plain dict or JSON and shows
itself in Jupyter; :mod:`geo_pcn.render` writes it out (Markdown, CSV, GeoPackage, maps).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn._escape import html_table
from geo_pcn._json import dump_json
from geo_pcn._templates import Markup, render
from geo_pcn._words import count
from geo_pcn.alignment import Alignment
from geo_pcn.checks.boundaries import code_system
from geo_pcn.checks.size import band_status
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding, Severity
from geo_pcn.geography import build_catchments
from geo_pcn.settings import BNG, PCN_CODE

__all__ = ["Report"]


@dataclass(eq=False)
class Report:
    """The result of :func:`validate`.

    Attributes
    ----------
    findings
        Every finding, most severe first.
    ok
        ``True`` when there is no ERROR finding.
    pcns, practices, areas
        Tables (pandas) per PCN, per practice and per small area (``None`` without
        registrations).
    summary
        Counts: practices, PCNs, patients, findings by severity, ``ok``.
    partition
        The :class:`~geo_pcn.partition.Partition` checked: its metrics (footprints, list
        sizes, contiguity, crossings...) are what the tables read.
    """

    study: Any
    configuration: Configuration
    findings: list[Finding]
    partition: Any = field(repr=False)

    @property
    def context(self):
        """The partition (the name earlier code used for what the checks saw)."""
        return self.partition

    # -- facts --------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity.value for f in self.findings)
        return {s.value: counts.get(s.value, 0) for s in Severity}

    @cached_property
    def summary(self) -> dict[str, Any]:
        study = self.study
        n_unassigned = len(self.configuration.unassigned)
        sizes = self.partition.list_sizes
        return {
            "study": study.name,
            "synthetic": study.synthetic,
            "n_practices": len(self.configuration),
            "n_pcns": self.configuration.n_pcns,
            "n_patients": int(sizes.sum()),
            "n_practices_in_no_pcn": n_unassigned,
            "n_patients_in_no_pcn": int(sizes.reindex(list(self.configuration.unassigned)).sum()),
            "footprint_method": self.partition.territories.method,
            **self._below_band_not_rural(),
            **self._study_area(),
            **self._residents(),
            "band": list(study.rules.band),
            "exempt": list(study.rules.exempt),
            "findings": self.by_severity(),
            "ok": self.ok,
        }

    def _below_band_not_rural(self) -> dict[str, Any]:
        """PCNs below the band whose patients are not mostly rural (when rural data given)."""
        setting = self.partition.pcn_setting
        if "pct_rural" not in setting:
            return {}
        low = self.study.rules.band[0]
        sizes = self.partition.pcn_list_sizes
        sizes = dict(zip(sizes.index, sizes, strict=True))  # a dict: pandas per PCN is slow
        below = [c for c in self.configuration.pcn_codes if int(sizes[c]) < low]
        rural = setting["pct_rural"]
        rural = dict(zip(rural.index, rural, strict=True))
        return {
            "below_band_not_rural": [
                c for c in below if not (pd.notna(rural.get(c)) and rural.get(c) >= 50.0)
            ]
        }

    def _study_area(self) -> dict[str, Any]:
        """How the study area was decided and where every registered patient lives (the
        same for every configuration of the study: computed once, with its geography)."""
        return copy.deepcopy(self.partition.geography.study_area)

    def _residents(self) -> dict[str, Any]:
        """Every resident of the areas given accounted for (registrations method):
        :func:`geo_pcn.geography.accounting.account_residents`."""
        table = self.partition.residents
        return {} if table is None else {"residents": copy.deepcopy(table)}

    @cached_property
    def pcns(self) -> pd.DataFrame:
        """One row per PCN: size, band status, components, crossings, findings."""
        cfg = self.configuration
        ctx = self.partition
        sizes = ctx.pcn_list_sizes
        exempt = set(self.study.rules.exempt)
        rows = []
        contiguity = ctx.contiguity
        errors = Counter(f.pcn_code for f in self.findings if f.severity is Severity.ERROR)
        warnings_ = Counter(f.pcn_code for f in self.findings if f.severity is Severity.WARNING)
        area_km2 = ctx.pcn_area_km2
        # plain dicts: a pandas lookup per PCN and layer costs ~1 ms nationally
        area_km2 = dict(zip(area_km2.index, area_km2, strict=True))
        sizes = dict(zip(sizes.index, sizes, strict=True))
        site_codes = ctx.study_fact(  # (lists first: iterating an arrow column is slow)
            "site_codes",
            lambda: {
                layer: dict(zip(where.index.tolist(), where["code"].tolist(), strict=True))
                for layer, where in ctx.geography.site_areas.items()
            },
        )
        for code, members in cfg.members.items():
            size = int(sizes[code])
            row = {
                "pcn_code": code,
                "pcn_name": cfg.name_of(code),
                "list_size": size,
                "n_practices": len(members),
                "band_status": band_status(size, self.study.rules.band, exempt=code in exempt),
                "n_components": contiguity[code].n_components,
                "area_km2": float(area_km2.get(code, np.nan)),
                "n_errors": errors.get(code, 0),
                "n_warnings": warnings_.get(code, 0),
            }
            for layer, where in site_codes.items():
                codes = sorted({where.get(p, np.nan) for p in members} - {""})
                row[f"{layer}_codes"] = ";".join(codes)
                row[f"n_{layer}"] = len(codes)
            rows.append(row)
        columns = [
            "pcn_code", "pcn_name", "list_size", "n_practices", "band_status", "n_components",
            "area_km2", "n_errors", "n_warnings",
            *(f"{prefix}{layer}{suffix}" for layer in site_codes
              for prefix, suffix in (("", "_codes"), ("n_", ""))),
        ]  # fmt: skip
        # the columns are there with no PCN too (every practice unassigned): never a KeyError
        table = pd.DataFrame(rows, columns=columns)
        setting = ctx.pcn_setting
        for column in setting.columns:  # pct_rural, imd_score, imd_decile when given
            table[column] = setting[column].reindex(table[PCN_CODE]).to_numpy()
        return table

    @cached_property
    def practices(self) -> pd.DataFrame:
        """One row per practice: PCN, list size, location, where it sits, findings."""
        study = self.study
        p = study.practices
        assign = self.configuration.assignments.reindex(p.index).fillna("")
        out = pd.DataFrame(
            {
                "practice_code": p.index,
                "practice_name": p["practice_name"].to_numpy(),
                "pcn_code": assign.to_numpy(),
                "pcn_name": assign.map(
                    lambda c: self.configuration.name_of(c) if c else ""
                ).to_numpy(),
                "list_size": p["list_size"].to_numpy(),
                "list_size_source": p.get("list_size_source", pd.Series("", index=p.index))
                .fillna("")
                .to_numpy(),
                "status": p.get("status", pd.Series("", index=p.index)).fillna("").to_numpy(),
                "postcode": p["postcode"].to_numpy(),
                "located": ~shapely.is_missing(p.geometry.to_numpy()),
                "locate_method": p["locate_method"].to_numpy(),
                "easting": np.round(p.geometry.x.to_numpy(), 1),
                "northing": np.round(p.geometry.y.to_numpy(), 1),
                "site_id": p["site_id"].fillna("").to_numpy(),
                "recorded_sub_icb_code": p["sub_icb_code"].to_numpy(),
            }
        )
        for layer, where in self.partition.geography.site_areas.items():
            out[f"{layer}_at_site"] = where["code"].reindex(p.index).to_numpy()
        terr = self.partition.territories.practices
        out["n_areas_won"] = terr["n_areas"].reindex(p.index).to_numpy()
        out["n_territory_pieces"] = terr["n_pieces"].reindex(p.index).to_numpy()
        out["home"] = terr["home"].reindex(p.index).to_numpy()
        flagged = Counter(c for f in self.findings for c in f.practice_codes)
        out["n_findings"] = [flagged.get(c, 0) for c in p.index]
        return out

    @cached_property
    def areas(self) -> pd.DataFrame | None:
        """Every small area of the areas layer: population, registered residents (at the
        study's practices, those in no PCN, at practices outside the study), the winning
        practice and PCN, its status and why it is left out of the region (registrations
        method only): the partition's ``area_coverage``."""
        table = self.partition.area_coverage
        return None if table is None else table.reset_index(names="area_code")

    @cached_property
    def alignment(self) -> Alignment:
        """Community layers against the PCN footprints (see :mod:`geo_pcn.alignment`)."""
        return self.partition.alignment

    def findings_frame(self) -> pd.DataFrame:
        """Findings as a table (``practice_codes`` joined with ``;``)."""
        rows = [f.to_dict() for f in self.findings]
        frame = pd.DataFrame(
            rows,
            columns=[
                "check",
                "kind",
                "severity",
                "pcn_code",
                "practice_codes",
                "message",
                "value",
                "threshold",
                "details",
            ],
        )
        frame["practice_codes"] = frame["practice_codes"].map(";".join)
        frame["details"] = frame["details"].map(lambda d: dump_json(d, indent=None))
        return frame

    # -- plain forms and display ------------------------------------------------------
    @cached_property
    def _home_icb(self) -> pd.Series | None:
        """practice_code -> the ICB it counts in: a PCN's practices all count in the ICB
        holding most of the PCN's patients; a practice in no PCN in the ICB its site lies
        in (the ``icb`` layer), else the one recorded (in the layer's code system).
        ``None`` for a study of one ICB."""
        practices = self.study.practices
        icb = practices.get("icb_code", pd.Series("", index=practices.index)).fillna("")
        icb = icb.astype(str)
        where = self.partition.geography.site_areas.get("icb")
        if where is not None:
            code = where["nhs_code"].where(where["nhs_code"] != "", where["code"])
            placed = code[code != ""]
            ons = placed.map(code_system).eq("ons").mean() > 0.5 if len(placed) else False
            if ons and "ons_icb_code" in practices:  # fall back in the layer's code system
                icb = practices["ons_icb_code"].fillna("").astype(str)
            icb = code.where(code != "", icb)
        if icb.replace("", pd.NA).dropna().nunique() < 2:
            return None
        assign = self.configuration.assignments.reindex(practices.index).fillna("")
        sizes = self.partition.list_sizes.reindex(practices.index).fillna(0)
        frame = pd.DataFrame({"icb": icb.to_numpy(), PCN_CODE: assign.to_numpy(), "n": sizes})
        held = frame[frame[PCN_CODE] != ""].groupby([PCN_CODE, "icb"])["n"].sum().reset_index()
        held = held.sort_values([PCN_CODE, "n", "icb"], ascending=[True, False, True])
        pcn_icb = held.drop_duplicates(PCN_CODE).set_index(PCN_CODE)["icb"]
        home = assign.map(pcn_icb).where(assign != "", icb).fillna("")
        return home.rename("icb")

    def icb_practices(self) -> dict[str, list[str]]:
        """ICB code -> its practices (as :attr:`by_icb` counts them); ``{}`` for a study of
        one ICB."""
        home = self._home_icb
        if home is None:
            return {}
        home = home[home != ""]
        groups = home.groupby(home).groups
        return {str(k): sorted(v) for k, v in sorted(groups.items())}

    @cached_property
    def by_icb(self) -> pd.DataFrame | None:
        """One row per ICB (a national or multi-ICB study): its PCNs below / within / above
        the band, across sub-ICB and ICB lines, contiguity errors, practices, patients, and
        practices and patients in no PCN — all counted the same way as the per-ICB folders
        of ``geo-pcn validate --by icb`` (see :meth:`_home_icb`). ``None`` for one ICB."""
        home = self._home_icb
        if home is None:
            return None
        practices = self.study.practices
        assign = self.configuration.assignments.reindex(practices.index).fillna("")
        sizes = self.partition.list_sizes.reindex(practices.index).fillna(0)
        frame = pd.DataFrame({"icb": home.to_numpy(), PCN_CODE: assign.to_numpy(), "n": sizes})
        pcns = self.pcns.set_index(PCN_CODE)
        pcn_icb = frame[frame[PCN_CODE] != ""].drop_duplicates(PCN_CODE).set_index(PCN_CODE)
        pcns = pcns.assign(icb=pcn_icb["icb"].reindex(pcns.index).fillna("").to_numpy())
        contiguity = self.partition.contiguity
        pcns["detached"] = [len(contiguity[c].detached) for c in pcns.index]
        for layer in ("sub_icb", "icb"):
            n = pcns.get(f"n_{layer}", pd.Series(0, index=pcns.index))
            pcns[f"across_{layer}"] = (n > 1).astype(int)
        status = pd.crosstab(pcns["icb"], pcns["band_status"])
        no_pcn = frame[frame[PCN_CODE] == ""].groupby("icb")["n"].agg(["size", "sum"])
        out = pd.DataFrame(
            {
                "n_pcns": pcns.groupby("icb").size(),
                "n_practices": frame.groupby("icb").size(),
                "n_patients": frame.groupby("icb")["n"].sum(),
            }
        ).fillna(0)
        for column in ("below", "within", "above", "exempt"):
            out[f"n_{column}_band"] = status.get(column, pd.Series(dtype=int)).reindex(out.index)
        out["n_across_sub_icb"] = pcns.groupby("icb")["across_sub_icb"].sum()
        out["n_across_icb"] = pcns.groupby("icb")["across_icb"].sum()
        out["n_contiguity_errors"] = pcns.groupby("icb")["detached"].sum()
        out["n_practices_in_no_pcn"] = no_pcn["size"]
        out["n_patients_in_no_pcn"] = no_pcn["sum"]
        out = out.fillna(0).astype("int64").reset_index(names="icb_code")
        return out[out["icb_code"] != ""].sort_values("icb_code", ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        pcns = self.pcns.to_dict(orient="records")
        for row in pcns:
            row["crossings"] = {
                layer: row[f"{layer}_codes"].split(";") if row[f"{layer}_codes"] else []
                for layer in self.partition.geography.site_areas
            }
        return {
            "summary": self.summary,
            "pcns": pcns,
            "findings": [f.to_dict() for f in self.findings],
            "alignment": self.alignment.to_dict(),
            "notes": list(self.study.notes),
            "by_icb": None if self.by_icb is None else self.by_icb.to_dict(orient="records"),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def _repr_html_(self) -> str:
        """HTML for notebooks and e-mails (``geo_pcn/templates/report.html.j2``): the
        verdict and summary first, then the findings by severity, the PCN and practice
        tables and the notes in collapsible sections. Every string from the inputs is
        escaped (:func:`geo_pcn._escape.html_text`)."""
        s = self.summary
        practice_cols = ["practice_code", "practice_name", "pcn_code", "list_size", "n_findings"]
        return render(
            "report.html.j2",
            name=self.study.name,
            ok=self.ok,
            count=count,
            n_practices=s["n_practices"],
            n_pcns=s["n_pcns"],
            n_patients=s["n_patients"],
            findings=s["findings"],
            n_practices_in_no_pcn=s["n_practices_in_no_pcn"],
            n_patients_in_no_pcn=s["n_patients_in_no_pcn"],
            band=s["band"],
            footprint_method=s["footprint_method"],
            synthetic=bool(s.get("synthetic")),
            by_severity=[
                (severity, [f for f in self.findings if f.severity is severity])
                for severity in Severity
            ],
            n_pcn_rows=len(self.pcns),
            pcns_table=Markup(html_table(self.pcns)),
            n_practice_rows=len(self.practices),
            practices_table=Markup(html_table(self.practices[practice_cols])),
            notes=list(self.study.notes),
        )

    def __repr__(self) -> str:
        sev = self.by_severity()
        return (
            f"<Report {self.study.name!r}: {'PASS' if self.ok else 'FAIL'}, "
            f"{count(sev['error'], 'error')}, {count(sev['warning'], 'warning')}, "
            f"{count(sev['info'], 'note')}>"
        )

    # -- layers -------------------------------------------------------------------------
    def geodata(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers for the GeoPackage: PCN footprints, practice points, finding geometries."""
        fp = self.partition.footprints.pcns.reset_index()
        pcn_table = self.pcns.set_index("pcn_code")
        footprints = gpd.GeoDataFrame(
            fp[[PCN_CODE]].join(pcn_table, on=PCN_CODE), geometry=fp.geometry, crs=BNG
        )
        points = gpd.GeoDataFrame(
            self.practices, geometry=self.study.practices.geometry.to_numpy(), crs=BNG
        )
        frame = self.findings_frame()
        geoms = gpd.GeoSeries([f.geometry for f in self.findings], crs=BNG)
        findings = gpd.GeoDataFrame(frame, geometry=geoms.to_numpy(), crs=BNG)
        findings = findings[~shapely.is_missing(findings.geometry.to_numpy())]
        layers = {"pcn_footprints": footprints, "practices": points, "findings": findings}
        if self.partition.territories.method == "registrations":
            share = self.study.rules.min_share
            catchments = build_catchments(self.partition.footprints, min_share=share)
            layers["pcn_catchments"] = gpd.GeoDataFrame(
                catchments.drop(columns="geometry").reset_index(),
                geometry=catchments.geometry.to_numpy(),
                crs=BNG,
            )
        return layers
