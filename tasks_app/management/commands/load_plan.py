"""`manage.py load_plan FILE [--demo]`: load a plan file, optionally with demo activity.

A thin wrapper: the rules live in tasks_app.planfile (validation and loading) and
tasks_app.demo (demo accounts and activity).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.demo import DemoError, demo_load
from tasks_app.planfile import PlanFileError, plan_file_read, plan_load


class Command(BaseCommand):
    help = (
        "Load a plan file (YAML or JSON): levels, agencies, reorganisations, DTI indices, "
        "the plan, its priority areas and tasks. Safe to run again: nothing is duplicated. "
        "With --demo, also create demo accounts and a year of demo activity."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the plan file, e.g. data/plan_2022.yaml")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also create the demo accounts (password demo-2022) and demo activity.",
        )

    def handle(self, *args, file: str, demo: bool, **options) -> None:
        try:
            data = plan_file_read(path=file)
            # One transaction for the plan and the demo: a failure leaves nothing behind.
            with transaction.atomic():
                result = plan_load(data=data, log=self.stdout.write)
                if demo:
                    demo_result = demo_load(plan=result.plan)
                    for line in demo_result.lines:
                        self.stdout.write(line)
        except PlanFileError as exc:
            raise CommandError(
                _("{file}: the plan was not loaded, nothing was written.\n{errors}").format(
                    file=file, errors="\n".join(f"  - {error}" for error in exc.errors)
                )
            ) from None
        except DemoError as exc:
            raise CommandError(
                _("{file}: the demo could not be loaded, nothing was written.\n{error}").format(
                    file=file, error=exc
                )
            ) from None
        tasks = result.plan.tasks
        self.stdout.write(
            self.style.SUCCESS(
                _("Plan {code} loaded: {tasks} plan tasks, {children} per-agency tasks.").format(
                    code=result.plan.code,
                    tasks=tasks.filter(parent__isnull=True).count(),
                    children=tasks.filter(parent__isnull=False).count(),
                )
            )
        )
