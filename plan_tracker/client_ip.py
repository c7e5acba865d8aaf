"""The address of the client behind a request: the one rule for the login lockout (axes,
AXES_CLIENT_IP_CALLABLE) and the API throttles (tasks_app/api/throttles.py).

Issue 16, "Password guessing". X-Forwarded-For is written by whoever sends the request, so it
is only believed as far as our own proxies wrote it: each of the TRUSTED_PROXY_COUNT proxies
in front of gunicorn appends the address it received the request from, so the client is the
TRUSTED_PROXY_COUNT-th address from the right. With no proxy configured (0, the default) the
header is ignored and the TCP peer (REMOTE_ADDR) is the client: a new forged header on every
attempt must not make a new client, or the lockout and the throttle count nothing.
"""

import ipaddress

from django.conf import settings


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request) -> str:
    """The client's address for `request` (a Django or DRF request)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies == 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    # Fewer hops than proxies: the request skipped an outer proxy; the farthest hop a proxy
    # recorded is the best we know (DRF's NUM_PROXIES reads the header the same way).
    candidate = hops[-min(proxies, len(hops))]
    # A malformed hop (a misconfigured proxy) would not even fit axes' address column.
    return candidate if _is_ip(candidate) else remote_addr
