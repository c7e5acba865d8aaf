"""A throwaway SMTP server on 127.0.0.1 for tests that send through Django's SMTP backend.

It speaks just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT. Recipients in `refused` get "550 mailbox unavailable", as a real server refusing an
address does; accepted messages are kept in `received` as (recipients, raw message).
"""

import socketserver
import threading
from dataclasses import dataclass, field

import pytest


@dataclass
class SMTPServer:
    refused: set[str] = field(default_factory=set)
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    port: int = 0

    def start(self) -> "SMTPServer":
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                recipients: list[str] = []
                self.reply("220 localhost test SMTP")
                for raw in self.rfile:
                    command = raw.decode("ascii", "replace").strip()
                    verb = command[:4].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip().strip("<>").lower()
                        if address in server.refused:
                            self.reply("550 5.1.1 mailbox unavailable")
                        else:
                            recipients.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        for line in self.rfile:
                            if line in {b".\r\n", b".\n"}:
                                break
                            lines.append(line)
                        server.received.append((recipients, b"".join(lines)))
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def use(self, settings) -> None:
        """Point Django's SMTP backend at this server (pytest-django's `settings`)."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = self.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings):
    """A running SMTPServer that Django's SMTP backend sends to for this test; add addresses
    to `smtp_server.refused` to make their mail fail."""
    server = SMTPServer().start()
    server.use(settings)
    yield server
    server.stop()
