"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1 and endpoints."""

import http.server
import socket
import threading

import pytest

from tests.tasks_app.conftest import api_client  # noqa: F401 (the API tests use it)
from webhooks.services import endpoint_create


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.server.received.append({"headers": dict(self.headers), "body": body})
        self.send_response(self.server.answer)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


class Receiver:
    """A webhook receiver on 127.0.0.1: `url`, what it `received` (headers and raw body),
    `start()`/`stop()`; `answer` is the HTTP status it replies with."""

    def __init__(self):
        # A free port, known before the server listens on it: a receiver that is down.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[dict] = []
        self.answer = 200
        self._server = None

    def start(self, tls=None):
        """Listen on the port; `tls`: an ssl.SSLContext to serve https instead."""
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
            self.url = self.url.replace("http://", "https://")
        server.received = self.received
        server.answer = self.answer
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver(settings):
    """A receiver that is down until started (`receiver.start()`); loopback allowed."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    made = Receiver()
    yield made
    made.stop()


@pytest.fixture
def endpoint_for(monitor):
    """`endpoint_for(url, **fields)`: an endpoint registered by the monitor."""

    def make(url, **fields):
        fields.setdefault("name", "LGSP Nam Định")
        return endpoint_create(owner=monitor, url=url, **fields)

    return make
