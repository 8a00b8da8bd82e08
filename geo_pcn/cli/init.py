"""``geo-pcn init``: a study file from a folder of downloads.

Every file in the folder (recursively; zips are unpacked into a folder beside them, a
Code-Point Open zip is read as it is) is named by :func:`geo_pcn.io.identify.identify`;
the best file for each input of the study is chosen by what it holds (the practices it
covers, the small areas it covers), never by its name; each line of the study file says
what the file is and why it was chosen; two files that could each be the input are a
question in the comments and in the one-line summary, never a silent guess; what is
missing is listed with where to download it. An existing file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from geo_pcn._escape import toml_comment, toml_string
from geo_pcn.cli._init_files import (
    extract_date,
    level_codes,
    newest_first,
    of_kind,
    scan,
    share_of,
    sub_icbs,
    unzip,
    where_practices,
)
from geo_pcn.errors import InputError
from geo_pcn.io.identify import Found
from geo_pcn.io.tables import normalise_name
from geo_pcn.settings import DEFAULT_BAND

__all__ = ["init_command", "write_study", "DOWNLOADS", "SCHEMA_PATH"]

#: The JSON Schema of the study file, shipped in the package (``#:schema`` line).
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "study.schema.json"

#: Where to download each input (for the "missing" list).
DOWNLOADS = {
    "practices": "NHS England 'Patients Registered at a GP Practice': gp-reg-pat-prac-map.csv "
    "(https://digital.nhs.uk/data-and-information/publications/statistical/"
    "patients-registered-at-a-gp-practice)",
    "registrations": "NHS England 'Patients Registered at a GP Practice': "
    "gp-reg-pat-prac-lsoa-all.csv (same page as the practice map)",
    "postcodes": "OS Code-Point Open, CSV zip (https://osdatahub.os.uk/downloads/open/CodePointOpen)"
    " or the ONS Postcode Directory (https://geoportal.statistics.gov.uk)",
    "areas": "ONS 'LSOA (December 2021) Boundaries EW BSC' GeoJSON "
    "(https://geoportal.statistics.gov.uk)",
    "population": "ONS Census 2021 TS001 usual residents by LSOA "
    "(https://www.nomisweb.co.uk/sources/census_2021_bulk)",
    "sub_icb": "ONS 'LSOA (2021) to Sub ICB Locations to ICB (April 2024) Lookup' CSV or "
    "'Sub ICB Locations (April 2024) Boundaries' (https://geoportal.statistics.gov.uk)",
    "icb": "ONS 'Integrated Care Boards (April 2024) Boundaries' or the LSOA -> sub-ICB -> ICB "
    "lookup (https://geoportal.statistics.gov.uk)",
    "place": "ONS 'Local Authority Districts (May 2024) Boundaries UK BSC' or the LSOA -> LAD "
    "lookup (https://geoportal.statistics.gov.uk)",
    "rural": "ONS 2021 Rural-Urban Classification of LSOAs (https://geoportal.statistics.gov.uk)",
    "deprivation": "English Indices of Deprivation, LSOA file 1 (https://www.gov.uk/government/"
    "statistics/english-indices-of-deprivation-2019)",
    "pharmacies": "ODS edispensary.csv (https://digital.nhs.uk/services/organisation-data-service/"
    "export-data-files/csv-downloads/other-nhs-organisations)",
    "lookup": "ONS 'LSOA (2011) to LSOA (2021) to Local Authority District (2022) Lookup' "
    "(https://geoportal.statistics.gov.uk): the registrations and the polygons are of "
    "different census vintages",
    "configuration": "ODS ePCN.xlsx (practice -> PCN; https://digital.nhs.uk/services/"
    "organisation-data-service/export-data-files/csv-downloads/gp-and-gp-practice-related-data)",
}
#: Share of the wanted codes a file must hold to be used.
_ENOUGH = 0.9


@dataclass
class _Plan:
    """What the study file will say, line by line, and what init noticed."""

    folder: Path
    out: Path
    lines: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    used: set[Path] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def path(self, found: Found | Path) -> str:
        target = found.path if isinstance(found, Found) else found
        rel = os.path.relpath(os.path.abspath(target), os.path.abspath(self.out.parent))
        return toml_string(Path(rel).as_posix())

    def say(self, text: str) -> None:
        self.lines.append("# " + toml_comment(text))

    def key(self, key: str, value: str, why: str) -> None:
        self.say(why)
        self.lines.append(f"{key} = {value}")

    def use(self, found: Found) -> Found:
        self.used.add(found.path)
        return found

    def ask(self, where: str, chosen: Found, others: list[Found], why: str) -> None:
        names = ", ".join(f"{self.path(o)} ({o.detail})" for o in others)
        self.questions.append(f"{where}: {len(others) + 1} candidate files")
        self.say(
            f"? {where}: chose {self.path(chosen)} ({why}); also possible: {names}. "
            "Check this choice and change the line below if another file is the right one"
        )


def _best_by_share(
    plan: _Plan,
    where: str,
    candidates: list[Found],
    wanted: frozenset[str],
    what: str,
    enough: float = _ENOUGH,
) -> Found | None:
    """The candidate holding most of ``wanted`` (then the fewest rows: the region's own
    file before a national one); a question when another holds as many."""
    scored = [(share_of(wanted, c.areas or c.practices), c) for c in candidates]
    scored = [(sh, c) for sh, c in scored if sh >= enough]
    if not scored:
        return None
    # shares within a percent are a tie (a few Welsh or Scottish codes either way): the
    # fewest rows (the region's own file before a national one) wins, and it is a question
    scored.sort(key=lambda p: (-round(p[0], 2), p[1].rows, str(p[1].path)))
    best_share, best = scored[0]
    ties = [c for sh, c in scored[1:] if round(sh, 2) == round(best_share, 2)]
    why = f"holds {best_share:.1%} of the {what}"
    if ties:
        plan.ask(where, best, ties, why + ", and the fewest rows")
    return plan.use(best)


def write_study(folder: Path, out: Path, where: dict[str, str]) -> tuple[str, str]:
    """The study file text for the downloads in ``folder`` and the one-line summary.

    Each section is chosen and written by one step, in the order of the study file; the
    ``_Plan`` carries the lines, the questions, the files used and what is missing.

    Raises
    ------
    InputError
        No practice file in the folder, or ``where`` names a column or value the practice
        file does not have.
    """
    plan = _Plan(folder, out)
    unzip(folder, plan.notes)
    found = scan(folder, out)
    if not found:
        raise InputError(f"{folder}: no files found; put the downloaded files in it")
    practice, codes, spelled = _write_practices(plan, found, where)
    postcode = _write_locations(plan, found, practice, codes)
    if practice.kind != "practice_map":
        _write_configuration(plan, found, practice, codes, spelled)
    registrations = _write_registrations(plan, found, practice, codes)
    areas = _write_areas(plan, found, registrations)
    _write_boundaries(plan, found, practice, codes, areas)
    _write_unknown_polygons(plan, found)
    _write_community(plan, found, postcode)
    plan.lines += ["", "[rules]"]
    plan.key(
        "band",
        f"[{DEFAULT_BAND[0]}, {DEFAULT_BAND[1]}]",
        "the national PCN size band (30,000-50,000 patients)",
    )
    return _finish(plan, found, _header(found, folder))


def _header(found: list[Found], folder: Path) -> list[str]:
    """The study file's opening lines: its schema and how to read it."""
    return [
        "#:schema " + SCHEMA_PATH.as_uri(),
        "# " + toml_comment(f"Written by geo-pcn init from the {len(found)} files in {folder}."),
        "# Every line says what its file is and why it was chosen; lines starting '# ?' ask",
        "# you to check a choice. The keys are described in docs/study-file.md.",
    ]


def _write_practices(
    plan: _Plan, found: list[Found], where: dict[str, str]
) -> tuple[Found, frozenset[str], dict[str, str]]:
    """The study's name and ``[practices]``: the NHS England map (PCNs and sub-ICB in one
    file) before epraccur. Returns the practice file, the study's practice codes and the
    ``where`` columns as the file spells them."""
    folder = plan.folder
    maps = newest_first(of_kind(found, "practice_map"))
    if where:
        with_cols = [
            f
            for f in maps
            if all(normalise_name(k) in map(normalise_name, f.columns) for k in where)
        ]
        maps = with_cols or maps
    practice_files = (
        maps or of_kind(found, "epraccur") or of_kind(found, "locations", "practice_list")
    )
    if not practice_files:
        seen = ", ".join(sorted({f.kind for f in found}))
        raise InputError(
            f"{folder}: no practice file among {len(found)} files ({seen}); download "
            + DOWNLOADS["practices"]
        )
    practice = plan.use(practice_files[0])
    spelled, codes, kept = where_practices(practice, where)
    region = ", ".join(f"{k} = {v}" for k, v in spelled.items()) or f"all of {folder.name}"
    extract = f" ({practice.extract})" if practice.extract else ""
    plan.say("The study's name in every report: change it to the region's own name")
    plan.lines.append(f"name = {toml_string(f'Practices with {region}{extract}')}")
    plan.lines.append("")
    plan.lines.append("[practices]")
    others = practice_files[1:]
    why = {
        "practice_map": "it gives each practice's PCN and sub-ICB",
        "epraccur": "the only practice file (it has no PCNs: see [configuration])",
    }.get(practice.kind, "the only practice file")
    if others:
        plan.ask("[practices]", practice, others, why + ("; the newest extract" if maps else ""))
    plan.key("file", plan.path(practice), f"{practice.what}: {why}")
    if spelled:
        body = ", ".join(
            f"{toml_string(k) if not k.isidentifier() else k} = {toml_string(v)}"
            for k, v in spelled.items()
        )
        plan.key("where", f"{{ {body} }}", f"--where: {kept:,} rows, {len(codes):,} practices")
    return practice, codes, spelled


def _write_locations(
    plan: _Plan, found: list[Found], practice: Found, codes: frozenset[str]
) -> Found | None:
    """Practice coordinates: a locations file holding every practice, else postcodes.
    Returns the postcode lookup (community sites use it too), or ``None``."""
    postcodes = of_kind(found, "codepoint") + of_kind(found, "postcode_directory")
    postcode = plan.use(postcodes[0]) if postcodes else None
    located = [f for f in of_kind(found, "locations") if f is not practice]
    location = _best_by_share(plan, "[practices] locations", located, codes, "study's practices")
    if location is not None:
        plan.key(
            "locations",
            plan.path(location),
            f"{location.what}: holds every practice of the study",
        )
    elif postcode is not None:
        plan.key(
            "postcodes",
            plan.path(postcode),
            f"{postcode.what}: places each practice at its postcode",
        )
    else:
        plan.missing.append("postcodes")
    return postcode


def _write_configuration(
    plan: _Plan,
    found: list[Found],
    practice: Found,
    codes: frozenset[str],
    spelled: dict[str, str],
) -> None:
    """PCN membership for a practice file without it (epraccur): the ePCN workbook,
    narrowed to the sub-ICB locations of the ``where`` practices."""
    epcn = of_kind(found, "epcn")
    if epcn:
        plan.lines += ["", "[configuration]"]
        plan.key("file", plan.path(plan.use(epcn[0])), f"{epcn[0].what}: practice -> PCN")
        subs = sub_icbs(practice, codes) if spelled else []
        if subs:
            listed = ", ".join(toml_string(c) for c in subs)
            plan.key(
                "where",
                f"{{ sub_icb_code = [{listed}] }}",
                "the sub-ICB locations of the --where practices (the workbook is national)",
            )
        if len(epcn) > 1:
            plan.ask("[configuration]", epcn[0], epcn[1:], "the first by name")
    else:
        plan.missing.append("configuration")


def _write_registrations(
    plan: _Plan, found: list[Found], practice: Found, codes: frozenset[str]
) -> Found | None:
    """``[registrations]``: the file holding most of the study's practices."""
    regs = of_kind(found, "registrations")
    registrations = None
    if regs:
        # most of the study's practices; then the file whose practices are most of them
        # in the practice file (the same date: a 2022 file has practices closed by 2026);
        # then the newest extract
        scored = sorted(
            regs,
            key=lambda f: (
                -share_of(codes, f.practices),
                -round(share_of(f.practices, practice.practices), 2),
                -(extract_date(f) or dt.date.min).toordinal(),
                str(f.path),
            ),
        )
        registrations = plan.use(scored[0])
        share = share_of(codes, registrations.practices)
        plan.lines += ["", "[registrations]"]
        rest = [f for f in scored[1:] if share_of(codes, f.practices) > 0]
        same = share_of(registrations.practices, practice.practices)
        why = (
            f"holds {share:.1%} of the study's practices; {same:.1%} of its practices are in "
            "the practice file"
        )
        if rest:
            plan.ask("[registrations]", registrations, rest, why)
        plan.key("file", plan.path(registrations), f"{registrations.what}: {why}")
    else:
        plan.missing.append("registrations")
    return registrations


def _choose_areas(
    plan: _Plan, found: list[Found], registrations: Found | None
) -> tuple[Found | None, Found | None]:
    """The small-area polygons holding most of the registrations' small areas, and a
    lookup of census vintages when they are of another vintage than the registrations."""
    wanted = registrations.areas if registrations is not None else frozenset()
    polys = of_kind(found, "area_polygons") or of_kind(found, "polygons")
    areas = None
    lookup = None
    if polys and wanted:
        # polygons of the registrations' census vintage (when both say), holding most of
        # their small areas (by code: residents in Wales or Scotland lower the share)
        vintage = registrations.vintage
        same = [p for p in polys if not (vintage and p.vintage and p.vintage != vintage)]
        what = "registrations' small areas"
        areas = _best_by_share(plan, "[areas]", same, wanted, what, enough=0.5)
        if areas is None:  # another census vintage: through a small-area lookup
            for bridge in of_kind(found, "area_lookup"):
                fits = [p for p in polys if p.vintage != vintage]
                if share_of(wanted, bridge.areas) >= 0.5 and fits:
                    areas = plan.use(sorted(fits, key=lambda f: (f.rows, str(f.path)))[0])
                    lookup = plan.use(bridge)
                    break
        if areas is None:
            areas = _best_by_share(plan, "[areas]", polys, wanted, what, enough=0.5)
            if areas is not None:
                plan.missing.append("lookup")
    elif polys:
        areas = plan.use(sorted(polys, key=lambda f: (f.rows, str(f.path)))[0])
    return areas, lookup


def _write_areas(plan: _Plan, found: list[Found], registrations: Found | None) -> Found | None:
    """``[areas]``: the polygons, the vintage lookup, and the population, rural-urban and
    deprivation files holding the polygons' small areas."""
    areas, lookup = _choose_areas(plan, found, registrations)
    if areas is not None:
        plan.lines += ["", "[areas]"]
        plan.key("file", plan.path(areas), f"{areas.what}: the residents' small areas")
        if lookup is not None:
            plan.key(
                "lookup",
                plan.path(lookup),
                f"{lookup.what}: registrations are LSOA "
                f"{registrations.vintage or '?'}, the polygons LSOA {areas.vintage or '?'}",
            )
        for key, kind, what in (
            ("population", "population", "residents"),
            ("rural", "rural", "rural-urban classes"),
            ("deprivation", "deprivation", "IMD scores"),
        ):
            pick = _best_by_share(
                plan, f"[areas] {key}", of_kind(found, kind), areas.areas, "polygons' small areas"
            )
            if pick is not None:
                plan.key(
                    key,
                    plan.path(pick),
                    f"{pick.what}: {what}, "
                    f"holds {share_of(areas.areas, pick.areas):.1%} of the polygons' areas",
                )
            else:
                plan.missing.append(key)
    else:
        plan.missing.append("areas")
    return areas


def _write_boundaries(
    plan: _Plan,
    found: list[Found],
    practice: Found,
    codes: frozenset[str],
    areas: Found | None,
) -> None:
    """``[boundaries]``: per level, a lookup of the polygons' small areas (it nests
    exactly), else polygons of that level."""
    plan.lines += ["", "[boundaries]"]
    levels_held = level_codes(practice, codes)
    for level in ("sub_icb", "icb", "place"):
        lookups = [
            f
            for f in of_kind(found, "lookup")
            if level in f.levels and areas is not None and share_of(areas.areas, f.areas) >= _ENOUGH
        ]
        layers = [
            f for f in of_kind(found, "boundary_polygons") if next(iter(f.levels), None) == level
        ]
        # polygons named only "code": the level whose codes the study's practices carry
        layers += [
            f
            for f in of_kind(found, "polygons")
            if f is not areas
            and level in levels_held
            and share_of(levels_held[level], f.areas) >= _ENOUGH
        ]
        pick = (lookups or layers or [None])[0]
        if pick is None:
            plan.missing.append(level)
            continue
        plan.use(pick)
        rest = (lookups + layers)[1:]
        columns = pick.levels.get(level, [])
        how = (
            "a lookup of the areas' small areas: its lines follow the small areas exactly"
            if pick in lookups
            else "polygons of this level"
        )
        if rest:
            plan.ask(f"[boundaries] {level}", pick, rest, how)
        if len(columns) > 1:
            plan.questions.append(f"[boundaries] {level}: {len(columns)} candidate columns")
            plan.say(
                f"? [boundaries] {level}: columns {', '.join(columns)} could each be the "
                f"{level}; chose {columns[0]} (the first); change code = ... if another is right"
            )
            value = (
                f"{{ file = {plan.path(pick)}, columns = {{ code = {toml_string(columns[0])} }} }}"
            )
        else:
            value = plan.path(pick)
        plan.key(level, value, f"{pick.what}: {how}")


def _write_unknown_polygons(plan: _Plan, found: list[Found]) -> None:
    """Polygon files of a level init cannot tell: a commented line and a question each."""
    left = [f for f in of_kind(found, "polygons") if f.path not in plan.used]
    if left:
        plan.questions.append(f"{len(left)} polygon file(s) of a level geo-pcn cannot tell")
        for f in left:
            plan.say(
                f"? {plan.path(f)}: {f.what}; if they are local authority "
                "districts, uncomment the next line; if community team footprints, give them "
                'a [community.NAME] section with kind = "areas"'
            )
            plan.lines.append(f"# place = {plan.path(f)}")
            plan.used.add(f.path)


def _write_community(plan: _Plan, found: list[Found], postcode: Found | None) -> None:
    """Community sites: ODS organisation files (pharmacies), placed by postcode."""
    for org in of_kind(found, "ods_organisations"):
        name = (
            "pharmacies"
            if org.practices and all(c[:1] == "F" for c in list(org.practices)[:50])
            else normalise_name(org.path.stem).lower()
        )
        if postcode is None:
            plan.notes.append(f"{org.path.name}: not used, its sites need postcodes to place them")
            continue
        plan.use(org)
        plan.lines += ["", f"[community.{name}]"]
        plan.key("file", plan.path(org), f"{org.what}: sites to check against the PCNs")
        plan.key("kind", '"sites"', "points (placed by postcode)")
        plan.key("postcodes", plan.path(postcode), f"{postcode.what}: places each site")
    if not of_kind(found, "ods_organisations"):
        plan.missing.append("pharmacies")


def _finish(plan: _Plan, found: list[Found], header: list[str]) -> tuple[str, str]:
    """The study file's text (with what is missing, unused and noted) and the summary."""
    out = plan.out
    tail: list[str] = []
    if plan.missing:
        tail += ["", "# Missing (the study runs without them; each adds checks):"]
        tail += ["#   " + toml_comment(f"{m}: {DOWNLOADS[m]}") for m in plan.missing]
    unused = [f for f in found if f.path not in plan.used]
    if unused:
        tail += ["", "# Not used:"]
        tail += ["#   " + toml_comment(f"{plan.path(f)}: {f.what}") for f in unused]
    if plan.notes:
        tail += ["", "# Notes:"] + ["#   " + toml_comment(n) for n in plan.notes]
    text = "\n".join(header + [""] + plan.lines + tail) + "\n"
    summary = (
        f"wrote {out}: {len(plan.used)} of {len(found)} files used"
        + (f"; missing: {', '.join(plan.missing)}" if plan.missing else "")
        + (
            f"; {len(plan.questions)} question(s) to answer in its '# ?' comments: "
            + "; ".join(plan.questions)
            if plan.questions
            else ""
        )
    )
    return text, summary


def _where_option(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        column, sep, value = item.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise InputError(f"--where {item!r}: give COLUMN=VALUE, e.g. --where ICB_CODE=QNC")
        out[column.strip()] = value.strip()
    return out


@click.command("init")
@click.argument(
    "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False
)
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Keep the practices whose COLUMN (as named in the practice file) is VALUE, "
    "e.g. ICB_CODE=QNC; repeat for more columns.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("study.toml"),
    show_default=True,
    help="The study file to write (never overwritten).",
)
def init_command(folder: Path | None, where: tuple[str, ...], out: Path) -> None:
    """Write a study file from FOLDER of downloaded NHS / ONS / OS files."""
    if folder is None:
        raise click.UsageError("give the FOLDER of downloaded files, e.g. geo-pcn init downloads/")
    if out.exists() or out.is_symlink():
        raise InputError(
            f"{out}: already exists; geo-pcn init never overwrites a file: give another --out "
            "or move it away"
        )
    text, summary = write_study(folder, out, _where_option(where))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    click.echo(summary)
