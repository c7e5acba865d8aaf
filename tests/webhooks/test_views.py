"""The webhook pages: for administrators and monitors only; the form refuses internal
addresses in Vietnamese; the endpoint's page lists deliveries with their attempts and sends
one again."""

import pytest
from django.urls import reverse

from tasks_app import services as task_services
from webhooks.models import Delivery, DeliveryStatus, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("persona", ["manager", "officer", "leader"])
def test_other_people_get_403_and_no_menu_link(as_user, request, persona, endpoint_for, receiver):
    endpoint = endpoint_for(receiver.url)
    client = as_user(request.getfixturevalue(persona))
    for url in (
        reverse("webhooks:endpoint-list"),
        reverse("webhooks:endpoint-create"),
        reverse("webhooks:endpoint-detail", args=[endpoint.pk]),
        reverse("webhooks:endpoint-delete", args=[endpoint.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("webhooks:endpoint-delete", args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    start = client.get(reverse("tasks_app:task-list"))
    assert reverse("webhooks:endpoint-list") not in start.content.decode()


def test_a_monitor_registers_an_endpoint_on_the_page(as_user, monitor, agencies, receiver):
    client = as_user(monitor)
    assert (
        reverse("webhooks:endpoint-list")
        in client.get(reverse("tasks_app:task-list")).content.decode()
    )
    response = client.post(
        reverse("webhooks:endpoint-create"),
        {
            "name": "LGSP Nam Định",
            "url": receiver.url,
            "agency": agencies["haihau"].pk,
            "events": ["extension.decided", "task.reassigned"],
            "is_active": "on",
        },
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:endpoint-detail", args=[endpoint.pk])
    assert endpoint.events == ["extension.decided", "task.reassigned"]
    assert endpoint.agency == agencies["haihau"] and endpoint.owner == monitor
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    listing = client.get(reverse("webhooks:endpoint-list")).content.decode()
    assert "LGSP Nam Định" in listing


def test_the_form_refuses_a_private_address_in_vietnamese(as_user, monitor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client = as_user(monitor)
    response = client.post(
        reverse("webhooks:endpoint-create"),
        {"name": "Nội bộ", "url": "http://192.168.1.20/hook", "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 400
    assert "chỉ gửi đến địa chỉ công khai" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_editing_and_deleting_with_confirmation(as_user, monitor, endpoint_for, receiver):
    endpoint = endpoint_for(receiver.url)
    client = as_user(monitor)
    response = client.post(
        reverse("webhooks:endpoint-edit", args=[endpoint.pk]),
        {"name": "LGSP mới", "url": receiver.url},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.is_active) == ("LGSP mới", False)

    confirm = client.get(reverse("webhooks:endpoint-delete", args=[endpoint.pk]))
    assert confirm.status_code == 200 and "LGSP mới" in confirm.content.decode()
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    client.post(reverse("webhooks:endpoint-delete", args=[endpoint.pk]))
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_new_secret_replaces_the_old_one(as_user, monitor, endpoint_for, receiver):
    endpoint = endpoint_for(receiver.url)
    old = endpoint.secret
    as_user(monitor).post(reverse("webhooks:endpoint-rotate-secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old


def test_the_deliveries_log_shows_attempts_and_redelivers(
    as_user,
    monitor,
    endpoint_for,
    receiver,
    make_task,
    eager,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    endpoint = endpoint_for(receiver.url)
    tasks = [make_task() for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        for task in tasks:
            task_services.task_update_fields(task=task, expected_version=None, title="Tên mới")
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 4  # receiver down

    client = as_user(monitor)
    url = reverse("webhooks:endpoint-detail", args=[endpoint.pk])
    with django_assert_max_num_queries(14):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert page.count('class="delivery-row"') == 4
    assert "Gửi lại" in page
    assert "ConnectionError" in page

    receiver.start()
    delivery = Delivery.objects.filter(endpoint=endpoint).first()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("webhooks:delivery-redeliver", args=[endpoint.pk, delivery.pk])
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.received) == 1
    assert [a.succeeded for a in delivery.attempts.all()] == [False, True]


def test_the_admin_refuses_a_private_address_too(client, monitor, settings):
    from tests.factories import UserFactory

    settings.WEBHOOK_ALLOW_PRIVATE = False
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"name": "Nội bộ", "url": "http://127.0.0.1:6379/", "events": "[]", "owner": monitor.pk},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 200
    assert "chỉ gửi đến địa chỉ công khai" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_the_admin_registers_an_endpoint_with_a_secret(client, monitor, receiver):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"name": "LGSP", "url": receiver.url, "events": '["task.created"]', "owner": monitor.pk},
    )
    assert response.status_code == 302
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["task.created"] and len(endpoint.secret) >= 40
