"""Calendar feeds over HTTP (issue 17): the iCal feed itself, which calendar apps fetch
with the secret token in its URL and no session, and the API's actions on the signed-in
user's feed (rotate, revoke). The person's page has the same actions
(tasks_app/views_account.py); the feed's contents are tasks_app/calendar_feed.py's.
"""

import hashlib

from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_app import calendar_feed
from tasks_app.api import serializers as s
from tasks_app.api.common import FileDownloadNegotiation, detail_error
from tasks_app.api.throttles import AnonThrottle

ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"
# Calendar apps poll; an unchanged feed is answered 304 to a client that sends its ETag.
# Only the app's own cache may keep it (the URL is a secret), for a quarter of an hour.
FEED_MAX_AGE = 15 * 60


class CalendarFeedThrottle(AnonThrottle):
    """The API's anonymous rate (`anon`), counted per feed URL rather than per address:
    Google and Microsoft fetch every subscriber's feed from the same few addresses."""

    def get_cache_key(self, request, view):
        token = view.kwargs.get("token", "")
        ident = hashlib.sha256(token.encode()).hexdigest()
        return self.cache_format % {"scope": "calendar", "ident": ident}


class CalendarFeedView(APIView):
    """The iCal feed of the person whose token is in the URL: the due dates of the tasks
    their agencies lead or coordinate, one all-day event each (tasks_app/calendar_feed.py).
    No session, no credentials: the token is the key; unknown, rotated and revoked tokens
    answer 404."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CalendarFeedThrottle]
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        summary="A person's calendar feed (iCalendar, RFC 5545)",
        operation_id="calendar_feed_retrieve",
        description=(
            "The URL is `calendar_url` of `/api/v1/me/`: subscribe to it in Google Calendar, "
            "Outlook or Thunderbird. One all-day VEVENT per task with a due date that the "
            "person's agencies lead or coordinate (open and completed, not withdrawn): UID "
            "`task-<id>@<host>` for the task's life, DTSTART the due date in force, SEQUENCE "
            "the number of times the due date moved. `ETag` and `If-None-Match` give 304 "
            "for an unchanged feed."
        ),
        parameters=[
            OpenApiParameter(
                "token",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The secret token of the feed's URL.",
            )
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="The calendar (UTF-8, CRLF line endings)."
            ),
            304: OpenApiResponse(description="Not modified since the ETag sent."),
            404: detail_error("No such feed: the token is unknown, was rotated or revoked."),
            429: detail_error("Too many requests for this feed."),
        },
        tags=["calendar"],
        auth=[],
    )
    def get(self, request, token: str):
        user = calendar_feed.calendar_feed_owner(token=token)
        if user is None:
            raise Http404
        host = split_domain_port(request.get_host())[0] or request.get_host()
        body = calendar_feed.feed_ical(
            user=user,
            host=host,
            task_url=lambda task: request.build_absolute_uri(
                reverse("tasks_app:task-detail", args=[task.pk])
            ),
        )
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        response = HttpResponse(body, content_type=ICAL_CONTENT_TYPE)
        response["ETag"] = etag
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
        # The URL is a secret: no search engine, and no Referer to other sites.
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        patch_cache_control(response, private=True, max_age=FEED_MAX_AGE)
        return get_conditional_response(request._request, etag=etag, response=response)


class MeCalendarRotateView(APIView):
    """Give the signed-in user's feed a new URL (and make one if they had none, or had
    revoked it). The old URL answers 404 at once."""

    @extend_schema(
        summary="A new calendar feed URL; the old one stops working",
        request=None,
        responses={200: s.CalendarFeedSerializer},
        tags=["me"],
    )
    def post(self, request):
        feed = calendar_feed.calendar_feed_rotate(user=request.user)
        url = calendar_feed.feed_url(request, feed)
        return Response(s.CalendarFeedSerializer({"calendar_url": url}).data)


class MeCalendarRevokeView(APIView):
    """Revoke the signed-in user's feed: its URL answers 404 and `calendar_url` is null
    until a new one is made (rotate). Revoking twice changes nothing."""

    @extend_schema(
        summary="Revoke the calendar feed URL",
        request=None,
        responses={200: s.CalendarFeedSerializer},
        tags=["me"],
    )
    def post(self, request):
        calendar_feed.calendar_feed_revoke(user=request.user)
        return Response(s.CalendarFeedSerializer({"calendar_url": None}).data)
