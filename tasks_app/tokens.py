"""API tokens (issue 16): made, listed and revoked here, for the API, the "API tokens" page and
`manage.py api_token` alike.

A token is shown once, when it is made: only its SHA-512 digest is stored (django-rest-knox's
hashing), so a copy of the database gives no working token. Each token has a name saying what
it is for and expires after API_TOKEN_DAYS days unless another lifetime (at most
API_TOKEN_MAX_DAYS) is asked for; a user holds at most API_TOKEN_LIMIT_PER_USER tokens that
have not expired.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.models import ApiToken

# How often the "last used" time of a token is written: at most once in this interval, so a
# busy client does not turn every read into a write.
LAST_USED_PRECISION = datetime.timedelta(minutes=15)


def lifetime_days_allowed() -> range:
    return range(1, settings.API_TOKEN_MAX_DAYS + 1)


def tokens_of(user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, expired ones included (the page shows them as such)."""
    return ApiToken.objects.filter(user=user).order_by("-created")


def valid_tokens_of(user) -> QuerySet[ApiToken]:
    """The user's tokens that have not expired (revoked ones are gone)."""
    return tokens_of(user).filter(expiry__gt=timezone.now())


def token_create(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user` and return it with its secret, which is never shown again.

    Raises ValidationError (by field: name, days) when the name is blank or too long, the
    lifetime is outside 1..API_TOKEN_MAX_DAYS, the account is inactive, or the user already
    holds API_TOKEN_LIMIT_PER_USER tokens that have not expired.
    """
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name that says what it is for.")
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        errors["name"] = _("The name may have at most %(count)d characters.") % {
            "count": ApiToken._meta.get_field("name").max_length
        }
    if days is None:
        days = settings.API_TOKEN_DAYS
    if days not in lifetime_days_allowed():
        errors["days"] = _("A token lasts from 1 to %(max)d days.") % {
            "max": settings.API_TOKEN_MAX_DAYS
        }
    if not user.is_active:
        errors["user"] = _("This account is inactive: a token would not work.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Lock the user's row so that two requests at once cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        active = valid_tokens_of(user).count()
        if active >= settings.API_TOKEN_LIMIT_PER_USER:
            raise ValidationError(
                {
                    "name": _(
                        "You already hold %(count)d valid tokens, the most allowed. "
                        "Revoke one you no longer use first."
                    )
                    % {"count": active}
                }
            )
        return ApiToken.objects.create(user=user, expiry=datetime.timedelta(days=days), name=name)


def token_revoke(*, user, uid) -> ApiToken | None:
    """Revoke (delete) one of the user's tokens; None when the user has no such token."""
    with transaction.atomic():
        token = tokens_of(user).select_for_update().filter(uid=uid).first()
        if token is not None:
            token.delete()
    return token


def token_revoke_all(*, user) -> int:
    """Revoke every token of the user; returns how many there were."""
    deleted, _by_model = tokens_of(user).delete()
    return deleted


def token_touch(token: ApiToken) -> None:
    """Record that the token was just used, at most once per LAST_USED_PRECISION."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
