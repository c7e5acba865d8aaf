"""JSON nested deeper than API_JSON_MAX_DEPTH is a 400 with a clear message, on the token
endpoint as on the others, and nothing is written (issue 16; tasks_app/api/parsers.py).
A 10,000-deep body used to be a 500 (Python's json parses nesting by recursion)."""

import json

import pytest

from tasks_app.models import ApiToken, Task

pytestmark = pytest.mark.django_db

LIMIT = 32  # settings.API_JSON_MAX_DEPTH's default
TOO_DEEP = "Dữ liệu JSON lồng nhau quá 32 cấp."
LOGIN = {"username": "manager", "password": "secret-pass-123"}


def nested(depth: int) -> str:
    """`depth` arrays, one inside the other, as JSON."""
    return "[" * depth + "]" * depth


def with_extra(fields: dict, depth: int) -> str:
    """`fields` as a JSON object (depth 1) with a key "extra" nesting it to `depth`."""
    return json.dumps({**fields, "extra": "NESTED"}).replace('"NESTED"', nested(depth - 1))


@pytest.fixture
def monitor_client(api_client, monitor):
    return api_client(monitor)


@pytest.fixture
def task_fields(plan, area, agencies):
    return {
        "plan": plan.pk,
        "priority_area": area.pk,
        "code": "CDS22-99",
        "title": "Số hóa hồ sơ một cửa",
        "lead_agency": agencies["haihau"].pk,
        "assigned_on": "2022-02-01",
        "due": "2022-10-31",
    }


def post(client, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("depth", [10_000, LIMIT + 1])
def test_too_deep_a_body_for_the_token_is_a_400_and_gives_no_token(api_client, manager, depth):
    for body in (nested(depth), with_extra(LOGIN, depth)):
        response = post(api_client(), "/api/v1/auth/token/", body)

        assert response.status_code == 400
        assert response.json() == {"detail": TOO_DEEP}
    assert not ApiToken.objects.exists()


def test_a_body_as_deep_as_the_limit_still_gives_a_token(api_client, manager):
    response = post(api_client(), "/api/v1/auth/token/", with_extra(LOGIN, LIMIT))

    assert response.status_code == 200
    client = api_client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/me/").json()["username"] == manager.username


@pytest.mark.parametrize("depth", [10_000, LIMIT + 1])
def test_too_deep_a_body_for_a_new_task_is_a_400_and_creates_nothing(
    monitor_client, task_fields, depth
):
    response = post(monitor_client, "/api/v1/tasks/", with_extra(task_fields, depth))

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP}
    assert not Task.objects.filter(code="CDS22-99").exists()


def test_a_new_task_as_deep_as_the_limit_is_created_and_brackets_in_text_do_not_count(
    monitor_client, task_fields
):
    title = "[" * 100 + '{"\\"' + "]" * 3
    body = with_extra({**task_fields, "title": title}, LIMIT)

    response = post(monitor_client, "/api/v1/tasks/", body)

    assert response.status_code == 201, response.content
    assert Task.objects.get(code="CDS22-99").title == title


def test_the_limit_is_a_setting(monitor_client, task_fields, settings):
    settings.API_JSON_MAX_DEPTH = 3
    refused = post(monitor_client, "/api/v1/tasks/", with_extra(task_fields, 4))
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Dữ liệu JSON lồng nhau quá 3 cấp."}
    created = post(monitor_client, "/api/v1/tasks/", with_extra(task_fields, 3))
    assert created.status_code == 201, created.content


def test_the_message_is_english_when_asked(api_client, manager):
    client = api_client(HTTP_ACCEPT_LANGUAGE="en")
    response = post(client, "/api/v1/auth/token/", nested(10_000))

    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON is nested more than 32 levels deep."}
