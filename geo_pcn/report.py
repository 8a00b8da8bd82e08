"""Report: the result of validating a configuration, and every way of writing it out.

:func:`validate` runs the registered checks and builds a :class:`Report` with a per-PCN
table, a per-practice table, per-area coverage, the findings and a summary. The report
renders as JSON, Markdown, HTML, CSV and a GeoPackage, and shows itself in Jupyter.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_pcn._escape import excel_frame, html_text, markdown
from geo_pcn._outputs import fix_gpkg_timestamps, write_outputs
from geo_pcn.alignment import Alignment, AreaAlignment
from geo_pcn.checks.alignment import alignment_of
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.checks.coverage import area_coverage
from geo_pcn.checks.size import band_status
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding, Severity
from geo_pcn.footprints import build_catchments
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE, PRACTICE_CODE

__all__ = ["Report", "excel_safe"]

#: At most this many findings of each severity are listed in report.md (all of them are in
#: findings.csv and report.json).
MAX_LISTED = 50
#: Checks in the order their findings matter to a planner (others follow, by name).
_CHECK_ORDER = ("size", "contiguity", "coverage", "boundaries", "alignment")


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
    """

    study: Any
    configuration: Configuration
    findings: list[Finding]
    context: Any = field(repr=False)

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
        sizes = self.context.list_sizes
        return {
            "study": study.name,
            "synthetic": study.synthetic,
            "n_practices": len(self.configuration),
            "n_pcns": self.configuration.n_pcns,
            "n_patients": int(sizes.sum()),
            "n_practices_in_no_pcn": n_unassigned,
            "n_patients_in_no_pcn": int(sizes.reindex(list(self.configuration.unassigned)).sum()),
            "footprint_method": self.context.territories.method,
            **self._study_area(),
            "band": list(study.rules.band),
            "exempt": list(study.rules.exempt),
            "findings": self.by_severity(),
            "ok": self.ok,
        }

    def _study_area(self) -> dict[str, Any]:
        """How the study area was decided and where every registered patient lives."""
        terr = self.context.territories
        reg = self.study.registrations
        if terr.method != "registrations" or reg is None:
            return {}
        table = terr.areas
        in_study = reg[AREA_CODE].isin(terr.study_areas.index)
        small = reg["area_kind"] == "small_area"
        residence = {
            "in_the_study_area": int(reg.loc[small & in_study, N_PATIENTS].sum()),
            "in_small_areas_the_study_does_not_serve": int(
                reg.loc[small & ~in_study, N_PATIENTS].sum()
            ),
        }
        others = reg.loc[~small].groupby("area_kind")[N_PATIENTS].sum()
        residence.update({str(k): int(v) for k, v in others.items()})
        out: dict[str, Any] = {
            "study_area": {
                "decided_by": terr.how,
                "outside_competition_from": terr.basis,
                "n_small_areas": len(terr.study_areas),
                "n_small_areas_served_from_outside_in_region": int(
                    ((table["served_from"] == "outside") & table["in_region"]).sum()
                ),
                "n_residents_registered_outside": int(
                    table.loc[table["served_from"] == "study", "n_outside"].sum()
                ),
            },
            "patients_by_residence": residence,
        }
        other = self.study.outside_registrations
        if other is not None:
            out["study_area"]["registrations_of_other_practices"] = {
                "n_practices": int(other[PRACTICE_CODE].nunique()),
                "n_patients": int(other[N_PATIENTS].sum()),
            }
        return out

    @cached_property
    def pcns(self) -> pd.DataFrame:
        """One row per PCN: size, band status, components, crossings, findings."""
        cfg = self.configuration
        ctx = self.context
        sizes = ctx.pcn_list_sizes
        exempt = set(self.study.rules.exempt)
        rows = []
        comps = Counter(f.pcn_code for f in self.findings if f.kind == "detached_group")
        errors = Counter(f.pcn_code for f in self.findings if f.severity is Severity.ERROR)
        warnings_ = Counter(f.pcn_code for f in self.findings if f.severity is Severity.WARNING)
        fp = ctx.footprints.pcns
        area_km2 = (fp.geometry.area / 1e6).round(2)
        for code, members in cfg.members.items():
            size = int(sizes[code])
            row = {
                "pcn_code": code,
                "pcn_name": cfg.name_of(code),
                "list_size": size,
                "n_practices": len(members),
                "band_status": band_status(size, self.study.rules.band, exempt=code in exempt),
                "n_components": 1 + comps.get(code, 0),
                "area_km2": float(area_km2.get(code, np.nan)),
                "n_errors": errors.get(code, 0),
                "n_warnings": warnings_.get(code, 0),
            }
            for layer, where in ctx.cache.site_areas.items():
                codes = sorted(set(where.reindex(list(members))["code"]) - {""})
                row[f"{layer}_codes"] = ";".join(codes)
                row[f"n_{layer}"] = len(codes)
            rows.append(row)
        return pd.DataFrame(rows)

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
                "located": p.geometry.notna().to_numpy(),
                "locate_method": p["locate_method"].to_numpy(),
                "easting": np.round(p.geometry.x.to_numpy(), 1),
                "northing": np.round(p.geometry.y.to_numpy(), 1),
                "site_id": p["site_id"].fillna("").to_numpy(),
                "recorded_sub_icb_code": p["sub_icb_code"].to_numpy(),
            }
        )
        for layer, where in self.context.cache.site_areas.items():
            out[f"{layer}_at_site"] = where["code"].reindex(p.index).to_numpy()
        terr = self.context.territories.practices
        out["n_areas_won"] = terr["n_areas"].reindex(p.index).to_numpy()
        flagged = Counter(c for f in self.findings for c in f.practice_codes)
        out["n_findings"] = [flagged.get(c, 0) for c in p.index]
        return out

    @cached_property
    def areas(self) -> pd.DataFrame | None:
        """Per small area: population, registered residents, those at practices in no PCN,
        the winning practice and PCN (registrations method only)."""
        table = area_coverage(self.study, self.context)
        return None if table is None else table.reset_index(names="area_code")

    @cached_property
    def alignment(self) -> Alignment:
        """Community layers against the PCN footprints (see :mod:`geo_pcn.alignment`)."""
        return alignment_of(self.study, self.context)

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
        frame["details"] = frame["details"].map(lambda d: json.dumps(d, default=str))
        return frame

    # -- renderings ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        pcns = self.pcns.to_dict(orient="records")
        for row in pcns:
            row["crossings"] = {
                layer: row[f"{layer}_codes"].split(";") if row[f"{layer}_codes"] else []
                for layer in self.context.cache.site_areas
            }
        return {
            "summary": self.summary,
            "pcns": pcns,
            "findings": [f.to_dict() for f in self.findings],
            "alignment": self.alignment.to_dict(),
            "notes": list(self.study.notes),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """JSON text of :meth:`to_dict`; written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def to_markdown(self, *, max_per_severity: int = MAX_LISTED) -> str:
        """A report a planner reads: the verdict, the errors, the warnings that matter most
        and the notes (at most ``max_per_severity`` of each, grouped by check; the rest are
        counted and are all in ``findings.csv`` and ``report.json``), the PCN table and
        community alignment. Every string from the inputs is escaped
        (:func:`geo_pcn._escape.markdown`)."""
        md = markdown
        s = self.summary
        sev = s["findings"]
        lines = [
            f"# PCN configuration check: {md(self.study.name)}",
            "",
            f"**{'PASS' if self.ok else 'FAIL'}**: {_count(sev['error'], 'error')}, "
            f"{_count(sev['warning'], 'warning')}, {_count(sev['info'], 'note')}.",
            "",
            f"- {_count(s['n_practices'], 'practice')} in {_count(s['n_pcns'], 'PCN')}; "
            f"{s['n_patients']:,} registered patients",
            f"- practices in no PCN: {_count(s['n_practices_in_no_pcn'], 'practice')} "
            f"({s['n_patients_in_no_pcn']:,} patients)",
            f"- size band {s['band'][0]:,}-{s['band'][1]:,} patients; exempt: "
            f"{md(', '.join(s['exempt'])) or 'none'}",
            f"- territories from {md(s['footprint_method'])}",
        ]
        if "study_area" in s:
            area, where = s["study_area"], s["patients_by_residence"]
            lines.append(
                f"- study area: {_count(area['n_small_areas'], 'small area')}, decided from "
                f"{md(area['decided_by'])}"
            )
            words = {
                "in_the_study_area": "in the study area",
                "in_small_areas_the_study_does_not_serve": "in small areas served from outside "
                "or beyond the study area",
                "outside_layer": "in English small areas the areas layer does not hold",
                "unknown": "residence unknown (NO2011, CLOSED, EMPTY...)",
                "wales": "in Wales",
                "scotland": "in Scotland",
                "northern_ireland": "in Northern Ireland",
                "crown_dependencies": "in the Crown dependencies",
            }
            lines.append(
                "- where the patients live: "
                + "; ".join(f"{n:,} {words.get(k, md(k))}" for k, n in where.items() if n)
            )
            if area["n_residents_registered_outside"]:
                lines.append(
                    f"- {area['n_residents_registered_outside']:,} residents of the study area "
                    + (
                        "are registered at practices outside it"
                        if area["outside_competition_from"] == "registrations"
                        else "are not registered at its practices (population less its patients)"
                    )
                )
        if s["synthetic"]:
            lines += ["", "> This is the SYNTHETIC demo region: not real practices or patients."]
        for severity in Severity:
            items = [f for f in self.findings if f.severity is severity]
            if items:
                lines += _findings_markdown(severity, items, max_per_severity)
        lines += ["", "## PCNs", ""]
        layers = list(self.context.cache.site_areas)
        columns = [
            ("pcn_code", "PCN"),
            ("pcn_name", "name"),
            ("list_size", "patients"),
            ("n_practices", "practices"),
            ("band_status", "band"),
            ("n_components", "parts"),
            *((f"n_{layer}", f"{layer_label(layer)} areas") for layer in layers),
        ]
        columns = [(c, label) for c, label in columns if c in self.pcns.columns]
        lines.append("| " + " | ".join(md(label) for _, label in columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for row in self.pcns[[c for c, _ in columns]].itertuples(index=False):
            cells = [f"{v:,}" if isinstance(v, int | np.integer) else md(v) for v in row]
            lines.append("| " + " | ".join(cells) + " |")
        lines += _alignment_markdown(self.alignment)
        if self.study.notes:
            lines += ["", "## Notes on the inputs", ""]
            lines += [f"- {md(n)}" for n in self.study.notes]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """HTML for notebooks and e-mails: the verdict and summary first, then the findings
        by severity, the PCN and practice tables and the notes in collapsible sections.
        Every string from the inputs is escaped (:func:`geo_pcn._escape.html_text`)."""
        esc = html_text
        s = self.summary
        sev = s["findings"]
        verdict = "PASS" if self.ok else "FAIL"
        colour = "#1a7f37" if self.ok else "#b42318"
        parts = [
            f"<div><h3>{esc(self.study.name)}: <span style='color:{colour}'>{verdict}</span>"
            f"</h3><p>{s['n_practices']:,} practices in {s['n_pcns']:,} PCNs, "
            f"{s['n_patients']:,} registered patients; {sev['error']} errors, "
            f"{sev['warning']} warnings, {sev['info']} notes. In no PCN: "
            f"{s['n_practices_in_no_pcn']} practice(s), {s['n_patients_in_no_pcn']:,} patients. "
            f"Band {s['band'][0]:,}-{s['band'][1]:,} patients; territories from "
            f"{esc(s['footprint_method'])}.</p>"
        ]
        if s.get("synthetic"):
            parts.append("<p><i>SYNTHETIC demo region: not real practices or patients.</i></p>")
        for severity in Severity:
            items = [f for f in self.findings if f.severity is severity]
            if not items:
                continue
            lis = "".join(
                f"<li><b>{esc(f.check)}/{esc(f.kind)}</b>: {esc(f.message)}</li>" for f in items
            )
            opened = " open" if severity is not Severity.INFO else ""
            parts.append(
                f"<details{opened}><summary>{esc(severity.value.title())}s ({len(items)})"
                f"</summary><ul>{lis}</ul></details>"
            )
        parts.append(
            f"<details><summary>PCNs ({len(self.pcns)})</summary>{html_table(self.pcns)}</details>"
        )
        practice_cols = ["practice_code", "practice_name", "pcn_code", "list_size", "n_findings"]
        parts.append(
            f"<details><summary>Practices ({len(self.practices)})</summary>"
            f"{html_table(self.practices[practice_cols])}</details>"
        )
        if self.study.notes:
            notes = "".join(f"<li>{esc(n)}</li>" for n in self.study.notes)
            parts.append(
                f"<details><summary>Notes on the inputs ({len(self.study.notes)})</summary>"
                f"<ul>{notes}</ul></details>"
            )
        return "".join(parts) + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        sev = self.by_severity()
        return (
            f"<Report {self.study.name!r}: {'PASS' if self.ok else 'FAIL'}, "
            f"{sev['error']} errors, {sev['warning']} warnings, {sev['info']} notes>"
        )

    # -- files --------------------------------------------------------------------------
    def geodata(self) -> dict[str, gpd.GeoDataFrame]:
        """Layers for the GeoPackage: PCN footprints, practice points, finding geometries."""
        fp = self.context.footprints.pcns.reset_index()
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
        findings = findings[findings.geometry.notna()]
        layers = {"pcn_footprints": footprints, "practices": points, "findings": findings}
        if self.context.territories.method == "registrations":
            share = self.study.rules.min_share
            catchments = build_catchments(self.context.footprints, min_share=share)
            layers["pcn_catchments"] = gpd.GeoDataFrame(
                catchments.drop(columns="geometry").reset_index(),
                geometry=catchments.geometry.to_numpy(),
                crs=BNG,
            )
        return layers

    def write(
        self,
        out_dir: str | Path,
        *,
        map_html: bool = True,
        tiles: str | None = None,
        png: bool = False,
    ) -> list[Path]:
        """Write every output into ``out_dir`` (created). Files are written to a temporary
        folder first and moved into place only when all succeeded: nothing half-written.

        Parameters
        ----------
        out_dir
            The folder.
        map_html
            Write ``map.html`` (self-contained, offline).
        tiles
            Basemap for the map (off by default).
        png
            Also write ``map.png``, a static picture.

        Returns the paths written.
        """
        return write_outputs(
            out_dir,
            lambda folder: self.write_files(folder, map_html=map_html, tiles=tiles, png=png),
        )

    def write_files(
        self,
        folder: Path,
        *,
        map_html: bool = True,
        tiles: str | None = None,
        png: bool = False,
    ) -> None:
        """Write every output into ``folder`` as it is (no manifest, no temporary folder:
        :meth:`write` and :meth:`geo_pcn.scenario.Comparison.write` wrap it)."""
        folder = Path(folder)
        self.to_json(folder / "report.json")
        (folder / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        write_csv(self.pcns, folder / "pcns.csv")
        write_csv(self.practices, folder / "practices.csv")
        write_csv(self.findings_frame(), folder / "findings.csv")
        if self.areas is not None:
            write_csv(self.areas, folder / "areas.csv")
        if self.alignment.layers:
            write_csv(self.alignment.pcn_table(), folder / "alignment_pcns.csv")
            area_rows = self.alignment.area_table()
            if len(area_rows):
                write_csv(area_rows, folder / "alignment_areas.csv")
        gpkg = folder / "footprints.gpkg"
        for layer, frame in self.geodata().items():
            if len(frame):
                frame.to_file(gpkg, layer=layer, driver="GPKG")  # data as it is (not a sheet)
        if gpkg.exists():
            fix_gpkg_timestamps(gpkg)
        if map_html or png:
            from geo_pcn import maps  # imported here: folium is only needed for maps

            if map_html:
                maps.write_map(self, folder / "map.html", tiles=tiles)
            if png:
                maps.write_png(self, folder / "map.png")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV with every header and text cell formula-safe
    (:func:`geo_pcn._escape.excel_frame`); ``\\n`` line ends on every platform."""
    excel_frame(frame).to_csv(path, index=False, lineterminator="\n")


def html_table(frame: pd.DataFrame) -> str:
    """A plain HTML table of ``frame``, every header and cell escaped by
    :func:`geo_pcn._escape.html_text`."""
    head = "".join(f"<th>{html_text(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html_text(f'{v:,}' if isinstance(v, int | np.integer) else v)}</td>" for v in row
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name that Excel would run as a formula
    prefixed by ``'`` (:func:`geo_pcn._escape.excel_frame`).

    Examples
    --------
    >>> excel_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "ok", "-x"]}))["name"].tolist()
    ["'=HYPERLINK(1)", 'ok', "'-x"]
    """
    return excel_frame(frame)


def _count(n: int, noun: str) -> str:
    """``3 errors``, ``1 error``: a count with its unit."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _check_rank(check: str) -> tuple[int, str]:
    order = _CHECK_ORDER.index(check) if check in _CHECK_ORDER else len(_CHECK_ORDER)
    return (order, check)


def _patients(f: Finding) -> float:
    """Patients a finding concerns, when it says (for ordering: more first)."""
    for key in ("patients", "n_patients", "population"):
        value = f.details.get(key) if isinstance(f.details, dict) else None
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            return float(value)
    return -1.0


def _shares(sizes: list[int], budget: int) -> list[int]:
    """Share ``budget`` rows among groups of ``sizes``: every group gets as many as it
    can, small groups in full, the rest split evenly (water-filling)."""
    shares = [0] * len(sizes)
    left = budget
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for k, i in enumerate(order):
        fair = left // (len(order) - k)
        shares[i] = min(sizes[i], fair)
        left -= shares[i]
    # hand out what rounding left over, in check order
    for i in range(len(sizes)):
        extra = min(left, sizes[i] - shares[i])
        shares[i] += extra
        left -= extra
    return shares


def _findings_markdown(severity: Severity, items: list[Finding], limit: int) -> list[str]:
    """One severity's section of report.md: grouped by check (the checks that matter most
    first), most patients first within a check, at most ``limit`` listed in all."""
    noun = {"error": "error", "warning": "warning", "info": "note"}[severity.value]
    heading = {"error": "Errors", "warning": "Warnings", "info": "Notes"}[severity.value]
    groups: dict[str, list[Finding]] = {}
    for f in sorted(items, key=lambda f: _check_rank(f.check)):
        groups.setdefault(f.check, []).append(f)
    for check, group in groups.items():
        groups[check] = sorted(group, key=lambda f: -_patients(f))  # stable: file order kept
    shares = _shares([len(g) for g in groups.values()], max(limit, 0))
    lines = ["", f"## {heading} ({len(items):,})", ""]
    if len(items) > limit:
        lines += [
            f"The {_count(limit, noun)} that matter most, by check; all {len(items):,} are in "
            "findings.csv and report.json.",
            "",
        ]
    for (check, group), shown in zip(groups.items(), shares, strict=True):
        lines += [f"### {markdown(check)} ({len(group):,})", ""]
        lines += [f"- **{markdown(f.kind)}**: {markdown(f.message)}" for f in group[:shown]]
        if len(group) > shown:
            more = Counter(f.kind for f in group[shown:])
            kinds = ", ".join(f"{markdown(k)} {n:,}" for k, n in more.most_common())
            rest = len(group) - shown
            plural = "" if rest == 1 else "s"
            lines.append(f"- ... and {rest:,} more {noun}{plural} ({kinds}) in findings.csv")
        lines.append("")
    return lines[:-1]


def _alignment_markdown(alignment: Alignment, *, max_rows: int = 20) -> list[str]:
    """The ``Community alignment`` section of the Markdown report (empty without layers)."""
    if not alignment.layers:
        return []
    lines = ["", "## Community alignment", ""]
    for name, result in alignment.layers.items():
        s = result.summary
        if isinstance(result, AreaAlignment):
            unit = "patients" if result.weight == "patients" else "km² of footprint"
            lines += [
                f"### {markdown(name)} (service areas, weighted by {unit})",
                "",
                f"- coterminosity {s['coterminosity']:.3f} (share of {unit} in their PCN's "
                f"dominant area); {s['pct_pcns_in_one_area']:.1f}% of PCNs have >= 95% in one "
                "area",
                f"- NMI {s['nmi']:.3f} (arithmetic normalisation), ARI {s['ari']:.3f}, "
                f"VI {s['vi']:.3f} nats",
                f"- cut by the area lines: {_count(s['n_pcns_split'], 'PCN')}; cutting PCNs: "
                f"{_count(s['n_areas_cutting_pcns'], 'area')}; outside every area: "
                f"{s['n_outside_layer']:,} {unit}",
            ]
            if len(result.actions):
                lines += ["", "Suggested docking: pairs that do not fit it", ""]
                lines += [f"- {markdown(a)}" for a in result.actions["action"].head(max_rows)]
                if len(result.actions) > max_rows:
                    lines.append(
                        f"- ... {len(result.actions) - max_rows:,} more pairs in report.json"
                    )
        else:
            lines += [
                f"### {markdown(name)} (sites)",
                "",
                f"- {s['n_sites']:,} sites, {s['n_located']:,} located, "
                f"{s['n_in_footprints']:,} inside a PCN footprint; "
                f"{s['sites_per_10k']} per 10,000 patients",
                f"- PCNs with no site: {markdown(', '.join(s['pcns_without_sites'])) or 'none'}",
                f"- practice to nearest site: median {s['median_practice_to_site_m']:,.0f} m, "
                f"max {s['max_practice_to_site_m']:,.0f} m",
            ]
            if s["has_declared_pcn"]:
                lines.append(
                    "- sites outside the PCN they declare: "
                    f"{_count(s['n_outside_declared'], 'site')}"
                )
            if s["n_not_located"]:
                missing = result.not_located
                shown = [
                    f"{c} ({p})" if p else c
                    for c, p in zip(missing["code"], missing["postcode"], strict=True)
                ]
                lines.append(f"- not located (kept, listed): {markdown(', '.join(shown))}")
        lines.append("")
    return lines


def dump_json(data: Any, path: str | Path | None = None, *, indent: int = 2) -> str:
    """JSON text of ``data`` (numpy and pandas scalars made plain); written to ``path``
    when given."""
    text = json.dumps(data, indent=indent, default=_json_default)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return str(value)
