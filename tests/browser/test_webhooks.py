"""The webhook pages in a real browser: a monitor registers an endpoint from the menu, a
change reaches a real receiver on 127.0.0.1, and the deliveries log sends it again."""

import json

import pytest
from playwright.sync_api import Page, expect

from tasks_app import services
from tasks_app.choices import Role
from tests.browser.conftest import person
from tests.webhooks.conftest import Receiver
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    made = Receiver().start()
    yield made
    made.stop()


def test_a_monitor_registers_an_endpoint_and_redelivers_from_the_log(
    page: Page, live_server, login, agencies, make_task, receiver, eager, screenshots_dir
):
    person("sotttt", "Minh", "Nguyễn Văn", agencies["stttt"], Role.MONITOR)
    task = make_task(code="CQS-01", title="Kết nối LGSP")
    login("sotttt")

    page.click("#main-nav a[href='/webhooks/']")
    page.click("a[href='/webhooks/new/']")
    page.fill("#id_name", "LGSP Nam Định")
    page.fill("#id_url", receiver.url)
    page.select_option("#id_agency", value=str(agencies["haihau"].pk))
    page.check("input[name=events][value='task.changed']")
    page.click("form.endpoint-form button[type=submit]")

    endpoint = Endpoint.objects.get()
    expect(page).to_have_url(f"{live_server.url}/webhooks/{endpoint.pk}/")
    page.click("details summary")
    expect(page.locator("#endpoint-secret")).to_have_text(endpoint.secret)

    services.task_update_fields(task=task, expected_version=None, title="Kết nối LGSP tỉnh")
    assert len(receiver.received) == 1
    page.reload()
    row = page.locator("#webhook-deliveries tr.delivery-row")
    expect(row).to_have_count(1)
    expect(row.locator(".delivery-attempts li")).to_have_count(1)
    expect(row).to_contain_text("HTTP 200")

    row.locator("button[type=submit]").click()
    expect(page.locator("#webhook-deliveries .delivery-attempts li")).to_have_count(2)
    assert len(receiver.received) == 2
    page.screenshot(path=str(screenshots_dir / "webhook_deliveries_1280.png"), full_page=True)
    first, again = (json.loads(r["body"]) for r in receiver.received)
    assert first["id"] == again["id"] == str(Delivery.objects.get().delivery_id)
    assert again["data"]["task"]["title"] == "Kết nối LGSP tỉnh"
