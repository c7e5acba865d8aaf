"""The dashboard's figures as a Vietnamese reader expects them, the same on the page, in the
PDF's tables, in the charts and in the Excel twin: on-time rates rounded half-up (1 of 16 is
6,3 %, where float's round() gives 6,2), decimal comma, and ranking ties in Vietnamese
alphabetical order (Đ after D)."""

from io import BytesIO

import pytest
from django.template import Context, Template
from django.utils import translation
from openpyxl import load_workbook

from reports import charts
from reports.selectors import AgencyRow, Counts, LevelRanking, _rank_by_level
from reports.services import _category_counts_row

# 1 of 16 due tasks on time: 6,25 % exactly, a tie that round() settles to the even 6,2.
TIE = Counts(completed_on_time=1, overdue=15, due=16, due_on_time=1)


def test_the_float_way_would_round_this_rate_down():
    assert round(TIE.on_time_rate * 100, 1) == 6.2  # what the PDF used to print


def test_the_pdf_tables_round_half_up():
    row = _category_counts_row(TIE)
    assert str(row["rate"]) == "6.3"
    with translation.override("vi"):
        html = Template("{% load formatting %}{{ rate|number:1 }}").render(
            Context({"rate": row["rate"]})
        )
    assert html == "6,3"


def test_the_dashboard_writes_the_rate_with_a_decimal_comma():
    template = Template("{% load formatting %}{{ counts.on_time_rate|percent }}")
    with translation.override("vi"):
        assert template.render(Context({"counts": TIE})) == "6,3 %"
    with translation.override("en"):
        assert template.render(Context({"counts": TIE})) == "6.3%"


def test_the_ranking_chart_labels_round_half_up():
    row = charts.RateRow(label="UBND huyện Hải Hậu", rate=1 / 8, overdue=0)  # 12,5 %
    with translation.override("vi"):
        svg = charts.ranking_bars([row], title="Xếp hạng", variant=charts.WEB)
    assert "13 %" in svg  # whole percents: 12,5 → 13, where f"{12.5:.0f}" gives 12


@pytest.mark.django_db
def test_the_excel_rate_cell_is_numeric_and_rounded_half_up(demo_user, at):
    import datetime

    from reports.excel import dashboard_workbook
    from reports.selectors import dashboard_summary

    board = dashboard_summary(
        user=demo_user("lanhdao"), filters=at(datetime.date(2022, 12, 31)), with_trend=False
    )
    board.totals = TIE
    book = load_workbook(BytesIO(dashboard_workbook(board)))
    values = [row[1] for row in book.worksheets[0].iter_rows(min_row=7, values_only=True)]
    assert values[10] == 0.063
    assert book.worksheets[0].cell(row=17, column=2).number_format == "0.0%"


@pytest.mark.django_db
def test_ranking_ties_follow_vietnamese_alphabetical_order(levels):
    level = levels["district"]
    same = {"due": 4, "due_on_time": 2, "completed_on_time": 2, "overdue": 2}
    names = ["UBND huyện Đông Hưng", "UBND huyện Duy Tiên", "UBND huyện Ân Thi", "UBND huyện An"]
    rows = [
        AgencyRow(
            id=i, code=f"A{i}", name=n, short_name="", level_id=level.pk, counts=Counts(**same)
        )
        for i, n in enumerate(names)
    ]
    (ranking,) = _rank_by_level(rows)
    assert isinstance(ranking, LevelRanking)
    assert [row.name for row in ranking.agencies] == [
        "UBND huyện An",
        "UBND huyện Ân Thi",
        "UBND huyện Duy Tiên",
        "UBND huyện Đông Hưng",
    ]
