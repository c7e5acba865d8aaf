"""Who sees, downloads and regenerates monthly reports: the archive page (/reports/) and the
API (/api/v1/reports/). Hidden reports answer 404, refused actions 403."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from reports.models import MonthlyReport, ReportStage, ReportStatus

D = datetime.date
JUNE = D(2022, 6, 1)
pytestmark = pytest.mark.django_db


def _stored(plan, scope=None, number=1) -> MonthlyReport:
    """A report with its files: issued (number 1 by default), or a draft (number None)."""
    report = MonthlyReport.objects.create(
        plan=plan,
        period=JUNE,
        scope=scope,
        issuer=scope or plan.monitor_agency,
        issued_on=D(2022, 7, 1) if number else None,
        year=2022 if number else None,
        number=number,
        stage=ReportStage.ISSUED if number else ReportStage.DRAFT,
        status=ReportStatus.READY,
    )
    tag = scope.code if scope else "province"
    report.pdf.name = default_storage.save(
        f"reports/t/{tag}.pdf", ContentFile(b"%PDF-1.7 " + tag.encode())
    )
    report.xlsx.name = default_storage.save(f"reports/t/{tag}.xlsx", ContentFile(b"PK xlsx"))
    report.save()
    return report


@pytest.fixture
def reports(plan, agencies):
    return {
        "province": _stored(plan),
        "haihau": _stored(plan, agencies["haihau"]),
        "giaothuy": _stored(plan, agencies["giaothuy"]),
    }


@pytest.fixture
def queued(monkeypatch):
    """The regeneration tasks sent (after the commit), instead of a worker."""
    sent = []
    monkeypatch.setattr(
        "reports.tasks.monthly_report_regenerate_task.delay", lambda pk: sent.append(pk)
    )
    return sent


def _listed(client, user) -> set[int]:
    client.force_login(user)
    response = client.get("/reports/")
    assert response.status_code == 200
    return {row["report"].pk for row in response.context["rows"]}


# --- The page ---------------------------------------------------------------------------------


def test_the_archive_needs_a_login(client, reports):
    response = client.get("/reports/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get(f"/reports/{reports['province'].pk}/pdf/").status_code == 302


def test_monitors_and_leaders_see_every_report(client, reports, monitor, leader):
    everything = {r.pk for r in reports.values()}
    assert _listed(client, monitor) == everything
    assert _listed(client, leader) == everything


def test_agency_staff_see_the_reports_of_their_subtree_only(
    client, reports, manager, officer, commune_manager, outsider
):
    assert _listed(client, manager) == {reports["haihau"].pk}
    assert _listed(client, officer) == {reports["haihau"].pk}
    assert _listed(client, outsider) == {reports["giaothuy"].pk}
    # A commune sees neither its district's report nor the province's.
    assert _listed(client, commune_manager) == set()


def test_downloads_stream_the_stored_files(client, reports, manager):
    client.force_login(manager)
    response = client.get(f"/reports/{reports['haihau'].pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 UBND_HAIHAU"
    assert "bao-cao-cds-2022-06-ubnd_haihau" in response["Content-Disposition"]
    xlsx = client.get(f"/reports/{reports['haihau'].pk}/xlsx/")
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"].startswith("attachment;")


def test_an_outsider_gets_404_for_a_hidden_report(client, reports, outsider, manager):
    client.force_login(outsider)
    for pk in (reports["haihau"].pk, reports["province"].pk, 999999, "x"):
        assert client.get(f"/reports/{pk}/pdf/").status_code == 404
        assert client.get(f"/reports/{pk}/xlsx/").status_code == 404
        assert client.get(f"/reports/{pk}/regenerate/").status_code == 404
        assert client.post(f"/reports/{pk}/regenerate/").status_code == 404
    client.force_login(manager)
    assert client.get(f"/reports/{reports['province'].pk}/pdf/").status_code == 404


def _to_draft(report: MonthlyReport) -> MonthlyReport:
    MonthlyReport.objects.filter(pk=report.pk).update(
        stage=ReportStage.DRAFT, number=None, year=None, issued_on=None
    )
    report.refresh_from_db()
    return report


def test_a_manager_renders_again_only_the_drafts_of_the_agency(
    client, reports, manager, queued, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    # An issued report's files are final: the page says so and nothing is queued.
    url = f"/reports/{reports['haihau'].pk}/regenerate/"
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == f"/reports/{reports['haihau'].pk}/"
    assert any("đính chính" in str(m) for m in response.context["messages"])
    # Another agency's report is hidden.
    assert client.post(f"/reports/{reports['giaothuy'].pk}/regenerate/").status_code == 404
    # The whole plan's report is the monitoring agency's: the form wants the agency.
    client.post("/reports/new/", {"plan": reports["haihau"].plan.pk, "month": "2022-05"})
    assert not MonthlyReport.objects.filter(period=D(2022, 5, 1)).exists()
    assert queued == []
    # The agency's own draft is rendered again.
    _to_draft(reports["haihau"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert queued == [reports["haihau"].pk]


def test_a_manager_drafts_the_report_of_the_agency(
    client, plan, manager, agencies, queued, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/new/", {"plan": plan.pk, "month": "2022-05", "scope": agencies["haihau"].pk}
        )
    report = MonthlyReport.objects.get(period=D(2022, 5, 1))
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert (report.scope, report.stage, report.drafted_by) == (
        agencies["haihau"],
        ReportStage.DRAFT,
        manager,
    )
    assert queued == [report.pk]
    # Not another agency's.
    client.post(
        "/reports/new/", {"plan": plan.pk, "month": "2022-04", "scope": agencies["giaothuy"].pk}
    )
    assert not MonthlyReport.objects.filter(period=D(2022, 4, 1)).exists()


def test_a_monitor_confirms_then_regenerates_in_the_background(
    client, reports, monitor, queued, django_capture_on_commit_callbacks
):
    client.force_login(monitor)
    _to_draft(reports["province"])
    url = f"/reports/{reports['province'].pk}/regenerate/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert confirm.context["number"] == ""  # a draft has no number yet
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert queued == [reports["province"].pk]
    # Nothing changed yet: the current files stay served until the worker replaces them.
    assert (
        MonthlyReport.objects.get(pk=reports["province"].pk).pdf.name
        == reports["province"].pdf.name
    )


def test_a_monitor_asks_for_a_new_report(
    client, plan, monitor, agencies, queued, django_capture_on_commit_callbacks
):
    client.force_login(monitor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/reports/new/", {"plan": plan.pk, "month": "2022-05", "scope": agencies["haihau"].pk}
        )
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert (report.period, report.scope, report.status) == (
        D(2022, 5, 1),
        agencies["haihau"],
        "pending",
    )
    assert queued == [report.pk]
    # A malformed month or one not over yet is refused with a message.
    response = client.post("/reports/new/", {"plan": plan.pk, "month": "2022-13"}, follow=True)
    assert MonthlyReport.objects.count() == 1
    assert any("YYYY-MM" in str(m) for m in response.context["messages"])


def test_the_page_lists_numbers_and_buttons(client, reports, monitor, manager, outsider):
    client.force_login(monitor)
    html = client.get("/reports/").content.decode()
    # Issued reports: their page and files, no rendering again.
    assert f"/reports/{reports['province'].pk}/pdf/" in html
    assert f'href="/reports/{reports["province"].pk}/"' in html
    assert "01/BC" in html and "06/2022" in html
    assert "/regenerate/" not in html
    _to_draft(reports["province"])
    html = client.get("/reports/").content.decode()
    assert f"/reports/{reports['province'].pk}/regenerate/" in html
    # Agency staff draft their own agency's report.
    client.force_login(manager)
    html = client.get("/reports/").content.decode()
    assert "/reports/new/" in html
    assert "/regenerate/" not in html


# --- The API ------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def _ids(api, user) -> set[int]:
    api.force_authenticate(user)
    response = api.get("/api/v1/reports/")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_api_lists_what_the_user_may_see(api, reports, monitor, leader, manager, outsider):
    everything = {r.pk for r in reports.values()}
    assert _ids(api, monitor) == everything
    assert _ids(api, leader) == everything
    assert _ids(api, manager) == {reports["haihau"].pk}
    assert _ids(api, outsider) == {reports["giaothuy"].pk}


def test_api_detail_and_filters(api, reports, monitor):
    api.force_authenticate(monitor)
    data = api.get(f"/api/v1/reports/{reports['province'].pk}/").json()
    assert data["month"] == "06/2022"
    assert data["as_of"] == "2022-06-30"
    assert data["scope"] is None and data["scope_name"] is None
    assert data["document_number"] == "01/BC"
    assert data["pdf_url"].endswith(f"/api/v1/reports/{reports['province'].pk}/pdf/")
    only_province = api.get("/api/v1/reports/", {"province_wide": "true"}).json()
    assert [r["id"] for r in only_province["results"]] == [reports["province"].pk]


def test_api_hides_other_agencies_reports(api, reports, outsider):
    api.force_authenticate(outsider)
    for pk in (reports["haihau"].pk, reports["province"].pk, 999999, "x"):
        assert api.get(f"/api/v1/reports/{pk}/").status_code == 404
        assert api.get(f"/api/v1/reports/{pk}/pdf/").status_code == 404
        assert api.post(f"/api/v1/reports/{pk}/regenerate/").status_code == 404


def test_api_downloads_the_files(api, reports, manager):
    api.force_authenticate(manager)
    response = api.get(
        f"/api/v1/reports/{reports['haihau'].pk}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 UBND_HAIHAU"


def test_api_regenerate_is_for_the_drafting_agency(
    api, reports, manager, monitor, queued, django_capture_on_commit_callbacks
):
    api.force_authenticate(manager)
    # Issued: final files (409); another agency's: hidden (404).
    assert api.post(f"/api/v1/reports/{reports['haihau'].pk}/regenerate/").status_code == 409
    assert api.post(f"/api/v1/reports/{reports['giaothuy'].pk}/regenerate/").status_code == 404
    assert queued == []
    _to_draft(reports["haihau"])
    api.force_authenticate(monitor)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/reports/{reports['haihau'].pk}/regenerate/")
    assert response.status_code == 202
    assert response.json()["id"] == reports["haihau"].pk
    assert queued == [reports["haihau"].pk]


def test_api_needs_credentials(api, reports):
    assert api.get("/api/v1/reports/").status_code == 401


def test_the_schema_documents_the_report_endpoints_and_their_errors(api, monitor):
    api.force_authenticate(monitor)
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    import yaml

    paths = yaml.safe_load(schema.content)["paths"]
    regenerate = paths["/api/v1/reports/{id}/regenerate/"]["post"]["responses"]
    assert {"202", "403", "404"} <= set(regenerate)
    assert {"200", "404"} <= set(paths["/api/v1/reports/{id}/pdf/"]["get"]["responses"])
    assert "/api/v1/reports/" in paths
