"""The daily run and the digest: exactly once, whatever happens."""

import datetime
import smtplib
import threading

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.utils import translation

from reminders.choices import EmailStatus
from reminders.models import Notification
from reminders.services import digest_send, notification_mark_read, reminders_run
from tasks_app import services
from tests.factories import asked_in_time
from tests.reminders.conftest import at_seven

pytestmark = pytest.mark.django_db

D = datetime.date


def keys():
    return sorted(
        Notification.objects.values_list(
            "task__code", "kind", "due", "recipient__username", "occurrence"
        )
    )


def to(message):
    return message.to[0].split("@")[0]


@pytest.fixture
def june_task(make_task, people, policy):
    return make_task(code="T-JUN", title="Cấp chữ ký số cho cấp xã", due=D(2022, 6, 30))


# --- Exactly once -----------------------------------------------------------------------------


def test_running_a_day_twice_records_and_mails_each_notice_once(june_task, mailoutbox, travel):
    travel(D(2022, 6, 27))
    first = reminders_run(D(2022, 6, 27), inline=True)
    assert len(first.new_notices) == 2
    assert sorted(to(m) for m in mailoutbox) == ["manager", "officer"]
    recorded = keys()

    second = reminders_run(D(2022, 6, 27), inline=True)
    assert second.new_notices == []
    assert second.digests == []
    assert keys() == recorded
    assert len(mailoutbox) == 2
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


def test_one_digest_per_recipient_carries_every_task_overdue_first(
    make_task, people, policy, mailoutbox, travel
):
    make_task(code="T-SOON", due=D(2022, 7, 4))  # 7 days left on 27/06
    make_task(code="T-LATE", due=D(2022, 6, 26))  # 1 day overdue on 27/06
    make_task(code="T-LATER", due=D(2022, 6, 19))  # 8 days overdue on 27/06
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    assert sorted(to(m) for m in mailoutbox) == ["manager", "officer"]
    body = mailoutbox[0].body
    assert body.index("T-LATER") < body.index("T-LATE ") < body.index("T-SOON")


def test_no_mail_and_no_rows_when_nothing_is_owed(june_task, mailoutbox, travel):
    travel(D(2022, 6, 28))
    result = reminders_run(D(2022, 6, 28), inline=True)
    assert result.notices == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_a_user_without_email_gets_the_web_notice_only(june_task, people, mailoutbox, travel):
    get_user_model().objects.filter(username="officer").update(email="")
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    assert [to(m) for m in mailoutbox] == ["manager"]
    web_only = Notification.objects.get(recipient=people["officer"])
    assert web_only.email_status == EmailStatus.NO_EMAIL
    assert web_only.sent_at is None


def test_dry_run_records_nothing_and_sends_nothing(june_task, mailoutbox, travel):
    travel(D(2022, 6, 27))
    result = reminders_run(D(2022, 6, 27), dry_run=True, inline=True)
    assert {(n.kind, n.recipient.username) for n in result.notices} == {
        ("due_soon", "manager"),
        ("due_soon", "officer"),
    }
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_a_dry_run_after_a_run_shows_nothing_new(june_task, mailoutbox, travel):
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    again = reminders_run(D(2022, 6, 27), dry_run=True)
    assert len(again.notices) == 2
    assert again.new_notices == []


def test_each_kind_repeats_only_on_its_own_days(june_task, people, mailoutbox, travel):
    sent_days = []
    for n in range(0, 30):
        day = D(2022, 6, 20) + datetime.timedelta(days=n)
        travel(day)
        before = len(mailoutbox)
        reminders_run(day, inline=True)
        if len(mailoutbox) > before:
            sent_days.append(day)
    assert sent_days == [
        D(2022, 6, 23),  # 7 days left
        D(2022, 6, 27),  # 3 days left
        D(2022, 6, 29),  # 1 day left
        D(2022, 7, 1),  # overdue
        D(2022, 7, 8),  # overdue, a week on
        D(2022, 7, 14),  # escalation
        D(2022, 7, 15),  # overdue, two weeks on
    ]


# --- Extensions re-arm the reminders ----------------------------------------------------------


def test_an_approved_extension_re_arms_the_reminders_for_the_new_due_date(
    june_task, people, leader, mailoutbox, travel
):
    for day in (D(2022, 6, 23), D(2022, 6, 27), D(2022, 6, 29), D(2022, 7, 1)):
        travel(day)
        reminders_run(day, inline=True)
    # The district asks on 02/07 and the leader approves 31/07 as the new due date.
    travel(D(2022, 7, 2))
    extension = services.extension_request(
        task=june_task,
        requested_by=people["officer"],
        proposed_due=D(2022, 7, 31),
        reason="Chờ cấp chứng thư số",
        requested_at=asked_in_time(june_task),
    )
    services.extension_approve(extension=extension, decided_by=leader)
    sent_before = len(mailoutbox)
    for day in (D(2022, 7, 8), D(2022, 7, 14)):  # the old date's repeats: not any more
        travel(day)
        reminders_run(day, inline=True)
    assert len(mailoutbox) == sent_before

    for day in (D(2022, 7, 24), D(2022, 7, 28), D(2022, 7, 30), D(2022, 8, 1)):
        travel(day)
        reminders_run(day, inline=True)
    new_date = Notification.objects.filter(due=D(2022, 7, 31))
    assert sorted(set(new_date.values_list("kind", "occurrence"))) == [
        ("due_soon", 1),
        ("due_soon", 3),
        ("due_soon", 7),
        ("overdue", 1),
    ]
    assert len(mailoutbox) == sent_before + 8  # 4 days × manager and officer
    # The keys of the old date stay as they were: history is kept.
    assert Notification.objects.filter(due=D(2022, 6, 30)).count() == 8


# --- SMTP failures ----------------------------------------------------------------------------


def test_a_failed_send_is_never_marked_sent_and_the_retry_sends_once(
    june_task, people, flaky_smtp, travel
):
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27))  # queue mode: the rows only, digests after the commit
    manager = people["manager"]
    with pytest.raises(smtplib.SMTPException):
        digest_send(user_id=manager.pk, day=D(2022, 6, 27))
    row = Notification.objects.get(recipient=manager)
    assert row.email_status == EmailStatus.PENDING
    assert row.sent_at is None
    assert row.claim_token is None
    assert "SMTPServerDisconnected" in row.last_error
    assert mail.outbox == []

    assert digest_send(user_id=manager.pk, day=D(2022, 6, 27)) == 1  # the retry
    assert digest_send(user_id=manager.pk, day=D(2022, 6, 27)) == 0  # a duplicate task
    assert [to(m) for m in mail.outbox] == ["manager"]
    row.refresh_from_db()
    assert row.email_status == EmailStatus.SENT
    assert row.sent_at is not None
    assert row.attempts == 2


def test_an_inline_run_keeps_going_when_one_send_fails(june_task, flaky_smtp, travel):
    travel(D(2022, 6, 27))
    result = reminders_run(D(2022, 6, 27), inline=True)
    assert len(result.failed) == 1
    assert len(mail.outbox) == 1
    # The next run (or a rerun of the day) sends what failed, once.
    again = reminders_run(D(2022, 6, 27), inline=True)
    assert again.new_notices == []
    assert len(mail.outbox) == 2
    assert sorted(to(m) for m in mail.outbox) == ["manager", "officer"]


def test_unsent_notices_ride_along_with_the_next_days_digest(
    make_task, people, policy, flaky_smtp, travel
):
    flaky_smtp.failures = 2  # 27/06: both digests fail
    make_task(code="T-A", due=D(2022, 6, 30))
    make_task(code="T-B", due=D(2022, 7, 5))
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    assert mail.outbox == []
    travel(D(2022, 6, 28))
    reminders_run(D(2022, 6, 28), inline=True)  # T-B: 7 days left
    assert sorted(to(m) for m in mail.outbox) == ["manager", "officer"]
    body = mail.outbox[0].body
    assert "T-A" in body and "T-B" in body
    with translation.override(settings.LANGUAGE_CODE):
        left = translation.ngettext("%(days)s day left", "%(days)s days left", 2)
    assert left % {"days": 2} in body  # T-A, counted on the day of sending


def test_notices_older_than_the_retry_window_stay_on_the_web_only(june_task, flaky_smtp, travel):
    flaky_smtp.failures = 2
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    travel(D(2022, 7, 5))
    reminders_run(D(2022, 7, 5), inline=True)  # 8 days later: nothing owed that day
    assert mail.outbox == []
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"pending"}


# --- Claims: concurrent and dead workers ------------------------------------------------------


def test_rows_claimed_by_a_live_worker_are_not_sent_again(june_task, people, mailoutbox, travel):
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27))
    Notification.objects.update(
        email_status=EmailStatus.SENDING, claimed_at=at_seven(D(2022, 6, 27))
    )
    travel(D(2022, 6, 27))
    assert digest_send(user_id=people["manager"].pk, day=D(2022, 6, 27)) == 0
    assert mailoutbox == []


def test_a_worker_dying_after_the_send_causes_at_most_one_resend(
    june_task, people, settings, travel
):
    """The documented at-least-once window: the SMTP server accepted the digest, then the
    worker died before marking the rows sent. The rows stay "sending"; after the claim
    timeout the next run sends the digest once more, and never again after that."""
    settings.EMAIL_BACKEND = "tests.reminders.test_services.DyingAfterSendBackend"
    mail.outbox = []
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27))
    manager = people["manager"]
    with pytest.raises(WorkerKilled):
        digest_send(user_id=manager.pk, day=D(2022, 6, 27))
    assert len(mail.outbox) == 1
    assert Notification.objects.get(recipient=manager).email_status == EmailStatus.SENDING

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(at_seven(D(2022, 6, 27)) + datetime.timedelta(minutes=10)):
        reminders_run(D(2022, 6, 27), inline=True)  # a rerun: the claim is still fresh
    assert [to(m) for m in mail.outbox] == ["manager", "officer"]
    with time_machine.travel(at_seven(D(2022, 6, 27)) + datetime.timedelta(minutes=31)):
        reminders_run(D(2022, 6, 27), inline=True)  # the claim is stale: re-claimed
        reminders_run(D(2022, 6, 27), inline=True)
    assert sorted(to(m) for m in mail.outbox) == ["manager", "manager", "officer"]
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: not an Exception, nothing runs after."""


class DyingAfterSendBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        mail.outbox.extend(messages)  # the server accepted the message…
        raise WorkerKilled  # …and the process died before the UPDATE


# --- Two runs at once on PostgreSQL (real connections) ----------------------------------------


def _in_threads(target, count=2):
    """Run `target` in `count` threads released together; re-raise the first error."""
    barrier = threading.Barrier(count)
    errors, results = [], []

    def work():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_record_and_mail_each_notice_once(
    postgres_only, make_task, people, mailoutbox
):
    from reminders.models import ReminderPolicy

    ReminderPolicy.objects.get_or_create(plan=None)
    for n in range(20):
        make_task(code=f"T-{n:02d}", due=D(2022, 6, 30) if n % 2 else D(2022, 6, 26))
    with time_machine.travel(at_seven(D(2022, 6, 27)), tick=True):
        _in_threads(lambda: reminders_run(D(2022, 6, 27), inline=True), count=3)
    assert Notification.objects.count() == 40  # 20 tasks × manager and officer
    assert sorted(to(m) for m in mailoutbox) == ["manager", "officer"]
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_two_digest_tasks_at_once_send_one_email(
    postgres_only, make_task, people, mailoutbox, monkeypatch
):
    from reminders import tasks
    from reminders.models import ReminderPolicy

    # The run commits, so it would put the digest on the real broker (CI's Redis), where a
    # later worker would find it: keep what it enqueues here instead.
    enqueued = []
    monkeypatch.setattr(tasks.digest_send_task, "delay", lambda *args: enqueued.append(args))
    ReminderPolicy.objects.get_or_create(plan=None)
    make_task(code="T-1", due=D(2022, 6, 30))
    with time_machine.travel(at_seven(D(2022, 6, 27)), tick=True):
        reminders_run(D(2022, 6, 27))
        assert {user for user, _day in enqueued} == {people["manager"].pk, people["officer"].pk}
        sent = _in_threads(
            lambda: digest_send(user_id=people["manager"].pk, day=D(2022, 6, 27)), count=4
        )
    assert sorted(sent) == [0, 0, 0, 1]
    assert [to(m) for m in mailoutbox] == ["manager"]


# --- Web notifications ------------------------------------------------------------------------


def test_marking_read_touches_only_the_users_own_notifications(june_task, people, travel):
    travel(D(2022, 6, 27))
    reminders_run(D(2022, 6, 27), inline=True)
    officers = Notification.objects.get(recipient=people["officer"])
    assert notification_mark_read(user=people["manager"], pks=[officers.pk]) == 0
    assert notification_mark_read(user=people["officer"], pks=[officers.pk]) == 1
    assert notification_mark_read(user=people["officer"], pks=[officers.pk]) == 0
    assert notification_mark_read(user=people["manager"]) == 1
