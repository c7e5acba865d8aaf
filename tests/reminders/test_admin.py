"""The admin pages of the reminders app: policies are edited there, notifications read."""

import datetime

import pytest
from django.urls import reverse

from reminders.models import Notification, ReminderPolicy
from reminders.services import reminders_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_policy_pages_render_and_save(admin_client, policy):
    assert admin_client.get(reverse("admin:reminders_reminderpolicy_changelist")).status_code == 200
    url = reverse("admin:reminders_reminderpolicy_change", args=[policy.pk])
    assert admin_client.get(url).status_code == 200
    data = {
        "plan": "",
        "include_coordinating_agencies": "on",
        "due_soon_enabled": "on",
        "due_soon_offsets": "1, 10,5",
        "overdue_enabled": "on",
        "overdue_repeat_days": "3",
        "stale_after_days": "20",
        "escalation_enabled": "on",
        "escalation_after_days": "10",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.due_soon_offsets == "10, 5, 1"
    assert not policy.stale_enabled
    assert policy.include_coordinating_agencies


def test_bad_offsets_are_shown_as_a_form_error(admin_client, policy):
    url = reverse("admin:reminders_reminderpolicy_change", args=[policy.pk])
    response = admin_client.post(
        url,
        {
            "due_soon_offsets": "7,x",
            "overdue_repeat_days": "7",
            "stale_after_days": "30",
            "escalation_after_days": "14",
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert "due_soon_offsets" in response.context["adminform"].form.errors
    assert ReminderPolicy.objects.get(pk=policy.pk).due_soon_offsets == "7, 3, 1"


def test_notifications_are_listed_read_only(admin_client, make_task, people, policy):
    make_task(code="T-1", due=datetime.date(2022, 6, 30))
    reminders_run(datetime.date(2022, 6, 23), inline=True)
    changelist = admin_client.get(reverse("admin:reminders_notification_changelist"))
    assert changelist.status_code == 200
    assert "T-1" in changelist.content.decode()
    notice = Notification.objects.first()
    change = admin_client.get(reverse("admin:reminders_notification_change", args=[notice.pk]))
    assert change.status_code == 200  # viewable, not editable
    assert admin_client.get(reverse("admin:reminders_notification_add")).status_code == 403


def test_the_reminder_runs_are_listed_read_only(admin_client, policy):
    reminders_run(datetime.date(2022, 6, 27), inline=True)
    page = admin_client.get(reverse("admin:reminders_reminderrun_changelist"))
    assert page.status_code == 200
    assert "2022" in page.content.decode()
    assert admin_client.get(reverse("admin:reminders_reminderrun_add")).status_code == 403
