"""The person's own page (Tài khoản của tôi, /accounts/me/): who they are, the agencies
and roles they hold, the password, and their calendar feed (issue 17) with its rotate and
revoke actions, each confirmed on a page of its own.

The page is a column of cards (sections); the API tokens card links to their own page
(views_tokens.py).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tasks_app import calendar_feed, selectors, tokens


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The person's details, their current memberships and their calendar feed (made the
    first time the page is shown; a revoked one stays revoked)."""
    feed = calendar_feed.calendar_feed_get(user=request.user)
    context = {
        "person": request.user,
        "account_memberships": selectors.membership_list_for(user=request.user).order_by(
            "agency__path", "role"
        ),
        "calendar_url": calendar_feed.feed_url(request, feed),
        "calendar_feed": feed,
        "api_token_count": tokens.valid_tokens_of(request.user).count(),
    }
    return render(request, "tasks_app/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    """Confirm, then give the feed a new URL: the old one stops working at once."""
    if request.method == "POST":
        calendar_feed.calendar_feed_rotate(user=request.user)
        messages.success(
            request,
            _(
                "Your calendar has a new link. The old link no longer works: update it in "
                "your calendar apps."
            ),
        )
        return redirect("account")
    return render(request, "tasks_app/account_calendar_confirm.html", {"action": "rotate"})


@login_required
@require_http_methods(["GET", "POST"])
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    """Confirm, then revoke the feed: its URL answers 404 until a new one is made."""
    if request.method == "POST":
        calendar_feed.calendar_feed_revoke(user=request.user)
        messages.success(
            request, _("Your calendar link was revoked. Calendar apps can no longer read it.")
        )
        return redirect("account")
    return render(request, "tasks_app/account_calendar_confirm.html", {"action": "revoke"})
