"""The page frame (tasks_app.context_processors.page_frame) reaches every page that
extends base.html, whichever app renders it, and costs nothing where it is not shown."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tasks_app import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    # Before the fixture task's due date (30/06/2022), when an extension may be asked for.
    with time_machine.travel(
        datetime.datetime(2022, 6, 15, 9, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    ):
        yield


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def waiting_extension(task, manager):
    return services.extension_request(
        task=task,
        requested_by=manager,
        agency=task.lead_agency,
        proposed_due=task.due + datetime.timedelta(days=30),
        reason="Chờ kinh phí",
    )


def _nav(response) -> str:
    html = response.content.decode()
    return html[html.index("<nav") : html.index("</nav>")]


@pytest.mark.parametrize("page", ["reports:dashboard", "report-archive:list", "reminders:list"])
def test_pages_of_other_apps_show_the_leaders_frame(page, client, leader, waiting_extension):
    client.force_login(leader)
    nav = _nav(client.get(reverse(page)))
    assert "All tasks" in nav
    assert "Extension requests" in nav
    # The badge with the one request waiting for a decision.
    assert '<span class="badge rounded-pill text-bg-warning">1<' in nav
    assert str(leader.memberships.get().agency) in nav


def test_an_agency_manager_sees_their_agency_in_the_frame(client, manager, agencies):
    client.force_login(manager)
    nav = _nav(client.get(reverse("reminders:list")))
    assert "My agency" in nav
    assert "All tasks" not in nav
    assert "Extension requests" not in nav
    assert str(agencies["haihau"]) in nav


def test_the_login_page_runs_no_query_for_the_frame(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("login"))
    assert response.status_code == 200
