"""The notification list (/notifications/), the unread count and mark-as-read."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from reminders.models import Notification
from reminders.services import reminders_run

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def notified(make_task, people, policy, travel):
    """Manager and officer each have two notices: 7 days left (23/06) and 3 days left."""
    make_task(code="T-JUN", title="Nhiệm vụ tháng sáu", due=D(2022, 6, 30))
    for day in (D(2022, 6, 23), D(2022, 6, 27)):
        travel(day)
        reminders_run(day, inline=True)
    return people


def logged_in(user, *, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login_page(notified):
    response = Client().get(reverse("reminders:list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_shows_the_users_own_notices_with_the_unread_count(notified):
    response = logged_in(notified["officer"]).get(reverse("reminders:list"))
    assert response.status_code == 200
    assert [n.recipient for n in response.context["notifications"]] == [notified["officer"]] * 2
    assert response.context["unread_count"] == 2
    assert response.context["unread_notification_count"]() == 2  # context processor
    content = response.content.decode()
    assert "T-JUN" in content and "30/06/2022" in content
    assert f'href="/tasks/{Notification.objects.first().task_id}/"' in content


def test_someone_with_no_notices_sees_an_empty_list(notified):
    response = logged_in(notified["outsider"]).get(reverse("reminders:list"))
    assert response.status_code == 200
    assert list(response.context["notifications"]) == []
    assert response.context["unread_count"] == 0


def test_marking_one_notice_read_needs_the_csrf_token(notified):
    officer = notified["officer"]
    notice = Notification.objects.filter(recipient=officer).first()
    client = logged_in(officer, csrf=True)
    refused = client.post(reverse("reminders:read"), {"notification": notice.pk})
    assert refused.status_code == 403

    page = client.get(reverse("reminders:list"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("reminders:read"), {"notification": notice.pk, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reminders:list")
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert Notification.objects.filter(recipient=officer, read_at__isnull=True).count() == 1


def test_mark_all_read(notified):
    officer = notified["officer"]
    logged_in(officer).post(reverse("reminders:read"), {"all": "1"})
    assert not Notification.objects.filter(recipient=officer, read_at__isnull=True).exists()
    # Someone else's notices stay unread.
    assert Notification.objects.filter(recipient=notified["manager"], read_at__isnull=True)


def test_an_outsider_cannot_mark_someone_elses_notice_read(notified):
    notice = Notification.objects.filter(recipient=notified["officer"]).first()
    response = logged_in(notified["outsider"]).post(
        reverse("reminders:read"), {"notification": notice.pk}
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_read_only_answers_post(notified):
    response = logged_in(notified["officer"]).get(reverse("reminders:read"))
    assert response.status_code == 405


def test_the_next_address_must_stay_on_the_site(notified):
    client = logged_in(notified["officer"])
    inside = client.post(reverse("reminders:read"), {"all": "1", "next": "/tasks/"})
    assert inside["Location"] == "/tasks/"
    outside = client.post(reverse("reminders:read"), {"all": "1", "next": "https://evil.example"})
    assert outside["Location"] == reverse("reminders:list")


def test_the_unread_count_is_counted_once_and_only_when_a_template_reads_it(
    rf, notified, django_assert_num_queries
):
    from django.template import Context, Template

    from reminders.context_processors import notifications

    request = rf.get("/")
    request.user = notified["officer"]
    with django_assert_num_queries(0):
        context = notifications(request)
    template = Template(
        "{% load i18n %}{% if unread_notification_count %}{{ unread_notification_count }}"
        "{% blocktranslate count n=unread_notification_count %}{{ n }} unread"
        "{% plural %}{{ n }} unread{% endblocktranslate %}{% endif %}"
    )
    with django_assert_num_queries(1):
        assert template.render(Context(context)) == "22 unread"
