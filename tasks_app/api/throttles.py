"""Throttles whose rates are read from settings at request time, and that fail open.

DRF's throttles copy the rates when the module is imported; reading them per request lets
the rates follow the settings (and lets tests switch throttling off with `settings`).

The counters live in the cache (Redis with CACHE_URL). When the cache cannot be reached,
the request is let through and a warning logged (issue 16): the API keeps reading and
writing; only the rate limit pauses until the cache is back.

The client of an anonymous request is plan_tracker/client_ip.py's, the same address the
login lockout counts (a forged X-Forwarded-For makes no new client).
"""

import logging

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from plan_tracker.client_ip import client_ip

logger = logging.getLogger(__name__)

# What the cache raises when Redis is down or does not answer in time.
CACHE_ERRORS = (RedisError, ConnectionError, TimeoutError, OSError)


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as error:
            logger.warning("throttle cache unreachable, request let through: %s", error)
            return True

    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients (the token endpoint, the schema): `anon` rate."""


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Authenticated clients, per user: `user` rate."""
