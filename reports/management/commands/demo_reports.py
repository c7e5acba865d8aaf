"""`manage.py demo_reports`: the demo's archive of monthly reports (reports/demo.py).

Run by `make run` after `load_plan --demo`: the current-year demo plan's past months are
drafted, approved, issued and signed (with the certificate in the environment), the last
month is left as a draft waiting. Months already in the archive are left as they are.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from reports.demo import demo_reports_load


class Command(BaseCommand):
    help = (
        "Fill the demo archive: the current-year demo plan's past months issued and signed, "
        "the last month a draft. Safe to run again."
    )

    def handle(self, *args, **options):
        def progress(month: str) -> None:
            self.stdout.write(_("Report of {month}: rendering…").format(month=month))

        for line in demo_reports_load(progress=progress):
            self.stdout.write(self.style.SUCCESS(line))
