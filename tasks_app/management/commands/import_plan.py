"""`manage.py import_plan FILE [--dry-run] [--user USERNAME]`: check a plan workbook and
apply it whole, or with --dry-run only say what it would do. The rules are those of the
import page (tasks_app.plan_excel); exit status 0 only when the file was (or would be)
applied whole."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from rich.progress import Progress

from tasks_app import plan_excel
from tasks_app.spreadsheets import SpreadsheetError


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Import a plan workbook (.xlsx): create or change the plan, its priority areas and "
        "its tasks. Nothing is written when any row has an error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .xlsx workbook")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and preview only; write nothing."
        )
        parser.add_argument(
            "--user",
            help="Username recorded as the author of the changes (default: the first superuser).",
        )

    def handle(self, *args, file: str, dry_run: bool, user: str | None, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No file at %(file)s.") % {"file": file})
        author = self._author(user)
        content = path.read_bytes()
        try:
            with Progress(console=self._stderr_console(), transient=True) as progress:
                progress.add_task(_("Checking the rows"), total=None)
                preview = plan_excel.plan_preview(content, path.name)
        except SpreadsheetError as exc:
            raise CommandError(self._errors(path.name, exc.errors)) from None
        self._summary(preview)
        if preview.has_errors:
            raise CommandError(self._errors(path.name, preview.errors))
        try:
            # A dry run applies inside a transaction it then rolls back, so that it checks
            # what only writing can check; the stored upload goes with it.
            with transaction.atomic():
                upload = plan_excel.upload_store(
                    kind="plan", name=path.name, content=content, user=author, plan=preview.plan
                )
                with Progress(console=self._stderr_console(), transient=True) as progress:
                    bar = progress.add_task(_("Applying"), total=len(preview.tasks))
                    summary = plan_excel.plan_apply(
                        upload, author, progress=lambda done: progress.update(bar, completed=done)
                    )
                if dry_run:
                    raise _DryRun
        except _DryRun:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Dry run: the file can be applied whole; nothing was written.")
                )
            )
            return
        except plan_excel.PlanImportError as exc:
            raise CommandError(self._errors(path.name, exc.errors)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Plan %(plan)s imported: %(created)s new tasks, %(updated)s changed "
                    "(%(adjusted)s due dates adjusted), %(unchanged)s unchanged."
                )
                % {
                    "plan": summary["plan"],
                    "created": summary["tasks_created"],
                    "updated": summary["tasks_updated"],
                    "adjusted": summary["due_adjusted"],
                    "unchanged": summary["tasks_unchanged"],
                }
            )
        )

    def _stderr_console(self):
        from rich.console import Console

        return Console(file=self.stderr._out, stderr=True)

    def _author(self, username: str | None):
        users = get_user_model().objects
        if username:
            author = users.filter(username=username).first()
            if author is None:
                raise CommandError(_("No user is named “%(user)s”.") % {"user": username})
            return author
        author = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if author is None:
            raise CommandError(_("Name the author of the changes with --user USERNAME."))
        return author

    def _summary(self, preview: plan_excel.PlanPreview) -> None:
        tasks, areas = preview.task_counts, preview.area_counts
        self.stdout.write(
            _("Plan %(code)s: %(status)s")
            % {"code": preview.plan_code, "status": preview.plan_status_label}
        )
        for change in preview.plan_changes:
            self.stdout.write(f"  {change.label}: {change.old} → {change.new}")
        self.stdout.write(
            _(
                "Priority areas: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
                "%(error)s with errors."
            )
            % areas
        )
        self.stdout.write(
            _(
                "Tasks: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
                "%(error)s with errors, %(missing)s of the plan not in the file (kept)."
            )
            % tasks
        )
        for row in preview.tasks:
            if row.status == plan_excel.CHANGED:
                for change in row.changes:
                    self.stdout.write(f"  {row.code} · {change.label}: {change.old} → {change.new}")

    def _errors(self, name: str, errors) -> str:
        lines = "\n".join(f"  - {error}" for error in errors)
        return _("%(file)s: the plan was not imported, nothing was written.\n%(errors)s") % {
            "file": name,
            "errors": lines,
        }
