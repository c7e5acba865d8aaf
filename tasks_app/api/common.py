"""What every app's API shares (tasks_app.api, reports.api, reports.api_archive): how an id
is read, how a file download negotiates, the error responses declared in the schema, and
the category counts' shape. Defined here once; `reports` imports them (tasks_app never
imports reports).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation

from tasks_app.choices import ReportCategory

# --- Ids in URLs ------------------------------------------------------------------------------

# Any id without a slash reaches the view (a router's `lookup_value_regex`), so a malformed
# one ("1.5", "x") answers the API's JSON 404 rather than the site's HTML one.
ANY_ID = "[^/]+"

# What looking up a malformed id raises; the views answer 404 for it, as for a missing one.
MALFORMED_ID = (ValueError, TypeError, OverflowError)


class FileDownloadNegotiation(BaseContentNegotiation):
    """A file download answers whatever the client accepts; errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- Errors -----------------------------------------------------------------------------------

# {"field": ["message", …]}: a list of messages per field; `non_field_errors` for the rest.
# A list field may answer an object of messages by position; a malformed body answers
# {"detail": "message"}.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Messages per field, in the request's language (Vietnamese by default).",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"type": "object"},
        ]
    },
}

DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def validation_error(description: str = "Invalid input: messages per field.") -> OpenApiResponse:
    """400 in the schema: messages per field."""
    return OpenApiResponse(
        response=VALIDATION_ERROR_SCHEMA,
        description=description,
        examples=[
            OpenApiExample(
                "progress",
                value={"progress": ["Tiến độ phải từ 0 đến 100%."]},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )


def detail_error(description: str) -> OpenApiResponse:
    """An error answered as {"detail": "message"} (401, 403, 404, 429…), in the schema."""
    return OpenApiResponse(response=DETAIL_SCHEMA, description=description)


def conflict_response() -> OpenApiResponse:
    """409: the `version` sent is stale; nothing was written. `current` is the task as it
    stands now, so the client can show it and let the user decide again."""
    from tasks_app.api.serializers import ConflictSerializer

    return OpenApiResponse(
        response=ConflictSerializer,
        description="The task changed since the client read it (stale `version`); "
        "nothing was written. `current` is the task as it is now.",
    )


def form_validation_error(form) -> ValidationError:
    """A Django form's errors as the API's 400: {"field": ["message", …]}."""
    return ValidationError({name: list(errors) for name, errors in form.errors.items()})


# --- Category counts --------------------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ReportCategory.choices)
    label = serializers.CharField()


def category_list() -> list[dict]:
    """The report categories with their labels (in the request's language), in the order
    of the official reports; withdrawn last (listed apart, out of the totals)."""
    return [{"code": c.value, "label": str(c.label)} for c in ReportCategory]


class CategoryCountsSerializer(serializers.Serializer):
    """Leaf tasks per report category; `total` leaves out withdrawn tasks."""

    completed_on_time = serializers.IntegerField()
    completed_late = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    overdue = serializers.IntegerField()
    not_started = serializers.IntegerField()
    regular = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    total = serializers.IntegerField()
