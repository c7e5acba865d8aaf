"""Reminder policies: data the administrator edits, validated."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from reminders.models import ReminderPolicy, parse_offsets

pytestmark = pytest.mark.django_db


def test_migration_creates_the_default_policy_with_the_documented_values():
    policy = ReminderPolicy.objects.get(plan__isnull=True)  # the data migration's row
    assert policy.offsets == [7, 3, 1]
    assert policy.overdue_repeat_days == 7
    assert policy.stale_after_days == 30
    assert policy.escalation_after_days == 14
    assert not policy.include_coordinating_agencies
    assert all(
        [
            policy.due_soon_enabled,
            policy.overdue_enabled,
            policy.stale_enabled,
            policy.escalation_enabled,
        ]
    )


def test_offsets_are_read_largest_first_whatever_the_spacing():
    assert parse_offsets(" 1,7 ,3") == [7, 3, 1]
    assert parse_offsets("") == []


@pytest.mark.parametrize("value", ["0", "abc", "3,,1", "7;3", "366", "-1", "3, 3"])
def test_bad_offsets_are_refused(policy, value):
    policy.due_soon_offsets = value
    with pytest.raises(ValidationError) as excinfo:
        policy.full_clean()
    assert "due_soon_offsets" in excinfo.value.message_dict


def test_clean_writes_the_offsets_back_in_order(policy):
    policy.due_soon_offsets = "1,14,7"
    policy.full_clean()
    assert policy.due_soon_offsets == "14, 7, 1"


def test_there_is_only_one_default_policy(policy):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderPolicy.objects.create(plan=None)


def test_a_plan_has_at_most_one_policy(plan):
    ReminderPolicy.objects.create(plan=plan)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderPolicy.objects.create(plan=plan)
