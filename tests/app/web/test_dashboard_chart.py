"""The dashboard's chart: well-formed, accessible SVG with every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from rapidvet.app.handbook.snapshots import MeasurePoint
from rapidvet.app.web.pages.dashboard_chart import measure_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        e.text or "" for e in root.iter() if e.tag in (f"{SVG}text", f"{SVG}title", f"{SVG}desc")
    ]


def test_chart_is_well_formed_accessible_svg_with_escaped_text():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [
        MeasurePoint(start, "<script>alert('&')</script>", 40.0, 5, 2),
        MeasurePoint(start + timedelta(days=30), "c" * 40, None, 0, 0),  # no plans: no dot
        MeasurePoint(start + timedelta(days=60), "d" * 40, 80.0, 5, 4, (12, 13)),
    ]
    svg = measure_chart_svg(points)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "measure-chart-title measure-chart-desc"
    assert root.find(f"{SVG}title").text == "% of plans vetted within 12 months"
    desc = root.find(f"{SVG}desc").text
    assert "From 40.0% on 2026-01-01 to 80.0% of 5 plans on 2026-03-02" in desc
    assert "#12, #13" in desc
    assert not [
        e for e in root.iter() if e.tag.endswith("script") or e.tag.endswith("foreignObject")
    ]
    assert "<script>" not in svg
    shown = texts(svg)
    assert "2026-01-01: 40.0% of 5 plans, <script" in shown  # escaped in the source, intact here
    assert "Vetted in #12, #13" in shown
    assert {"0%", "50%", "100%", "2026-01-01", "2026-03-02"} <= set(shown)
    assert len(root.findall(f".//{SVG}circle")) == 2
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 2


@pytest.mark.parametrize(
    "points", [[], [MeasurePoint(datetime(2026, 1, 1, tzinfo=UTC), "c", 50.0, 2, 1)]]
)
def test_chart_with_no_or_one_measurement(points):
    shown = texts(measure_chart_svg(points))
    assert ("No measurements yet" in shown) is (not points)
