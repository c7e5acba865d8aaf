"""Links that notices carry: relative for the web pages, absolute for e-mails."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def absolute_url(path: str) -> str:
    """`path` on the public address of the site (SITE_URL), for e-mails."""
    return settings.SITE_URL.rstrip("/") + path


def task_path(task_id: int) -> str:
    """The path of a task's page: the web pages' URL when they are installed, else the
    address they will have (/tasks/<id>/)."""
    try:
        return reverse("tasks_app:task-detail", kwargs={"pk": task_id})
    except NoReverseMatch:
        return f"/tasks/{task_id}/"


def task_url(task_id: int) -> str:
    return absolute_url(task_path(task_id))
