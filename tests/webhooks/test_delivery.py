"""Webhook deliveries end to end: a real receiver on 127.0.0.1, real PostgreSQL, Celery
eager for the wiring, time moved with time_machine for the retries."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine
from django.utils import timezone

from tasks_app import services as task_services
from tests.factories import asked_in_time
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import deliveries_sweep, delivery_send

pytestmark = pytest.mark.django_db


def _approved_extension(task, officer, monitor):
    extension = task_services.extension_request(
        task=task,
        requested_by=officer,
        proposed_due=task.due + datetime.timedelta(days=30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    return task_services.extension_approve(extension=extension, decided_by=monitor)


def _signature_ok(secret, request) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request["headers"]["X-Signature-256"])


def test_an_approved_extension_reaches_the_receiver_once_signed(
    receiver, endpoint_for, task, officer, monitor, eager, django_capture_on_commit_callbacks
):
    receiver.start()
    endpoint = endpoint_for(receiver.url, events=["extension.decided"])
    with django_capture_on_commit_callbacks(execute=True):
        _approved_extension(task, officer, monitor)
    deliveries_sweep()

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert _signature_ok(endpoint.secret, request)
    body = json.loads(request["body"])
    assert body["event"] == "extension.decided"
    assert body["data"]["extension"]["status"] == "approved"
    assert body["data"]["task"]["code"] == task.code
    assert body["data"]["task"]["due"] == "2022-07-30"
    assert request["headers"]["X-Webhook-Id"] == body["id"]
    assert request["headers"]["X-Webhook-Event"] == "extension.decided"
    assert int(request["headers"]["X-Webhook-Timestamp"]) > 0
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.succeeded) == (200, True)


def test_a_receiver_that_was_down_gets_the_event_later(
    receiver, endpoint_for, task, officer, monitor, eager, django_capture_on_commit_callbacks
):
    endpoint_for(receiver.url, events=["extension.decided"])
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            _approved_extension(task, officer, monitor)
        delivery = Delivery.objects.get()
        failed = delivery.attempts.get()
        assert failed.status_code is None and failed.error and not failed.succeeded
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(seconds=30)

        receiver.start()
        deliveries_sweep()  # not due yet: nothing is sent before the backoff runs out
        assert receiver.received == []
        traveller.shift(datetime.timedelta(seconds=31))
        deliveries_sweep()

    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.succeeded for a in delivery.attempts.all()] == [False, True]


def test_the_sweep_run_twice_sends_once(
    receiver, endpoint_for, task, officer, monitor, eager, django_capture_on_commit_callbacks
):
    receiver.start()
    endpoint_for(receiver.url)
    # The broker lost the request: the commit's sending is not run, only the sweep sends.
    with django_capture_on_commit_callbacks(execute=False):
        _approved_extension(task, officer, monitor)
    delivery = Delivery.objects.get(event="extension.decided")

    deliveries_sweep()
    deliveries_sweep()
    assert delivery_send(delivery_id=delivery.pk) is None

    assert [json.loads(r["body"])["event"] for r in receiver.received].count(
        "extension.decided"
    ) == 1
    assert delivery.attempts.count() == 1


def test_a_failing_receiver_is_given_up_after_the_last_attempt(
    receiver, endpoint_for, task, officer, monitor, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.answer = 500
    receiver.start()
    endpoint_for(receiver.url, events=["extension.decided"])
    _approved_extension(task, officer, monitor)
    delivery = Delivery.objects.get()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        delivery_send(delivery_id=delivery.pk)
        traveller.shift(datetime.timedelta(minutes=5))
        delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert [a.status_code for a in delivery.attempts.all()] == [500, 500]
    assert len(receiver.received) == 2
