"""OpenAPI helpers: the error shapes of the API, declared on every operation.

`ApiAutoSchema` adds the errors any operation may answer (400 on input, 401 without
credentials, 403 refused, 404 hidden or missing, 429 throttled) unless a view declares
them itself; views that take a `version` declare 409 with `conflict_response()`.
"""

from pathlib import Path

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.permissions import AllowAny

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


def validation_error() -> OpenApiResponse:
    return OpenApiResponse(
        response=VALIDATION_ERROR_SCHEMA,
        description="Invalid input: messages per field.",
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


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the API's error responses on every operation.

    Serializers of the project's other apps (reports, reminders…) get their app's name in
    front of their component name ("ReportsAgency"), so that two apps' `AgencySerializer`
    never share one component (which would validate one's responses with the other's
    schema)."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        app = type(serializer).__module__.split(".")[0]
        if app != "tasks_app" and (Path(settings.BASE_DIR) / app).is_dir():
            name = app.title().replace("_", "") + name
        return name

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        errors = {"400": validation_error(), "429": detail_error("Too many requests.")}
        if not public:
            errors.update(
                {
                    "401": detail_error("No valid credentials (token or session)."),
                    "403": detail_error("The action is not allowed for this user."),
                    "404": detail_error(
                        "Not found, or hidden from this user; or a page past the end."
                    ),
                }
            )
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, None, direction)
        return dict(sorted(responses.items()))
