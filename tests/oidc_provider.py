"""A small OpenID Connect provider for the single sign-on tests (issue 17).

A real HTTP server on 127.0.0.1 (a free port, a thread of the test process) speaking the
authorization code flow as Keycloak does: discovery document, JWKS, an authorization
endpoint with a login form, a token endpoint (client secret, one-time code bound to its
redirect URI, PKCE S256), userinfo with a bearer token, and end_session. ID tokens are
RS256 JWTs signed with a key made for the run (joserfc, Authlib's JOSE library); the PKCE
check is Authlib's. `sign_with` makes it sign with another key under the same key id (a
forged token), while the JWKS still publishes the real one; `audience` writes ID tokens
for another application.
"""

import html
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

LOGIN_FORM = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Đăng nhập một lần</title></head>
<body><h1>Hệ thống đăng nhập một lần của tỉnh</h1>{error}
<form method="post" action="/authorize">{hidden}
<label>Tên đăng nhập <input name="username" id="username"></label>
<label>Mật khẩu <input name="password" id="password" type="password"></label>
<button type="submit" id="kc-login">Đăng nhập</button></form></body></html>"""


def make_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # no access log in the test output
        pass


@dataclass
class Account:
    password: str
    claims: dict


@dataclass
class Provider:
    client_id: str = "plan-tracker"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    accounts: dict[str, Account] = field(default_factory=dict)
    # Requests that reached end_session (their query parameters), for the logout tests.
    logouts: list[dict] = field(default_factory=list)
    sign_with: RSAKey | None = None
    # The audience written into ID tokens when not the client's own (a token for another app).
    audience: str | None = None
    # How many times each path was asked (the discovery document is read once per process).
    hits: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.key = make_key(secrets.token_hex(4))
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, str] = {}
        self._server: WSGIServer = make_server(
            "127.0.0.1", 0, self.app, handler_class=_QuietHandler
        )
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- running ------------------------------------------------------------------------------

    def start(self) -> "Provider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_account(self, username: str, password: str, **claims) -> None:
        self.accounts[username] = Account(
            password, {"sub": f"sub-{username}", "preferred_username": username, **claims}
        )

    # --- the endpoints -----------------------------------------------------------------------

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        body = {}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length).decode()
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        self.hits[path] += 1
        routes = {
            ("GET", "/.well-known/openid-configuration"): self.discovery,
            ("GET", "/jwks"): self.jwks,
            ("GET", "/authorize"): self.authorize_form,
            ("POST", "/authorize"): self.authorize,
            ("POST", "/token"): self.token,
            ("GET", "/userinfo"): self.userinfo,
            ("GET", "/logout"): self.end_session,
        }
        handler = routes.get((method, path))
        if handler is None:
            status, headers, content = "404 Not Found", [], b"not found"
        else:
            status, headers, content = handler(environ, query, body)
        start_response(status, [("Content-Length", str(len(content))), *headers])
        return [content]

    @staticmethod
    def _json(data, status="200 OK"):
        return status, [("Content-Type", "application/json")], json.dumps(data).encode()

    @staticmethod
    def _redirect(url):
        return "302 Found", [("Location", url)], b""

    def discovery(self, environ, query, body):
        return self._json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def jwks(self, environ, query, body):
        return self._json({"keys": [self.key.as_dict(private=False)]})

    def _form(self, params: dict, error: str = ""):
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("username", "password")
        )
        error_html = f'<p id="error">{html.escape(error)}</p>' if error else ""
        page = LOGIN_FORM.format(hidden=hidden, error=error_html)
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page.encode()

    def _bad_request(self, params: dict) -> str:
        if params.get("client_id") != self.client_id:
            return "unknown client"
        if params.get("response_type") != "code" or not params.get("redirect_uri"):
            return "not an authorization code request"
        if "openid" not in params.get("scope", "").split():
            return "not an OpenID request"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE required"
        return ""

    def authorize_form(self, environ, query, body):
        problem = self._bad_request(query)
        if problem:
            return "400 Bad Request", [], problem.encode()
        return self._form(query)

    def authorize(self, environ, query, body):
        problem = self._bad_request(body)
        if problem:
            return "400 Bad Request", [], problem.encode()
        account = self.accounts.get(body.get("username", ""))
        if account is None or not secrets.compare_digest(
            account.password, body.get("password", "")
        ):
            return self._form(body, "Sai tên đăng nhập hoặc mật khẩu.")
        code = secrets.token_urlsafe(24)
        self._codes[code] = {**body, "account": account}
        params = {"code": code, "state": body.get("state", "")}
        return self._redirect(f"{body['redirect_uri']}?{urlencode(params)}")

    def token(self, environ, query, body):
        if body.get("client_id") != self.client_id or not secrets.compare_digest(
            body.get("client_secret", ""), self.client_secret
        ):
            return self._json({"error": "invalid_client"}, "401 Unauthorized")
        grant = self._codes.pop(body.get("code", ""), None)  # a code serves once
        if (
            body.get("grant_type") != "authorization_code"
            or grant is None
            or grant["redirect_uri"] != body.get("redirect_uri")
            or create_s256_code_challenge(body.get("code_verifier", "")) != grant["code_challenge"]
        ):
            return self._json({"error": "invalid_grant"}, "400 Bad Request")
        account = grant["account"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": account.claims["sub"],
            "aud": self.audience or self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.get("nonce"),
            "preferred_username": account.claims["preferred_username"],
        }
        key = self.sign_with or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = account.claims["preferred_username"]
        return self._json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    def userinfo(self, environ, query, body):
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        username = self._tokens.get(token)
        if username is None:
            return self._json({"error": "invalid_token"}, "401 Unauthorized")
        return self._json(self.accounts[username].claims)

    def end_session(self, environ, query, body):
        self.logouts.append(query)
        target = query.get("post_logout_redirect_uri")
        if target:
            return self._redirect(target)
        return "200 OK", [("Content-Type", "text/plain")], b"logged out"
