"""The report's page and its steps, on the pages (/reports/<id>/…) and in the API
(/api/v1/reports/<id>/<step>/): who may take each step, what a refused step says, and that
a step sent from a stale page changes nothing. The services' rules are tested in
test_issuing.py; the layout of the PDF in test_pdf.py."""

import datetime

import pytest
from rest_framework.test import APIClient

from reports.models import MonthlyReport, ReportRevision, ReportStage
from reports.services import monthly_report_generate

# The fast stand-in for WeasyPrint lives in test_pdf.py.
from tests.reports.test_pdf import fake_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

D = datetime.date
JUNE = D(2022, 6, 1)


@pytest.fixture(autouse=True)
def _english(client, settings):
    # The assertions read the English message ids.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def draft(make_task, fake_pdf):  # noqa: F811
    make_task(code="T-1", title="Triển khai phần mềm một cửa", due=D(2022, 6, 15))
    report = monthly_report_generate(plan=make_task(code="T-2").plan, period=JUNE)
    assert report.stage == ReportStage.DRAFT and report.pdf
    return report


def _post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def test_the_page_shows_the_draft_and_the_steps_each_person_may_take(
    client, draft, monitor, leader, manager
):
    client.force_login(monitor)
    page = client.get(f"/reports/{draft.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="action-edit"' in html and 'id="action-approve"' not in html
    assert "Drafted" in html
    client.force_login(leader)
    html = client.get(f"/reports/{draft.pk}/").content.decode()
    assert 'id="action-approve"' in html and 'id="action-edit"' not in html
    # The whole plan's report is hidden from an agency's manager.
    client.force_login(manager)
    assert client.get(f"/reports/{draft.pk}/").status_code == 404


def test_the_path_on_the_pages(
    client,
    draft,
    monitor,
    leader,
    mailoutbox,
    fake_pdf,  # noqa: F811
    eager,
    django_capture_on_commit_callbacks,
):
    edit = f"/reports/{draft.pk}/edit/"
    client.force_login(monitor)
    form = client.get(edit).context["form"]
    data = {**form.initial, "assessment": "Các cơ quan đã hoàn thành tốt nhiệm vụ tháng 6."}
    data["recipients"] = "lanhdao@example.vn\nsotttt@example.vn"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.assessment == "Các cơ quan đã hoàn thành tốt nhiệm vụ tháng 6."
    # The prefilled text is kept as version 1, and the draft was rendered again with the
    # new text.
    assert ReportRevision.objects.get(report=draft).version == 1
    assert draft.version == 2 and draft.status == "ready"
    assert "Các cơ quan đã hoàn thành tốt nhiệm vụ tháng 6." in fake_pdf[-1]
    assert "DỰ THẢO" in fake_pdf[-1]

    # A form read before that save is refused and changes nothing.
    stale = client.post(edit, {**data, "version": 1, "assessment": "Cũ"})
    assert stale.status_code == 400
    assert "Someone else changed this report meanwhile" in stale.content.decode()
    assert MonthlyReport.objects.get(pk=draft.pk).assessment.startswith("Các cơ quan")

    # The monitor may not approve; the leader does.
    assert (
        _post(client, monitor, f"/reports/{draft.pk}/approve/", {"version": 2}).status_code == 403
    )
    assert _post(client, leader, f"/reports/{draft.pk}/approve/", {"version": 2}).status_code == 302

    # Issue as number 37: a date before the approval is refused on the form.
    client.force_login(monitor)
    issue = f"/reports/{draft.pk}/issue/"
    refused = client.post(issue, {"version": 3, "number": 37, "date": "2022-07-01"})
    assert refused.status_code == 400
    assert "earlier than the approval" in refused.content.decode()
    assert client.post(issue, {"version": 3, "number": 37}).status_code == 302
    draft.refresh_from_db()
    assert (draft.stage, draft.number) == (ReportStage.ISSUED, 37)
    assert "37/BC" in client.get(f"/reports/{draft.pk}/").content.decode()
    # Issuing again is refused.
    again = client.post(issue, {"version": draft.version, "number": 38})
    assert again.status_code == 400 and MonthlyReport.objects.get(pk=draft.pk).number == 37

    # Sent once, to the recipients typed on the draft.
    send = f"/reports/{draft.pk}/send/"
    assert "lanhdao@example.vn" in client.get(send).content.decode()
    assert client.post(send, {"version": draft.version}).status_code == 302
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["lanhdao@example.vn", "sotttt@example.vn"]
    draft.refresh_from_db()
    assert client.post(send, {"version": draft.version}).status_code == 400
    assert len(mailoutbox) == 1
    assert draft.stage == ReportStage.SENT


def test_a_bad_address_is_refused_on_the_form(client, draft, monitor):
    client.force_login(monitor)
    form = client.get(f"/reports/{draft.pk}/edit/").context["form"]
    response = client.post(
        f"/reports/{draft.pk}/edit/", {**form.initial, "recipients": "khong-phai-email"}
    )
    assert response.status_code == 400
    assert "Not an e-mail address: khong-phai-email" in response.content.decode()
    assert MonthlyReport.objects.get(pk=draft.pk).version == draft.version


# --- The API ------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def test_the_api_offers_each_step_and_reads_the_stage(
    api, draft, monitor, leader, manager, mailoutbox, eager, django_capture_on_commit_callbacks
):
    url = f"/api/v1/reports/{draft.pk}"
    api.force_authenticate(monitor)
    assert api.get(f"{url}/").json()["status"] == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        saved = api.post(
            f"{url}/narrative/",
            {"version": 1, "next_focus": "Tập trung triển khai IOC."},
            format="json",
        )
    assert saved.status_code == 200 and saved.json()["version"] == 2
    # Stale: 409 with the report as it is now.
    conflict = api.post(f"{url}/narrative/", {"version": 1, "assessment": "x"}, format="json")
    assert conflict.status_code == 409 and conflict.json()["current"]["version"] == 2
    # Not the monitor's step; and not a step before approval.
    assert api.post(f"{url}/approve/", {}, format="json").status_code == 403
    assert api.post(f"{url}/issue/", {"number": 37}, format="json").status_code == 409

    api.force_authenticate(leader)
    approved = api.post(f"{url}/approve/", {"version": 2}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    api.force_authenticate(monitor)
    bad = api.post(f"{url}/issue/", {"number": 0, "date": "hôm nay"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"number", "date"}
    issued = api.post(f"{url}/issue/", {"number": 37}, format="json")
    assert issued.status_code == 200
    body = issued.json()
    assert (body["status"], body["number"], body["document_number"]) == ("issued", 37, "37/BC")
    assert [step["step"] for step in body["steps"]] == ["drafted", "edited", "approved", "issued"]
    assert api.post(f"{url}/issue/", {}, format="json").status_code == 409

    sent = api.post(f"{url}/send/", {}, format="json")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert api.post(f"{url}/send/", {}, format="json").status_code == 409
    assert len(mailoutbox) == 1

    # A correction is a new draft naming the report it replaces.
    with django_capture_on_commit_callbacks(execute=True):
        corrected = api.post(f"{url}/correct/", {}, format="json")
    assert corrected.status_code == 201
    assert (corrected.json()["status"], corrected.json()["replaces"]) == ("draft", draft.pk)

    api.force_authenticate(manager)
    assert api.post(f"{url}/approve/", {}, format="json").status_code == 404


def test_the_archive_shows_each_reports_last_step_in_a_fixed_number_of_queries(
    client, plan, agencies, monitor, leader, django_assert_max_num_queries
):
    scopes = [None, agencies["haihau"], agencies["giaothuy"], agencies["haitrung"]]
    for month in range(1, 7):
        for scope in scopes:
            MonthlyReport.objects.create(
                plan=plan,
                period=D(2022, month, 1),
                scope=scope,
                issuer=scope or agencies["stttt"],
                stage=ReportStage.APPROVED,
                drafted_by=monitor,
                approved_by=leader,
                approved_at=datetime.datetime(2022, month + 1, 3, 2, tzinfo=datetime.UTC),
            )
    client.force_login(monitor)
    # Session, user, memberships; the page frame's three badges and its menu; the count and
    # the page of 24 reports with their people; the drafting form's plans and agencies.
    # None of it grows with the number of reports.
    with django_assert_max_num_queries(11):
        response = client.get("/reports/")
    html = response.content.decode()
    assert html.count('class="small text-body-secondary last-step"') == 24
    assert "Approved 03/07/2022" in html
