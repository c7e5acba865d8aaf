"""`/health/`: the state of the database, the cache, the Celery broker, the last beat run and
the last reminder run, for a load balancer and for monitoring (issue 16), on
django-health-check.

- 200 when every component answers; 503 when the database, the cache or the broker is down
  (the web cannot serve without them, or its jobs cannot be queued).
- A late beat or reminder run is reported as a warning ("Warning: …") in the body and as
  status 0 in `?format=openmetrics`, but keeps the 200: a load balancer must not take a
  healthy web server out of service because the background jobs are late; monitoring
  alerts on the warning.
- JSON with `Accept: application/json` or `?format=json`, text with `?format=text`, HTML
  otherwise. No login; the body names the checks, never a URL, host, password or key.
"""

import dataclasses
import datetime
import logging
import os

import kombu
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker of CELERY_BROKER_URL accepts a connection (no worker needed). On
    the embedded defaults (`filesystem://`) its queue folders exist and are writable."""

    timeout = datetime.timedelta(seconds=3)

    def __repr__(self) -> str:
        # The scheme only: the URL may carry a password.
        return f"Broker({settings.CELERY_BROKER_URL.split(':', 1)[0]})"

    def run(self) -> None:
        url = settings.CELERY_BROKER_URL
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        if url.startswith("filesystem:"):
            for key in ("data_folder_in", "data_folder_out", "control_folder"):
                folder = options.get(key)
                if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                    raise ServiceUnavailable(f"The broker's {key} is missing or not writable.")
            return
        connection = kombu.Connection(
            url,
            transport_options=options,
            connect_timeout=self.timeout.total_seconds(),
        )
        try:
            # Two quick attempts, no back-off: a health probe must answer fast.
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0
            )
        except Exception as exc:
            logger.warning("broker health check failed", exc_info=True)
            raise ServiceUnavailable("Unable to connect to the broker.") from exc
        finally:
            connection.release()


def _age(moment: datetime.datetime) -> str:
    minutes = int((timezone.now() - moment).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


class _RecentRun(HealthCheck):
    """A job that must have run recently: a warning when it never ran or ran longer ago
    than `limit()`. Subclasses say where the newest run is read and what to say."""

    never: str
    late: str  # with {age} and {limit}

    def newest(self) -> datetime.datetime | None:
        raise NotImplementedError

    def limit(self) -> tuple[datetime.timedelta, str]:
        raise NotImplementedError

    async def run(self) -> None:
        # The ORM on the request's own thread (thread-sensitive), not the check's executor.
        newest = await sync_to_async(self.newest)()
        limit, shown = self.limit()
        if newest is None:
            raise ServiceWarning(self.never)
        if timezone.now() - newest > limit:
            raise ServiceWarning(self.late.format(age=_age(newest), limit=shown))


@dataclasses.dataclass
class BeatRun(_RecentRun):
    """Celery beat sent a periodic task within HEALTH_BEAT_MAX_MINUTES. django-celery-beat
    records `last_run_at` when it sends a task; the heartbeat entry of plan_tracker/celery.py
    (every 5 minutes) keeps the newest one recent while beat runs."""

    never = "Celery beat has not sent any periodic task yet."
    late = "Celery beat last sent a periodic task {age} ago (more than {limit})."

    def __repr__(self) -> str:
        return "BeatRun"

    def newest(self) -> datetime.datetime | None:
        from django_celery_beat.models import PeriodicTask

        return (
            PeriodicTask.objects.filter(enabled=True, last_run_at__isnull=False)
            .order_by("-last_run_at")
            .values_list("last_run_at", flat=True)
            .first()
        )

    def limit(self) -> tuple[datetime.timedelta, str]:
        minutes = settings.HEALTH_BEAT_MAX_MINUTES
        return datetime.timedelta(minutes=minutes), f"{minutes} min"


@dataclasses.dataclass
class ReminderRun(_RecentRun):
    """The daily reminder job finished within HEALTH_REMINDER_MAX_HOURS (it runs at 07:00;
    each run records itself in reminders.ReminderRun)."""

    never = "No reminder run has been recorded yet."
    late = "The last reminder run finished {age} ago (more than {limit})."

    def __repr__(self) -> str:
        return "ReminderRun"

    def newest(self) -> datetime.datetime | None:
        from reminders.models import ReminderRun as Run

        return Run.objects.order_by("-finished_at").values_list("finished_at", flat=True).first()

    def limit(self) -> tuple[datetime.timedelta, str]:
        hours = settings.HEALTH_REMINDER_MAX_HOURS
        return datetime.timedelta(hours=hours), f"{hours} h"


class HealthView(HealthCheckView):
    """django-health-check's view with our checks; 503 (not 500) when a component is down,
    and 200 when only warnings were raised (see the module docstring)."""

    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        "plan_tracker.health.Broker",
        "plan_tracker.health.BeatRun",
        "plan_tracker.health.ReminderRun",
    )

    async def get(self, request, *args, **kwargs):
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:  # the library's answer to any failed check
            down = any(
                result.error is not None and not isinstance(result.error, ServiceWarning)
                for result in self.results
            )
            response.status_code = 503 if down else 200
        return response
