"""API tokens (issue 16): stored as digests, expiring, several per user, each named and
revocable on its own; through the token endpoint, the API, the page and `manage.py api_token`."""

import datetime
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from tasks_app import tokens
from tasks_app.models import ApiToken

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=HCM)
PASSWORD = "secret-pass-123"


def ask_token(client: APIClient, username="manager", password=PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )


def with_token(api_client, secret: str) -> APIClient:
    return api_client(HTTP_AUTHORIZATION=f"Token {secret}")


# --- The token endpoint --------------------------------------------------------------------------


def test_a_password_gives_a_named_token_kept_only_as_a_digest(api_client, manager):
    with time_machine.travel(NOW, tick=False):
        response = ask_token(api_client(), name="Kết nối LGSP")
    assert response.status_code == 200
    body = response.json()
    secret = body["token"]
    assert body["name"] == "Kết nối LGSP"
    assert body["expiry"].startswith("2027-03-04")  # 90 days by default
    assert with_token(api_client, secret).get("/api/v1/me/").json()["username"] == "manager"

    # The database holds no working token: neither the secret nor anything it can be read from.
    stored = ApiToken.objects.get(user=manager)
    assert secret not in {stored.digest, stored.token_key, stored.name}
    assert len(secret) >= 64 and len(stored.token_key) < 20

    # Asking again gives a second token; both work.
    again = ask_token(api_client()).json()["token"]
    assert again != secret
    assert with_token(api_client, again).get("/api/v1/me/").status_code == 200
    assert with_token(api_client, secret).get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.filter(user=manager).count() == 2


def test_bad_credentials_are_a_400_in_vietnamese_and_give_no_token(api_client, manager):
    response = ask_token(api_client(), password="wrong")
    assert response.status_code == 400
    [message] = response.json()["non_field_errors"]
    english = "Unable to log in with provided credentials."
    with translation.override("vi"):
        assert message == translation.gettext(english) != english
    assert message.startswith("Không thể đăng nhập")
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(api_client, manager):
    manager.is_active = False
    manager.save()
    assert ask_token(api_client()).status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", [0, 366])
def test_a_lifetime_out_of_range_is_refused_by_field(api_client, manager, days):
    response = ask_token(api_client(), name="x", days=days)
    assert response.status_code == 400
    assert "days" in response.json()
    assert not ApiToken.objects.exists()


def test_a_token_cannot_make_more_tokens(api_client, manager):
    secret = ask_token(api_client()).json()["token"]
    # The endpoint takes a password, never a token: a stolen token mints nothing.
    response = with_token(api_client, secret).post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert ApiToken.objects.count() == 1


def test_a_user_holds_at_most_the_configured_number_of_valid_tokens(api_client, manager, settings):
    settings.API_TOKEN_LIMIT_PER_USER = 2
    assert ask_token(api_client(), name="một").status_code == 200
    assert ask_token(api_client(), name="hai").status_code == 200
    third = ask_token(api_client(), name="ba")
    assert third.status_code == 400
    assert "thu hồi" in third.json()["name"][0]
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["hai", "một"]


def test_without_credentials_the_api_answers_401_asking_for_a_token(api_client):
    response = api_client().get("/api/v1/tasks/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_a_401(api_client, manager):
    ask_token(api_client())
    assert with_token(api_client, "0" * 64).get("/api/v1/me/").status_code == 401


# --- Expiry --------------------------------------------------------------------------------------


def test_a_token_stops_working_when_it_expires(api_client, manager):
    with time_machine.travel(NOW, tick=False):
        secret = ask_token(api_client(), name="Báo cáo", days=30).json()["token"]
    client = with_token(api_client, secret)
    with time_machine.travel(NOW + datetime.timedelta(days=29, hours=23), tick=False):
        assert client.get("/api/v1/me/").status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(days=30, seconds=1), tick=False):
        response = client.get("/api/v1/me/")
        assert response.status_code == 401
        assert "hết hạn" in response.json()["detail"]
        # Still listed for its owner, marked expired, until revoked.
        listed = api_client(manager).get("/api/v1/auth/tokens/").json()
    assert [(t["name"], t["expired"]) for t in listed if t["name"] == "Báo cáo"] == [
        ("Báo cáo", True)
    ]


def test_the_last_use_is_recorded(api_client, manager):
    with time_machine.travel(NOW, tick=False):
        secret = ask_token(api_client()).json()["token"]
        assert ApiToken.objects.get().last_used_at is None
        with_token(api_client, secret).get("/api/v1/me/")
    assert ApiToken.objects.get().last_used_at == NOW


# --- Listing and revoking through the API --------------------------------------------------------


def test_a_user_lists_and_revokes_their_own_tokens_one_by_one(api_client, manager):
    first = ask_token(api_client(), name="Kịch bản Excel").json()
    second = ask_token(api_client(), name="LGSP").json()
    client = with_token(api_client, second["token"])

    listed = client.get("/api/v1/auth/tokens/").json()
    assert {t["name"]: t["current"] for t in listed} == {"Kịch bản Excel": False, "LGSP": True}
    assert all("token" not in t for t in listed)

    assert client.delete(f"/api/v1/auth/tokens/{first['id']}/").status_code == 204
    assert with_token(api_client, first["token"]).get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/me/").status_code == 200  # the other one still works


def test_another_users_token_is_not_found_and_keeps_working(api_client, manager, outsider):
    theirs = ask_token(api_client(), username="outsider").json()
    response = api_client(manager).delete(f"/api/v1/auth/tokens/{theirs['id']}/")
    assert response.status_code == 404
    assert with_token(api_client, theirs["token"]).get("/api/v1/me/").status_code == 200


def test_delete_on_the_token_endpoint_revokes_the_token_in_use(api_client, manager):
    secret = ask_token(api_client()).json()["token"]
    client = with_token(api_client, secret)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.exists()


def test_the_session_of_our_own_pages_authenticates_too(db, manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get("/api/v1/me/").status_code == 200
    # Writes with a session need the CSRF token, like the pages' forms.
    assert client.post("/api/v1/tasks/", {}, format="json").status_code == 403


def test_a_request_reads_the_token_and_its_user_in_one_query(
    api_client, manager, django_assert_max_num_queries
):
    secret = ask_token(api_client()).json()["token"]
    client = with_token(api_client, secret)
    client.get("/api/v1/auth/tokens/")  # records the last use
    with django_assert_max_num_queries(2):  # the token with its user; the list
        assert client.get("/api/v1/auth/tokens/").status_code == 200


# --- The page ------------------------------------------------------------------------------------


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_makes_a_token_and_shows_it_once(api_client, manager):
    client = page_client(manager)
    response = client.post("/accounts/tokens/", {"name": "Kết nối LGSP", "days": "30"})
    assert response.status_code == 200
    secret = response.context["secret"]
    html = response.content.decode()
    assert secret in html and "không hiển thị lại" in html
    assert with_token(api_client, secret).get("/api/v1/me/").status_code == 200

    again = client.get("/accounts/tokens/")
    assert secret not in again.content.decode()
    assert "Kết nối LGSP" in again.content.decode()
    assert again["Cache-Control"].startswith("max-age=0")


def test_the_page_refuses_a_blank_name_in_vietnamese(manager):
    response = page_client(manager).post("/accounts/tokens/", {"name": " ", "days": "30"})
    assert response.status_code == 200
    assert response.context["secret"] is None
    assert response.context["form"].errors["name"] == ["Trường này là bắt buộc."]
    assert "Trường này là bắt buộc." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_on_the_page_asks_first(api_client, manager, outsider):
    token, secret = tokens.token_create(user=manager, name="Cũ")
    client = page_client(manager)
    confirm = client.get(f"/accounts/tokens/{token.uid}/revoke/")
    assert "Bạn có chắc muốn thu hồi" in confirm.content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()  # nothing happens on GET
    # Someone else cannot reach it.
    assert page_client(outsider).post(f"/accounts/tokens/{token.uid}/revoke/").status_code == 404
    response = client.post(f"/accounts/tokens/{token.uid}/revoke/", follow=True)
    assert "đã bị thu hồi" in response.content.decode()
    assert with_token(api_client, secret).get("/api/v1/me/").status_code == 401


# --- manage.py api_token -------------------------------------------------------------------------


def test_the_command_makes_lists_and_revokes_tokens(api_client, manager):
    out = io.StringIO()
    call_command(
        "api_token", "create", "manager", "--name", "Sao lưu", stdout=out, stderr=io.StringIO()
    )
    secret = out.getvalue().strip()
    assert with_token(api_client, secret).get("/api/v1/me/").status_code == 200
    token = ApiToken.objects.get()

    out = io.StringIO()
    call_command("api_token", "list", "manager", stdout=out)
    assert str(token.uid) in out.getvalue() and "Sao lưu" in out.getvalue()
    assert secret not in out.getvalue()

    call_command("api_token", "revoke", "manager", "--id", str(token.uid), stdout=io.StringIO())
    assert with_token(api_client, secret).get("/api/v1/me/").status_code == 401

    tokens.token_create(user=manager, name="a")
    tokens.token_create(user=manager, name="b")
    call_command("api_token", "revoke", "manager", "--all", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["create", "nobody", "--name", "x"],
        ["create", "manager"],  # no name
        ["create", "manager", "--name", "x", "--days", "0"],
        ["revoke", "manager"],  # neither --id nor --all
        ["revoke", "manager", "--id", "not-a-uuid"],
        ["revoke", "manager", "--id", str(uuid.uuid4())],
    ],
)
def test_the_command_refuses_bad_requests_and_changes_nothing(manager, args):
    kept, _secret = tokens.token_create(user=manager, name="giữ")
    with pytest.raises(CommandError):
        call_command("api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


# --- Upgrading from DRF's plain-text tokens ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_plain_tokens_into_digests_and_drops_them(manager):
    from importlib import import_module

    migration = import_module("tasks_app.migrations.0008_api_tokens")
    old_key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, NOW, manager.pk]
        )
    apps = MigrationExecutor(connection).loader.project_state().apps
    with connection.schema_editor() as editor:
        migration.carry_over_plain_tokens(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get(user=manager)
    assert token.digest != old_key and token.created == NOW
    client = APIClient(HTTP_AUTHORIZATION=f"Token {old_key}")
    assert client.get("/api/v1/me/").json()["username"] == "manager"
