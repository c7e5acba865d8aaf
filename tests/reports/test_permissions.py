"""Every dashboard number starts from the permission scope (tasks_visible_to)."""

import datetime

import pytest
from django.urls import reverse

from reports.selectors import dashboard_summary
from tasks_app.models import Agency

pytestmark = pytest.mark.django_db
JUNE = datetime.date(2022, 6, 30)


def agency_codes(board) -> set[str]:
    return {row.code for ranking in board.rankings for row in ranking.agencies}


def test_district_manager_sees_the_numbers_of_the_district_subtree(demo_user, at):
    board = dashboard_summary(user=demo_user("haihau"), filters=at(JUNE))
    # Leaves led in Hải Hậu's subtree: UBND (-07, -17, -23, -27, -31, -42, -43 and the
    # CDS22-26 and CDS22-41 children), TT VHTT&TT (-37..-40), xã Hải Trung (-28) = 14;
    # plus the leaves Hải Hậu coordinates: -06, -20, -21, -25, -36, -44 = 20 in all.
    assert board.totals.total == 20
    # On time: -06, -28, -31; late: -44; not started: -20; the other 15 in progress.
    assert board.totals.category_counts() == {
        "completed_on_time": 3,
        "completed_late": 1,
        "in_progress": 15,
        "overdue": 0,
        "not_started": 1,
        "regular": 0,
        "withdrawn": 0,
    }
    codes = agency_codes(board)
    assert {"UBND_HAIHAU", "TTVH_HAIHAU", "HH_HAITRUNG"} <= codes
    assert not codes & {"UBND_GIAOTHUY", "UBND_TPND", "UBND_MYLOC"}


def test_outsider_numbers_exclude_other_districts(demo_user, at):
    board = dashboard_summary(user=demo_user("giaothuy"), filters=at(JUNE))
    # Giao Thủy leads -10 and its CDS22-26 and CDS22-41 children, and coordinates -06, -20,
    # -21, -36, -44 (through its Phòng VH&TT): 8 leaves. Nothing of Hải Hậu's own work.
    assert board.totals.total == 8
    assert "UBND_HAIHAU" not in agency_codes(board)
    assert "HH_HAITRUNG" not in agency_codes(board)
    assert "CDS22-07" not in [t.code for t in board.overdue]


def test_commune_manager_sees_only_the_commune(demo_user, at):
    board = dashboard_summary(user=demo_user("haitrung"), filters=at(JUNE))
    assert board.totals.total == 1  # CDS22-28
    assert agency_codes(board) == {"HH_HAITRUNG"}


def test_outsider_cannot_filter_on_another_districts_agency(client, demo_user):
    client.force_login(demo_user("giaothuy"))
    haihau = Agency.objects.get(code="UBND_HAIHAU")
    response = client.get(
        reverse("dashboard-api:categories"), {"as_of": "2022-06-30", "agency": haihau.pk}
    )
    assert response.status_code == 400
    assert "agency" in response.json()
    # The page ignores the invalid filter and shows the user's own scope.
    page = client.get(reverse("reports:dashboard"), {"as_of": "2022-06-30", "agency": haihau.pk})
    assert page.status_code == 200
    assert page.context["board"].totals.total == 8


def test_anonymous_users_are_sent_to_login_or_refused(client, demo_data):
    assert client.get(reverse("reports:dashboard")).status_code == 302
    assert client.get(reverse("reports:dashboard-export")).status_code == 302
    assert client.get(reverse("dashboard-api:dashboard")).status_code == 401


def test_excel_export_is_scoped_too(client, demo_user):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(demo_user("giaothuy"))
    response = client.get(reverse("reports:dashboard-export"), {"as_of": "2022-06-30"})
    book = load_workbook(BytesIO(response.content))
    agencies = [row[2] for row in book.worksheets[2].iter_rows(min_row=7, values_only=True)]
    assert "Ủy ban nhân dân huyện Hải Hậu" not in agencies
    assert "Ủy ban nhân dân huyện Giao Thủy" in agencies
