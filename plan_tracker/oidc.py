"""Single sign-on with OpenID Connect (issue 17), on mozilla-django-oidc.

Off unless OIDC_RP_CLIENT_ID is set (settings.py, README "Single sign-on"). The provider's
endpoints come from its discovery document (OIDC_OP_ISSUER + /.well-known/openid-configuration,
read once per process and kept) unless an OIDC_OP_*_ENDPOINT variable names one itself.

- `SsoBackend` (last in AUTHENTICATION_BACKENDS, after axes' lockout check and the password
  backend) answers only the provider's callback: it checks the ID token (signature from the
  provider's JWKS, audience, issuer, expiry, nonce; PKCE on the code), matches the person by
  OIDC_USERNAME_CLAIM to the local username (or e-mail, OIDC_MATCH_FIELD), creates the
  account on a first login (OIDC_CREATE_USER) and gives the membership the claims name
  (services.membership_grant_from_claims). Superuser accounts (the system administrator)
  log in with their password only: a provider's account of the same name cannot take them.
- The views start the login, take the callback and log out; every refusal is a page in
  Vietnamese saying what happened, never Django's bare 400.
- Logging out ends the Django session and, for a person who came through the provider, goes
  on to its end_session_endpoint (the role of mozilla's OIDC_OP_LOGOUT_URL_METHOD).
"""

import logging
import threading
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

log = logging.getLogger(__name__)

BACKEND_PATH = "plan_tracker.oidc.SsoBackend"

# mozilla-django-oidc's endpoint settings and their names in the discovery document.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}

# Why a login through the provider was refused (the page shown, its HTTP status).
INVALID = "invalid"
UNREACHABLE = "unreachable"
ADMIN_ACCOUNT = "admin_account"
NO_ACCOUNT = "no_account"
DISABLED = "disabled"
MISSING_CLAIM = "missing_claim"
PROVIDER_ERROR = "provider_error"
_STATUS = {UNREACHABLE: 502, ADMIN_ACCOUNT: 403, NO_ACCOUNT: 403, DISABLED: 403}


class ProviderError(Exception):
    """The provider's discovery document is missing, malformed or names another issuer."""


def enabled() -> bool:
    """Whether single sign-on is configured (a client id; settings.py checks the rest)."""
    return bool(settings.OIDC_RP_CLIENT_ID)


_discovered: dict[str, dict] = {}
_discovery_lock = threading.Lock()


def discovery() -> dict:
    """The provider's discovery document, fetched once per process and issuer (a failed
    fetch is not kept: the next login asks again). Empty without OIDC_OP_ISSUER."""
    issuer = settings.OIDC_OP_ISSUER
    if not issuer:
        return {}
    with _discovery_lock:
        document = _discovered.get(issuer)
        if document is None:
            response = requests.get(
                issuer.rstrip("/") + "/.well-known/openid-configuration",
                timeout=settings.OIDC_TIMEOUT,
                verify=settings.OIDC_VERIFY_SSL,
            )
            response.raise_for_status()
            try:
                document = response.json()
            except ValueError as exc:
                raise ProviderError("The discovery document is not JSON.") from exc
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one asked.
            if not isinstance(document, dict) or document.get("issuer") != issuer:
                raise ProviderError(f"The discovery document names another issuer than {issuer}.")
            _discovered[issuer] = document
    return document


def forget_discovery() -> None:
    """Drop the kept discovery documents (tests; a provider that moved its endpoints)."""
    with _discovery_lock:
        _discovered.clear()


def get_setting(attr: str, *default):
    """mozilla-django-oidc's settings reader, with the endpoints taken from the discovery
    document when their variable is empty."""
    if attr in ENDPOINTS:
        value = getattr(settings, attr, "") or discovery().get(ENDPOINTS[attr], "")
        if value:
            return value
        if default:
            return default[0]
        raise ImproperlyConfigured(
            f"{attr} is not set and the provider's discovery document has no {ENDPOINTS[attr]}."
        )
    return import_from_settings(attr, *default)


def _refuse(request: HttpRequest, reason: str) -> None:
    """Note for the callback view why the backend refused the login."""
    request.sso_refusal = reason  # type: ignore[attr-defined]


class SsoBackend(OIDCAuthenticationBackend):
    """Authenticates the provider's callback (see the module docstring); every other
    authenticate() call (passwords, API tokens) is not for it and gets None."""

    get_settings = staticmethod(get_setting)
    # mozilla's get_user skips the is_active check of Django's.
    get_user = ModelBackend.get_user

    def __init__(self, *args, **kwargs):
        # Django builds every backend for each login and for each request of a signed-in
        # person: the provider's settings (a network fetch) are read only for a callback.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password login passes a username.
        if not enabled() or request is None or "nonce" not in kwargs:
            return None
        super().__init__()
        self.issuer = settings.OIDC_OP_ISSUER
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        """Check the ID token fully: mozilla's own check skips the audience and issuer."""
        try:
            algorithm = jwt.get_unverified_header(payload).get("alg")
            if algorithm != self.OIDC_RP_SIGN_ALGO:
                raise SuspiciousOperation(f"The token is signed with {algorithm!r}.")
            return jwt.decode(
                payload,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer or None,
                options={"require": ["exp", "iat", "sub"]},
                leeway=60,  # clocks of the two servers a little apart
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims completed by the userinfo endpoint's, which must speak of
        the same person (OpenID Connect Core 1.0, section 5.3.2)."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject.")
        return {**payload, **userinfo}

    def _match_value(self, claims) -> str:
        value = claims.get(settings.OIDC_USERNAME_CLAIM)
        return value.strip() if isinstance(value, str) else ""

    def verify_claims(self, claims):
        if not self._match_value(claims):
            _refuse(self.request, MISSING_CLAIM)
            return False
        return True

    def describe_user_by_claims(self, claims):
        return f"{settings.OIDC_MATCH_FIELD} {self._match_value(claims)}"

    def filter_users_by_claims(self, claims):
        value = self._match_value(claims)
        if settings.OIDC_MATCH_FIELD == "email":
            return self.UserModel.objects.filter(email__iexact=value)
        return self.UserModel.objects.filter(username=value)

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None and getattr(self.request, "sso_refusal", None) is None:
            _refuse(self.request, NO_ACCOUNT)
        return user

    def create_user(self, claims):
        """A first login: the account (without a password: it logs in through the
        provider), then the membership the claims name."""
        from tasks_app import services

        with transaction.atomic():
            user = self.UserModel.objects.create_user(
                self._match_value(claims)[:150], email=claims.get("email") or ""
            )
            self._copy_names(user, claims)
            services.membership_grant_from_claims(user=user, claims=claims)
        return user

    def update_user(self, user, claims):
        """A later login: names and e-mail as the provider has them now, and the membership
        the claims name if not held yet. Superuser accounts are refused."""
        from tasks_app import services

        # The administrator's accounts stay local: a provider's account that happens to
        # carry the same name must not become a superuser.
        if user.is_superuser:
            _refuse(self.request, ADMIN_ACCOUNT)
            raise SuspiciousOperation(f"{user} is a superuser account.")
        if not user.is_active:
            return user  # the callback view refuses it and says why
        self._copy_names(user, claims)
        services.membership_grant_from_claims(user=user, claims=claims)
        return user

    @staticmethod
    def _copy_names(user, claims) -> None:
        fields = {"first_name": "given_name", "last_name": "family_name", "email": "email"}
        changed = []
        for field, claim in fields.items():
            value = claims.get(claim)
            max_length = user._meta.get_field(field).max_length
            if isinstance(value, str) and value and getattr(user, field) != value[:max_length]:
                setattr(user, field, value[:max_length])
                changed.append(field)
        if changed:
            user.save(update_fields=changed)


def failure_page(request: HttpRequest, reason: str) -> HttpResponse:
    """The page of a refused single sign-on login, in the person's language."""
    messages = {
        INVALID: _(
            "The answer of the single sign-on service could not be verified, so you were "
            "not logged in. The login may have taken too long or been started in another "
            "window. Please log in again."
        ),
        UNREACHABLE: _(
            "The single sign-on service does not answer. Please try again in a few minutes, "
            "or log in with a password if you have one."
        ),
        ADMIN_ACCOUNT: _(
            "This is a system administrator's account: it logs in with its password only, "
            "on the login page."
        ),
        NO_ACCOUNT: _(
            "Your single sign-on account has no account in this system yet. Please ask the "
            "system administrator to create it."
        ),
        DISABLED: _(
            "Your account in this system is disabled. Please contact the system administrator."
        ),
        MISSING_CLAIM: _(
            "The single sign-on service did not send your user name, so you cannot be "
            "recognised. Please tell the system administrator."
        ),
        PROVIDER_ERROR: _(
            "The single sign-on service did not let you log in (it answered: {error}). "
            "Please log in again."
        ).format(error=request.GET.get("error", "")[:100]),
    }
    return render(
        request,
        "registration/sso_failed.html",
        {"message": messages[reason]},
        status=_STATUS.get(reason, 400),
    )


class SsoStartView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: sends the person to the provider's login page (404 when single
    sign-on is off)."""

    get_settings = staticmethod(get_setting)

    def __init__(self, **kwargs):
        # The endpoint is read in get(), where an unreachable provider can be answered.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = get_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ProviderError) as exc:
            log.warning("SSO: the provider's discovery failed: %s", exc)
            return failure_page(request, UNREACHABLE)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """/oidc/callback/: the provider sends the person back here with a code; the backend
    checks it and the person lands where the login page sends them (their tasks). A refusal
    (a state this browser did not start, a token the provider did not sign, a superuser
    account…) is a page saying so; nothing is created."""

    get_settings = staticmethod(get_setting)

    def get(self, request):
        if not enabled():
            raise Http404
        try:
            return super().get(request)
        except (SuspiciousOperation, jwt.PyJWTError, ProviderError, KeyError) as exc:
            log.warning("SSO: login refused: %s", exc)
            return failure_page(request, getattr(request, "sso_refusal", None) or INVALID)
        except requests.RequestException as exc:
            log.warning("SSO: the provider did not answer: %s", exc)
            return failure_page(request, UNREACHABLE)

    def login_failure(self):
        request = self.request
        if request.GET.get("error"):
            return failure_page(request, PROVIDER_ERROR)
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            return failure_page(request, DISABLED)
        return failure_page(request, getattr(request, "sso_refusal", None) or INVALID)


def provider_logout_url(request: HttpRequest) -> str | None:
    """Where to end the person's session at the provider (its end_session_endpoint, with
    the ID token as hint and the login page to come back to), or None: single sign-on off,
    a password login, or no such endpoint. Read before the Django session ends."""
    if not enabled() or request.session.get(BACKEND_SESSION_KEY) != BACKEND_PATH:
        return None
    try:
        endpoint = get_setting("OIDC_OP_LOGOUT_ENDPOINT", "")
    except (requests.RequestException, ProviderError) as exc:
        log.warning("SSO: no logout at the provider, its discovery failed: %s", exc)
        return None
    if not endpoint:
        return None
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"


class LoginView(auth_views.LoginView):
    """The login page: the password form (the administrator, local accounts) and, when
    single sign-on is on, the button to the provider."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "sso_enabled": enabled()}


class LogoutView(auth_views.LogoutView):
    """Ends the Django session; a person who came through the provider goes on to end the
    provider's session too, and comes back to the login page."""

    next_page = "login"

    def post(self, request, *args, **kwargs):
        self.provider_url = provider_logout_url(request)
        return super().post(request, *args, **kwargs)

    def get_success_url(self):
        return self.provider_url or super().get_success_url()
