"""What a person locked out of logging in is told (issue 16, "Password guessing").

django-axes counts failed logins (settings: LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES); once
an account or a client is locked, the login page and the admin answer with
`lockout_response` (AXES_LOCKOUT_CALLABLE) and the API token endpoint with the same message
as JSON (tasks_app/api/views.py).
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

# Too Many Requests: the same status as the API's throttles.
LOCKOUT_STATUS = 429


def lockout_message() -> str:
    """The lock and its length, in the active language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return ngettext(
        "Too many failed login attempts: logging in to this account or from this computer "
        "is locked for {minutes} minute. Try again later, or ask an administrator to "
        "unlock it.",
        "Too many failed login attempts: logging in to this account or from this computer "
        "is locked for {minutes} minutes. Try again later, or ask an administrator to "
        "unlock it.",
        minutes,
    ).format(minutes=minutes)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The page shown instead of the login form (the staff login and the admin's)."""
    return render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message()},
        status=LOCKOUT_STATUS,
    )
