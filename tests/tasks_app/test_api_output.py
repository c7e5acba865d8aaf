"""The API's task answers are built from value rows (serializers.task_data), not by walking
TaskSerializer's fields: these tests hold both to the same JSON on the demo plan (every
report category, an approved extension, parent tasks with per-district children), for each
kind of user, at today's date and at past dates, in both languages.

They also bound the queries of the hot paths: a status update and a task page."""

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from tasks_app import selectors
from tasks_app.api.serializers import (
    StatusUpdateSerializer,
    TaskDetailSerializer,
    TaskSerializer,
)
from tasks_app.choices import ReportCategory, TaskState
from tasks_app.models import Plan, StatusUpdate, Task
from tests.tasks_app.conftest import PDF_BYTES, upload

PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"
JUNE, DECEMBER = datetime.date(2022, 6, 30), datetime.date(2022, 12, 31)
USERS = ("sotttt", "lanhdao", "haihau", "haitrung")


@pytest.fixture(scope="module")
def demo_plan(django_db_setup, django_db_blocker):
    """The demo plan, loaded once for the module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_plan", str(PLAN_FILE), "--demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def plan(demo_plan, db):
    plan = Plan.objects.get(code="CDS-ND-2022")
    # Decimals of every kind, so that their formats are compared too.
    task = Task.objects.filter(plan=plan, parent__isnull=False).order_by("code").first()
    Task.objects.filter(pk=task.pk).update(
        kpi_target=Decimal("1234.5"), kpi_actual=Decimal("0.1"), weight=Decimal("2")
    )
    return plan


def user(username):
    return get_user_model().objects.get(username=username)


def as_json(data):
    return json.loads(JSONRenderer().render(data))


def by_id(rows) -> dict:
    return {row["id"]: row for row in rows}


def expected_list(username, as_of, language):
    """The tasks through TaskSerializer, as the API answered before rows replaced it."""
    with translation.override(language):
        tasks = selectors.task_list_visible_to(user=user(username), as_of=as_of)
        return by_id(as_json(TaskSerializer(tasks, many=True).data))


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("as_of", [None, JUNE, DECEMBER])
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_list_answers_what_task_serializer_gives(plan, api_client, username, as_of, language):
    query = "page_size=200" + (f"&as_of={as_of}" if as_of else "")
    response = api_client(user(username), HTTP_ACCEPT_LANGUAGE=language).get(
        f"/api/v1/tasks/?{query}"
    )
    assert response.status_code == 200
    page = response.json()
    answered = by_id(page["results"])
    assert page["count"] == len(answered)
    expected = expected_list(username, as_of, language)
    assert answered.keys() == expected.keys() and answered
    for pk, row in answered.items():
        assert row == expected[pk]
        assert list(row) == list(expected[pk])  # same keys in the same order


@pytest.mark.parametrize("username", ["sotttt", "haihau"])
@pytest.mark.parametrize("as_of", [None, JUNE, DECEMBER])
def test_a_list_filtered_by_category_agrees_with_the_unfiltered_one(
    plan, api_client, username, as_of
):
    """Filtered on the category, the list reads the whole SQL expression; unfiltered, parent
    tasks get their roll-up in Python (selectors.task_rows_with_parent_categories). Both
    give every task the same category."""
    client = api_client(user(username))
    query = "page_size=200" + (f"&as_of={as_of}" if as_of else "")
    unfiltered = by_id(client.get(f"/api/v1/tasks/?{query}").json()["results"])
    assert any(row["is_parent"] for row in unfiltered.values())
    for category in ReportCategory.values:
        answer = client.get(f"/api/v1/tasks/?{query}&category={category}").json()
        expected = {pk for pk, row in unfiltered.items() if row["category"] == category}
        assert set(by_id(answer["results"])) == expected, category


def test_the_compared_rows_cover_every_kind_of_value(plan):
    rows = expected_list("sotttt", None, "vi").values()
    assert any(row["is_parent"] for row in rows) and any(row["parent"] for row in rows)
    assert any(row["due"] != row["original_due"] for row in rows)
    assert any(row["completed_on"] for row in rows)
    # several, so that their order (by code) is compared too
    assert any(len(row["coordinating_agencies"]) >= 2 for row in rows)
    assert any(row["weight"] == "2.00" and row["kpi_actual"] == "0.10" for row in rows)
    categories = {
        row["category"]
        for as_of in (None, JUNE, DECEMBER)
        for row in expected_list("sotttt", as_of, "vi").values()
    }
    assert categories >= set(ReportCategory.values)


@pytest.mark.slow
@pytest.mark.parametrize("username", ["sotttt", "haihau"])
@pytest.mark.parametrize("as_of", [None, JUNE])
def test_the_detail_answers_what_task_detail_serializer_gives(plan, api_client, username, as_of):
    who = user(username)
    client = api_client(who)
    request = SimpleNamespace(user=who)
    tasks = selectors.task_list_visible_to(user=who).order_by("pk")
    assert tasks.filter(children__isnull=False).exists()
    for task in tasks:
        response = client.get(f"/api/v1/tasks/{task.pk}/" + (f"?as_of={as_of}" if as_of else ""))
        assert response.status_code == 200
        expected = TaskDetailSerializer(
            selectors.task_get_for_api(user=who, pk=task.pk, as_of=as_of),
            context={"request": request},
        ).data
        assert response.json() == as_json(expected)


def _manager_and_a_task_in_progress():
    # Sở Y tế's manager: Hải Hậu's open tasks went to the new communes in 2025 (demo_reform).
    manager = user("syt")
    task = (
        selectors.task_list_visible_to(user=manager)
        .filter(lead_agency__code="SYT", state=TaskState.IN_PROGRESS)
        .order_by("pk")
        .first()
    )
    assert task is not None
    return manager, task


def test_a_status_update_answers_the_task_as_task_serializer_gives_it(plan, api_client):
    manager, task = _manager_and_a_task_in_progress()
    response = api_client(manager).post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {
            "version": task.version,
            "state": TaskState.IN_PROGRESS,
            "progress": 77,
            "files": [upload("bien-ban.pdf", PDF_BYTES), upload("anh.pdf", PDF_BYTES)],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    expected = TaskSerializer(selectors.task_get_for_api(user=manager, pk=task.pk)).data
    assert answer["task"] == as_json(expected)
    assert answer["task"]["version"] == task.version + 1
    update = StatusUpdate.objects.get(pk=answer["update"]["id"])
    assert answer["update"] == as_json(StatusUpdateSerializer(update).data)
    assert [f["name"] for f in answer["update"]["evidence"]] == ["bien-ban.pdf", "anh.pdf"]
    history = api_client(manager).get(f"/api/v1/tasks/{task.pk}/updates/").json()["results"]
    assert history[0] == answer["update"]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_history_answers_what_status_update_serializer_gives(plan, api_client, language):
    client = api_client(user("sotttt"), HTTP_ACCEPT_LANGUAGE=language)
    tasks = Task.objects.filter(plan=plan, updates__isnull=False).distinct().order_by("pk")
    kinds = set()
    for task in tasks:
        response = client.get(f"/api/v1/tasks/{task.pk}/updates/?page_size=200")
        assert response.status_code == 200
        with translation.override(language):
            expected = StatusUpdateSerializer(
                selectors.status_update_list_for_task(task=task), many=True
            ).data
        assert response.json()["results"] == as_json(expected)
        kinds |= {row["kind"] for row in response.json()["results"]}
    assert len(kinds) >= 2 and tasks.count() > 10


def test_a_stale_status_update_still_answers_409_with_the_current_task(plan, api_client):
    manager, task = _manager_and_a_task_in_progress()
    response = api_client(manager).post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {"version": task.version - 1, "state": TaskState.IN_PROGRESS, "progress": 5},
    )
    assert response.status_code == 409
    expected = TaskSerializer(selectors.task_get_for_api(user=manager, pk=task.pk)).data
    assert response.json()["current"] == as_json(expected)


# --- Queries of the hot paths ---------------------------------------------------------------


def test_a_status_update_runs_nine_queries_at_most(plan, api_client, django_assert_max_num_queries):
    manager, task = _manager_and_a_task_in_progress()
    client = api_client(manager)
    # token, memberships, the task through the scope; the task row's write at the version
    # read (services._mirror), the update's insert (and the transaction's savepoint
    # statements); the answer's row with its coordinating agencies. An update sent without
    # files has none to read back. It ran 29 before the permission, validation and answer
    # queries were cut, 11 before the row's write replaced the lock and the look-up of the
    # latest update. Since issue 17, the webhooks' outbox reads which endpoints subscribe
    # (one query, none more while no endpoint does).
    with django_assert_max_num_queries(9):
        response = client.post(
            f"/api/v1/tasks/{task.pk}/updates/",
            {"version": task.version, "state": TaskState.IN_PROGRESS, "progress": 42},
        )
    assert response.status_code == 201


@pytest.mark.parametrize("username", ["sotttt", "haihau"])
def test_a_task_page_runs_six_queries_and_a_task_four(
    plan, api_client, username, django_assert_max_num_queries
):
    client = api_client(user(username))
    # token, memberships, count, page, coordinating agencies, the parents' children
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/tasks/?page_size=200&state=in_progress")
    assert response.status_code == 200
    assert any(row["is_parent"] for row in response.json()["results"])
    task = selectors.task_list_visible_to(user=user(username)).filter(parent=None).first()
    # token, memberships, the task with its coordinating agencies, its visible children
    with django_assert_max_num_queries(4):
        assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 200


def test_the_category_base_is_built_once_per_date_and_stays_the_same_queryset(plan, monkeypatch):
    from tasks_app.querysets import TaskQuerySet

    builds = []
    real = TaskQuerySet.with_category
    monkeypatch.setattr(
        TaskQuerySet, "with_category", lambda self, as_of: builds.append(as_of) or real(self, as_of)
    )
    selectors._BUILT.clear()
    today = timezone.localdate()
    first, second = selectors.tasks_with_category(today), selectors.tasks_with_category(today)
    assert first is not second  # clones: evaluating one never fills the other
    assert (
        first.query.annotations.keys() == Task.objects.with_category(today).query.annotations.keys()
    )
    assert sorted(first.values_list("pk", "category")) == sorted(
        Task.objects.with_category(today).values_list("pk", "category")
    )
    assert builds == [today] * 3  # once for both selectors' calls, twice by this test
