"""Issue 16, "Password guessing": failed logins lock the account and the client.

LOGIN_FAILURE_LIMIT (5) failures lock the account (on any address) and the address (for any
account) on the login page, the admin and the API token endpoint; the person reads why in
Vietnamese; an administrator lifts the lock. The client's address is REMOTE_ADDR unless
TRUSTED_PROXY_COUNT proxies are configured: a forged X-Forwarded-For makes no new client,
neither for the lockout nor for the API's throttle.
"""

import io

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tasks_app.models import ApiToken
from tests.factories import UserFactory
from tests.plan_tracker.test_env import run_python

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
LOCKED = "Đăng nhập sai quá nhiều lần"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # The API's throttle counts live in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return UserFactory(username="nguoidung", password=PASSWORD)


def log_in(client, username, password, address="10.0.0.1", url=None, **headers):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_five_times(client, username="nguoidung", **kwargs):
    return [log_in(client, username, "wrong", **kwargs).status_code for _ in range(5)]


# --- The login page --------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, person):
    # Four failures show the form's error; the fifth locks.
    assert fail_five_times(client) == [200, 200, 200, 200, 429]
    response = log_in(client, "nguoidung", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "Tạm khóa đăng nhập" in page
    assert f"{LOCKED}: tài khoản này hoặc máy tính này" in page
    assert "trong 15 phút" in page
    assert not is_logged_in(client)


def test_the_lock_follows_the_account_to_another_address(client, person):
    fail_five_times(client, address="10.0.0.1")
    response = log_in(client, "nguoidung", PASSWORD, address="10.0.0.2")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_logged_in(client)


def test_many_usernames_from_one_address_lock_the_address(client, person):
    for n in range(5):
        log_in(client, f"doan-{n}", "wrong", address="10.0.0.9")
    locked = log_in(client, "nguoidung", PASSWORD, address="10.0.0.9")
    assert locked.status_code == 429
    assert not is_logged_in(client)
    # The account itself is not locked: from another address it logs in.
    elsewhere = log_in(Client(), "nguoidung", PASSWORD, address="10.0.0.10")
    assert elsewhere.status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, person):
    for _ in range(4):
        log_in(client, "nguoidung", "wrong")
    assert log_in(client, "nguoidung", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert fail_five_times(client)[:4] == [200, 200, 200, 200]


# --- The admin -------------------------------------------------------------------------------


def test_the_admin_login_locks_too(client):
    UserFactory(username="quantri", password=PASSWORD, is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    statuses = [log_in(client, "quantri", "wrong", url=admin_login).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    response = log_in(client, "quantri", PASSWORD, url=admin_login)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_administrator_sees_the_lock_and_lifts_it_in_the_admin(client, person):
    fail_five_times(client)
    assert log_in(client, "nguoidung", PASSWORD).status_code == 429

    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin.get(changelist).content.decode()
    assert "nguoidung" in page
    assert "10.0.0.1" in page
    # axes has no Vietnamese of its own; the project's catalog gives it.
    assert "Số lần đăng nhập sai" in page
    assert "Đang bị khóa" in page
    attempts = list(AccessAttempt.objects.filter(username="nguoidung"))
    response = admin.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": [attempt.pk for attempt in attempts],
            "post": "yes",
        },
    )
    assert response.status_code == 302

    assert log_in(client, "nguoidung", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_the_axes_reset_username_command_lifts_the_lock(client, person):
    fail_five_times(client)
    out = io.StringIO()
    call_command("axes_reset_username", "nguoidung", stdout=out)
    assert "attempts removed" in out.getvalue()
    assert log_in(client, "nguoidung", PASSWORD).status_code == 302


# --- The API token endpoint ------------------------------------------------------------------


def ask_token(api, username, password, address="10.0.0.1", **headers):
    return api.post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def test_the_token_endpoint_answers_a_lock_in_vietnamese_json(person):
    api = APIClient()
    statuses = [ask_token(api, "nguoidung", "wrong").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    response = ask_token(api, "nguoidung", PASSWORD)
    assert response.status_code == 429
    detail = response.json()["detail"]
    assert detail.startswith(f"{LOCKED}: tài khoản này hoặc máy tính này")
    assert "15 phút" in detail
    assert not ApiToken.objects.exists()
    # The same account on the login page is locked too: one count for both.
    assert log_in(Client(), "nguoidung", PASSWORD).status_code == 429


def test_the_token_endpoint_speaks_english_when_asked(person):
    api = APIClient()
    for _ in range(5):
        ask_token(api, "nguoidung", "wrong")
    response = ask_token(api, "nguoidung", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed login attempts")


# --- The client's address --------------------------------------------------------------------


def test_without_a_trusted_proxy_a_new_forwarded_for_does_not_reset_the_throttle(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": None},
    }
    api = APIClient()
    statuses = [
        ask_token(api, f"khach-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


def test_without_a_trusted_proxy_a_new_forwarded_for_does_not_reset_the_lock(client, person):
    for n in range(5):
        log_in(client, f"doan-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
    response = log_in(client, "nguoidung", PASSWORD, HTTP_X_FORWARDED_FOR="5.6.7.8")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}


def test_behind_one_proxy_the_last_forwarded_hop_is_the_client(settings, client, person):
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy (10.0.0.1) appends the client's address; what the client wrote before it
    # changes nothing.
    for n in range(5):
        log_in(client, f"doan-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 192.0.2.1")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.1"}
    locked = log_in(client, "nguoidung", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked.
    other = log_in(Client(), "nguoidung", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert other.status_code == 302


def test_behind_one_proxy_the_throttle_counts_each_client_apart(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": None},
    }
    api = APIClient()

    def ask(client_address):
        return ask_token(api, "khach", "wrong", HTTP_X_FORWARDED_FOR=client_address)

    assert [ask("192.0.2.1").status_code for _ in range(3)] == [400, 400, 429]
    assert ask("192.0.2.2").status_code == 400


# --- Settings --------------------------------------------------------------------------------


def test_lockout_settings_come_from_the_environment():
    show = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
        "s.TRUSTED_PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    key = {"SECRET_KEY": "k" * 50}
    assert run_python(show, **key).stdout.split() == ["5", "900.0", "0", "0"]
    changed = run_python(
        show, **key, LOGIN_FAILURE_LIMIT="3", LOGIN_LOCKOUT_MINUTES="60", TRUSTED_PROXY_COUNT="2"
    )
    assert changed.stdout.split() == ["3", "3600.0", "2", "2"]
    wrong = run_python(show, **key, TRUSTED_PROXY_COUNT="-1")
    assert "TRUSTED_PROXY_COUNT must be at least 0" in wrong.stderr
