"""API v1 writes on a task's history: status updates with evidence files, contributions,
the monitoring agency's decisions, deadline extensions, and evidence downloads.

Writes never lose data: a stale `version` answers 409 with the task as it is now and
writes nothing; invalid input answers 400 with messages per field, in Vietnamese unless
the client asks for English.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from tasks_app import services
from tasks_app.choices import ExtensionStatus, TaskState
from tasks_app.models import DeadlineExtension, Evidence, StatusUpdate
from tests.tasks_app.conftest import DOCX_BYTES, EXE_BYTES, PDF_BYTES, PNG_BYTES, upload

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(api_client, manager):
    """The Hải Hậu manager: staff of the lead agency of `task`."""
    return api_client(manager)


def updates_url(task):
    return f"/api/v1/tasks/{task.pk}/updates/"


# --- Status updates -----------------------------------------------------------------------------


def test_the_lead_agency_reports_progress_as_json(task, lead_client, manager):
    response = lead_client.post(
        updates_url(task),
        {
            "version": 1,
            "state": "in_progress",
            "progress": 50,
            "kpi_actual": "12.5",
            "difficulties": "Thiếu kinh phí",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["update"]["progress"] == 50
    assert body["update"]["author"]["username"] == "manager"
    assert body["update"]["agency"]["code"] == "UBND_HAIHAU"
    assert (body["task"]["progress"], body["task"]["version"]) == (50, 2)
    assert body["task"]["kpi_actual"] == "12.50"


def test_a_report_with_a_pdf_keeps_the_file_and_its_name(task, lead_client):
    response = lead_client.post(
        updates_url(task),
        {
            "version": 1,
            "state": "in_progress",
            "progress": 50,
            "files": [upload("Biên bản họp.pdf", PDF_BYTES, "application/x-anything")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    [evidence] = response.json()["update"]["evidence"]
    assert evidence["name"] == "Biên bản họp.pdf"
    # The type comes from the content, not from what the client declared.
    assert evidence["content_type"] == "application/pdf"
    assert evidence["size"] == len(PDF_BYTES)
    assert evidence["download_url"] == f"/api/v1/evidence/{evidence['id']}/download/"


def test_several_files_of_accepted_kinds_are_kept(task, lead_client):
    files = [
        upload("anh.png", PNG_BYTES, "image/png"),
        upload("bao-cao.docx", DOCX_BYTES, "application/octet-stream"),
    ]
    response = lead_client.post(
        updates_url(task),
        {"version": 1, "state": "in_progress", "progress": 30, "files": files},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    kinds = [e["content_type"] for e in response.json()["update"]["evidence"]]
    assert kinds == [
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]


def test_a_program_renamed_pdf_is_refused_with_a_clear_message_and_nothing_is_written(
    task, lead_client
):
    response = lead_client.post(
        updates_url(task),
        {
            "version": 1,
            "state": "in_progress",
            "progress": 50,
            "files": [upload("bao-cao.pdf", EXE_BYTES)],
        },
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    [message] = response.json()["files"]
    assert message.startswith("“bao-cao.pdf” is not an accepted file")
    assert StatusUpdate.objects.count() == 0
    assert Evidence.objects.count() == 0


@override_settings(EVIDENCE_MAX_MB=1)
def test_a_file_over_the_size_limit_is_refused(task, lead_client):
    big = PDF_BYTES + b"0" * (1024 * 1024)
    response = lead_client.post(
        updates_url(task),
        {"version": 1, "state": "in_progress", "progress": 5, "files": [upload("to.pdf", big)]},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json() == {"files": ["“to.pdf” is larger than 1 MB."]}


def test_a_status_update_with_a_stale_version_is_a_409_and_writes_nothing(
    task, lead_client, colleague
):
    # A colleague saved first: the task is now at version 2.
    services.status_update_record(task=task, author=colleague, state="in_progress", progress=40)
    response = lead_client.post(
        updates_url(task),
        {
            "version": 1,
            "state": "in_progress",
            "progress": 10,
            "files": [upload("a.pdf", PDF_BYTES)],
        },
        format="multipart",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["current"]["progress"] == 40
    assert body["current"]["version"] == 2
    assert StatusUpdate.objects.filter(task=task).count() == 1
    assert Evidence.objects.count() == 0


def test_a_completion_without_date_and_result_answers_a_message_per_field_in_vietnamese(
    task, lead_client
):
    response = lead_client.post(
        updates_url(task), {"version": 1, "state": "completed", "progress": 100}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"completed_on", "result"}


def test_validation_messages_are_vietnamese_by_default_and_english_on_request(task, lead_client):
    vietnamese = lead_client.post(updates_url(task), {"state": "in_progress"}, format="json")
    english = lead_client.post(
        updates_url(task), {"state": "in_progress"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert vietnamese.status_code == english.status_code == 400
    # A message Django's own catalog translates (and ours, identically)…
    assert vietnamese.json()["version"] == ["Trường này là bắt buộc."]
    assert english.json()["version"] == ["This field is required."]
    assert english["Content-Language"] == "en"
    assert vietnamese["Content-Language"] == "vi"


def test_a_message_of_the_services_follows_the_request_language(task, lead_client):
    """The English text is the message id; the Vietnamese one comes from our catalog
    (locale/vi/LC_MESSAGES/django.po), which the lead fills."""
    from django.utils import translation

    body = {"version": 1, "state": "in_progress", "progress": 150}
    english = lead_client.post(updates_url(task), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    vietnamese = lead_client.post(updates_url(task), body, format="json")
    assert english.json() == {"progress": ["Progress must be between 0 and 100%."]}
    with translation.override("vi"):
        expected = translation.gettext("Progress must be between 0 and 100%.")
    assert vietnamese.json() == {"progress": [expected]}
    if expected == "Progress must be between 0 and 100%.":
        pytest.skip("the Vietnamese catalog is not compiled: run `make compilemessages`")
    assert expected == "Tiến độ phải trong khoảng từ 0 đến 100%."


def test_a_refusal_of_ours_is_vietnamese_by_default(make_task, agencies, api_client, manager):
    from django.utils import translation

    task = make_task(code="ST", lead_agency=agencies["stttt"])
    task.coordinating_agencies.set([agencies["haihau"]])
    body = {"version": 1, "state": "in_progress", "progress": 5}
    response = api_client(manager).post(updates_url(task), body, format="json")
    assert response.status_code == 403
    english = "Only the lead agency of this task can report its progress."
    with translation.override("vi"):
        expected = translation.gettext(english)
    assert response.json() == {"detail": expected}
    if expected == english:
        pytest.skip("the Vietnamese catalog is not compiled: run `make compilemessages`")


def test_an_unknown_state_is_a_400(task, lead_client):
    response = lead_client.post(
        updates_url(task), {"version": 1, "state": "done", "progress": 5}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["state"]


def test_the_history_lists_updates_newest_first_with_their_evidence(task, lead_client, manager):
    services.status_update_record(task=task, author=manager, state="in_progress", progress=10)
    services.status_update_record(
        task=task,
        author=manager,
        state="in_progress",
        progress=20,
        evidence=[services.EvidenceUpload("x.pdf", "application/pdf", PDF_BYTES)],
    )
    rows = lead_client.get(updates_url(task)).json()["results"]
    assert [r["progress"] for r in rows] == [20, 10]
    assert [e["name"] for e in rows[0]["evidence"]] == ["x.pdf"]


# --- Contributions ------------------------------------------------------------------------------


def test_a_coordinating_agency_contributes_with_a_file(make_task, agencies, api_client, manager):
    task = make_task(code="ST", lead_agency=agencies["stttt"])
    task.coordinating_agencies.set([agencies["haihau"]])
    response = api_client(manager).post(
        f"/api/v1/tasks/{task.pk}/contributions/",
        {"result": "Đã cung cấp số liệu", "files": [upload("so-lieu.pdf", PDF_BYTES)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["update"]["kind"] == "contribution"
    assert body["update"]["agency"]["code"] == "UBND_HAIHAU"
    assert body["task"]["state"] == "not_started"


def test_an_empty_contribution_is_refused(make_task, agencies, api_client, manager):
    task = make_task(code="ST", lead_agency=agencies["stttt"])
    task.coordinating_agencies.set([agencies["haihau"]])
    response = api_client(manager).post(
        f"/api/v1/tasks/{task.pk}/contributions/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {"result": ["Describe the contribution or attach a file."]}


# --- Decisions of the monitoring agency -----------------------------------------------------------


def _report_completion(task, manager):
    return services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.AWAITING_CONFIRMATION,
        progress=100,
        completed_on=D(2022, 5, 20),
        result="Đã đưa vào vận hành",
    )


def test_the_monitor_confirms_a_reported_completion(task, manager, api_client, monitor):
    _report_completion(task, manager)
    response = api_client(monitor).post(
        f"/api/v1/tasks/{task.pk}/confirm/", {"version": 2, "note": "Đạt"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["task"]["state"], body["task"]["completed_on"]) == ("completed", "2022-05-20")
    assert body["update"]["kind"] == "confirmation"


def test_the_monitor_returns_a_completion_with_a_reason(task, manager, api_client, monitor):
    _report_completion(task, manager)
    client = api_client(monitor)
    missing = client.post(
        f"/api/v1/tasks/{task.pk}/return/", {"version": 2}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert missing.json() == {"reason": ["Give the reason for returning the task."]}
    response = client.post(
        f"/api/v1/tasks/{task.pk}/return/",
        {"version": 2, "reason": "Thiếu biên bản"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["task"]["state"] == "in_progress"


def test_a_stale_confirmation_is_a_409(task, manager, api_client, monitor):
    _report_completion(task, manager)
    response = api_client(monitor).post(
        f"/api/v1/tasks/{task.pk}/confirm/", {"version": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"]["state"] == "awaiting_confirmation"
    task.refresh_from_db()
    assert task.state == TaskState.AWAITING_CONFIRMATION


def test_the_monitor_withdraws_a_task_which_leaves_the_totals(task, api_client, monitor):
    client = api_client(monitor)
    response = client.post(
        f"/api/v1/tasks/{task.pk}/withdraw/",
        {"version": 1, "reason": "Không còn phù hợp"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["task"]["state"] == "withdrawn"
    summary = client.get("/api/v1/dashboard/summary/").json()
    assert summary["totals"]["withdrawn"] == 1
    assert summary["totals"]["total"] == 0


# --- Deadline extensions --------------------------------------------------------------------------


@pytest.fixture
def before_the_due_date():
    """20/06/2022 09:00, ten days before the test task's due date (30/06/2022): extensions
    may be asked for."""
    moment = datetime.datetime(2022, 6, 20, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    with time_machine.travel(moment, tick=False):
        yield


@pytest.mark.usefixtures("before_the_due_date")
def test_the_lead_agency_asks_for_more_time_and_the_monitor_approves(
    task, lead_client, api_client, monitor
):
    response = lead_client.post(
        f"/api/v1/tasks/{task.pk}/extensions/",
        {"proposed_due": "2022-09-30", "reason": "Chờ phân bổ kinh phí"},
        format="json",
    )
    assert response.status_code == 201, response.content
    extension = response.json()
    assert (extension["status"], extension["previous_due"]) == ("pending", "2022-06-30")
    assert extension["agency"]["code"] == "UBND_HAIHAU"
    listed = lead_client.get(f"/api/v1/tasks/{task.pk}/extensions/").json()["results"]
    assert [e["id"] for e in listed] == [extension["id"]]

    decided = api_client(monitor).post(
        f"/api/v1/extensions/{extension['id']}/approve/", {"note": "Đồng ý"}, format="json"
    )
    assert decided.status_code == 200
    assert decided.json()["decided_by"]["username"] == "monitor"
    task.refresh_from_db()
    assert (task.original_due, task.due) == (D(2022, 6, 30), D(2022, 9, 30))


@pytest.mark.usefixtures("before_the_due_date")
def test_a_second_request_while_one_waits_is_a_400(task, lead_client, manager):
    services.extension_request(
        task=task, requested_by=manager, proposed_due=D(2022, 8, 1), reason="a"
    )
    response = lead_client.post(
        f"/api/v1/tasks/{task.pk}/extensions/",
        {"proposed_due": "2022-09-30", "reason": "b"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json() == {"task": ["An extension request for this task is already waiting."]}


@pytest.mark.usefixtures("before_the_due_date")
def test_a_rejection_needs_a_note_and_a_decided_request_cannot_be_decided_again(
    task, manager, api_client, leader
):
    extension = services.extension_request(
        task=task, requested_by=manager, proposed_due=D(2022, 8, 1), reason="a"
    )
    client = api_client(leader, HTTP_ACCEPT_LANGUAGE="en")
    url = f"/api/v1/extensions/{extension.pk}/reject/"
    assert client.post(url, {}, format="json").json() == {
        "note": ["Give the reason for the rejection."]
    }
    assert client.post(url, {"note": "Không đủ căn cứ"}, format="json").status_code == 200
    again = client.post(f"/api/v1/extensions/{extension.pk}/approve/", {}, format="json")
    assert again.status_code == 400
    assert list(again.json()) == ["status"]
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REJECTED
    task.refresh_from_db()
    assert task.due == D(2022, 6, 30)


@pytest.mark.usefixtures("before_the_due_date")
def test_pending_requests_can_be_listed_for_a_decision(task, manager, api_client, monitor):
    services.extension_request(
        task=task, requested_by=manager, proposed_due=D(2022, 8, 1), reason="a"
    )
    rows = api_client(monitor).get("/api/v1/extensions/?status=pending").json()["results"]
    assert [r["task_code"] for r in rows] == [task.code]
    assert DeadlineExtension.objects.count() == 1


# --- Evidence downloads ---------------------------------------------------------------------------


@pytest.fixture
def evidence(task, manager):
    update = services.status_update_record(
        task=task,
        author=manager,
        state="in_progress",
        progress=20,
        evidence=[services.EvidenceUpload("Quyết định số 12.pdf", "application/pdf", PDF_BYTES)],
    )
    return update.evidence.get()


@pytest.mark.parametrize("who", ["manager", "commune_manager", "leader", "outsider", "anonymous"])
def test_evidence_downloads_only_for_those_who_see_the_task(who, evidence, api_client, request):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = api_client(user).get(f"/api/v1/evidence/{evidence.pk}/download/")
    expected = {"manager": 200, "leader": 200, "anonymous": 401}.get(who, 404)
    assert response.status_code == expected
    if expected == 200:
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=utf-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%2012.pdf" in (
            disposition
        )


def test_a_download_ignores_the_accept_header(evidence, api_client, manager):
    response = api_client(manager).get(
        f"/api/v1/evidence/{evidence.pk}/download/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_a_missing_stored_file_is_a_404(evidence, api_client, manager):
    evidence.file.delete(save=False)
    response = api_client(manager).get(f"/api/v1/evidence/{evidence.pk}/download/")
    assert response.status_code == 404
