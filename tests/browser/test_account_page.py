"""The account page (Tài khoản của tôi) and its calendar feed in a real browser (Debian's
chromium, headless): reached from the user menu, it shows the feed's URL, copies it with
the copy button, and makes a new URL only after the person confirms; the old URL then
answers 404 and the new one serves the calendar. No CSP violation or script error."""

import re

import pytest
from playwright.sync_api import Page, expect

from tasks_app.models import CalendarFeed

pytestmark = pytest.mark.django_db(transaction=True)


def test_haihau_copies_the_calendar_url_then_rotates_it_after_confirming(
    page: Page, live_server, login, demo, screenshots_dir, problems
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login("haihau")

    # The user menu leads to the account page.
    page.click("header .dropdown-toggle")
    page.click("header .dropdown-menu a[href='/accounts/me/']")
    page.wait_for_url(f"{live_server.url}/accounts/me/")
    expect(page.locator("h1")).to_have_text("Tài khoản của tôi")
    expect(page.locator("#account-person")).to_contain_text("Trần Văn Hậu")
    expect(page.locator("#account-memberships")).to_contain_text("Ủy ban nhân dân huyện Hải Hậu")

    url_field = page.locator("#calendar-url")
    old_url = url_field.input_value()
    token = CalendarFeed.objects.get(user=demo["haihau"]).token
    assert old_url == f"{live_server.url}/calendar/{token}.ics"
    feed = page.request.get(old_url)
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "CQDT-01" in feed.text()
    page.screenshot(path=str(screenshots_dir / "account_1280.png"), full_page=True)

    # The copy button puts the URL on the clipboard and says so.
    page.click("button[data-copy-target='calendar-url']")
    expect(page.locator("[data-copy-status='calendar-url']")).to_have_text("Đã sao chép.")
    assert page.evaluate("navigator.clipboard.readText()") == old_url

    # A new URL is made only once confirmed: cancelling changes nothing.
    page.click("a[href='/accounts/me/calendar/rotate/']")
    page.wait_for_url(f"{live_server.url}/accounts/me/calendar/rotate/")
    page.click("main a[href='/accounts/me/']")
    page.wait_for_url(f"{live_server.url}/accounts/me/")
    expect(url_field).to_have_value(old_url)

    page.click("a[href='/accounts/me/calendar/rotate/']")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/me/")
    expect(page.locator(".alert-success")).to_contain_text("đường dẫn mới")
    new_url = url_field.input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/calendar/[\w-]{{43}}\.ics", new_url)
    assert new_url != old_url
    assert page.request.get(old_url).status == 404
    assert page.request.get(new_url).status == 200
    assert problems == []
