"""`manage.py generate_report --month YYYY-MM [--plan CODE] [--scope AGENCY] [--send]`.

Makes (or renders again) the DRAFT of the monthly report of one month by hand, through the
same service as the 1st-of-the-month beat run: files replaced atomically, one row per plan,
month and scope. An issued report is left as it is (its files are final). With --send,
e-mails each issued report that was never sent; a draft is sent once issued
(reports/issuing.py). Bad input
(a malformed month, an unknown plan or agency, a month not over yet or outside the plan)
stops with an error and a non-zero exit status, before anything is written. A report that
could not be generated or e-mailed does not stop the other plans; the last line is a summary
(generated, e-mailed, not e-mailed, failed) and any failure makes the exit status non-zero.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import MonthlyReport, ReportStatus
from reports.numbering import document_number, parse_month, period_label, plans_covering
from reports.services import (
    ReportError,
    monthly_report_check_period,
    monthly_report_generate,
    monthly_report_send,
)
from tasks_app.models import Agency, Plan


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Command(BaseCommand):
    help = (
        "Make the draft of the monthly report (PDF and Excel) of a month for every plan "
        "running in it, or for one plan; an issued report is left as it is. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The month reported, YYYY-MM.")
        parser.add_argument("--plan", help="Code of one plan (default: every plan of the month).")
        parser.add_argument(
            "--scope", help="Code of an agency: report on the tasks of its subtree only."
        )
        parser.add_argument(
            "--send", action="store_true", help="E-mail each report that was not sent yet."
        )

    def handle(self, *args, month: str, plan: str | None, scope: str | None, send: bool, **opts):
        # 1. Parse and check everything before writing anything.
        try:
            period = parse_month(month)
        except ValueError:
            raise CommandError(
                _("--month must be a month written YYYY-MM, e.g. 2022-06; got {value}.").format(
                    value=repr(month)
                )
            ) from None
        if plan:
            plans = list(Plan.objects.filter(code=plan))
            if not plans:
                raise CommandError(_("No plan has the code {code}.").format(code=repr(plan)))
        else:
            plans = list(plans_covering(period).order_by("code"))
            if not plans:
                raise CommandError(_("No plan runs in {month}.").format(month=period_label(period)))
        scope_agency = None
        if scope:
            scope_agency = Agency.objects.filter(code=scope).first()
            if scope_agency is None:
                raise CommandError(_("No agency has the code {code}.").format(code=repr(scope)))
        for item in plans:
            try:
                monthly_report_check_period(plan=item, period=period)
            except ReportError as exc:
                raise CommandError(str(exc)) from None

        # 2. One report per plan, with progress (details indented under each plan). A plan
        #    that fails (generation or e-mail) is counted; the others still run.
        generated = sent = skipped = failed = 0
        for item in plans:
            self.stdout.write(
                _("{plan}, {month}: generating…").format(plan=item.code, month=period_label(period))
            )
            started = time.monotonic()
            issued = MonthlyReport.objects.filter(
                plan=item, period=period, scope=scope_agency, replaces=None
            ).first()
            try:
                if issued is not None and issued.is_final:
                    report = issued  # its files are final: only sent, if asked
                else:
                    report = monthly_report_generate(plan=item, period=period, scope=scope_agency)
                    generated += 1
            except Exception as exc:  # recorded on the row; the other plans still run; exit 1
                failed += 1
                error = f"{type(exc).__name__}: {exc}"
                self.stderr.write("  " + _("failed: {error}").format(error=error))
                continue
            if report.status != ReportStatus.READY:
                failed += 1
                self.stderr.write(
                    "  " + _("not generated: another worker is generating this report right now.")
                )
                continue
            done = _(
                "No. {number}: {pages} pages, {size} kB, {seconds} s (figures {figures} s, "
                "PDF {pdf} s, Excel {xlsx} s) → {path}"
            ).format(
                number=document_number(report.number, report.issuer.doc_code),
                pages=report.pages,
                size=round(report.pdf_size / 1024),
                seconds=f"{time.monotonic() - started:.1f}",
                # The parts of the last rendering, as recorded on the row.
                figures=_seconds(report.figures_seconds),
                pdf=_seconds(report.pdf_seconds),
                xlsx=_seconds(report.xlsx_seconds),
                path=report.pdf.path,
            )
            self.stdout.write(self.style.SUCCESS("  " + done))
            if not send:
                continue
            if not report.is_final:
                skipped += 1
                self.stdout.write("  " + _("not e-mailed: a draft is e-mailed once issued"))
                continue
            try:
                mailed = monthly_report_send(report=report)
            except Exception as exc:  # recorded on the row (email_error); exit 1
                failed += 1
                error = f"{type(exc).__name__}: {exc}"
                self.stderr.write("  " + _("not e-mailed: {error}").format(error=error))
                continue
            if mailed:
                sent += 1
                self.stdout.write("  " + _("e-mailed to {to}").format(to=report.emailed_to))
                continue
            skipped += 1
            if report.emailed_at:
                when = timezone.localtime(report.emailed_at).strftime("%H:%M %d/%m/%Y")
                self.stdout.write(
                    "  " + _("already e-mailed at {time}, not sent again").format(time=when)
                )
            else:
                self.stdout.write("  " + _("not e-mailed: no recipient has an e-mail address"))
        # 3. The summary, last, for whoever reads the log of a cron job; a failure exits 1.
        summary = _(
            "Summary: {generated} reports generated, {sent} e-mailed, {skipped} not e-mailed, "
            "{failed} failed."
        ).format(generated=generated, sent=sent, skipped=skipped, failed=failed)
        if failed:
            self.stdout.write(self.style.ERROR(summary))
            raise CommandError(
                _("{failed} of {total} reports failed: not generated or not e-mailed.").format(
                    failed=failed, total=len(plans)
                )
            )
        self.stdout.write(self.style.SUCCESS(summary))
