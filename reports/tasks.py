"""Celery tasks of the monthly report: thin wrappers that take ids and ISO months and call
one service each (reports/services.py has the exactly-once arguments).

The beat entry (plan_tracker/celery.py, 06:00 on the 1st, Asia/Ho_Chi_Minh) runs
`monthly_reports_run_task`, which fans out one `monthly_report_generate_task` per plan; each
makes the DRAFT of the plan's report of the previous month unless it exists already. The
draft waits for the specialist, the leader and the văn thư (reports/issuing.py); it is
e-mailed only once issued. A beat that fires twice drafts nothing twice.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from reports.services import TRANSIENT_ERRORS


@shared_task(name="reports.monthly_reports_run")
def monthly_reports_run_task(month: str | None = None) -> int:
    """The monthly fan-out: one generation task per plan running in `month` ("YYYY-MM";
    default: the month before today in the project's time zone). Returns how many."""
    from reports.numbering import parse_month, plans_covering, previous_month

    period = parse_month(month) if month else previous_month(timezone.localdate())
    plan_ids = list(plans_covering(period).values_list("pk", flat=True))
    for plan_id in plan_ids:
        monthly_report_generate_task.delay(plan_id, period.isoformat())
    return len(plan_ids)


# A render is seconds long; the limit keeps a stuck one from holding its claim, which others
# may take over after REPORT_STALE_MINUTES (longer than the limit).
REPORT_LIMITS = {
    "time_limit": settings.REPORT_TASK_TIME_LIMIT,
    "soft_time_limit": settings.REPORT_TASK_TIME_LIMIT - 30,
}


@shared_task(name="reports.monthly_report_generate", **REPORT_LIMITS)
def monthly_report_generate_task(
    plan_id: int, period: str, scope_id: int | None = None
) -> int | None:
    """Make one plan's DRAFT report of one month unless it exists already. Nothing is sent:
    a report goes out once issued (reports/issuing.py). Safe to run twice. Returns the
    report id (None when the plan is gone)."""
    from reports.services import monthly_report_generate
    from tasks_app.models import Agency, Plan

    plan = Plan.objects.filter(pk=plan_id).first()
    if plan is None:
        return None
    scope = Agency.objects.get(pk=scope_id) if scope_id else None
    report = monthly_report_generate(
        plan=plan,
        period=datetime.date.fromisoformat(period),
        scope=scope,
        only_missing=True,
    )
    return report.pk


@shared_task(name="reports.monthly_report_regenerate", **REPORT_LIMITS)
def monthly_report_regenerate_task(report_id: int) -> str | None:
    """Render a draft again (its narrative was saved, or someone asked for it): new files.
    Sends no e-mail; an issued report is left as it is. Safe to run twice. Returns the new
    status (None when the row is gone)."""
    from reports.models import MonthlyReport, ReportStatus
    from reports.services import monthly_report_rerender

    report = MonthlyReport.objects.select_related("plan", "scope").filter(pk=report_id).first()
    if report is None:
        return None
    if report.is_final or report.status == ReportStatus.READY:
        # Issued meanwhile (its files are final), or rendered since the request (a request
        # sent twice by the sweep renders once).
        return report.status
    return monthly_report_rerender(report=report).status


@shared_task(
    name="reports.monthly_report_send",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=60,
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=6,
)
def monthly_report_send_task(report_id: int) -> bool:
    """E-mail a ready report once. SMTP and connection errors are retried with backoff (at
    most 6 times); any other error is a bug and is raised. Safe to run twice."""
    from reports.models import MonthlyReport
    from reports.services import monthly_report_send

    report = MonthlyReport.objects.filter(pk=report_id).first()
    if report is None:
        return False
    return monthly_report_send(report=report)


@shared_task(name="reports.trend_snapshots_refresh")
def trend_snapshots_refresh_task(plan_id: int | None = None) -> int:
    """Store the dashboard trend's past month ends that are missing or out of date, for one
    plan or every plan that has started (nightly beat). Safe to run twice. Returns how many
    month ends were computed."""
    from reports.trend_store import trend_snapshots_refresh
    from tasks_app.models import Plan

    plans = Plan.objects.filter(period_start__lt=timezone.localdate())
    if plan_id is not None:
        plans = plans.filter(pk=plan_id)
    return sum(trend_snapshots_refresh(plan) for plan in plans.order_by("pk"))


@shared_task(name="reports.render_requests_resend")
def render_requests_resend_task() -> int:
    """Send again the renderings whose request got lost (broker down, worker killed):
    beat, every few minutes. Safe to run twice. Returns how many were sent."""
    from reports.services import render_requests_resend

    return render_requests_resend()
