"""Report: the result of validating a configuration, and every way of writing it out.

:func:`validate` runs the registered checks and builds a :class:`Report` with a per-PCN
table, a per-practice table, per-area coverage, the findings and a summary. The report
renders as JSON, Markdown, HTML, CSV and a GeoPackage, and shows itself in Jupyter.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_pcn.alignment import Alignment, AreaAlignment
from geo_pcn.checks import CHECKS, apply_exceptions, get_context, resolve_checks, stale_exceptions
from geo_pcn.checks.alignment import alignment_of
from geo_pcn.checks.coverage import area_coverage
from geo_pcn.checks.size import band_status
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding, Severity
from geo_pcn.settings import BNG, PCN_CODE

__all__ = ["Report", "validate", "excel_safe"]


def validate(
    study, configuration: Configuration | None = None, *, checks=None, incremental: bool = True
) -> Report:
    """Check a configuration against a study's geography and rules.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        The configuration to check; default the study's own.
    checks
        Names of the checks to run (default: every registered check, see
        :data:`geo_pcn.checks.CHECKS`). Agreed exceptions (``study.rules.exceptions``)
        are applied to their findings (see :mod:`geo_pcn.checks.exceptions`).
    incremental
        When the configuration was made from one validated recently (a scenario step),
        re-check only what the change touches (:func:`geo_pcn.scenario.revalidate`); the
        result is the same as a full run. ``False`` forces a full run.

    Returns
    -------
    Report

    Raises
    ------
    geo_pcn.errors.UnknownCheckError
        ``checks`` names a check that is not registered.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> report = validate(demo())
    >>> report.ok
    False
    """
    names = resolve_checks(checks)  # an unknown name raises here, before any work
    if configuration is not None and configuration is not study.configuration:
        study.with_configuration(configuration)  # unknown practices raise here
    context = get_context(study, configuration)
    cache = context.cache
    parent = getattr(context.configuration, "parent", None)
    use_base = incremental and checks is None and parent is not None
    base = cache.report_of(parent) if use_base else None
    if (
        base is not None
        and base.configuration.practice_codes == context.configuration.practice_codes
    ):
        # a scenario step: only the PCNs and practices the change touches are checked again
        from geo_pcn.scenario import revalidate

        report = revalidate(base, context.configuration)
        cache.remember_report(report)
        return report
    findings: list[Finding] = []
    for name in names:
        findings.extend(CHECKS[name](study, context.configuration, context=context))
    findings = apply_exceptions(findings, study.rules)
    findings += stale_exceptions(
        findings, study.rules, checks=names, pcn_codes=context.configuration.pcn_codes
    )
    findings.sort(key=lambda f: (f.severity.rank, f.check, f.pcn_code, f.practice_codes, f.kind))
    report = Report(
        study=study, configuration=context.configuration, findings=findings, context=context
    )
    if checks is None:
        cache.remember_report(report)
    return report


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
            "band": list(study.rules.band),
            "exempt": list(study.rules.exempt),
            "findings": self.by_severity(),
            "ok": self.ok,
        }

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
                "list_size": self.context.list_sizes.reindex(p.index).to_numpy(),
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

    def to_markdown(self) -> str:
        """A report a planner reads: verdict, summary, findings by check, PCN table."""
        s = self.summary
        sev = s["findings"]
        lines = [
            f"# PCN configuration check: {self.study.name}",
            "",
            f"**{'PASS' if self.ok else 'FAIL'}**: {sev['error']} error(s), {sev['warning']} "
            f"warning(s), {sev['info']} note(s).",
            "",
            f"- {s['n_practices']:,} practices in {s['n_pcns']:,} PCNs; "
            f"{s['n_patients']:,} registered patients",
            f"- practices in no PCN: {s['n_practices_in_no_pcn']} "
            f"({s['n_patients_in_no_pcn']:,} patients)",
            f"- size band {s['band'][0]:,}-{s['band'][1]:,}; exempt: "
            f"{', '.join(s['exempt']) or 'none'}",
            f"- territories from {s['footprint_method']}",
        ]
        if s["synthetic"]:
            lines += ["", "> This is the SYNTHETIC demo region: not real practices or patients."]
        for severity in Severity:
            items = [f for f in self.findings if f.severity is severity]
            if not items:
                continue
            heading = {"error": "Errors", "warning": "Warnings", "info": "Notes"}[severity.value]
            lines += ["", f"## {heading} ({len(items)})", ""]
            for f in items:
                lines.append(f"- **{f.check} / {f.kind}**: {_md(f.message)}")
        lines += ["", "## PCNs", ""]
        cols = ["pcn_code", "pcn_name", "list_size", "n_practices", "band_status", "n_components"]
        cols += [
            c
            for c in self.pcns.columns
            if c.startswith("n_") and c not in cols and c not in ("n_errors", "n_warnings")
        ]
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        for row in self.pcns[cols].itertuples(index=False):
            cells = [f"{v:,}" if isinstance(v, int | np.integer) else _md(str(v)) for v in row]
            lines.append("| " + " | ".join(cells) + " |")
        lines += _alignment_markdown(self.alignment)
        if self.study.notes:
            lines += ["", "## Notes on the inputs", ""]
            lines += [f"- {_md(n)}" for n in self.study.notes]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """HTML for notebooks and e-mails: the verdict and summary first, then the findings
        by severity, the PCN and practice tables and the notes in collapsible sections.
        Every string from the inputs is escaped."""
        esc = html.escape
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
            f"Band {s['band'][0]:,}-{s['band'][1]:,}; territories from "
            f"{esc(str(s['footprint_method']))}.</p>"
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
            f"<details><summary>PCNs ({len(self.pcns)})</summary>"
            f"{self.pcns.to_html(index=False, escape=True, border=0)}</details>"
        )
        practice_cols = ["practice_code", "practice_name", "pcn_code", "list_size", "n_findings"]
        parts.append(
            f"<details><summary>Practices ({len(self.practices)})</summary>"
            f"{self.practices[practice_cols].to_html(index=False, escape=True, border=0)}"
            "</details>"
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
        return {"pcn_footprints": footprints, "practices": points, "findings": findings}

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
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".geo-pcn-") as tmp:
            tmp_path = Path(tmp)
            self.to_json(tmp_path / "report.json")
            (tmp_path / "report.md").write_text(self.to_markdown(), encoding="utf-8")
            excel_safe(self.pcns).to_csv(tmp_path / "pcns.csv", index=False)
            excel_safe(self.practices).to_csv(tmp_path / "practices.csv", index=False)
            excel_safe(self.findings_frame()).to_csv(tmp_path / "findings.csv", index=False)
            if self.areas is not None:
                excel_safe(self.areas).to_csv(tmp_path / "areas.csv", index=False)
            if self.alignment.layers:
                pcn_rows = self.alignment.pcn_table()
                excel_safe(pcn_rows).to_csv(tmp_path / "alignment_pcns.csv", index=False)
                area_rows = self.alignment.area_table()
                if len(area_rows):
                    excel_safe(area_rows).to_csv(tmp_path / "alignment_areas.csv", index=False)
            gpkg = tmp_path / "footprints.gpkg"
            for layer, frame in self.geodata().items():
                if len(frame):
                    frame.to_file(gpkg, layer=layer, driver="GPKG")
            if map_html or png:
                from geo_pcn import maps  # imported here: folium is only needed for maps

                if map_html:
                    maps.write_map(self, tmp_path / "map.html", tiles=tiles)
                if png:
                    maps.write_png(self, tmp_path / "map.png")
            written = []
            for item in sorted(tmp_path.iterdir()):
                target = out_dir / item.name
                shutil.move(str(item), target)
                written.append(target)
        return written


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell that Excel would run as a formula prefixed by ``'``.

    Examples
    --------
    >>> excel_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "ok", "-x"]}))["name"].tolist()
    ["'=HYPERLINK(1)", 'ok', "'-x"]
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            out[column] = text.where(~risky, "'" + text.astype(str))
    return out


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
                f"### {_md(name)} (service areas, weighted by {unit})",
                "",
                f"- coterminosity {s['coterminosity']:.3f} (share of {unit} in their PCN's "
                f"dominant area); {s['pct_pcns_in_one_area']:.1f}% of PCNs have >= 95% in one "
                "area",
                f"- NMI {s['nmi']:.3f} (arithmetic normalisation), ARI {s['ari']:.3f}, "
                f"VI {s['vi']:.3f} nats",
                f"- PCNs cut by the area lines: {s['n_pcns_split']}; areas cutting PCNs: "
                f"{s['n_areas_cutting_pcns']}; outside every area: {s['n_outside_layer']:,}",
            ]
            if len(result.actions):
                lines += ["", "Suggested docking: pairs that do not fit it", ""]
                lines += [f"- {_md(a)}" for a in result.actions["action"].head(max_rows)]
                if len(result.actions) > max_rows:
                    lines.append(f"- ... {len(result.actions) - max_rows} more in report.json")
        else:
            lines += [
                f"### {_md(name)} (sites)",
                "",
                f"- {s['n_sites']:,} sites, {s['n_located']:,} located, "
                f"{s['n_in_footprints']:,} inside a PCN footprint; "
                f"{s['sites_per_10k']} per 10,000 patients",
                f"- PCNs with no site: {_md(', '.join(s['pcns_without_sites'])) or 'none'}",
                f"- practice to nearest site: median {s['median_practice_to_site_m']:,.0f} m, "
                f"max {s['max_practice_to_site_m']:,.0f} m",
            ]
            if s["has_declared_pcn"]:
                lines.append(f"- sites outside the PCN they declare: {s['n_outside_declared']}")
            if s["n_not_located"]:
                missing = result.not_located
                shown = [
                    f"{c} ({p})" if p else c
                    for c, p in zip(missing["code"], missing["postcode"], strict=True)
                ]
                lines.append(f"- not located (kept, listed): {_md(', '.join(shown))}")
        lines.append("")
    return lines


def _md(text: str) -> str:
    """Neutralise input-derived text in Markdown: no raw HTML tags, no table breaks."""
    return str(text).replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


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
