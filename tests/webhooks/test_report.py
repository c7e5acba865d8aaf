"""The "report issued" event: sent when the văn thư issues a monthly report, to endpoints
whose scope covers the report."""

# ruff: noqa: F811

import datetime
import json

import pytest

from reports.issuing import report_approve, report_issue
from reports.services import monthly_report_generate
from tests.reports.test_issuing import _document_codes, november, plan_2026  # noqa: F401
from tests.reports.test_pdf import fake_pdf, vietnamese  # noqa: F401
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_issuing_a_report_sends_report_issued_to_the_endpoints_it_concerns(
    november, agencies, leader, monitor, manager, endpoint_for, receiver, fake_pdf, time_machine
):
    haihau = endpoint_for(receiver.url, name="Hải Hậu", agency=agencies["haihau"])
    giaothuy = endpoint_for(receiver.url, name="Giao Thủy", agency=agencies["giaothuy"])
    whole = endpoint_for(receiver.url, name="Tỉnh")
    report = monthly_report_generate(
        plan=november, period=datetime.date(2026, 11, 1), scope=agencies["haihau"]
    )
    approved = report_approve(report=report, user=leader)
    assert not Delivery.objects.filter(event="report.issued").exists()

    issued = report_issue(report=approved, user=monitor, number=12)

    sent = Delivery.objects.filter(event="report.issued")
    assert sorted(d.endpoint.name for d in sent) == sorted([haihau.name, whole.name])
    assert not sent.filter(endpoint=giaothuy).exists()
    body = json.loads(sent.get(endpoint=haihau).body)
    assert body["data"]["report"]["number"] == issued.number_label
    assert body["data"]["report"]["scope"]["code"] == "UBND_HAIHAU"
    assert body["data"]["report"]["period"] == "2026-11"
