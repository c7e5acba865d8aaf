"""Issue 17, done when: a person logs in through the tests' OpenID provider and lands on
their agency's tasks, in a real browser (the provider's login page included)."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import person

PASSWORD = "mat-khau-sso-1"


def test_a_person_logs_in_through_the_provider_and_lands_on_their_agency_tasks(
    page, live_server, sso, agencies, make_task
):
    ours = make_task(title="Triển khai hệ thống một cửa điện tử cấp xã")
    theirs = make_task(title="Nhiệm vụ riêng của Giao Thủy", lead_agency=agencies["giaothuy"])
    sso.add_account(
        "tranthib",
        PASSWORD,
        given_name="Bình",
        family_name="Trần Thị",
        agency="UBND_HAIHAU",
        role="manager",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Đăng nhập bằng tài khoản dùng chung (SSO)").click()
    # The provider's own login page.
    page.wait_for_url(re.compile(rf"^{re.escape(sso.issuer)}/authorize"))
    page.fill("#username", "tranthib")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")

    page.wait_for_url(f"{live_server.url}/tasks/")
    expect(page.get_by_text(ours.title)).to_be_visible()
    expect(page.get_by_text(theirs.title)).to_have_count(0)
    expect(page.get_by_role("navigation")).to_contain_text("Trần Thị Bình")

    # Logging out ends the session here and at the provider, and comes back to the login.
    page.get_by_role("button", name=re.compile("Trần Thị Bình")).click()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert len(sso.logouts) == 1
    page.goto(f"{live_server.url}/tasks/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/tasks/"))


def test_the_password_form_still_logs_in_a_local_account_with_sso_on(
    page, live_server, sso, agencies, login
):
    person("haihau", "Hậu", "Lê Văn", agencies["haihau"], "manager")

    login("haihau")

    expect(page).to_have_url(f"{live_server.url}/tasks/")
