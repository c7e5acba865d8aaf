"""Services of the reminders app: the daily run, the digest e-mail and marking as read.

Exactly once, step by step (see also Notification):

1. `reminders_run(day)` computes the notices owed on `day` (selectors) and inserts one
   Notification row per (task, kind, due date in force, recipient, occurrence) with
   INSERT … ON CONFLICT DO NOTHING. The unique constraint makes a second run, a beat that
   fires twice, two workers at once and a manual rerun all collapse onto the same rows.
2. After the commit, one digest task per recipient is enqueued: (recipient, day).
3. `digest_send` claims the recipient's pending rows with one conditional UPDATE
   (pending → sending, with a fresh claim token). Whoever's UPDATE changed the rows owns
   them; a concurrent or repeated task claims nothing and sends nothing. No rows, no mail:
   there is never a "0 tasks" e-mail.
4. It sends one e-mail with every claimed notice, then marks exactly the claimed rows sent.
   A failed send releases the rows back to pending (never marked sent) and raises, so the
   Celery task retries transient errors; the next daily run also picks up rows left pending.

The one window left: the SMTP server accepted the message and the process died before the
UPDATE that marks the rows sent committed (a single statement right after the send). Those
rows stay "sending"; once the claim is older than CLAIM_TIMEOUT (longer than the Celery hard
time limit, so a live worker never loses its claim) the next run re-claims them and the
digest goes out a second time. We chose at-least-once for that window, not at-most-once
(marking before sending), because a lost deadline reminder costs more than a repeated one.
"""

import datetime
import logging
import smtplib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from reminders.choices import KIND_ORDER, EmailStatus, NoticeKind
from reminders.links import absolute_url, task_url
from reminders.models import Notification, ReminderRun
from reminders.selectors import DueNotice, reminder_notices_due, user_get
from tasks_app.formatting import full_name

logger = logging.getLogger(__name__)

# A claim older than this is taken to belong to a dead worker. Must exceed the Celery hard
# time limit (CELERY_TASK_TIME_LIMIT, 15 minutes), so a worker that is still sending never
# has its rows claimed from under it.
CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
# A digest also carries notices of the previous days that are still unsent (a send that
# failed after its retries, a worker that died); older ones stay on the web only.
RETRY_WINDOW = datetime.timedelta(days=7)
# Failures worth retrying: the mail server or the network, not our code.
TRANSIENT_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)


@dataclass
class RunResult:
    """What one run found and did; the management command prints it."""

    day: datetime.date
    dry_run: bool
    notices: list[DueNotice] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)  # recipients whose digest was started
    failed: list[int] = field(default_factory=list)  # inline sends that failed (transient)
    sent: list[int] = field(default_factory=list)  # inline sends that mailed a digest
    skipped: list[int] = field(default_factory=list)  # inline sends with nothing left to mail

    @property
    def new_notices(self) -> list[DueNotice]:
        return [n for n in self.notices if n.is_new]

    @property
    def recipient_count(self) -> int:
        return len({n.recipient.id for n in self.new_notices})


def reminders_run(day: datetime.date, *, dry_run: bool = False, inline: bool = False) -> RunResult:
    """Raise the notices owed on `day` and start one digest per recipient.

    Safe to run twice, and at the same time in two processes: each notice is recorded once
    and mailed once (see the module docstring). `dry_run` only reports what would be raised:
    it writes nothing and sends nothing. By default the digests go to the Celery queue after
    the commit; `inline` sends them in this process instead (no worker needed).
    """
    notices = reminder_notices_due(day=day)
    result = RunResult(day=day, dry_run=dry_run, notices=notices)
    if dry_run:
        return result

    # 1. Record the new notices; a concurrent run's rows make ours no-ops.
    rows = [
        Notification(
            task_id=notice.task_id,
            recipient_id=notice.recipient.id,
            kind=notice.kind,
            due=notice.due,
            occurrence=notice.occurrence,
            fire_day=day,
            email_status=EmailStatus.PENDING if notice.recipient.email else EmailStatus.NO_EMAIL,
        )
        for notice in result.new_notices
    ]
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        # 2. Everyone with something unsent: today's notices and earlier leftovers.
        result.digests = _recipients_with_unsent(day)
        if not inline:
            from reminders.tasks import digest_send_task

            for user_id in result.digests:
                transaction.on_commit(partial(digest_send_task.delay, user_id, day.isoformat()))
    if inline:
        for user_id in result.digests:
            try:
                carried = digest_send(user_id=user_id, day=day)
            except TRANSIENT_ERRORS:
                # The rows are pending again; the next run (or a rerun) sends them.
                logger.warning("reminder digest for user %s failed", user_id, exc_info=True)
                result.failed.append(user_id)
            else:
                # 0: another process claimed the rows first, or the user has no address now.
                (result.sent if carried else result.skipped).append(user_id)
    # 3. Record the run, for /health/ (one row per day; a rerun updates it).
    ReminderRun.objects.update_or_create(
        day=day,
        defaults={
            "finished_at": timezone.now(),
            "notices": len(rows),
            "digests": len(result.digests),
            "failed": len(result.failed),
        },
    )
    logger.info(
        "reminders %s: %d notices owed, %d new, %d digests",
        day,
        len(notices),
        len(rows),
        len(result.digests),
    )
    return result


def _claimable(*, day: datetime.date, now: datetime.datetime) -> Q:
    return Q(fire_day__gt=day - RETRY_WINDOW, fire_day__lte=day) & (
        Q(email_status=EmailStatus.PENDING)
        | Q(email_status=EmailStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    )


def _recipients_with_unsent(day: datetime.date) -> list[int]:
    return list(
        Notification.objects.filter(_claimable(day=day, now=timezone.now()))
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )


def digest_send(*, user_id: int, day: datetime.date) -> int:
    """Mail one user the digest of their unsent notices up to `day`; return how many
    notices it carried (0: nothing was sent).

    Safe to run twice and concurrently: the rows are claimed with a conditional update and
    only the claimant sends. Raises what the mail backend raised, after putting the rows back
    to pending; they are never marked sent unless the backend accepted the message.
    """
    # 1. Claim: one UPDATE; a concurrent claimant's UPDATE waits for ours and then no
    #    longer matches the rows (they are "sending" with a fresh claim time).
    now = timezone.now()
    token = uuid.uuid4()
    claimed = Notification.objects.filter(
        _claimable(day=day, now=now), recipient_id=user_id
    ).update(
        email_status=EmailStatus.SENDING,
        claimed_at=now,
        claim_token=token,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return 0
    mine = Notification.objects.filter(claim_token=token, email_status=EmailStatus.SENDING)

    # 2. A user who lost the address (or the account) since keeps the web notices only.
    user = user_get(user_id=user_id)
    if user is None or not user.email:
        mine.update(email_status=EmailStatus.NO_EMAIL, claim_token=None)
        return 0

    # 3. Send. On failure put the rows back for the retry, and let the error propagate.
    notifications = list(mine.select_related("task", "task__lead_agency"))
    message = digest_message(user=user, notifications=notifications, day=day)
    try:
        message.send()
    except Exception as exc:
        mine.update(
            email_status=EmailStatus.PENDING,
            claim_token=None,
            claimed_at=None,
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
        )
        raise
    # 4. Mark sent right away: this statement is the whole at-least-once window.
    mine.update(email_status=EmailStatus.SENT, sent_at=timezone.now(), last_error="")
    return len(notifications)


# --- The digest e-mail ------------------------------------------------------------------------


def digest_context(*, user, notifications: list[Notification], day: datetime.date) -> dict:
    """The digest as plain data: groups by kind (overdue first), each task once per group
    with its due date in force and the days left or overdue on `day`."""
    groups: dict[str, dict[int, dict]] = defaultdict(dict)
    for notification in notifications:
        task = notification.task
        days = (day - notification.due).days
        groups[notification.kind].setdefault(
            task.pk,
            {
                "code": task.code,
                "title": task.title,
                "agency": str(task.lead_agency),
                "due": notification.due,
                "days_overdue": max(days, 0),
                "days_left": max(-days, 0),
                "url": task_url(task.pk),
            },
        )
    ordered = [
        {
            "kind": kind,
            "label": NoticeKind(kind).label,
            "items": sorted(items.values(), key=lambda item: (item["due"], item["code"])),
        }
        for kind, items in sorted(groups.items(), key=lambda pair: KIND_ORDER[pair[0]])
    ]
    return {
        "user": user,
        # Vietnamese order: family and middle names (last_name) before the given name.
        "name": full_name(user),
        "day": day,
        "groups": ordered,
        "task_count": len({n.task_id for n in notifications}),
        "notifications_url": absolute_url(reverse("reminders:list")),
        "site_url": settings.SITE_URL,
    }


def digest_message(
    *, user, notifications: list[Notification], day: datetime.date
) -> EmailMultiAlternatives:
    """The digest e-mail, plain text with an HTML alternative, in Vietnamese (a worker has no
    request language, and users have no language setting yet)."""
    context = digest_context(user=user, notifications=notifications, day=day)
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/reminder_digest_subject.txt", context)
        text = render_to_string("emails/reminder_digest.txt", context)
        html = render_to_string("emails/reminder_digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Web notifications ------------------------------------------------------------------------


def notification_mark_read(*, user, pks: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `pks` is None); other users'
    ids are ignored. Returns how many changed. Safe to run twice."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    return unread.update(read_at=timezone.now())
