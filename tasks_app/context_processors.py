"""Template context for every page: what the page frame (templates/base.html) shows about
the signed-in user.

Every value is a callable, which the template engine calls when a template reads it: a
page that does not show a value costs no query, and each one is computed once per request.
Anonymous users get nothing (the frame shows them no menu).
"""

from functools import cache

from tasks_app import permissions, selectors


def page_frame(request) -> dict:
    """`memberships` (the user's roles in agencies, by agency), `agency_names` (those
    agencies, each once), `sees_everything`, `can_decide_extension` and
    `pending_extension_count` (extension requests waiting for this user's decision) and
    `can_manage_tasks` (the plan pages of the monitoring agency) and `reassignment_count`
    (tasks flagged "cần giao lại", for monitors), `can_manage_webhooks` (the webhook
    pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def memberships() -> list:
        return list(selectors.membership_list_for(user=user).order_by("agency__path"))

    @cache
    def agency_names() -> str:
        return ", ".join(dict.fromkeys(str(m.agency) for m in memberships()))

    @cache
    def sees_everything() -> bool:
        return permissions.sees_everything(user)

    @cache
    def can_decide_extension() -> bool:
        return permissions.can_decide_extension(user)

    @cache
    def can_manage_tasks() -> bool:
        return permissions.can_manage_tasks(user)

    @cache
    def can_manage_webhooks() -> bool:
        return permissions.can_manage_webhooks(user)

    @cache
    def pending_extension_count() -> int:
        if not can_decide_extension():
            return 0
        return selectors.extension_list_pending_visible_to(user=user).count()

    @cache
    def reassignment_count() -> int:
        if not can_manage_tasks():
            return 0
        return selectors.task_needing_reassignment_count(user=user)

    return {
        "reassignment_count": reassignment_count,
        "memberships": memberships,
        "agency_names": agency_names,
        "sees_everything": sees_everything,
        "can_decide_extension": can_decide_extension,
        "pending_extension_count": pending_extension_count,
        "can_manage_tasks": can_manage_tasks,
        "can_manage_webhooks": can_manage_webhooks,
    }
