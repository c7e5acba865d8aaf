"""Calendar feeds (issue 17): each person's iCal URL of the due dates of their agency's
tasks, as Google Calendar, Outlook and Thunderbird read it.

The feed is fetched as a calendar app does (no session, the token in the URL), parsed with
the icalendar library and checked against the rules of RFC 5545 that calendar apps rely
on: CRLF line endings, lines folded at 75 octets, the required properties, all-day DATE
values, one event per task with a stable UID, and a SEQUENCE that grows when a deadline
moves so that the app replaces the event.
"""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from icalendar import Calendar

from tasks_app import calendar_feed, services
from tasks_app.choices import Role, TaskState
from tasks_app.models import CalendarFeed
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# 10 May 2022, 09:00 in Hà Nội time: the tests' "now".
NOW = datetime.datetime(2022, 5, 10, 9, 0, tzinfo=HCM)
# RFC 5545 3.1: lines are at most 75 octets long, excluding the line break.
MAX_OCTETS = 75


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    cache.clear()


def feed_path(user) -> str:
    return f"/calendar/{calendar_feed.calendar_feed_get(user=user).token}.ics"


def fetch(path: str):
    """GET the feed as a calendar app: a fresh client, no session, no cookies."""
    return Client().get(path, HTTP_ACCEPT="text/calendar, */*")


def rfc5545_problems(body: bytes) -> list[str]:
    """What in `body` breaks the rules of RFC 5545 that calendar apps rely on (empty: none).

    Content lines (3.1): CRLF endings, at most 75 octets, continuation lines starting with
    a space, UTF-8. The calendar (3.4, 3.6): BEGIN/END VCALENDAR around everything, VERSION
    2.0 and PRODID once each. Events (3.6.1): UID and DTSTAMP once each, DTSTART; an
    all-day DTSTART/DTEND is VALUE=DATE; DTEND after DTSTART. And icalendar's own parser
    finds no broken property."""
    problems = []
    if not body.endswith(b"\r\n"):
        problems.append("the calendar does not end with CRLF")
    lines = body.split(b"\r\n")[:-1]
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {number}: a bare line break")
        if len(line) > MAX_OCTETS:
            problems.append(f"line {number}: {len(line)} octets")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return [*problems, "not UTF-8"]
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]
    if unfolded[:1] != ["BEGIN:VCALENDAR"] or unfolded[-1:] != ["END:VCALENDAR"]:
        problems.append("not one VCALENDAR")
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in unfolded]
    # The calendar's own properties come before its first component.
    top = names[: next((i for i, name in enumerate(names) if i and name == "BEGIN"), len(names))]
    for required in ("VERSION", "PRODID"):
        if top.count(required) != 1:
            problems.append(f"calendar: {required} {top.count(required)} times")
    if "VERSION:2.0" not in unfolded:
        problems.append("VERSION is not 2.0")
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        if getattr(component, "errors", None):
            problems.append(f"{component.name}: {component.errors}")
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID"))
        names = [name for name, _value in event.property_items(recursive=False)]
        for required in ("UID", "DTSTAMP"):
            if names.count(required) != 1:
                problems.append(f"{uid}: {required} not exactly once")
        if "DTSTART" not in event:
            problems.append(f"{uid}: no DTSTART")
            continue
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        if isinstance(start, datetime.datetime) or isinstance(end, datetime.datetime):
            problems.append(f"{uid}: not an all-day DATE")
        elif end <= start:
            problems.append(f"{uid}: DTEND not after DTSTART")
    for line in unfolded:
        if line.startswith(("DTSTART", "DTEND")) and not re.fullmatch(
            r"DT(START|END);VALUE=DATE:\d{8}", line
        ):
            problems.append(f"not a DATE value: {line}")
    return problems


def events(body: bytes) -> dict[str, dict]:
    """The feed's events by UID: what a calendar app shows of each."""
    return {
        str(event["UID"]): {
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "summary": str(event["SUMMARY"]),
            "description": str(event["DESCRIPTION"]),
            "sequence": int(event["SEQUENCE"]),
            "url": str(event["URL"]),
            "modified": event.decoded("LAST-MODIFIED"),
        }
        for event in Calendar.from_ical(body).walk("VEVENT")
    }


def uid(task) -> str:
    return f"task-{task.pk}@testserver"


@pytest.fixture
def tasks(make_task, agencies):
    """Hải Hậu's picture: tasks it leads, coordinates or that a commune below it leads,
    and tasks it must not find in its calendar."""
    led = make_task(
        code="CQDT-01",
        title="Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính; cấp huyện, xã",
        due=D(2022, 6, 30),
    )
    coordinated = make_task(code="CQDT-02", lead_agency=agencies["stttt"], due=D(2022, 7, 15))
    coordinated.coordinating_agencies.set([agencies["haihau"]])
    commune = make_task(code="CQDT-03", lead_agency=agencies["haitrung"], due=D(2022, 8, 1))
    done = make_task(
        code="CQDT-04",
        due=D(2022, 4, 30),
        state=TaskState.COMPLETED,
        progress=100,
        completed_on=D(2022, 4, 28),
    )
    regular = make_task(code="CQDT-05", due=None)  # a regular task: no due date
    withdrawn = make_task(code="CQDT-06", due=D(2022, 9, 1), state=TaskState.WITHDRAWN)
    other_district = make_task(code="CQDT-07", lead_agency=agencies["giaothuy"], due=D(2022, 6, 15))
    department = make_task(code="CQDT-08", lead_agency=agencies["stttt"], due=D(2022, 6, 20))
    return {
        "led": led,
        "coordinated": coordinated,
        "commune": commune,
        "done": done,
        "regular": regular,
        "withdrawn": withdrawn,
        "other_district": other_district,
        "department": department,
    }


# --- The feed's contents ---------------------------------------------------------------------


def test_the_feed_is_an_rfc_5545_calendar_with_one_all_day_event_per_task_due(manager, tasks):
    response = fetch(feed_path(manager))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert rfc5545_problems(response.content) == []
    shown = events(response.content)
    assert set(shown) == {uid(tasks[name]) for name in ("led", "coordinated", "commune", "done")}
    assert shown[uid(tasks["led"])]["start"] == D(2022, 6, 30)
    assert shown[uid(tasks["led"])]["end"] == D(2022, 7, 1)
    assert shown[uid(tasks["led"])]["url"] == f"http://testserver/tasks/{tasks['led'].pk}/"
    # DTSTAMP and LAST-MODIFIED: the task's last change (10/05/2022 09:00 in Hà Nội), in UTC.
    assert b"\r\nDTSTAMP:20220510T020000Z\r\n" in response.content


def test_the_feed_keeps_vietnamese_text_intact_and_names_the_task(manager, tasks):
    body = fetch(feed_path(manager)).content

    event = events(body)[uid(tasks["led"])]
    title = "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính; cấp huyện, xã"
    assert event["summary"] == f"CQDT-01 · {title}"
    assert "Đơn vị chủ trì: UBND huyện Hải Hậu" in event["description"]
    assert "Tình trạng: Chưa thực hiện" in event["description"]
    assert "Tiến độ: 0 %" in event["description"]
    assert f"http://testserver/tasks/{tasks['led'].pk}/" in event["description"]
    # Commas and semicolons of the title are escaped in the raw text, as TEXT requires.
    assert "hồ sơ\\, kết quả".encode() in body.replace(b"\r\n ", b"")
    assert events(body)[uid(tasks["done"])]["summary"].endswith("(đã hoàn thành)")


def test_the_calendar_names_itself_and_asks_to_be_refreshed(manager, tasks):
    body = fetch(feed_path(manager)).content
    calendar = Calendar.from_ical(body)

    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"])
    assert str(calendar["X-WR-CALNAME"]).startswith("Nhiệm vụ CĐS")
    assert calendar.decoded("REFRESH-INTERVAL") == datetime.timedelta(hours=1)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert str(calendar["VERSION"]) == "2.0"


def test_another_district_sees_none_of_hai_haus_tasks(outsider, tasks):
    shown = events(fetch(feed_path(outsider)).content)

    assert set(shown) == {uid(tasks["other_district"])}


def test_a_monitor_gets_the_tasks_of_their_own_agency_not_the_whole_plan(monitor, tasks):
    shown = events(fetch(feed_path(monitor)).content)

    assert set(shown) == {uid(tasks["coordinated"]), uid(tasks["department"])}


def test_a_person_with_no_agency_gets_an_empty_valid_calendar(tasks):
    nobody = UserFactory(username="nobody")

    response = fetch(feed_path(nobody))

    assert response.status_code == 200
    assert rfc5545_problems(response.content) == []
    assert events(response.content) == {}


def test_the_query_count_does_not_grow_with_the_tasks(
    manager, make_task, django_assert_max_num_queries
):
    path = feed_path(manager)
    for n in range(3):
        make_task(code=f"A-{n}", due=D(2022, 6, 1) + datetime.timedelta(days=n))
    with django_assert_max_num_queries(4):
        few = fetch(path)
    for n in range(30):
        make_task(code=f"B-{n}", due=D(2022, 7, 1) + datetime.timedelta(days=n))
    with django_assert_max_num_queries(4):
        many = fetch(path)

    assert (len(events(few.content)), len(events(many.content))) == (3, 33)


# --- A deadline that moves ---------------------------------------------------------------------


def test_an_approved_extension_moves_the_event_and_raises_its_sequence(manager, monitor, tasks):
    task = tasks["led"]
    path = feed_path(manager)
    before = events(fetch(path).content)[uid(task)]

    with time_machine.travel(datetime.datetime(2022, 6, 1, 8, 0, tzinfo=HCM), tick=False):
        extension = services.extension_request(
            task=task, requested_by=manager, proposed_due=D(2022, 9, 30), reason="Chờ kinh phí"
        )
    with time_machine.travel(datetime.datetime(2022, 6, 3, 15, 0, tzinfo=HCM), tick=False):
        services.extension_approve(extension=extension, decided_by=monitor)
        after = events(fetch(path).content)[uid(task)]

    assert (before["start"], before["sequence"]) == (D(2022, 6, 30), 0)
    assert (after["start"], after["end"]) == (D(2022, 9, 30), D(2022, 10, 1))
    assert after["sequence"] == 1
    assert after["modified"] == datetime.datetime(2022, 6, 3, 8, 0, tzinfo=datetime.UTC)
    assert "Hạn ban đầu: 30/06/2022" in after["description"]


def test_each_move_of_the_deadline_raises_the_sequence_again(manager, monitor, tasks):
    task = tasks["led"]
    path = feed_path(manager)

    services.task_adjust_due(task=task, due=D(2022, 7, 31), author=monitor, reason="Điều chỉnh")
    task.refresh_from_db()
    services.task_adjust_due(task=task, due=D(2022, 8, 15), author=monitor, reason="Lùi hạn")
    event = events(fetch(path).content)[uid(task)]

    assert (event["start"], event["sequence"]) == (D(2022, 8, 15), 2)


def test_an_unchanged_feed_answers_304_to_its_etag(manager, tasks):
    path = feed_path(manager)
    first = fetch(path)

    again = Client().get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert "private" in first["Cache-Control"]
    assert first["X-Robots-Tag"] == "noindex, nofollow"


# --- Tokens: unknown, rotated, revoked ---------------------------------------------------------


def test_an_unknown_token_answers_404(manager, tasks):
    calendar_feed.calendar_feed_get(user=manager)

    response = fetch("/calendar/not-a-token.ics")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_rotating_makes_the_old_url_404_and_the_new_one_work(api_client, manager, tasks):
    client = api_client(manager)
    old_url = client.get("/api/v1/me/").json()["calendar_url"]

    rotated = client.post("/api/v1/me/calendar/rotate/")
    new_url = rotated.json()["calendar_url"]

    assert rotated.status_code == 200
    assert new_url != old_url
    assert fetch(old_url).status_code == 404
    assert fetch(new_url).status_code == 200
    assert client.get("/api/v1/me/").json()["calendar_url"] == new_url


def test_revoking_makes_the_url_404_and_calendar_url_null(api_client, manager, tasks):
    client = api_client(manager)
    url = client.get("/api/v1/me/").json()["calendar_url"]

    revoked = client.post("/api/v1/me/calendar/revoke/")

    assert revoked.status_code == 200
    assert revoked.json() == {"calendar_url": None}
    assert fetch(url).status_code == 404
    # Asking again does not bring a feed back: only a new link does.
    assert client.get("/api/v1/me/").json()["calendar_url"] is None
    assert client.post("/api/v1/me/calendar/revoke/").json() == {"calendar_url": None}
    renewed = client.post("/api/v1/me/calendar/rotate/").json()["calendar_url"]
    assert fetch(renewed).status_code == 200
    assert fetch(url).status_code == 404


def test_the_calendar_url_is_absolute_and_https_behind_the_proxy(api_client, manager, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = False

    client = api_client(manager)
    me = client.get("/api/v1/me/", HTTP_X_FORWARDED_PROTO="https", SERVER_PORT="443").json()

    token = CalendarFeed.objects.get(user=manager).token
    assert me["calendar_url"] == f"https://testserver/calendar/{token}.ics"
    assert len(token) >= 43  # 32 random bytes, URL-safe base64


def test_a_deactivated_persons_feed_answers_404(manager, tasks):
    path = feed_path(manager)
    manager.is_active = False
    manager.save()

    assert fetch(path).status_code == 404


def test_another_persons_rotation_leaves_my_url_working(api_client, manager, outsider, tasks):
    mine = api_client(manager).get("/api/v1/me/").json()["calendar_url"]

    api_client(outsider).post("/api/v1/me/calendar/rotate/")
    api_client(outsider).post("/api/v1/me/calendar/revoke/")

    assert fetch(mine).status_code == 200
    assert api_client(manager).get("/api/v1/me/").json()["calendar_url"] == mine


def test_a_head_request_answers_like_the_feed_without_a_body(manager, tasks):
    response = Client().head(feed_path(manager))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content == b""


def test_the_calendar_actions_of_the_api_need_credentials(api_client):
    assert api_client().post("/api/v1/me/calendar/rotate/").status_code == 401
    assert api_client().post("/api/v1/me/calendar/revoke/").status_code == 401
    assert CalendarFeed.objects.count() == 0


def test_the_feed_is_throttled_per_url(manager, tasks, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": None},
    }
    path = feed_path(manager)
    other = feed_path(UserFactory(username="other"))

    codes = [fetch(path).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    assert fetch(other).status_code == 200


# --- The account page --------------------------------------------------------------------------


def test_the_account_page_shows_the_person_their_roles_and_the_feed_url(client, agencies):
    person = UserFactory(
        username="hh_lan", first_name="Lan", last_name="Nguyễn Thị", email="lan@haihau.gov.vn"
    )
    MembershipFactory(user=person, agency=agencies["haihau"], role=Role.OFFICER)
    client.force_login(person)

    page = client.get("/accounts/me/").content.decode()

    token = CalendarFeed.objects.get(user=person).token
    assert "Tài khoản của tôi" in page
    assert "Nguyễn Thị Lan" in page and "hh_lan" in page and "lan@haihau.gov.vn" in page
    assert "Ủy ban nhân dân huyện Hải Hậu · Cán bộ, chuyên viên" in page
    assert f'value="http://testserver/calendar/{token}.ics"' in page
    assert "Lịch công việc (iCal)" in page


def test_the_account_page_rotates_and_revokes_after_confirmation(client, manager, tasks):
    client.force_login(manager)
    old = feed_path(manager)

    confirm = client.get("/accounts/me/calendar/rotate/")
    assert fetch(old).status_code == 200  # asking is not doing
    client.post("/accounts/me/calendar/rotate/")
    new = feed_path(manager)
    client.post("/accounts/me/calendar/revoke/")

    assert confirm.status_code == 200
    assert "Tạo đường dẫn mới" in confirm.content.decode()
    assert new != old
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 404
    page = client.get("/accounts/me/").content.decode()
    assert ".ics" not in page
    assert "đã bị thu hồi" in page


def test_the_account_page_needs_a_login(client):
    response = client.get("/accounts/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The OpenAPI schema --------------------------------------------------------------------------


def test_the_schema_documents_the_feed_and_its_actions(api_client, manager, tasks):
    import schemathesis

    from tests.tasks_app.test_api_conformance import conforms

    schema = api_client().get("/api/schema/?format=json").json()
    openapi = schemathesis.openapi.from_dict(schema)
    me = api_client(manager).get("/api/v1/me/")
    feed = fetch(me.json()["calendar_url"])
    missing = fetch("/calendar/unknown.ics")

    calendar_url = schema["components"]["schemas"]["Me"]["properties"]["calendar_url"]
    assert calendar_url["nullable"] is True
    responses = schema["paths"]["/calendar/{token}.ics"]["get"]["responses"]
    assert {"200", "404", "429"} <= set(responses)
    assert "text/calendar" in responses["200"]["content"]
    for action in ("rotate", "revoke"):
        codes = set(schema["paths"][f"/api/v1/me/calendar/{action}/"]["post"]["responses"])
        assert {"200", "401", "403", "429"} <= codes
    conforms(openapi, "/api/v1/me/", me)
    conforms(openapi, "/calendar/{token}.ics", feed)
    conforms(openapi, "/calendar/{token}.ics", missing)
