"""Fixtures of the reminder tests, on top of the personas of tests/conftest.py:

- `manager`, `officer` (Hải Hậu, the lead agency of `make_task` tasks) get the work notices;
- `province_manager` (UBND tỉnh, the parent of Hải Hậu) and `monitor` get escalations;
- `coordinator` (manager of Giao Thủy) gets notices of tasks Giao Thủy coordinates when the
  policy includes coordinating agencies.
"""

import datetime
import smtplib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from reminders.models import ReminderPolicy
from tasks_app.choices import Role
from tests.factories import MembershipFactory, UserFactory

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at_seven(day: datetime.date) -> datetime.datetime:
    """07:00 in Asia/Ho_Chi_Minh on `day`: when beat runs the job."""
    return datetime.datetime.combine(day, datetime.time(7, 0), tzinfo=TZ)


@pytest.fixture
def travel():
    """travel(day): freeze the clock at 07:00 of `day` until the test ends (or the next call)."""
    travellers = []

    def go(day: datetime.date):
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(at_seven(day), tick=False)
        traveller.start()
        travellers.append(traveller)

    yield go
    for traveller in travellers:
        traveller.stop()


@pytest.fixture
def policy(db) -> ReminderPolicy:
    """The default policy created by the data migration (7/3/1, weekly overdue, 30-day stale,
    escalation after 14 days, coordinating agencies off). A transactional test empties the
    tables when it ends, the migration's row included: then it is made again, the same."""
    return ReminderPolicy.objects.get_or_create(plan=None)[0]


@pytest.fixture
def province_manager(agencies):
    user = UserFactory(username="province_manager")
    MembershipFactory(user=user, agency=agencies["province"], role=Role.MANAGER)
    return user


@pytest.fixture
def coordinator(agencies):
    user = UserFactory(username="coordinator")
    MembershipFactory(user=user, agency=agencies["giaothuy"], role=Role.MANAGER)
    return user


@pytest.fixture
def people(manager, officer, province_manager, monitor, leader, outsider):
    """Everyone of the default cast, so tests can check who did and did not hear."""
    return {
        "manager": manager,
        "officer": officer,
        "province_manager": province_manager,
        "monitor": monitor,
        "leader": leader,
        "outsider": outsider,
    }


class FlakySMTPBackend(LocmemBackend):
    """The locmem backend (mail.outbox) that refuses the first `failures` sends with an
    SMTPException, as a mail server that is briefly down does."""

    failures = 1
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_smtp(settings, mailoutbox):
    FlakySMTPBackend.calls = 0
    FlakySMTPBackend.failures = 1
    settings.EMAIL_BACKEND = "tests.reminders.conftest.FlakySMTPBackend"
    yield FlakySMTPBackend
    mail.outbox = []
