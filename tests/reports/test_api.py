"""The dashboard API: the same numbers as the page, the same scope, documented."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(demo_user):
    def client_for(username):
        client = APIClient()
        client.force_authenticate(demo_user(username))
        return client

    return client_for


def test_full_dashboard_json(api):
    data = api("lanhdao").get(reverse("dashboard-api:dashboard"), {"as_of": "2022-06-30"}).json()
    totals = data["totals"]
    assert (totals["completed_on_time"], totals["in_progress"], totals["total"]) == (5, 40, 61)
    assert (totals["due"], totals["due_on_time"]) == (11, 5)
    assert data["extensions_granted"] == 1
    assert data["overdue"][0]["code"] == "CDS22-33"
    assert data["overdue"][0]["days_overdue"] == 91
    assert len(data["trend"]) == 6
    assert data["filters"]["as_of"] == "2022-06-30"
    assert totals["tasks_url"].startswith("/tasks/?")
    assert "computed_at" in data


@pytest.mark.parametrize("name", ["categories", "agencies", "overdue", "trend"])
def test_section_endpoints(api, name):
    response = api("sotttt").get(reverse(f"dashboard-api:{name}"), {"as_of": "2022-12-31"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")


def test_overdue_endpoint_lists_all_with_a_limit(api):
    url = reverse("dashboard-api:overdue")
    data = api("lanhdao").get(url, {"as_of": "2022-12-31", "limit": 3}).json()
    assert [r["code"] for r in data["results"]] == ["CDS22-22", "CDS22-08", "CDS22-26.UBND_MYLOC"]
    assert api("lanhdao").get(url, {"limit": 0}).status_code == 400


def test_invalid_filters_answer_400_with_messages_per_field(api):
    response = api("lanhdao").get(reverse("dashboard-api:categories"), {"as_of": "31-31-2022"})
    assert response.status_code == 400
    assert isinstance(response.json()["as_of"][0], str)


def test_manager_gets_the_subtree_numbers(api):
    data = api("haihau").get(reverse("dashboard-api:categories"), {"as_of": "2022-06-30"}).json()
    assert data["totals"]["total"] == 20


def test_schema_documents_the_dashboard_endpoints(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in ("/api/v1/dashboard/", "/api/v1/dashboard/overdue/", "/api/v1/dashboard/trend/"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "400", "401", "403", "404"} <= set(responses)
