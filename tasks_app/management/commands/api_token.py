"""`manage.py api_token create|list|revoke USERNAME`: the API tokens of a user (issue 16).

- `create USERNAME --name "Báo cáo LGSP" [--days 90]` makes a new token and prints it on
  stdout, alone, so that a script can capture it. It is shown this once: the database keeps
  only its digest.
- `list USERNAME` prints the user's tokens: identifier, name, made, expires, last used.
- `revoke USERNAME --id ID` revokes one token; `revoke USERNAME --all` revokes them all.

The rules (name, lifetime, how many a user may hold) are those of the API and the page
(tasks_app/tokens.py); a refused request exits with status 1 and changes nothing.
"""

import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tasks_app import tokens
from tasks_app.formatting import format_datetime


class Command(BaseCommand):
    help = "Create, list or revoke the API tokens of a user."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="create: what the token is for.")
        parser.add_argument(
            "--days", type=int, default=None, help="create: lifetime in days (default 90)."
        )
        parser.add_argument("--id", dest="uid", default="", help="revoke: the token's id.")
        parser.add_argument("--all", action="store_true", help="revoke: every token.")

    def handle(self, *args, action: str, username: str, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error
        getattr(self, f"_{action}")(user, **options)

    def _create(self, user, *, name: str, days: int | None, **options) -> None:
        try:
            token, secret = tokens.token_create(user=user, name=name, days=days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stderr.write(
            f"New token {token.uid} ({token.name}) for {user.get_username()}, "
            f"valid until {format_datetime(token.expiry)}. It is shown only now:"
        )
        self.stdout.write(secret)

    def _list(self, user, **options) -> None:
        rows = list(tokens.tokens_of(user))
        if not rows:
            self.stdout.write(f"{user.get_username()} has no API token.")
            return
        for token in rows:
            state = "expired" if token.is_expired else "valid"
            last_used = format_datetime(token.last_used_at) if token.last_used_at else "never"
            self.stdout.write(
                f"{token.uid}  {token.name}  made {format_datetime(token.created)}  "
                f"expires {format_datetime(token.expiry)} ({state})  last used {last_used}"
            )

    def _revoke(self, user, *, uid: str, all: bool, **options) -> None:  # noqa: A002
        if all == bool(uid):
            raise CommandError("Give either --id ID (see `list`) or --all.")
        if all:
            count = tokens.token_revoke_all(user=user)
            self.stdout.write(f"{count} token(s) of {user.get_username()} revoked.")
            return
        try:
            token_uid = uuid.UUID(uid)
        except ValueError as error:
            raise CommandError(f"{uid!r} is not a token id (see `list`).") from error
        token = tokens.token_revoke(user=user, uid=token_uid)
        if token is None:
            raise CommandError(f"{user.get_username()} has no token {uid}.")
        self.stdout.write(f"Token {token.uid} ({token.name}) of {user.get_username()} revoked.")
