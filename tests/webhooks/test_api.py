"""API /api/v1/webhooks/: who may use it, the secret, the outbound address check, the
deliveries log and redelivery."""

import json

import pytest

from webhooks.models import Delivery, DeliveryStatus, Endpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def test_a_monitor_registers_an_endpoint_and_gets_its_secret_once(
    api_client, monitor, agencies, receiver
):
    client = api_client(monitor)
    response = client.post(
        URL,
        {"name": "LGSP", "url": receiver.url, "agency": agencies["haihau"].pk, "events": []},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    endpoint = Endpoint.objects.get()
    assert created["secret"] == endpoint.secret and len(endpoint.secret) >= 40
    assert (endpoint.owner, endpoint.agency) == (monitor, agencies["haihau"])

    shown = client.get(f"{URL}{endpoint.pk}/").json()
    assert "secret" not in shown
    assert shown["agency_name"] == agencies["haihau"].name

    rotated = client.post(f"{URL}{endpoint.pk}/rotate-secret/").json()
    endpoint.refresh_from_db()
    assert rotated["secret"] == endpoint.secret != created["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.org/hook",
    ],
)
def test_loopback_private_and_odd_addresses_are_refused(api_client, monitor, url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = api_client(monitor, HTTP_ACCEPT_LANGUAGE="vi").post(
        URL, {"name": "Nội bộ", "url": url}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["url"]
    assert not Endpoint.objects.exists()


def test_the_refusal_is_in_vietnamese(api_client, monitor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = api_client(monitor, HTTP_ACCEPT_LANGUAGE="vi").post(
        URL, {"name": "Nội bộ", "url": "http://127.0.0.1/hook"}, format="json"
    )
    assert "địa chỉ" in response.json()["url"][0]


def test_a_changed_url_is_checked_too(api_client, monitor, endpoint_for, receiver, settings):
    endpoint = endpoint_for(receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = api_client(monitor).patch(
        f"{URL}{endpoint.pk}/", {"url": "http://10.1.2.3/"}, format="json"
    )
    assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url


@pytest.mark.parametrize("persona", ["manager", "officer", "leader", "outsider"])
def test_only_administrators_and_monitors_may_use_webhooks(
    api_client, persona, request, endpoint_for, receiver
):
    endpoint = endpoint_for(receiver.url)
    client = api_client(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "x", "url": receiver.url}, format="json").status_code == 403
    assert client.get(f"{URL}{endpoint.pk}/deliveries/").status_code == 403
    assert client.delete(f"{URL}{endpoint.pk}/").status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_superuser_may_use_webhooks(api_client, receiver):
    from tests.factories import UserFactory

    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    response = api_client(admin).post(URL, {"name": "x", "url": receiver.url}, format="json")
    assert response.status_code == 201


def test_an_unknown_endpoint_answers_404(api_client, monitor):
    client = api_client(monitor)
    assert client.get(f"{URL}999999/").status_code == 404
    assert client.get(f"{URL}x/").status_code == 404


def test_deliveries_are_listed_with_their_attempts_and_can_be_redelivered(
    api_client,
    monitor,
    endpoint_for,
    receiver,
    make_task,
    eager,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    from tasks_app.services import task_update_fields

    receiver.start()
    endpoint = endpoint_for(receiver.url)
    tasks = [make_task() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for task in tasks:
            task_update_fields(task=task, expected_version=None, title=f"{task.title} (sửa)")
    assert len(receiver.received) == 3

    client = api_client(monitor)
    with django_assert_max_num_queries(8):
        listed = client.get(f"{URL}{endpoint.pk}/deliveries/").json()
    assert listed["count"] == 3
    first = listed["results"][0]
    assert first["status"] == "delivered"
    assert first["attempts"][0]["status_code"] == 200
    assert json.loads(first["body"])["event"] == "task.changed"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{endpoint.pk}/deliveries/{first['id']}/redeliver/")
    assert response.status_code == 202
    assert len(receiver.received) == 4
    again = json.loads(receiver.received[-1]["body"])
    assert again["id"] == first["delivery_id"]
    delivery = Delivery.objects.get(pk=first["id"])
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts.count() == 2


def test_redelivering_another_endpoints_delivery_answers_404(
    api_client, monitor, endpoint_for, receiver, task
):
    from tasks_app.services import task_update_fields

    mine = endpoint_for(receiver.url, name="A")
    other = endpoint_for(receiver.url, name="B")
    task_update_fields(task=task, expected_version=None, title="Tên mới")
    theirs = Delivery.objects.get(endpoint=other)
    response = api_client(monitor).post(f"{URL}{mine.pk}/deliveries/{theirs.pk}/redeliver/")
    assert response.status_code == 404


def test_deleting_an_endpoint_deletes_its_deliveries(
    api_client, monitor, endpoint_for, receiver, task
):
    from tasks_app.services import task_update_fields

    endpoint = endpoint_for(receiver.url)
    task_update_fields(task=task, expected_version=None, title="Tên mới")
    assert api_client(monitor).delete(f"{URL}{endpoint.pk}/").status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_the_schema_documents_the_webhooks_api(api_client):
    schema = api_client().get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert {"get", "patch", "delete"} <= set(paths[URL + "{id}/"])
    assert "post" in paths[URL + "{id}/rotate-secret/"]
    assert "get" in paths[URL + "{id}/deliveries/"]
    redeliver = paths[URL + "{id}/deliveries/{delivery_id}/redeliver/"]["post"]
    assert {"202", "400", "403", "404"} <= set(redeliver["responses"])
    assert {"400", "403"} <= set(paths[URL]["post"]["responses"])
