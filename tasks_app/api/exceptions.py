"""How the API answers errors raised below the views.

- StaleVersionError (a service found a newer version): 409 with the task as it is now.
- Django's ValidationError (from services and models): 400 with the messages per field.
- LoginLockedOut (too many failed logins, django-axes): 429 with the lockout message.
Everything else is DRF's usual handling (401, 403, 404, 405, 429…).
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from plan_tracker.lockout import LOCKOUT_STATUS, lockout_message
from tasks_app.services import StaleVersionError


class LoginLockedOut(exceptions.APIException):
    """The token endpoint's answer to a locked account or client (issue 16, "Password
    guessing"): {"detail": message} as the login page words it, in the request's language."""

    status_code = LOCKOUT_STATUS
    default_code = "login_locked_out"

    def __init__(self):
        super().__init__(detail=lockout_message())


def conflict_response(error: StaleVersionError, request) -> Response:
    """409: nothing was written; `current` is the task as the user may see it now."""
    from tasks_app import selectors
    from tasks_app.api.serializers import TaskSerializer

    current = selectors.task_get_for_api(
        user=request.user, pk=error.task.pk, as_of=timezone.localdate()
    )
    return Response(
        {
            "detail": _(
                "Someone changed this task after you opened it, so nothing was saved. "
                "Here is the task as it is now; check it and send your change again."
            ),
            "current": TaskSerializer(current, context={"request": request}).data,
        },
        status=status.HTTP_409_CONFLICT,
    )


def exception_handler(exc, context):
    if isinstance(exc, StaleVersionError):
        return conflict_response(exc, context["request"])
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        if NON_FIELD_ERRORS in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
