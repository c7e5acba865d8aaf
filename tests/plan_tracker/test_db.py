"""plan_tracker/db.py: which queries PostgreSQL keeps prepared."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from plan_tracker.db import planned_with_values, prepared_statements
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


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_queries_planned_with_their_values_in_the_block_are_never_prepared(postgres_only, task):
    """The block's own queries are prepared; those of planned_with_values() never."""
    before = _prepared()
    with prepared_statements():
        with planned_with_values():
            for _ in range(10):
                _read(task)
        assert _prepared() == before
        for _ in range(6):  # after the inner block, the same query is prepared again
            _read(task)
    assert _prepared() > before


@pytest.mark.django_db(transaction=True)  # outside a transaction, as a request runs
def test_a_task_list_keeps_its_plans_but_plans_its_count_with_the_values(
    postgres_only, make_task, manager, settings
):
    """Issue 18: the task list prepares the token's and memberships' look-ups, its page
    (SQL built once per query string of value filters) and the page's coordinating
    agencies, with generic plans; its count, and a page whose SQL is built each time (a
    search), are planned with their values."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    for n in range(3):
        make_task(code=f"L{n}")
    reader = _api(manager)
    for page_size in (2, 100) * 6:  # a full page (counted) and one that is not
        assert reader.get(f"/api/v1/tasks/?page_size={page_size}").status_code == 200
        assert reader.get("/api/v1/tasks/?q=L1").status_code == 200
    texts = _prepared_texts()
    assert any('FROM "tasks_app_apitoken"' in text for text in texts)
    assert any('FROM "tasks_app_membership"' in text for text in texts)
    assert any('FROM "tasks_app_task_coordinating_agencies"' in text for text in texts)
    pages = [text for text in texts if text.startswith('SELECT "tasks_app_task"."id" AS "id"')]
    assert len(pages) == 2  # the two page sizes' pages; not the search's
    assert not any("COUNT(" in text.upper() for text in texts)
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_generic_plan"


# --- The health check of kept connections (plan_tracker/postgresql/base.py) --------------------


@pytest.fixture
def kept(postgres_only):
    """A connection of its own (outside the test's transaction), kept between requests with
    health checks on, as a gunicorn worker keeps one; and an observer connection."""
    from django.db import DEFAULT_DB_ALIAS, connections

    kept, observer = (connections.create_connection(DEFAULT_DB_ALIAS) for _ in range(2))
    assert kept.health_check_enabled is False  # set when it connects
    kept.ensure_connection()
    assert kept.health_check_enabled
    yield kept, observer
    kept.close()
    observer.close()


def _run(conn, sql: str, params=()):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _last_query(observer, conn) -> str:
    """What the server last ran for `conn`, as another session sees it."""
    return _run(
        observer,
        "SELECT query FROM pg_stat_activity WHERE pid = %s",
        [conn.connection.info.backend_pid],
    )


def _next_request(conn) -> None:
    """What Django does when the next request starts and runs its first query."""
    conn.close_if_unusable_or_obsolete()  # request_started
    conn.close_if_health_check_failed()  # before the request's first cursor


def test_a_connection_in_steady_use_is_checked_without_a_round_trip(kept):
    conn, observer = kept
    _run(conn, "SELECT 'first request'")
    pid = conn.connection.info.backend_pid

    _next_request(conn)

    assert conn.health_check_done
    assert _last_query(observer, conn) == "SELECT 'first request'"  # no SELECT 1 was sent
    assert conn.connection.info.backend_pid == pid  # the same connection serves on


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(kept):
    conn, observer = kept
    _run(conn, "SELECT 'first request'")
    pid = conn.connection.info.backend_pid
    # The server ends the backend (as a restart or idle_session_timeout would), and
    # waits up to 5 s until it is gone.
    assert _run(observer, "SELECT pg_terminate_backend(%s, 5000)", [pid]) is True

    conn.close_if_unusable_or_obsolete()  # the next request starts…
    new_pid = _run(conn, "SELECT pg_backend_pid()")  # …and its first query succeeds

    assert new_pid != pid


def test_a_connection_left_unchecked_for_a_while_gets_select_1(kept, settings):
    conn, observer = kept
    _run(conn, "SELECT 'first request'")
    settings.DATABASE_HEALTH_CHECK_IDLE_SECONDS = 0  # any pause is "a while"

    _next_request(conn)

    assert conn.health_check_done
    assert _last_query(observer, conn) == "SELECT 1"


def test_a_connection_left_in_a_transaction_gets_select_1(kept):
    conn, observer = kept
    conn.connection.execute("BEGIN")  # left open behind Django's back
    conn.connection.execute("SELECT 'left open'")

    _next_request(conn)

    assert _last_query(observer, conn) == "SELECT 1"
