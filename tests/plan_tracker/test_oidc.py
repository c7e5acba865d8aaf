"""Issue 17, single sign-on: OpenID Connect login against a real provider.

The provider (tests/oidc_provider.py) runs on 127.0.0.1 for each test; Django's test client
plays the browser on our side and `requests` on the provider's side (its login form), so
every token, key and userinfo answer crosses real HTTP: nothing is mocked.
"""

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tasks_app.choices import Role
from tasks_app.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.oidc_provider import make_key
from tests.plan_tracker.test_env import run_python

pytestmark = pytest.mark.django_db

PASSWORD = "mat-khau-sso-1"
WAITING = "Tài khoản của bạn chưa được gắn với cơ quan, đơn vị nào"
REFUSED = "Không xác minh được"
SSO_BUTTON = "Đăng nhập bằng tài khoản dùng chung (SSO)"


def provider_answer(client, provider, username, password=PASSWORD, next_url=None):
    """Start the login on our side, log in on the provider's form; the callback URL the
    provider sends the browser back to (path and query)."""
    start_url = reverse("oidc_authentication_init")
    if next_url:
        start_url += f"?next={next_url}"
    start = client.get(start_url)
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    with requests.Session() as browser:
        form = browser.get(authorize, timeout=10)
        assert form.status_code == 200
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        answer = browser.post(
            f"{provider.issuer}/authorize",
            data={**params, "username": username, "password": password},
            allow_redirects=False,
            timeout=10,
        )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == reverse("oidc_authentication_callback")
    return f"{back.path}?{back.query}"


def sso_login(client, provider, username, password=PASSWORD, **kwargs):
    """The whole login, following our redirects: the page the person lands on."""
    callback = provider_answer(client, provider, username, password, **kwargs)
    return client.get(callback, follow=True)


def landed_on(response) -> str:
    return response.redirect_chain[-1][0] if response.redirect_chain else ""


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Logging in ---------------------------------------------------------------------------------


def test_first_login_creates_the_person_with_the_claimed_agency_and_lands_on_its_tasks(
    client, sso, agencies, make_task
):
    ours = make_task(title="Số hóa hồ sơ một cửa Hải Hậu")
    make_task(title="Nhiệm vụ của Giao Thủy", lead_agency=agencies["giaothuy"])
    sso.add_account(
        "nguyenvana",
        PASSWORD,
        email="nguyenvana@haihau.namdinh.gov.vn",
        given_name="An",
        family_name="Nguyễn Văn",
        agency="UBND_HAIHAU",
        role="officer",
    )

    response = sso_login(client, sso, "nguyenvana")

    assert landed_on(response) == reverse("tasks_app:task-list")
    page = response.content.decode()
    assert ours.title in page
    assert "Nhiệm vụ của Giao Thủy" not in page
    person = get_user_model().objects.get(username="nguyenvana")
    assert (person.first_name, person.last_name) == ("An", "Nguyễn Văn")
    assert person.email == "nguyenvana@haihau.namdinh.gov.vn"
    assert not person.has_usable_password()  # the provider checks who they are
    membership = Membership.objects.get(user=person)
    assert (membership.agency, membership.role) == (agencies["haihau"], Role.OFFICER)
    assert membership.valid_from == timezone.localdate()
    assert is_logged_in(client)


def test_a_local_account_is_matched_by_user_name_and_keeps_its_membership(
    client, sso, officer, make_task
):
    task = make_task(title="Nhiệm vụ của cán bộ đã có tài khoản")
    sso.add_account("officer", PASSWORD)  # the provider sends no agency: the local one stands
    users_before = get_user_model().objects.count()

    response = sso_login(client, sso, "officer")

    assert landed_on(response) == reverse("tasks_app:task-list")
    assert task.title in response.content.decode()
    assert int(client.session["_auth_user_id"]) == officer.pk
    assert get_user_model().objects.count() == users_before
    assert list(Membership.objects.filter(user=officer).values_list("role", flat=True)) == [
        Role.OFFICER
    ]


def test_matching_by_email_finds_the_account_whatever_its_user_name(client, sso, settings, officer):
    settings.OIDC_USERNAME_CLAIM = "email"
    settings.OIDC_MATCH_FIELD = "email"
    officer.email = "Officer@HaiHau.gov.vn"
    officer.save()
    sso.add_account("cb.haihau", PASSWORD, email="officer@haihau.gov.vn")

    response = sso_login(client, sso, "cb.haihau")

    assert landed_on(response) == reverse("tasks_app:task-list")
    assert int(client.session["_auth_user_id"]) == officer.pk


def test_the_next_page_asked_before_login_is_where_the_person_lands(client, sso, officer, task):
    sso.add_account("officer", PASSWORD)
    detail = reverse("tasks_app:task-detail", args=[task.pk])

    response = sso_login(client, sso, "officer", next_url=detail)

    assert landed_on(response) == detail
    assert response.status_code == 200


def test_without_claims_the_person_waits_until_an_admin_gives_an_agency(
    client, sso, agencies, make_task
):
    task = make_task(title="Nhiệm vụ chờ người mới")
    sso.add_account("nguoimoi", PASSWORD)

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 200
    assert WAITING in response.content.decode()
    assert "nguoimoi" in response.content.decode()  # the name to give the administrator
    # The task list says the same instead of an empty list.
    listing = client.get(reverse("tasks_app:task-list"))
    assert WAITING in listing.content.decode()
    assert task.title not in listing.content.decode()
    assert WAITING in client.get(reverse("reports:dashboard")).content.decode()
    assert "Đổi mật khẩu" not in listing.content.decode()  # no password to change here

    # The administrator gives the agency; the next login lands on its tasks.
    person = get_user_model().objects.get(username="nguoimoi")
    MembershipFactory(user=person, agency=agencies["haihau"], role=Role.OFFICER)
    client.post(reverse("logout"))
    response = sso_login(client, sso, "nguoimoi")

    assert landed_on(response) == reverse("tasks_app:task-list")
    assert task.title in response.content.decode()


@pytest.mark.parametrize(
    "claims",
    [
        {"agency": "KHONG_TON_TAI", "role": "officer"},
        {"agency": "UBND_HAIHAU", "role": "quan_tri_vien"},
        {"agency": "UBND_GIAOTHUY", "role": "manager"},  # ended yesterday
        {"role": "monitor"},
    ],
    ids=["unknown-agency", "unknown-role", "ended-agency", "role-without-agency"],
)
def test_claims_naming_no_usable_membership_give_none_and_the_waiting_page(
    client, sso, agencies, claims
):
    agencies["giaothuy"].valid_to = timezone.localdate() - datetime.timedelta(days=1)
    agencies["giaothuy"].save()
    sso.add_account("nguoimoi", PASSWORD, **claims)

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 200
    assert WAITING in response.content.decode()
    assert not Membership.objects.filter(user__username="nguoimoi").exists()


def test_a_monitor_named_by_the_claims_sees_the_whole_plan(client, sso, agencies, make_task):
    make_task(title="Nhiệm vụ của Giao Thủy", lead_agency=agencies["giaothuy"])
    sso.add_account("theodoi", PASSWORD, agency="STTTT", role="monitor")

    response = sso_login(client, sso, "theodoi")

    assert landed_on(response) == reverse("tasks_app:task-list")
    assert "Nhiệm vụ của Giao Thủy" in response.content.decode()


def test_the_discovery_document_is_read_once_per_process(client, sso, officer):
    sso.add_account("officer", PASSWORD)

    sso_login(client, sso, "officer")
    client.post(reverse("logout"))
    sso_login(client, sso, "officer")

    assert sso.hits["/.well-known/openid-configuration"] == 1
    assert sso.hits["/token"] == 2


# --- Passwords and logging out -------------------------------------------------------------------


def test_the_login_page_keeps_the_password_form_and_offers_single_sign_on(client, sso):
    page = client.get(reverse("login")).content.decode()

    assert 'name="password"' in page
    assert SSO_BUTTON in page
    assert reverse("oidc_authentication_init") in page


def test_a_password_login_still_works_with_single_sign_on_on(client, sso, officer):
    UserFactory(username="admin", password="admin-pass-123", is_superuser=True, is_staff=True)

    response = client.post(
        reverse("login"), {"username": "admin", "password": "admin-pass-123"}, follow=True
    )

    assert landed_on(response) == reverse("tasks_app:task-list")
    assert is_logged_in(client)
    client.post(reverse("logout"))
    assert client.get(reverse("admin:index")).status_code == 302  # anonymous again


def test_logging_out_ends_the_session_here_and_at_the_provider(client, sso, officer):
    sso.add_account("officer", PASSWORD)
    sso_login(client, sso, "officer")
    id_token = client.session["oidc_id_token"]

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    goes_to = urlsplit(response["Location"])
    assert f"{goes_to.scheme}://{goes_to.netloc}{goes_to.path}" == f"{sso.issuer}/logout"
    params = {k: v[0] for k, v in parse_qs(goes_to.query).items()}
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://testserver" + reverse("login")
    # The provider ends its session and sends the person back to our login page.
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.headers["Location"] == params["post_logout_redirect_uri"]
    assert not is_logged_in(client)
    later = client.get(reverse("tasks_app:task-list"))
    assert later.status_code == 302
    assert later["Location"].startswith(reverse("login"))


def test_a_password_login_logs_out_without_visiting_the_provider(client, sso, officer):
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post(reverse("logout"))

    assert response["Location"] == reverse("login")
    assert sso.logouts == []
    assert not is_logged_in(client)


# --- Refusals ------------------------------------------------------------------------------------


def test_a_state_this_browser_did_not_start_is_refused_and_nothing_is_created(client, sso):
    sso.add_account("nguoimoi", PASSWORD, agency="UBND_HAIHAU", role="officer")
    callback = provider_answer(client, sso, "nguoimoi")
    path, query = callback.split("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["state"] = "trang-thai-gia-mao"

    response = client.get(path, params)

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not get_user_model().objects.filter(username="nguoimoi").exists()
    assert not is_logged_in(client)


def test_a_callback_in_another_browser_is_refused(client, sso, django_user_model):
    sso.add_account("nguoimoi", PASSWORD)
    callback = provider_answer(client, sso, "nguoimoi")

    response = Client().get(callback)

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not django_user_model.objects.filter(username="nguoimoi").exists()


def test_an_id_token_signed_by_another_key_is_refused_and_nothing_is_created(client, sso):
    sso.sign_with = make_key(sso.key.kid)  # same key id, another key: a forged token
    sso.add_account("nguoimoi", PASSWORD, agency="UBND_HAIHAU", role="officer")

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not get_user_model().objects.filter(username="nguoimoi").exists()
    assert not Membership.objects.exists()
    assert not is_logged_in(client)


def test_an_id_token_issued_for_another_application_is_refused(client, sso):
    sso.audience = "ung-dung-khac"
    sso.add_account("nguoimoi", PASSWORD)

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not get_user_model().objects.filter(username="nguoimoi").exists()


def test_the_superuser_account_cannot_be_taken_through_the_provider(client, sso):
    UserFactory(username="admin", is_superuser=True, is_staff=True)
    sso.add_account("admin", PASSWORD, agency="STTTT", role="monitor")

    response = sso_login(client, sso, "admin")

    assert response.status_code == 403
    assert "chỉ đăng nhập bằng mật khẩu" in response.content.decode()
    assert not is_logged_in(client)
    assert not Membership.objects.exists()


def test_a_provider_that_does_not_send_the_name_claim_is_refused(client, sso, settings):
    settings.OIDC_USERNAME_CLAIM = "upn"  # not among the provider's claims
    sso.add_account("nguoimoi", PASSWORD)

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 400
    assert "không gửi tên đăng nhập" in response.content.decode()
    assert not get_user_model().objects.filter(username="nguoimoi").exists()


def test_a_disabled_account_is_told_so(client, sso, officer):
    officer.is_active = False
    officer.save()
    sso.add_account("officer", PASSWORD)

    response = sso_login(client, sso, "officer")

    assert response.status_code == 403
    assert "bị khóa" in response.content.decode()
    assert not is_logged_in(client)


def test_without_account_creation_an_unknown_person_is_told_to_ask(client, sso, settings):
    settings.OIDC_CREATE_USER = False
    sso.add_account("nguoimoi", PASSWORD)

    response = sso_login(client, sso, "nguoimoi")

    assert response.status_code == 403
    assert "chưa có tài khoản" in response.content.decode()
    assert not get_user_model().objects.filter(username="nguoimoi").exists()


def test_a_login_the_provider_refused_says_what_it_answered(client, sso):
    response = client.get(
        reverse("oidc_authentication_callback"), {"error": "access_denied", "state": "x"}
    )

    assert response.status_code == 400
    assert "không cho phép đăng nhập (phản hồi: access_denied)" in response.content.decode()
    assert not is_logged_in(client)


def test_an_unreachable_provider_is_a_clear_page(client, sso):
    sso.stop()

    response = client.get(reverse("oidc_authentication_init"))

    assert response.status_code == 502
    assert "không phản hồi" in response.content.decode()


def test_single_sign_on_is_off_without_a_client_id(client, db):
    assert SSO_BUTTON not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


# --- Working with the login lockout (django-axes) ---------------------------------------------


def test_a_locked_out_address_cannot_log_in_through_the_provider_either(client, sso, officer):
    sso.add_account("officer", PASSWORD)
    for _ in range(5):
        client.post(reverse("login"), {"username": "officer", "password": "sai"})

    response = sso_login(client, sso, "officer")

    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.content.decode()
    assert not is_logged_in(client)


# --- Configuration (settings.py, read in a fresh process) -------------------------------------

SHOW_SSO = """
import json
from django.conf import settings as s
print(json.dumps({
    "backends": s.AUTHENTICATION_BACKENDS,
    "form_action": s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"],
}))
"""
BASE_ENV = {"DEBUG": "true", "SECRET_KEY": "x" * 50}


def test_settings_add_the_providers_origin_to_form_action_for_its_logout():
    result = run_python(
        SHOW_SSO,
        **BASE_ENV,
        OIDC_RP_CLIENT_ID="plan-tracker",
        OIDC_RP_CLIENT_SECRET="bi-mat",
        OIDC_OP_ISSUER="https://sso.ninhbinh.gov.vn/realms/ninhbinh",
    )

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["form_action"] == ["'self'", "https://sso.ninhbinh.gov.vn"]
    assert shown["backends"][-1] == "plan_tracker.oidc.SsoBackend"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_OP_ISSUER": "https://sso.example"}, "OIDC_RP_CLIENT_SECRET is required"),
        ({"OIDC_RP_CLIENT_SECRET": "bi-mat"}, "Single sign-on needs OIDC_OP_ISSUER"),
        (
            {"OIDC_RP_CLIENT_SECRET": "b", "OIDC_OP_ISSUER": "https://s", "OIDC_MATCH_FIELD": "x"},
            "OIDC_MATCH_FIELD must be username or email",
        ),
    ],
    ids=["no-secret", "no-provider", "bad-match-field"],
)
def test_settings_refuse_an_incomplete_single_sign_on_configuration(env, message):
    result = run_python(SHOW_SSO, **BASE_ENV, OIDC_RP_CLIENT_ID="plan-tracker", **env)

    assert result.returncode != 0
    assert message in result.stderr
