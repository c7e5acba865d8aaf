"""The dashboard page, its htmx fragments and links to the task list."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from reports.links import tasks_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_client(client, demo_user):
    client.force_login(demo_user("lanhdao"))
    return client


def test_leader_sees_the_categories_at_30_june(leader_client):
    response = leader_client.get(reverse("reports:dashboard"), {"as_of": "2022-06-30"})
    assert response.status_code == 200
    assert response.templates[0].name == "reports/dashboard.html"
    totals = response.context["board"].totals
    assert (totals.completed_on_time, totals.in_progress, totals.not_started) == (5, 40, 13)
    html = response.content.decode()
    assert "30/06/2022" in html
    assert "<svg" in html and 'role="img"' in html
    assert response["Cache-Control"].startswith("max-age=0")


@time_machine.travel("2023-01-10 08:15 +0700", tick=False)
def test_page_says_when_the_figures_were_computed(leader_client):
    html = leader_client.get(reverse("reports:dashboard")).content.decode()
    # Default as-of date: today in Asia/Ho_Chi_Minh; the time is local time too.
    assert "10/01/2023" in html
    assert re.search(r"08:15 10/01/2023", html)


def test_every_headline_number_links_to_its_tasks(leader_client):
    response = leader_client.get(reverse("reports:dashboard"), {"as_of": "2022-06-30"})
    html = response.content.decode()
    links = re.findall(r'href="(/tasks/\?[^"]+)"', html)
    assert links
    queries = [parse_qs(urlsplit(link.replace("&amp;", "&")).query) for link in links]
    assert all(q["as_of"] == ["2022-06-30"] and q["leaves"] == ["1"] for q in queries)
    assert any(q.get("category") == ["overdue"] and "lead_agency" in q for q in queries)
    assert any(q.get("category") == ["not_started"] for q in queries)
    assert any(q.get("due_by") == ["1"] for q in queries)


def test_htmx_request_gets_the_body_only(leader_client):
    response = leader_client.get(
        reverse("reports:dashboard"), {"as_of": "2022-06-30"}, headers={"HX-Request": "true"}
    )
    assert response.templates[0].name == "reports/partials/_dashboard_body.html"
    assert "<html" not in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_trend_fragment(leader_client):
    response = leader_client.get(reverse("reports:dashboard-trend"), {"as_of": "2022-03-31"})
    assert response.status_code == 200
    assert [p.date.isoformat() for p in response.context["trend"]] == [
        "2022-01-31",
        "2022-02-28",
        "2022-03-31",
    ]
    assert "<svg" in response.content.decode()


def test_manager_page_shows_only_the_subtree(client, demo_user):
    client.force_login(demo_user("haihau"))
    response = client.get(reverse("reports:dashboard"), {"as_of": "2022-06-30"})
    assert response.context["board"].totals.total == 20
    assert "Giao Thủy" not in "".join(
        row.name for r in response.context["board"].rankings for row in r.agencies
    )


def test_invalid_filters_fall_back_on_the_page(leader_client):
    response = leader_client.get(
        reverse("reports:dashboard"), {"as_of": "not-a-date", "level": "999"}
    )
    assert response.status_code == 200
    assert response.context["filters"].level is None


def _found(client, expected: dict) -> dict:
    return {url: client.get(url).context["page"].paginator.count for url in expected}


@pytest.mark.slow
@pytest.mark.parametrize("as_of", ["2022-06-30", "2022-12-31"])
def test_each_number_matches_the_task_list_it_links_to(leader_client, as_of):
    """Follow the links of the figures, an area and an agency: the task list finds exactly
    as many tasks as the dashboard counts."""
    board = leader_client.get(reverse("reports:dashboard"), {"as_of": as_of}).context["board"]
    totals, filters = board.totals, board.filters
    expected = {}
    for category in (
        "completed_on_time",
        "completed_late",
        "in_progress",
        "overdue",
        "not_started",
        "regular",
        "withdrawn",
    ):
        expected[tasks_url(filters, category=category)] = getattr(totals, category)
    for band, count in totals.ageing:  # the bands as the page links them
        expected[tasks_url(filters, category="overdue", overdue_days=band.value)] = count
    area = board.areas[1]
    expected[tasks_url(filters, category="in_progress", priority_area=area.id)] = (
        area.counts.in_progress
    )
    worst = board.most_overdue_agency
    expected[tasks_url(filters, category="overdue", lead_agency=worst.id)] = worst.counts.overdue
    assert _found(leader_client, expected) == expected


def test_total_and_due_links_leave_withdrawn_tasks_out(leader_client):
    board = leader_client.get(reverse("reports:dashboard"), {"as_of": "2022-12-31"}).context[
        "board"
    ]
    expected = {
        tasks_url(board.filters, counted=1): board.totals.total,  # 61: CDS22-12 left out
        tasks_url(board.filters, counted=1, due_by=1): board.totals.due,  # 60
    }
    assert _found(leader_client, expected) == expected


def test_a_long_level_lists_its_most_overdue_agencies_and_the_whole_ranking_on_request(
    leader_client, monkeypatch
):
    """A level with many agencies (the communes) lists those with the most overdue tasks;
    one link shows the whole ranking."""
    from reports import views

    monkeypatch.setattr(views, "RANKING_CHART_MAX", 3)
    monkeypatch.setattr(views, "RANKING_ROWS_SHORT", 2)
    params = {"as_of": "2022-12-31"}
    response = leader_client.get(reverse("reports:dashboard"), params)
    board, tables = response.context["board"], response.context["ranking_tables"]
    long = [table for table in tables if len(table.ranking.agencies) > 3]
    assert long, "the demo plan has a level with more than three agencies"
    for table in long:
        overdue = sorted((row.counts.overdue for row in table.ranking.agencies), reverse=True)
        assert [row.counts.overdue for row in table.rows] == overdue[:2]
        assert table.shortened and table.chart == ""
    assert board.most_overdue_agency in [row for table in tables for row in table.rows]
    html = response.content.decode()
    assert html.count("data-ranking-shortened") == len(long)
    assert "ranking=all" in html

    whole = leader_client.get(reverse("reports:dashboard"), {**params, "ranking": "all"})
    for table in whole.context["ranking_tables"]:
        assert table.rows == table.ranking.agencies and not table.shortened
    assert "data-ranking-shortened" not in whole.content.decode()


def test_without_a_plan_the_dashboard_opens_the_plan_in_force_at_the_date(leader_client):
    today = leader_client.get(reverse("reports:dashboard")).context["board"]
    in_2022 = leader_client.get(reverse("reports:dashboard"), {"as_of": "2022-06-30"}).context[
        "board"
    ]

    # Today the current year's plan of today's agencies; a date in 2022 the 2022 plan.
    assert today.filters.plan.code == f"CDS-NB-{timezone.localdate().year}"
    assert in_2022.filters.plan.code == "CDS-ND-2022"
