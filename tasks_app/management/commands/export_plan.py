"""`manage.py export_plan PLAN_CODE FILE`: write a plan and all its tasks to an Excel
workbook, in the layout `import_plan` reads (tasks_app.plan_excel)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tasks_app.models import Plan
from tasks_app.plan_excel import plan_workbook


class Command(BaseCommand):
    help = "Export a plan with all its tasks to an Excel workbook (.xlsx)."

    def add_arguments(self, parser):
        parser.add_argument("plan_code", help="Code of the plan, e.g. KH-2026")
        parser.add_argument("file", help="Path of the .xlsx file to write")

    def handle(self, *args, plan_code: str, file: str, **options) -> None:
        plan = Plan.objects.filter(code__iexact=plan_code).first()
        if plan is None:
            raise CommandError(_("No plan has the code “%(code)s”.") % {"code": plan_code})
        Path(file).write_bytes(plan_workbook(plan))
        self.stdout.write(
            self.style.SUCCESS(
                _("Plan %(code)s written to %(file)s (%(tasks)s tasks).")
                % {"code": plan.code, "file": file, "tasks": plan.tasks.count()}
            )
        )
