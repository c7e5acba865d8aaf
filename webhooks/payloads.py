"""The JSON bodies of webhook deliveries: what a receiver reads (README, "Webhooks").

    {"id": "<delivery uuid>", "event": "extension.decided",
     "timestamp": "2026-12-04T08:15:00+00:00",
     "data": {"task": {...}, "extension": {...}}}

`data` holds the task (every event but report.issued) and, by event, the `update`, the
`extension`, the `previous_lead_agency` or the `report`. Dates are ISO 8601; times UTC.
"""

import datetime
import json

from django.conf import settings
from django.urls import reverse

from tasks_app.models import Agency, DeadlineExtension, StatusUpdate, Task


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value is not None else None


def agency_data(agency: Agency | None) -> dict | None:
    if agency is None:
        return None
    return {"id": agency.pk, "code": agency.code, "name": agency.name}


def task_rows(task_ids) -> dict[int, Task]:
    """The tasks whose data the bodies carry, read with what they show: three queries,
    whatever the number of tasks."""
    tasks = (
        Task.objects.filter(pk__in=list(task_ids))
        .select_related("plan", "priority_area", "lead_agency")
        .prefetch_related("coordinating_agencies")
        .order_by()
    )
    return {task.pk: task for task in tasks}


def task_data(task: Task) -> dict:
    return {
        "id": task.pk,
        "code": task.code,
        "title": task.title,
        "plan": task.plan.code,
        "priority_area": task.priority_area.code,
        "lead_agency": agency_data(task.lead_agency),
        "coordinating_agencies": [
            agency_data(a) for a in sorted(task.coordinating_agencies.all(), key=lambda a: a.pk)
        ],
        "parent_id": task.parent_id,
        "state": task.state,
        "progress": task.progress,
        "assigned_on": _day(task.assigned_on),
        "original_due": _day(task.original_due),
        "due": _day(task.due),
        "completed_on": _day(task.completed_on),
        "version": task.version,
        "url": settings.SITE_URL.rstrip("/") + reverse("tasks_app:task-detail", args=[task.pk]),
    }


def update_data(update: StatusUpdate) -> dict:
    return {
        "id": update.pk,
        "kind": update.kind,
        "state": update.state,
        "progress": update.progress,
        "completed_on": _day(update.completed_on),
        "recorded_at": _moment(update.recorded_at),
        "agency_id": update.agency_id,
        "result": update.result,
        "difficulties": update.difficulties,
        "proposals": update.proposals,
        "reason": update.reason,
    }


def extension_data(extension: DeadlineExtension) -> dict:
    return {
        "id": extension.pk,
        "kind": extension.kind,
        "status": extension.status,
        "previous_due": _day(extension.previous_due),
        "proposed_due": _day(extension.proposed_due),
        "reason": extension.reason,
        "agency_id": extension.agency_id,
        "requested_at": _moment(extension.requested_at),
        "decided_at": _moment(extension.decided_at),
        "decision_note": extension.decision_note,
    }


def report_data(report) -> dict:
    return {
        "id": report.pk,
        "plan": report.plan.code,
        "period": report.period.strftime("%Y-%m"),
        "scope": agency_data(report.scope),
        "issuer": agency_data(report.issuer),
        "number": report.number_label,
        "issued_on": _day(report.issued_on),
        "sha256": report.sha256,
    }


def body(*, delivery_id: str, event: str, occurred_at: datetime.datetime, data: dict) -> str:
    """The body as sent and signed: compact JSON, keys in a fixed order, UTF-8 text."""
    return json.dumps(
        {"id": delivery_id, "event": event, "timestamp": _moment(occurred_at), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )
