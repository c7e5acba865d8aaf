"""Admin for reminder policies (editable data) and notifications (read-only records).

The daily schedule itself is the "reminders-daily" periodic task of django-celery-beat
(Periodic tasks in the admin), copied there from plan_tracker/celery.py.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reminders.models import Notification, ReminderPolicy, ReminderRun


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "due_soon_enabled",
        "due_soon_offsets",
        "overdue_enabled",
        "overdue_repeat_days",
        "stale_enabled",
        "stale_after_days",
        "escalation_enabled",
        "escalation_after_days",
        "include_coordinating_agencies",
    ]
    list_select_related = ["plan"]
    fieldsets = [
        (None, {"fields": ["plan", "include_coordinating_agencies"]}),
        (_("Before the due date"), {"fields": ["due_soon_enabled", "due_soon_offsets"]}),
        (_("Overdue"), {"fields": ["overdue_enabled", "overdue_repeat_days"]}),
        (_("No recent progress"), {"fields": ["stale_enabled", "stale_after_days"]}),
        (_("Escalation"), {"fields": ["escalation_enabled", "escalation_after_days"]}),
    ]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications are the record of what was owed and sent: read-only."""

    list_display = [
        "fire_day",
        "kind",
        "task",
        "due",
        "recipient",
        "email_status",
        "sent_at",
        "read_at",
    ]
    list_filter = ["kind", "email_status", "fire_day"]
    date_hierarchy = "fire_day"
    search_fields = ["task__code", "task__title", "recipient__username", "recipient__email"]
    list_select_related = ["task", "recipient"]
    raw_id_fields = ["task", "recipient"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReminderRun)
class ReminderRunAdmin(admin.ModelAdmin):
    """One row per day the reminder job ran (what /health/ reads): read-only."""

    list_display = ["day", "finished_at", "notices", "digests", "failed"]
    date_hierarchy = "day"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
