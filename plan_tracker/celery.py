"""The Celery application and the whole beat schedule.

Every periodic job fans out idempotent tasks, so a beat that fires twice sends nothing twice.
Times are Asia/Ho_Chi_Minh (CELERY_TIMEZONE). django-celery-beat copies these entries into
the database on start, where an administrator can change them in the admin.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plan_tracker.settings")

app = Celery("plan_tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Reminders (daily 07:00) and the monthly report (06:00 on the 1st) are added here by the
# capabilities that bring them; until then beat runs with an empty schedule.
app.conf.beat_schedule = {}
