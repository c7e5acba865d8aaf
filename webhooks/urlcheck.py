"""Which outbound URLs a webhook may call (issue 17): a server-side request forgery guard.

A webhook makes the server send requests to an address someone typed; without a check it
could reach the server's own services (Redis, PostgreSQL, the cloud's metadata address) or
the internal network. So the URL must be http(s), and every address its host resolves to
must be a public one: loopback, private, link-local, multicast, reserved and unspecified
addresses are refused, unless WEBHOOK_ALLOW_PRIVATE is on (`make run` turns it on, so that a
newcomer can try a receiver on their own machine; production leaves it off).

Checked when an endpoint is saved and again before each attempt (an address may change).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        # Carrier-grade NAT (100.64.0.0/10) and the like: not private, not global either.
        or not ip.is_global
    )


def url_refusal(url: str) -> str | None:
    """Why the server may not send a webhook to `url` (a message for the person who typed
    it, in their language); None when it may. Resolves the host name."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("Enter a valid URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The URL must start with http:// or https:// and name a host.")
    if parts.username or parts.password:
        return _("The URL must not contain a user name or password.")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return None
    try:
        infos = socket.getaddrinfo(
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except (OSError, UnicodeError):
        return _("The host name “%(host)s” could not be resolved.") % {"host": parts.hostname}
    if any(_refused_address(str(info[4][0])) for info in infos):
        return _(
            "The URL points to a loopback, private or reserved address (%(host)s): webhooks "
            "are sent only to public addresses."
        ) % {"host": parts.hostname}
    return None
