"""Celery tasks of the reminders app: thin wrappers that take ids and ISO dates and call one
service each (see services.py for the exactly-once argument)."""

import datetime

from celery import shared_task
from django.utils import timezone

from reminders.services import TRANSIENT_ERRORS


@shared_task(name="reminders.reminders_run")
def reminders_run_task(day: str | None = None) -> int:
    """The daily fan-out (beat, 07:00 Asia/Ho_Chi_Minh): record the notices owed on `day`
    (default: today in the project's time zone) and enqueue one digest per recipient after
    the commit. Safe to run twice: a second run records and sends nothing new."""
    from reminders.services import reminders_run

    run_day = datetime.date.fromisoformat(day) if day else timezone.localdate()
    return len(reminders_run(run_day).digests)


@shared_task(
    name="reminders.digest_send",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=5,
)
def digest_send_task(user_id: int, day: str) -> int:
    """Mail one user's digest for `day`. Safe to run twice and concurrently: only the task
    that claims the rows sends them. SMTP and connection errors are retried with backoff
    (at most 5 times); any other error is a bug and is raised."""
    from reminders.services import digest_send

    return digest_send(user_id=user_id, day=datetime.date.fromisoformat(day))
