"""`manage.py send_reminders [--date YYYY-MM-DD] [--dry-run] [--inline]`: the daily reminder
job by hand, for any day. It calls the same service as the 07:00 beat entry, so running it
again (or while beat runs) sends nothing twice. Prints what it found and did, in the active
language (settings.LANGUAGE_CODE from the shell), and a last summary line (sent, queued,
skipped, failed); exits non-zero when a digest could not be sent."""

import datetime
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from reminders.choices import NoticeKind
from reminders.services import reminders_run


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            _("--date must be a date written YYYY-MM-DD, got {value}.").format(value=repr(value))
        ) from exc


class Command(BaseCommand):
    help = (
        "Raise the reminders owed on a day (default today, Asia/Ho_Chi_Minh) and send one "
        "digest per recipient. Safe to rerun: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to run for, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print who would get what; record nothing, send nothing",
        )
        parser.add_argument(
            "--inline",
            action="store_true",
            help="send the digests from this process instead of the Celery queue",
        )

    def handle(self, *args, date=None, dry_run=False, inline=False, **options):
        day = _day(date) if date is not None else timezone.localdate()
        result = reminders_run(day, dry_run=dry_run, inline=inline)
        new = result.new_notices
        self.stdout.write(
            _(
                "{day}: {owed} notices owed, {new} new for {recipients} recipients, "
                "{already} already recorded"
            ).format(
                day=day.isoformat(),
                owed=len(result.notices),
                new=len(new),
                recipients=result.recipient_count,
                already=len(result.notices) - len(new),
            )
        )
        by_kind = defaultdict(int)
        for notice in new:
            by_kind[notice.kind] += 1
        for kind in NoticeKind:
            if by_kind[kind.value]:
                self.stdout.write(f"  {kind.label}: {by_kind[kind.value]}")
        if dry_run:
            self._print_plan(new)
            self.stdout.write(self.style.WARNING(_("Dry run: nothing recorded, nothing sent.")))
            return
        if inline:
            self.stdout.write(
                _("Digests sent from this process: {count}").format(count=len(result.sent))
            )
        else:
            self.stdout.write(_("Digests queued: {count}").format(count=len(result.digests)))
        # The summary, last, for whoever reads the log of a cron job; a failure exits 1.
        summary = _(
            "Summary: {sent} digests sent, {queued} queued, {skipped} skipped, {failed} failed."
        ).format(
            sent=len(result.sent),
            queued=0 if inline else len(result.digests),
            skipped=len(result.skipped),
            failed=len(result.failed),
        )
        if result.failed:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(
                _(
                    "{count} digests could not be sent; their notices are kept for the next run."
                ).format(count=len(result.failed))
            )
        self.stdout.write(self.style.SUCCESS(summary))

    def _print_plan(self, notices) -> None:
        by_recipient = defaultdict(list)
        for notice in notices:
            by_recipient[notice.recipient].append(notice)
        for recipient, items in by_recipient.items():
            channel = _("e-mail and web") if recipient.email else _("web only")
            self.stdout.write(f"{recipient} ({channel}): {len(items)}")
            for notice in items:
                self.stdout.write(
                    "  "
                    + _("{kind}: {code}, due {due} ({days} days)").format(
                        kind=NoticeKind(notice.kind).label,
                        code=notice.task_code,
                        due=notice.due.strftime("%d/%m/%Y"),
                        days=f"{-notice.days_from_due:+d}",  # +3: left, -8: overdue
                    )
                )
