"""Calendar feeds (issue 17): each person's iCal URL of the due dates of their agency's
tasks, which Google Calendar, Outlook and Thunderbird subscribe to.

- The services make, rotate and revoke a person's secret token (CalendarFeed). A person
  has at most one feed; rotating gives a new token and the old URL answers 404 at once;
  revoking leaves no working URL until a new one is made.
- `feed_ical` writes the feed (RFC 5545, with the calendar properties of RFC 7986) with the
  icalendar library: one all-day event per task of `selectors.task_list_for_calendar`.
  Each event keeps its UID for the task's life; its SEQUENCE counts the moves of the due
  date, so a calendar app replaces the event when an extension is approved.

Tokens are random (32 bytes, URL-safe) and stored as they are, so that the person can see
their URL on their page whenever they set up a calendar (README "Calendar feeds").
"""

import datetime
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration

from tasks_app import formatting, selectors
from tasks_app.choices import ReportCategory, TaskState
from tasks_app.models import CalendarFeed, Task

TOKEN_BYTES = 32
# How often calendar apps are asked to fetch the feed again (REFRESH-INTERVAL and
# X-PUBLISHED-TTL). Google Calendar ignores both and refreshes on its own schedule.
REFRESH_INTERVAL = datetime.timedelta(hours=1)
PRODID = "-//plan_tracker//Calendar feed 1.0//VI"


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# --- Services ----------------------------------------------------------------------------------


def calendar_feed_get(*, user) -> CalendarFeed:
    """The user's feed, made with a new token the first time it is asked for. A revoked
    feed stays revoked (its `is_active` is false) until the user rotates it. Safe to call
    twice, also at once: the user has one feed (a one-to-one key)."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user, defaults={"token": _new_token()})
    return feed


def calendar_feed_rotate(*, user) -> CalendarFeed:
    """Give the user's feed a new token and make it active: the old URL answers 404 from
    this commit on, the new one serves the feed."""
    with transaction.atomic():
        feed, created = CalendarFeed.objects.select_for_update().get_or_create(
            user=user, defaults={"token": _new_token()}
        )
        if not created:
            feed.token = _new_token()
            feed.created_at = timezone.now()
            feed.revoked_at = None
            feed.full_clean()
            feed.save(update_fields=["token", "created_at", "revoked_at"])
    return feed


def calendar_feed_revoke(*, user) -> CalendarFeed:
    """Revoke the user's feed: its URL answers 404 and no URL is shown until the user makes
    a new one. Revoking a revoked feed changes nothing (the first revocation time stays)."""
    with transaction.atomic():
        feed, _created = CalendarFeed.objects.select_for_update().get_or_create(
            user=user, defaults={"token": _new_token()}
        )
        if feed.revoked_at is None:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at"])
    return feed


def feed_url(request, feed: CalendarFeed | None) -> str | None:
    """The absolute URL of an active feed (https behind the production proxy: the scheme
    comes from SECURE_PROXY_SSL_HEADER); None for no feed or a revoked one."""
    if feed is None or not feed.is_active:
        return None
    return request.build_absolute_uri(reverse("calendar-feed", args=[feed.token]))


def calendar_feed_owner(*, token: str):
    """The active user whose active feed has this token, or None (unknown, rotated or
    revoked token, or a deactivated account)."""
    feed = (
        CalendarFeed.objects.filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    return feed.user if feed else None


# --- The feed --------------------------------------------------------------------------------


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _summary(task: Task) -> str:
    summary = f"{task.code} · {task.title}"
    if task.state == TaskState.COMPLETED:
        return _("%(task)s (completed)") % {"task": summary}
    return summary


def _description(task: Any, link: str) -> str:
    # `task` is a Task annotated by selectors.task_list_for_calendar (`category`).
    lines = [
        _("Lead agency: %(agency)s") % {"agency": task.lead_agency},
        _("Status: %(status)s") % {"status": ReportCategory(task.category).label}
        if task.category
        else _("Status: %(status)s") % {"status": TaskState(task.state).label},
        _("Progress: %(progress)s") % {"progress": formatting.format_percent(task.progress, 0)},
    ]
    if task.original_due and task.original_due != task.due:
        lines.append(_("Original due date: %(date)s") % {"date": _date(task.original_due)})
    lines.append(_("Plan: %(plan)s") % {"plan": task.plan.title})
    lines.append(_("Details: %(url)s") % {"url": link})
    return "\n".join(lines)


def _event(task: Any, *, host: str, link: str) -> Event:
    # `task` is a Task annotated by selectors.task_list_for_calendar (`due_changes`), whose
    # tasks all have a due date.
    event = Event()
    # One UID for the task's whole life: a moved deadline replaces the event.
    event.add("uid", f"task-{task.pk}@{host}")
    # Without a METHOD, DTSTAMP is when the event's information was last revised (RFC 5545
    # 3.8.7.2): the task's last change. The feed's bytes then change only with the tasks.
    event.add("dtstamp", _utc(task.updated_at))
    event.add("last-modified", _utc(task.updated_at))
    # All-day: the due date is a calendar date in Asia/Ho_Chi_Minh; DTEND is exclusive.
    event.add("dtstart", task.due)
    event.add("dtend", task.due + datetime.timedelta(days=1))
    event.add("sequence", task.due_changes)
    event.add("summary", _summary(task))
    event.add("description", _description(task, link))
    event.add("url", link)
    # A deadline does not make the person busy all day.
    event.add("transp", "TRANSPARENT")
    return event


def feed_ical(
    *, user, host: str, task_url: Callable[[Task], str], as_of: datetime.date | None = None
) -> bytes:
    """The user's calendar as iCalendar bytes (UTF-8, CRLF, lines folded at 75 octets):
    one all-day VEVENT per task of `selectors.task_list_for_calendar` (the task's code and
    title, its lead agency, status at `as_of`, progress and link). `host` names the UIDs,
    `task_url` gives a task's absolute link. Written in the site's language (Vietnamese):
    a calendar app's request carries no person's choice. Three queries, whatever the
    number of tasks (the user's roles, their predecessors when any, the tasks)."""
    as_of = as_of or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        name = _("DX tasks · %(name)s") % {"name": formatting.full_name(user)}
        description = _("Due dates of the tasks that your agencies lead or coordinate.")
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("description", description)
        calendar.add("x-wr-caldesc", description)
        calendar.add("x-wr-timezone", settings.TIME_ZONE)
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        # An X- property is text to icalendar: give the duration in its RFC 5545 form.
        calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
        for task in selectors.task_list_for_calendar(user=user, as_of=as_of):
            calendar.add_component(_event(task, host=host, link=task_url(task)))
        return calendar.to_ical()
