"""`manage.py store_trend [--plan CODE]`.

Stores the dashboard trend's past month ends that are missing or no longer match what they
were computed from (reports/trend_store.py), as the nightly job does: for every plan that
has started, or for one. Prints a line per month end. Safe to run again: a month end that is
stored and still matches is kept.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.trend_store import trend_snapshots_refresh
from tasks_app.models import Plan


class Command(BaseCommand):
    help = (
        "Store the dashboard trend's past month ends that are missing or out of date, for "
        "every plan that has started or for one. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", help="Code of one plan (default: every plan).")

    def handle(self, *args, plan: str | None, **options):
        if plan:
            plans = list(Plan.objects.filter(code=plan))
            if not plans:
                raise CommandError(_("No plan has the code {code}.").format(code=plan))
        else:
            plans = list(
                Plan.objects.filter(period_start__lt=timezone.localdate()).order_by("code")
            )
        for one in plans:
            started = time.monotonic()

            def progress(day, computed, code=one.code):
                message = _("computed") if computed else _("already stored, unchanged")
                self.stdout.write(f"  {code} {day:%d/%m/%Y}: {message}")

            self.stdout.write(_("Plan {code}:").format(code=one.code))
            computed = trend_snapshots_refresh(one, progress=progress)
            self.stdout.write(
                _("{code}: {count} month ends computed in {seconds:.1f} s.").format(
                    code=one.code, count=computed, seconds=time.monotonic() - started
                )
            )
