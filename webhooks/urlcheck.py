"""Which outbound URLs a webhook may call (issue 17): a server-side request forgery guard.

A webhook makes the server send requests to an address someone typed; without a check it
could reach the server's own services (Redis, PostgreSQL, the cloud's metadata address) or
the internal network. So the URL must be http(s), and every address its host resolves to
must be a public one: loopback, private, link-local, multicast, reserved and unspecified
addresses are refused, unless WEBHOOK_ALLOW_PRIVATE is on (`make run` turns it on, so that a
newcomer can try a receiver on their own machine; production leaves it off).

Checked when an endpoint is saved and again before each attempt (an address may change);
the attempt then connects to an address just checked (post_to_checked_address).
"""

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter


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


def url_check(url: str) -> tuple[str | None, list[str]]:
    """(why the server may not send a webhook to `url`, or None; the addresses its host
    resolves to, all allowed). The message is for the person who typed the URL, in their
    language. With WEBHOOK_ALLOW_PRIVATE every address is allowed, but the host must still
    resolve."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("Enter a valid URL."), []
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The URL must start with http:// or https:// and name a host."), []
    if parts.username or parts.password:
        return _("The URL must not contain a user name or password."), []
    default_port = 443 if parts.scheme == "https" else 80
    try:
        infos = socket.getaddrinfo(parts.hostname, port or default_port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        refusal = _("The host name “%(host)s” could not be resolved.") % {"host": parts.hostname}
        return refusal, []
    # IPv4 first: the request goes to the first address (post_to_checked_address), and a
    # local test receiver usually listens on 127.0.0.1, not on ::1 ("localhost" is both).
    found = dict.fromkeys(str(info[4][0]) for info in infos)
    addresses = sorted(found, key=lambda address: ":" in address)
    if not settings.WEBHOOK_ALLOW_PRIVATE and any(map(_refused_address, addresses)):
        refusal = _(
            "The URL points to a loopback, private or reserved address (%(host)s): webhooks "
            "are sent only to public addresses."
        ) % {"host": parts.hostname}
        return refusal, []
    return None, addresses


def url_refusal(url: str) -> str | None:
    """Why the server may not send a webhook to `url`; None when it may (url_check)."""
    return url_check(url)[0]


class _PinnedHostAdapter(HTTPAdapter):
    """Connects to the address given in the URL, but speaks TLS to the host name: SNI and
    the certificate's check use `hostname`."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def post_to_checked_address(
    url: str, address: str, *, data: bytes, headers: dict, timeout
) -> requests.Response:
    """POST to `url` over a connection to `address`, one of the addresses url_check allowed,
    without resolving the host again: a DNS answer that changes between the check and the
    request (DNS rebinding) cannot lead the request to an internal address. The Host header,
    SNI and the certificate's check keep the URL's host name. No redirect is followed, and
    the answer's body is not read."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    with requests.Session() as session:
        session.mount("https://", _PinnedHostAdapter(hostname))
        return session.post(
            pinned,
            data=data,
            headers={**headers, "Host": parts.netloc},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
