"""`manage.py api_token create USERNAME [--rotate]` / `revoke USERNAME` / `show USERNAME`.

Manage the API token of a user (DRF's authtoken: one token per user, sent as
`Authorization: Token <key>`). `create` is safe to run twice: it prints the existing token
unless --rotate asks for a new one. `revoke` deletes the token; the user's clients then get
401 until a new one is created. Tokens are also listed in the admin ("Auth Token").
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create, rotate, show or revoke the API token of a user."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke", "show"])
        parser.add_argument("username")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="With create: replace an existing token (the old one stops working).",
        )

    def handle(self, *args, action: str, username: str, rotate: bool, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error

        if action == "create":
            if not user.is_active:
                raise CommandError(f"{username} is inactive: a token would not work.")
            with transaction.atomic():
                if rotate:
                    Token.objects.filter(user=user).delete()
                token, created = Token.objects.get_or_create(user=user)
            if created:
                self.stderr.write(f"New token for {username}:")
            else:
                self.stderr.write(f"{username} already has a token (use --rotate to replace):")
            # Only the key on stdout, so scripts can capture it.
            self.stdout.write(token.key)
        elif action == "show":
            token = Token.objects.filter(user=user).first()
            if token is None:
                raise CommandError(f"{username} has no token.")
            self.stdout.write(token.key)
        else:
            deleted, _ = Token.objects.filter(user=user).delete()
            if deleted:
                self.stdout.write(f"Token of {username} revoked.")
            else:
                self.stdout.write(f"{username} had no token; nothing to revoke.")
