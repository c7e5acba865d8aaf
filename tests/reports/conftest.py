"""Fixtures of the reports tests: the 2022 plan with its demo activity, loaded once per
module (a few seconds) in a transaction that is rolled back afterwards; `issue_report`,
which takes a drafted monthly report through approval and issue."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from reports.issuing import report_approve, report_issue
from reports.models import MonthlyReport
from reports.selectors import DashboardFilters
from tasks_app.models import Plan

PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_plan", str(PLAN_FILE), "--demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo_plan(demo_data, db):
    return Plan.objects.get(code="CDS-ND-2022")


@pytest.fixture
def demo_user(demo_data, db):
    """A demo account by username: lanhdao (leader), sotttt (monitor), haihau and giaothuy
    (district managers), haitrung (commune manager)."""
    return lambda username: get_user_model().objects.get(username=username)


@pytest.fixture
def at(demo_plan):
    """DashboardFilters of the demo plan at a date (plus optional filters)."""

    def make(day: datetime.date, **kwargs) -> DashboardFilters:
        return DashboardFilters(plan=demo_plan, as_of=day, **kwargs)

    return make


@pytest.fixture
def issue_report():
    """Take a drafted report through the office's steps (reports/issuing.py): `approver`
    approves it, `clerk` (the văn thư) issues it, with the next number of the register and
    today's date unless `number` or `date` are given. Returns the issued row."""

    def issue(
        report: MonthlyReport,
        *,
        approver,
        clerk,
        number: int | None = None,
        date: datetime.date | None = None,
    ) -> MonthlyReport:
        approved = report_approve(report=report, user=approver)
        return report_issue(report=approved, user=clerk, number=number, date=date)

    return issue
