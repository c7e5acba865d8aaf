"""Create the default reminder policy (no plan): 7, 3 and 1 days before the due date, overdue
on due + 1 then weekly, no progress for 30 days, escalation after 14 days overdue."""

from django.db import migrations


def create_default_policy(apps, schema_editor):
    ReminderPolicy = apps.get_model("reminders", "ReminderPolicy")
    if not ReminderPolicy.objects.filter(plan__isnull=True).exists():
        ReminderPolicy.objects.create(
            plan=None,
            due_soon_enabled=True,
            due_soon_offsets="7, 3, 1",
            overdue_enabled=True,
            overdue_repeat_days=7,
            stale_enabled=True,
            stale_after_days=30,
            escalation_enabled=True,
            escalation_after_days=14,
            include_coordinating_agencies=False,
        )


def remove_default_policy(apps, schema_editor):
    apps.get_model("reminders", "ReminderPolicy").objects.filter(plan__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, remove_default_policy)]
