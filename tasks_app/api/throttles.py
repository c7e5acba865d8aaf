"""Throttles whose rates are read from settings at request time.

DRF's throttles copy the rates when the module is imported; reading them per request lets
the rates follow the settings (and lets tests switch throttling off with `settings`).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _SettingsRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients (the token endpoint, the schema): `anon` rate."""


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Authenticated clients, per user: `user` rate."""
