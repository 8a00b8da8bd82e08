"""map.png, the static picture for board papers, from ``geo-pcn validate <demo> --png``
(the ``demo_results`` fixture in conftest.py): A4 landscape at 200 dpi, not blank, the PCN
footprints in the map's colours, the ERROR outlines, a title block and a legend.

matplotlib draws the footprints at alpha 0.75 over white, so a footprint of colour ``c``
shows as ``0.75 c + 0.25 white``; practices are drawn opaque in their PCN's colour."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: A4 landscape (11.69 x 8.27 in) at the default 200 dpi.
A4_LANDSCAPE_200DPI = (2338, 1654)
ERROR_RED = (0xB2, 0x18, 0x2B)  # SEVERITY_COLOURS["error"]: ERROR outlines, FAIL verdict


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def _mask(pixels: np.ndarray, colour, tolerance: int = 2) -> np.ndarray:
    return (np.abs(pixels - np.asarray(colour)) <= tolerance).all(axis=2)


@pytest.fixture(scope="module")
def png(demo_results: Path) -> Image.Image:
    image = Image.open(demo_results / "map.png")
    image.load()
    return image


@pytest.fixture(scope="module")
def pixels(png) -> np.ndarray:
    return np.asarray(png.convert("RGB"), dtype=int)


@pytest.fixture(scope="module")
def footprint_colours(demo_results: Path) -> set[str]:
    """The fill colours of the PCN footprints in map.html (the map's palette as used)."""
    page = (demo_results / "map.html").read_text(encoding="utf-8")
    styles = re.findall(r'\{"className": "gp-footprint(?: [\w-]+)*"[^}]*\}', page)
    colours = {json.loads(s)["fillColor"] for s in styles}
    assert len(colours) >= 4, colours
    return colours


def test_a4_landscape_at_200_dpi(png, demo_results):
    assert png.format == "PNG"
    assert png.size == A4_LANDSCAPE_200DPI
    assert png.info["dpi"] == pytest.approx((200, 200), abs=0.01)
    assert (demo_results / "map.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    if png.mode == "RGBA":  # saved on white: no see-through pixels
        assert np.asarray(png)[..., 3].min() == 255


def test_not_blank(pixels):
    flat = pixels.reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) > 1_000  # filled areas, outlines, text, anti-aliasing
    drawn = (pixels.min(axis=2) < 250).mean()
    assert 0.15 < drawn < 0.85, f"{drawn:.0%} of the picture is not white"


def test_every_footprint_colour_fills_part_of_the_map(pixels, footprint_colours):
    total = 0
    for colour in sorted(footprint_colours):
        shown = np.round(0.75 * _rgb(colour) + 0.25 * 255)
        n = int(_mask(pixels, shown).sum())
        assert n > 5_000, f"footprint colour {colour} (shown as {shown}) covers only {n} px"
        total += n
    assert total / pixels[..., 0].size > 0.10  # the footprints are a large part of the page


def test_practices_drawn_in_their_pcn_colours(pixels, footprint_colours):
    seen = [c for c in footprint_colours if _mask(pixels, _rgb(c)).sum() > 100]
    assert len(seen) >= len(footprint_colours) // 2, seen


def test_errors_outlined_and_the_verdict_in_red(pixels):
    red = _mask(pixels, ERROR_RED, tolerance=10)
    assert red.sum() > 5_000  # outlines of the PCNs with ERROR findings (3 in the demo)
    top = pixels.shape[0] // 6
    assert red[:top].sum() > 300  # "FAIL: 4 error(s) ..." under the title


def test_title_block_centred_at_the_top_and_legend_on_the_right(pixels):
    height, width = pixels.shape[:2]
    dark = pixels.sum(axis=2) < 150
    title = dark[: height // 12]
    assert title.sum() > 5_000  # "SYNTHETIC DEMO DATA ..." and the study's name, in bold
    cols = np.flatnonzero(title.any(axis=0))
    middle = (cols.min() + cols.max()) / 2
    assert abs(middle - width / 2) < width * 0.1
    legend = dark[:, int(width * 0.7) :]
    assert legend.sum() > 3_000  # the legend's text on the right


def test_metadata(png):
    """matplotlib records itself as the software; the title is drawn, not embedded."""
    assert png.info.get("Software", "").startswith("Matplotlib")


def _dark_in_map(image: bytes) -> int:
    pixels = np.asarray(Image.open(io.BytesIO(image)).convert("RGB"), dtype=int)
    height, width = pixels.shape[:2]
    area = pixels[height // 6 :, : int(width * 0.68)]  # below the title, left of the legend
    return int((area.sum(axis=2) < 150).sum())


def test_pcn_names_are_drawn_inside_the_map(monkeypatch):
    """Dark text pixels in the map area: the picture with the PCN labels against the same
    picture drawn without them."""
    from geo_pcn import validate
    from geo_pcn.datasets import demo
    from geo_pcn.render import png as png_module
    from geo_pcn.render._map_data import build_map_data

    report = validate(demo())
    data = build_map_data(report)
    with_labels = _dark_in_map(png_module.draw_png(data, report, dpi=100))
    monkeypatch.setattr(png_module, "_labels", lambda *a, **k: None)
    without = _dark_in_map(png_module.draw_png(data, report, dpi=100))
    assert with_labels - without > 1_000, (with_labels, without)  # 9 names at 100 dpi


def test_300_dpi_option(tmp_path):
    """`geo-pcn map --png --dpi 300`: A4 landscape at 300 dpi (and `validate --dpi`)."""
    from click.testing import CliRunner

    from geo_pcn.cli import cli
    from geo_pcn.datasets import demo_study_file

    out = tmp_path / "map.html"
    result = CliRunner().invoke(
        cli, ["map", str(demo_study_file()), "--out", str(out), "--png", "--dpi", "300", "-q"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    image = Image.open(out.with_suffix(".png"))
    assert image.size == (3507, 2481)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    folder = tmp_path / "results"
    result = CliRunner().invoke(
        cli,
        ["validate", str(demo_study_file()), "--out", str(folder), "--png", "--dpi", "300", "-q"],
    )
    assert result.exit_code == 1, (result.output, result.exception)
    assert Image.open(folder / "map.png").size == (3507, 2481)
    assert (folder / "map.html").is_file() and (folder / "report.json").is_file()
