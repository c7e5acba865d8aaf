"""The Celery application and the whole beat schedule.

Every periodic job fans out idempotent tasks, so a beat that fires twice sends nothing twice.
Times are Asia/Ho_Chi_Minh (CELERY_TIMEZONE). django-celery-beat copies these entries into
the database on start, where an administrator can change them in the admin.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan_tracker.settings")

app = Celery("plan_tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # 00:15 every day, Asia/Ho_Chi_Minh: flag "cần giao lại" the open tasks whose lead
    # agency ceased to exist the day before (tasks_app/tasks.py), so that they are listed
    # for reassignment and their reminders go to the monitors from the first day. Safe to
    # fire twice: a flagged task is not flagged again.
    "tasks-flag-orphaned": {
        "task": "tasks_app.tasks_flag_orphaned",
        "schedule": crontab(hour=0, minute=15),
    },
    # 07:00 every day, Asia/Ho_Chi_Minh: record the reminders owed today and fan out one
    # digest e-mail per recipient (reminders/tasks.py). Safe to fire twice.
    "reminders-daily": {
        "task": "reminders.reminders_run",
        "schedule": crontab(hour=7, minute=0),
    },
    # 06:00 on the 1st, Asia/Ho_Chi_Minh: the monthly report of the month before, one task
    # per plan that ran in it, each e-mailed to leadership and the monitors once it is
    # stored (reports/tasks.py). Safe to fire twice: one report and one e-mail per plan.
    "monthly-report": {
        "task": "reports.monthly_reports_run",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    # Every 5 minutes: send again the renderings of drafts whose request got lost (the broker
    # was down when it was asked, or a worker died mid-render): reports/services.py,
    # render_requests_resend. Safe to fire twice.
    "report-render-requests": {
        "task": "reports.render_requests_resend",
        "schedule": crontab(minute="*/5"),
    },
    # Every minute: send the webhook deliveries that are due (webhooks/services.py,
    # deliveries_sweep): retries whose backoff ran out, and the ones whose request was lost
    # (the broker was down when the change was saved, or a worker died). Safe to fire
    # twice: each send claims its delivery first.
    "webhook-deliveries": {
        "task": "webhooks.deliveries_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Every 5 minutes: a heartbeat that does nothing. django-celery-beat records when it
    # sent it (last_run_at), which /health/ reads to tell that beat is alive (issue 16,
    # plan_tracker/health.py). It expires after 4 minutes: a worker that was stopped
    # discards the ones that waited instead of running them all.
    "beat-heartbeat": {
        "task": "plan_tracker.beat_heartbeat",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # 00:30 every day, Asia/Ho_Chi_Minh: store the dashboard trend's past month ends that
    # are missing or out of date (reports/trend_store.py), so that the trend reads them
    # instead of recounting the history; before the monthly report of 06:00. Safe to fire
    # twice: a stored month end that still matches is kept.
    "trend-snapshots": {
        "task": "reports.trend_snapshots_refresh",
        "schedule": crontab(hour=0, minute=30),
    },
}


@app.task(name="plan_tracker.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Nothing to do: beat sending it is the heartbeat (see the beat entry above)."""
