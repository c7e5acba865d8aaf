"""plan_tracker/db.py: which queries PostgreSQL keeps prepared."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from plan_tracker.db import prepared_statements
from tasks_app import tokens
from tasks_app.models import Task

pytestmark = pytest.mark.django_db


def _prepared() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def _read(task) -> None:
    assert Task.objects.filter(pk=task.pk, version__gte=0).exists()


def test_a_query_repeated_in_the_block_is_prepared_and_planned_once(postgres_only, task):
    before = _prepared()
    with prepared_statements():
        for _ in range(6):
            _read(task)
    assert _prepared() > before


def test_switched_off_nothing_is_prepared(postgres_only, task, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = _prepared()
    with prepared_statements():
        for _ in range(6):
            _read(task)
    assert _prepared() == before


def test_outside_the_block_queries_are_planned_with_their_values(postgres_only, task):
    before = _prepared()
    for _ in range(10):
        _read(task)
    assert _prepared() == before
    with prepared_statements():
        pass
    for _ in range(10):  # the block set the connection back as it was
        _read(task)
    assert _prepared() == before


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user, name='t')[1]}")
    return client


def test_a_task_page_prepares_its_queries_and_the_dashboard_none(
    postgres_only, task, manager, leader, client, settings
):
    """The API's one-task pages keep their plans; the dashboard's counts over whole plans
    are planned with their values each time."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    reader, dashboard = _api(manager), _api(leader)
    before = _prepared()
    for _ in range(6):
        assert reader.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    after_pages = _prepared()
    assert after_pages > before
    client.force_login(leader)
    for _ in range(6):
        assert client.get("/dashboard/").status_code == 200
        assert dashboard.get("/api/v1/dashboard/").status_code == 200
    assert _prepared() == after_pages
