"""The receivers of tasks_app's and reports' signals: each writes the deliveries of its
event in the sender's transaction (services.deliveries_record, the outbox)."""

from collections.abc import Callable

from django.dispatch import Signal

from reports.signals import report_issued
from tasks_app import signals
from webhooks import payloads
from webhooks.models import WebhookEvent
from webhooks.services import deliveries_record


def on_task_created(sender, tasks, **kwargs) -> None:
    deliveries_record(event=WebhookEvent.TASK_CREATED, task_ids=[t.pk for t in tasks])


def on_task_changed(sender, task, **kwargs) -> None:
    deliveries_record(event=WebhookEvent.TASK_CHANGED, task_ids=[task.pk])


def on_task_reassigned(sender, task, previous_lead_agency_id, **kwargs) -> None:
    from tasks_app.models import Agency

    previous = Agency.objects.filter(pk=previous_lead_agency_id).first()
    deliveries_record(
        event=WebhookEvent.TASK_REASSIGNED,
        task_ids=[task.pk],
        previous_agency_id=previous_lead_agency_id,
        extra={"previous_lead_agency": payloads.agency_data(previous)},
    )


def on_status_recorded(sender, update, **kwargs) -> None:
    deliveries_record(
        event=WebhookEvent.STATUS_UPDATED,
        task_ids=[update.task_id],
        extra={"update": payloads.update_data(update)},
    )


def on_extension_requested(sender, extension, **kwargs) -> None:
    deliveries_record(
        event=WebhookEvent.EXTENSION_REQUESTED,
        task_ids=[extension.task_id],
        extra={"extension": payloads.extension_data(extension)},
    )


def on_extension_decided(sender, extension, **kwargs) -> None:
    deliveries_record(
        event=WebhookEvent.EXTENSION_DECIDED,
        task_ids=[extension.task_id],
        extra={"extension": payloads.extension_data(extension)},
    )


def on_report_issued(sender, report, **kwargs) -> None:
    deliveries_record(event=WebhookEvent.REPORT_ISSUED, report=report)


def connect() -> None:
    pairs: list[tuple[Signal, Callable[..., None]]] = [
        (signals.task_created, on_task_created),
        (signals.task_changed, on_task_changed),
        (signals.task_reassigned, on_task_reassigned),
        (signals.status_recorded, on_status_recorded),
        (signals.extension_requested, on_extension_requested),
        (signals.extension_decided, on_extension_decided),
        (report_issued, on_report_issued),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"webhooks.{receiver.__name__}")
