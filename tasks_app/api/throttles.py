"""Throttles whose rates are read from settings at request time.

DRF's throttles copy the rates when the module is imported; reading them per request lets
the rates follow the settings (and lets tests switch throttling off with `settings`).
The client of an anonymous request is plan_tracker/client_ip.py's, the same address the
login lockout counts (a forged X-Forwarded-For makes no new client).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from plan_tracker.client_ip import client_ip


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients (the token endpoint, the schema): `anon` rate."""


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Authenticated clients, per user: `user` rate."""
