"""Answers of the API match its OpenAPI schema (issue 16), checked with schemathesis'
response validation on answers of Django's test client: e.g. the category and its label of
a task that was not assigned yet at the date asked (both null)."""

import datetime

import pytest
import requests
import schemathesis
from schemathesis.core.transport import Response

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(api_client):
    """The app's schema, as schemathesis reads it."""
    return schemathesis.openapi.from_dict(api_client().get("/api/schema/?format=json").json())


def conforms(openapi, path: str, response) -> None:
    """Fail unless `response` (of GET `path`, a path template of the schema) is what the
    schema documents: status code, content type and body."""
    request = requests.Request("GET", f"http://testserver{response.request['PATH_INFO']}")
    openapi[path]["GET"].validate_response(
        Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.items()},
            content=response.content,
            content_size=len(response.content),
            request=request.prepare(),
            elapsed=0.0,
            verify=False,
            message=response.reason_phrase,
            http_version="1.1",
            encoding="utf-8",
        )
    )


def test_a_task_not_assigned_yet_at_the_date_asked_matches_the_schema(
    openapi, api_client, monitor, make_task
):
    task = make_task(code="T-LATE", assigned_on=D(2022, 6, 1), due=D(2022, 9, 30))
    client = api_client(monitor)

    detail = client.get(f"/api/v1/tasks/{task.pk}/", {"as_of": "2022-03-31"})
    listed = client.get("/api/v1/tasks/", {"as_of": "2022-03-31"})

    assert (detail.json()["category"], detail.json()["category_label"]) == (None, None)
    assert [row["category_label"] for row in listed.json()["results"]] == [None]
    conforms(openapi, "/api/v1/tasks/{id}/", detail)
    conforms(openapi, "/api/v1/tasks/", listed)


def test_a_task_with_a_category_matches_the_schema(openapi, api_client, monitor, make_task):
    task = make_task(code="T-1", assigned_on=D(2022, 1, 10), due=D(2022, 9, 30))

    detail = api_client(monitor).get(f"/api/v1/tasks/{task.pk}/", {"as_of": "2022-03-31"})

    assert detail.json()["category"] == "not_started"
    assert detail.json()["category_label"]
    conforms(openapi, "/api/v1/tasks/{id}/", detail)
