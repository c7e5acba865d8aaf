"""Template context for every page: the user's unread notification count."""

from functools import cache

from reminders.selectors import notification_unread_count


def notifications(request) -> dict:
    """`unread_notification_count`: a callable the template engine calls when a template
    reads it, so pages that do not show it cost no query; counted once per request."""
    user = getattr(request, "user", None)

    @cache
    def unread_notification_count() -> int:
        return notification_unread_count(user=user)

    return {"unread_notification_count": unread_notification_count}
