"""The API's OpenAPI schema class: the error shapes of the API, declared on every operation.

`ApiAutoSchema` adds the errors any operation may answer (400 on input, 401 without
credentials, 403 refused, 404 hidden or missing, 429 throttled) unless a view declares
them itself; views that take a `version` declare 409 with `conflict_response()`. The
error shapes themselves live in tasks_app/api/common.py.
"""

from pathlib import Path

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from tasks_app.api.common import detail_error, validation_error


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
