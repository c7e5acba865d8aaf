"""The API tokens page (issue 16) in a real browser (Debian's chromium, headless): reached
from the user menu, it makes a named token and shows it once with a copy button; the token
works against the API; revoking asks first, and the token is refused afterwards. No CSP
violation or script error."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_haihau_makes_copies_uses_and_revokes_a_token(
    page: Page, playwright, live_server, login, demo, screenshots_dir, problems
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login("haihau")

    page.click("header .dropdown-toggle")
    page.click("header .dropdown-menu a[href='/accounts/tokens/']")
    page.wait_for_url(f"{live_server.url}/accounts/tokens/")
    expect(page.locator("h1")).to_have_text("Token API")
    expect(page.locator("main")).to_contain_text("Bạn chưa có token API nào.")

    # A blank name is refused in Vietnamese and makes nothing.
    page.fill("#id_name", "")
    page.click("main form button[type=submit]")
    expect(page.locator(".field-name .invalid-feedback")).to_contain_text("bắt buộc")
    expect(page.locator("[data-testid=new-token]")).to_have_count(0)

    page.fill("#id_name", "Kết nối LGSP")
    page.fill("#id_days", "30")
    page.click("main form button[type=submit]")
    shown = page.locator("[data-testid=new-token]")
    expect(shown).to_contain_text("sẽ không hiển thị lại")
    secret = page.locator("#new-token-value").input_value()
    page.click("button[data-copy-target='new-token-value']")
    expect(page.locator("[data-copy-status='new-token-value']")).to_have_text("Đã sao chép.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.screenshot(path=str(screenshots_dir / "api_tokens_1280.png"), full_page=True)

    # A client of its own, without the browser's session: only the token authenticates it.
    api = playwright.request.new_context(base_url=live_server.url)
    headers = {"Authorization": f"Token {secret}"}
    assert api.get("/api/v1/me/").status == 401
    me = api.get("/api/v1/me/", headers=headers)
    assert me.status == 200 and me.json()["username"] == "haihau"

    # Listed with its name; the secret is not on the page any more once reloaded.
    page.goto(f"{live_server.url}/accounts/tokens/")
    row = page.locator("main tbody tr", has_text="Kết nối LGSP")
    expect(row).to_contain_text("Còn hiệu lực")
    assert secret not in page.content()

    # Revoking asks first; going back keeps the token.
    row.get_by_role("link", name="Thu hồi").click()
    expect(page.locator("main .alert-danger")).to_contain_text("Bạn có chắc muốn thu hồi")
    page.get_by_role("link", name="Không, quay lại").click()
    expect(page.locator("main tbody tr", has_text="Kết nối LGSP")).to_have_count(1)

    page.locator("main tbody tr", has_text="Kết nối LGSP").get_by_role(
        "link", name="Thu hồi"
    ).click()
    page.get_by_role("button", name="Có, thu hồi").click()
    page.wait_for_url(f"{live_server.url}/accounts/tokens/")
    expect(page.locator(".alert-success")).to_contain_text("đã bị thu hồi")
    assert api.get("/api/v1/me/", headers=headers).status == 401
    api.dispose()
    assert problems == []
