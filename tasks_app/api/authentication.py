"""`Authorization: Token <token>` checked against the stored digests (django-rest-knox).

Knox's own class also looks at every other token of the user on each request to delete the
expired ones (one more query per request). Here a request reads one row, the token joined
with its user; an expired token is refused with its own message and stays listed, marked
expired, on its owner's page until revoked.
"""

from hmac import compare_digest

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions

from tasks_app import tokens
from tasks_app.models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            secret = token.decode("ascii")
            digest = hash_token(secret)
        except (UnicodeDecodeError, ValueError, TypeError) as error:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from error
        candidates = ApiToken.objects.filter(
            token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH]
        ).select_related("user")
        for candidate in candidates:
            if compare_digest(digest, candidate.digest):
                if candidate.is_expired:
                    raise exceptions.AuthenticationFailed(
                        _("This token has expired. Make a new one on the API tokens page.")
                    )
                user, _token = self.validate_user(candidate)
                tokens.token_touch(candidate)
                return user, candidate
        raise exceptions.AuthenticationFailed(_("Invalid token."))


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The scheme in the OpenAPI schema: `Authorization: Token <token>`."""

    target_class = "tasks_app.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
