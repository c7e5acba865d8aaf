"""The notification list: the same notices as the reminder e-mails, for the logged-in user."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from reminders.selectors import notification_list_for, notification_unread_count
from reminders.services import notification_mark_read

PAGE_SIZE = 50


@require_GET
@login_required
def notification_list(request):
    page = Paginator(notification_list_for(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reminders/notification_list.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread_count": notification_unread_count(user=request.user),
        },
    )


@require_POST
@login_required
def notification_read(request):
    """Mark notifications read: the ids posted as `notification`, or all with `all`."""
    if request.POST.get("all"):
        notification_mark_read(user=request.user)
    else:
        pks = [int(pk) for pk in request.POST.getlist("notification") if pk.isdigit()]
        notification_mark_read(user=request.user, pks=pks)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "reminders:list"
    return redirect(next_url)
