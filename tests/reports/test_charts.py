"""The SVG charts: well-formed, labelled for screen readers, escaped, with a font."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from reports import charts

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    charts.CategoryRow(
        "Phát triển chính quyền điện tử <script>alert(1)</script> & số",
        {"completed_on_time": 3, "overdue": 2, "in_progress": 4, "not_started": 1},
    ),
    charts.CategoryRow("Chuyển đổi số lĩnh vực y tế", {"completed_late": 1}),
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


def all_svgs():
    points = [
        (datetime.date(2022, m, 28), {"completed_on_time": m, "overdue": 1, "in_progress": 9})
        for m in range(1, 13)
    ]
    rates = [
        charts.RateRow("Sở TT&TT", 0.47, 2),
        charts.RateRow("UBND huyện Hải Hậu", None, 0),
    ]
    for variant in (charts.WEB, charts.PDF):
        yield variant, charts.category_bars(ROWS, title="Theo lĩnh vực", variant=variant)
        yield variant, charts.trend_columns(points, title="Xu hướng", variant=variant)
        yield variant, charts.ranking_bars(rates, title="Xếp hạng", variant=variant)


@pytest.mark.parametrize(("variant", "svg"), list(all_svgs()))
def test_charts_are_well_formed_and_titled_with_an_explicit_font(variant, svg):
    root = parse(svg)
    texts = list(root.iter(f"{SVG}text"))
    assert texts
    for text in texts:
        assert text.get("font-family") == charts.FONTS[variant]
    if variant == charts.PDF:
        assert "Liberation Serif" in svg


def test_labels_are_escaped_and_vietnamese_kept():
    svg = charts.category_bars(ROWS, title="Theo lĩnh vực <b>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "Theo lĩnh vực <b>"
    assert "Chuyển đổi số lĩnh vực y tế" in "".join(root.itertext())


def test_bars_use_the_category_colours_and_name_each_segment():
    root = parse(charts.category_bars(ROWS, title="t"))
    fills = {rect.get("fill") for rect in root.iter(f"{SVG}rect")}
    assert charts.COLOURS["overdue"] == "#c62828"
    assert {charts.COLOURS[c] for c in ("completed_on_time", "overdue", "in_progress")} <= fills
    tooltips = [t.text for rect in root.iter(f"{SVG}rect") for t in rect.iter(f"{SVG}title")]
    assert any("2" in t and "quá hạn" in t.lower() or "overdue" in t.lower() for t in tooltips)


def test_same_data_same_svg_for_reproducible_reports():
    assert charts.category_bars(ROWS, title="t") == charts.category_bars(ROWS, title="t")


def test_empty_charts_say_so():
    with translation.override("en"):
        svgs = (
            charts.category_bars([], title="t"),
            charts.trend_columns([], title="t"),
            charts.ranking_bars([], title="t"),
        )
    for svg in svgs:
        assert "No tasks to show." in "".join(parse(svg).itertext())


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError):
        charts.category_bars(ROWS, title="t", variant="png")
