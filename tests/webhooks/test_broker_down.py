"""The broker unreachable when a change is saved: the person gets no error, the delivery
waits in the outbox, and the beat's sweep sends it once the broker is back; a delivery whose
worker died mid-send is taken over once its claim is stale."""

import datetime
import logging

import pytest
from django.conf import settings
from django.utils import timezone

from tests.reports.test_broker_down import (  # noqa: F401
    QUEUE,
    _use_broker,
    broker_down,
    real_broker,
)
from tests.webhooks.test_delivery import _approved_extension
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import deliveries_sweep, delivery_send

pytestmark = pytest.mark.django_db


def test_an_event_saved_while_the_broker_is_down_is_sent_by_the_sweep(
    receiver,
    endpoint_for,
    task,
    officer,
    monitor,
    broker_down,  # noqa: F811
    real_broker,  # noqa: F811
    caplog,
    django_capture_on_commit_callbacks,
):
    receiver.start()
    endpoint_for(receiver.url, events=["extension.decided"])
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        _approved_extension(task, officer, monitor)
    assert "broker unreachable" in caplog.text
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and not delivery.attempts.exists()

    # The broker is back: the sweep asks for the send, once, on the real broker.
    _use_broker(settings.CELERY_BROKER_URL)
    assert deliveries_sweep() == 1
    assert real_broker.llen(QUEUE) == 1
    # What the worker does with the message (the task body), twice: one POST.
    delivery_send(delivery_id=delivery.pk)
    delivery_send(delivery_id=delivery.pk)
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_delivery_whose_worker_died_is_taken_over_once_its_claim_is_stale(
    receiver, endpoint_for, task, officer, monitor
):
    receiver.start()
    endpoint_for(receiver.url, events=["extension.decided"])
    _approved_extension(task, officer, monitor)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now() - datetime.timedelta(seconds=30)
    )
    assert delivery_send(delivery_id=delivery.pk) is None  # its worker may still be at it
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    assert delivery_send(delivery_id=delivery.pk) is not None
    assert len(receiver.received) == 1
