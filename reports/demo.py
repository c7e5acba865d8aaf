"""The demo's archive of monthly reports (`manage.py demo_reports`, run by `make run` after
`load_plan --demo`): the current-year plan's past months issued and signed, the last month
a draft waiting for the specialist.

Each month goes through the office's steps (reports/issuing.py) as its people would have
taken them: the draft is made on the 1st, the leader (`lanhdao`) approves it on the 3rd,
the monitor (`skhcn`, also the văn thư here) issues it on the 5th with the next number of
Sở KH&CN's register. The PDF is signed with the certificate set up in the environment (the
demo certificate under `make run`). Nothing is e-mailed. Months already in the archive are
left as they are, so running it again writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.issuing import report_approve, report_issue
from reports.models import MonthlyReport, ReportStage
from reports.numbering import month_end, next_month, period_label
from reports.services import monthly_report_generate
from tasks_app.demo_current import current_plan_code
from tasks_app.models import Plan, Task
from tasks_app.querysets import local_tz

APPROVER, CLERK = "lanhdao", "skhcn"
APPROVED_DAY, ISSUED_DAY = 3, 5


def _at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=local_tz())


def demo_reports_load(
    *, today: datetime.date | None = None, progress: Callable[[str], None] = lambda line: None
) -> list[str]:
    """Fill the archive of the current-year demo plan (see the module docstring); returns
    the lines to print. `progress` is told about each month as it is rendered."""
    today = today or timezone.localdate()
    plan = Plan.objects.filter(code=current_plan_code(today.year)).first()
    first = Task.objects.filter(plan=plan).aggregate(first=Min("assigned_on"))["first"]
    if plan is None or first is None:
        return [_("Demo reports: no current-year demo plan; run load_plan --demo first.")]
    users = get_user_model().objects.in_bulk([APPROVER, CLERK], field_name="username")
    last = today.replace(day=1) - datetime.timedelta(days=1)  # the last month over
    # From the month the first task was assigned: earlier months have nothing to report.
    period = max(plan.period_start, first).replace(day=1)
    issued = drafted = 0
    while month_end(period) <= last:
        report = MonthlyReport.objects.filter(
            plan=plan, period=period, scope=None, replaces=None
        ).first()
        if report is None:
            progress(period_label(period))
            report = monthly_report_generate(plan=plan, period=period)
            drafted += month_end(period) == last
        following = next_month(period)
        # A run stopped half-way (an error while signing) is taken up where it stopped.
        if month_end(period) < last and report.stage == ReportStage.DRAFT:
            approved = following.replace(day=APPROVED_DAY)
            report = report_approve(report=report, user=users[APPROVER], at=_at(approved))
        if month_end(period) < last and report.stage == ReportStage.APPROVED:
            issued_on = min(following.replace(day=ISSUED_DAY), today)
            report_issue(report=report, user=users[CLERK], date=issued_on, at=_at(issued_on))
            issued += 1
        period = next_month(period)
    return [
        _("Demo reports of {plan}: {issued} months issued, {drafted} draft waiting.").format(
            plan=plan.code, issued=issued, drafted=drafted
        )
    ]
