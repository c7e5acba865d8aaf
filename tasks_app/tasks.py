"""Celery tasks of tasks_app: thin wrappers that call one service each."""

import datetime

from celery import shared_task
from django.utils import timezone


@shared_task(name="tasks_app.tasks_flag_orphaned")
def tasks_flag_orphaned_task(day: str | None = None) -> int:
    """The daily check (beat, 00:15 Asia/Ho_Chi_Minh): flag "cần giao lại" the open tasks
    whose lead agency ceased to exist before `day` (default: today in the project's time
    zone); returns how many were flagged. Safe to run twice: a second run flags nothing."""
    from tasks_app.services import tasks_flag_orphaned

    on = datetime.date.fromisoformat(day) if day else timezone.localdate()
    return tasks_flag_orphaned(on=on)
