"""The staff pages: every page renders for those who may see it, hidden tasks answer 404,
refused actions 403, anonymous visitors go to the login page; forms show the services'
errors beside the fields; a stale progress form is refused and shows the other change."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app import services
from tasks_app.choices import ExtensionStatus, TaskState, UpdateKind
from tasks_app.models import DeadlineExtension, Evidence, StatusUpdate, Task
from tests.factories import PriorityAreaFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
# 15/06/2022: the fixture task (due 30/06/2022) has 15 days left.
TODAY = datetime.datetime(2022, 6, 15, 9, 0, tzinfo=HCM)

PDF = b"%PDF-1.4\n% minutes of the meeting\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _english(client, settings):
    # The assertions read the English message ids, whatever the Vietnamese catalog holds;
    # test_login_page_renders_in_vietnamese checks the default language.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def pdf(name="bien-ban.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def url(name, *args):
    return reverse(f"tasks_app:{name}", args=args)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def tasks(make_task, agencies, area, plan):
    """Tasks around Hải Hậu: its own, its commune's, one it coordinates, Giao Thủy's."""
    health = PriorityAreaFactory(plan=plan, code="YTE", name="Chuyển đổi số y tế", order=2)
    district = make_task(
        code="HH-01", title="Triển khai hệ thống một cửa điện tử", due=datetime.date(2022, 6, 30)
    )
    commune = make_task(
        code="HT-01",
        title="Số hóa hồ sơ hộ tịch",
        lead_agency=agencies["haitrung"],
        due=datetime.date(2022, 5, 31),
    )
    coordinated = TaskFactory(
        code="ST-01",
        title="Xây dựng trung tâm điều hành đô thị thông minh",
        lead_agency=agencies["stttt"],
        priority_area=health,
        original_due=datetime.date(2022, 9, 30),
    )
    coordinated.coordinating_agencies.set([agencies["haihau"]])
    other = make_task(
        code="GT-01", title="Nhiệm vụ của Giao Thủy", lead_agency=agencies["giaothuy"]
    )
    regular = make_task(code="HH-02", title="Tuyên truyền chuyển đổi số", due=None)
    return {
        "district": district,
        "commune": commune,
        "coordinated": coordinated,
        "other": other,
        "regular": regular,
        "health": health,
    }


def listed_codes(response):
    return re.findall(r'<span class="task-code">([^<]+)</span>', response.content.decode())


# --- Anonymous visitors, login, start page ------------------------------------------------------


@pytest.mark.parametrize(
    "name,needs_pk",
    [
        ("start", False),
        ("task-list", False),
        ("task-detail", True),
        ("task-progress", True),
        ("task-contribute", True),
        ("task-review", True),
        ("task-withdraw", True),
        ("extension-request", True),
        ("extension-list", False),
        ("extension-decide", True),
        ("evidence-download", True),
    ],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, task, name, needs_pk):
    target = url(name, task.pk) if needs_pk else url(name)
    response = client.get(target)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=" in response.url


def test_login_page_renders_in_vietnamese_with_labels(client, settings):
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert '<label class="form-label" for="id_username">' in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html


def test_login_sends_a_manager_to_the_task_list(client, manager):
    response = client.post(
        reverse("login"), {"username": "manager", "password": "secret-pass-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("task-list")


def test_wrong_password_shows_an_error(client, manager):
    response = client.post(reverse("login"), {"username": "manager", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()


def test_logout_needs_post_and_returns_to_login(client, manager):
    login(client, manager)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(url("task-list")).status_code == 302


def test_start_page_sends_monitor_to_all_tasks(client, monitor):
    response = login(client, monitor).get(url("start"))
    assert response.status_code == 302
    assert response.url == url("task-list")


def test_start_page_explains_an_account_without_agency(client):
    nobody = UserFactory(username="nobody")
    response = login(client, nobody).get(url("start"))
    assert response.status_code == 200
    assert "tasks_app/start_no_agency.html" in [t.name for t in response.templates]


def test_password_change_page_renders(client, manager):
    response = login(client, manager).get(reverse("password_change"))
    assert response.status_code == 200
    assert 'name="new_password1"' in response.content.decode()


def test_language_switch_turns_the_pages_english(client, manager, tasks, settings):
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    login(client, manager)
    assert '<html lang="vi">' in client.get(url("task-list")).content.decode()
    response = client.post(
        reverse("set_language"), {"language": "en", "next": url("task-list")}, follow=True
    )
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


# --- Task list -----------------------------------------------------------------------------------


def test_manager_sees_own_commune_and_coordinated_tasks(client, manager, tasks):
    response = login(client, manager).get(url("task-list"))
    assert response.status_code == 200
    assert sorted(listed_codes(response)) == ["HH-01", "HH-02", "HT-01", "ST-01"]


def test_monitor_sees_every_task(client, monitor, tasks):
    response = login(client, monitor).get(url("task-list"))
    assert sorted(listed_codes(response)) == ["GT-01", "HH-01", "HH-02", "HT-01", "ST-01"]


def test_list_sorts_by_due_date_with_regular_tasks_last(client, manager, tasks):
    response = login(client, manager).get(url("task-list"))
    assert listed_codes(response) == ["HT-01", "HH-01", "ST-01", "HH-02"]
    response = client.get(url("task-list"), {"sort": "-due"})
    assert listed_codes(response) == ["ST-01", "HH-01", "HT-01", "HH-02"]


def test_list_shows_category_badge_and_days_left_or_overdue(client, manager, tasks):
    html = login(client, manager).get(url("task-list")).content.decode()
    # HT-01 was due 31/05/2022: overdue by 15 days on 15/06/2022.
    assert "cat-overdue" in html
    assert "15 days overdue" in html
    assert "15 days left" in html
    assert "cat-not_started" in html
    assert "cat-regular" in html


def test_list_filters_by_priority_area(client, manager, tasks):
    response = login(client, manager).get(url("task-list"), {"priority_area": tasks["health"].pk})
    assert listed_codes(response) == ["ST-01"]


def test_list_filters_by_category(client, manager, tasks):
    response = login(client, manager).get(url("task-list"), {"category": "overdue"})
    assert listed_codes(response) == ["HT-01"]


def test_list_filters_by_due_month(client, manager, tasks):
    response = login(client, manager).get(url("task-list"), {"due_month": "2022-06"})
    assert listed_codes(response) == ["HH-01"]


def test_an_invalid_due_month_is_shown_and_ignored(client, manager, tasks):
    response = login(client, manager).get(url("task-list"), {"due_month": "June"})
    assert response.status_code == 200
    assert len(listed_codes(response)) == 4
    assert 'id="id_due_month_error"' in response.content.decode()


def test_list_filters_led_or_coordinated(client, manager, tasks):
    login(client, manager)
    led = client.get(url("task-list"), {"relation": "led"})
    assert sorted(listed_codes(led)) == ["HH-01", "HH-02", "HT-01"]
    coordinated = client.get(url("task-list"), {"relation": "coordinated"})
    assert listed_codes(coordinated) == ["ST-01"]


@pytest.mark.parametrize("query", ["một cửa", "mot cua", "MOT CUA"])
def test_search_ignores_diacritics_and_case(client, manager, tasks, query):
    response = login(client, manager).get(url("task-list"), {"q": query})
    assert listed_codes(response) == ["HH-01"]


def test_search_never_leaves_the_scope(client, manager, tasks):
    response = login(client, manager).get(url("task-list"), {"q": "Giao Thuy"})
    assert listed_codes(response) == []
    assert "No tasks match these filters." in response.content.decode()


def test_htmx_request_gets_only_the_table(client, manager, tasks):
    response = login(client, manager).get(
        url("task-list"), {"category": "overdue"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="task-results"')
    assert listed_codes(response) == ["HT-01"]
    assert "HX-Request" in response["Vary"]
    assert [t.name for t in response.templates][0] == "tasks_app/partials/_task_table.html"


def test_htmx_history_restore_gets_the_whole_page(client, manager, tasks):
    response = login(client, manager).get(
        url("task-list"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_list_query_count_does_not_grow_with_rows(
    client, monitor, make_task, agencies, django_assert_max_num_queries
):
    def make(n, start):
        for i in range(start, start + n):
            task = make_task(code=f"T-{i:03d}")
            task.coordinating_agencies.set([agencies["haitrung"], agencies["giaothuy"]])
            services.status_update_record(
                task=task, author=monitor, state=TaskState.IN_PROGRESS, progress=10
            )

    make(2, 0)
    login(client, monitor)
    with django_assert_max_num_queries(12) as few:
        client.get(url("task-list"))
    make(20, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("task-list"))
    assert len(listed_codes(response)) == 22


def test_list_is_paginated(client, monitor, make_task):
    for i in range(30):
        make_task(code=f"P-{i:03d}")
    login(client, monitor)
    first = client.get(url("task-list"))
    assert len(listed_codes(first)) == 25
    second = client.get(url("task-list"), {"page": 2})
    assert len(listed_codes(second)) == 5


def test_dashboard_links_show_the_tasks_behind_a_number(client, manager, tasks, agencies):
    login(client, manager)

    def codes(**params):
        return sorted(listed_codes(client.get(url("task-list"), params)))

    haihau, haitrung = agencies["haihau"], agencies["haitrung"]
    assert codes(lead_agency=haitrung.pk) == ["HT-01"]
    assert codes(agency=haihau.pk) == ["HH-01", "HH-02", "HT-01"]
    assert codes(level=haitrung.level_id) == ["HT-01"]
    assert codes(plan=tasks["district"].plan_id + 1000) == []
    assert codes(as_of="2022-06-30", due_by=1) == ["HH-01", "HT-01"]
    # 20/07/2022: HT-01 (due 31/05) is 50 days overdue, HH-01 (due 30/06) 20 days.
    assert codes(as_of="2022-07-20", category="overdue", overdue_days="1-30") == ["HH-01"]
    assert codes(as_of="2022-07-20", category="overdue", overdue_days="31-90") == ["HT-01"]
    assert codes(as_of="2022-07-20", category="overdue", overdue_days="90+") == []


@pytest.mark.parametrize(
    "params",
    [
        {"q": "ho tich"},
        {"relation": "led"},
        {"relation": "coordinated"},
        {"agency": "haihau"},
        {"lead_agency": "haitrung"},
        {"as_of": "2022-06-30", "due_by": "1"},
        {"as_of": "2022-07-20", "category": "overdue", "overdue_days": "1-30"},
        {"as_of": "2022-07-20", "category": "overdue", "overdue_days": "31-90", "counted": "1"},
    ],
)
def test_the_staff_list_and_the_api_filter_alike(client, manager, tasks, agencies, params):
    """One filter definition (selectors.task_filter): the same parameters give the same
    tasks on the page and in the API."""
    params = {
        name: agencies[value].pk if name in ("agency", "lead_agency") else value
        for name, value in params.items()
    }
    login(client, manager)
    on_page = sorted(listed_codes(client.get(url("task-list"), params)))
    api = client.get("/api/v1/tasks/", params).json()
    assert sorted(row["code"] for row in api["results"]) == on_page
    assert on_page  # each case finds something, so agreement is not trivially empty


def test_dashboard_filters_never_widen_the_scope(client, outsider, tasks, agencies):
    response = login(client, outsider).get(url("task-list"), {"agency": agencies["haihau"].pk})
    assert listed_codes(response) == []


def test_dashboard_link_shows_its_date_and_keeps_its_filters(client, manager, tasks):
    response = login(client, manager).get(
        url("task-list"), {"as_of": "2022-07-20", "leaves": "1", "category": "overdue"}
    )
    html = response.content.decode()
    assert "tasks behind a dashboard figure" in html
    assert "Status as of 20/07/2022" in html
    assert '<input type="hidden" name="as_of" value="2022-07-20"' in html
    assert '<input type="hidden" name="leaves" value="1"' in html
    # Days overdue are counted at the figure's date.
    assert "50 days overdue" in html


def test_leaves_only_leaves_out_parent_tasks(client, monitor, tasks, agencies):
    services.task_split(task=tasks["coordinated"], agencies=[agencies["haihau"]])
    login(client, monitor)
    everything = listed_codes(client.get(url("task-list")))
    leaves = listed_codes(client.get(url("task-list"), {"leaves": "1"}))
    assert "ST-01" in everything
    assert "ST-01" not in leaves
    assert "ST-01.UBND_HAIHAU" in leaves


# --- Task page -----------------------------------------------------------------------------------


def test_task_page_shows_task_plan_agencies_and_due(client, manager, tasks):
    task = tasks["coordinated"]
    html = login(client, manager).get(url("task-detail", task.pk)).content.decode()
    assert task.title in html
    assert task.plan.title in html
    assert "Chuyển đổi số y tế" in html
    assert "Sở Thông tin và Truyền thông" in html
    assert "UBND huyện Hải Hậu" in html
    assert "30/09/2022" in html


def test_task_hidden_from_another_district_answers_404(client, outsider, tasks):
    response = login(client, outsider).get(url("task-detail", tasks["district"].pk))
    assert response.status_code == 404


def test_missing_task_answers_404(client, manager, tasks):
    assert login(client, manager).get(url("task-detail", 999999)).status_code == 404


def test_task_page_shows_the_original_due_date_of_an_extended_task(client, manager, monitor, tasks):
    task = tasks["district"]
    extension = services.extension_request(
        task=task, requested_by=manager, proposed_due=datetime.date(2022, 8, 31), reason="Mưa bão"
    )
    services.extension_approve(extension=extension, decided_by=monitor)
    login(client, manager)
    html = client.get(url("task-detail", task.pk)).content.decode()
    assert "31/08/2022" in html
    assert "Original due date: 30/06/2022" in html
    listing = client.get(url("task-list")).content.decode()
    assert "originally 30/06/2022" in listing


def test_task_page_shows_history_newest_first_with_evidence_links(client, manager, tasks):
    task = tasks["district"]
    services.status_update_record(
        task=task, author=manager, state=TaskState.IN_PROGRESS, progress=20, result="Bước một"
    )
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=50,
        result="Bước hai",
        evidence=[services.EvidenceUpload("bien-ban.pdf", "application/pdf", PDF)],
        recorded_at=datetime.datetime(2022, 6, 15, 10, 0, tzinfo=HCM),
    )
    html = login(client, manager).get(url("task-detail", task.pk)).content.decode()
    assert html.index("Bước hai") < html.index("Bước một")
    evidence = Evidence.objects.get()
    assert url("evidence-download", evidence.pk) in html
    assert "bien-ban.pdf" in html


def test_parent_task_shows_its_children_per_agency(client, monitor, tasks, agencies):
    parent = tasks["coordinated"]
    children = services.task_split(task=parent, agencies=[agencies["haihau"], agencies["giaothuy"]])
    services.status_update_record(
        task=children[0], author=monitor, state=TaskState.IN_PROGRESS, progress=40
    )
    html = login(client, monitor).get(url("task-detail", parent.pk)).content.decode()
    assert "Progress per agency" in html
    assert "UBND huyện Giao Thủy" in html
    assert 'value="40"' in html


def test_the_actions_shown_follow_the_permissions(client, manager, monitor, tasks):
    task = tasks["district"]
    html = login(client, manager).get(url("task-detail", task.pk)).content.decode()
    assert url("task-progress", task.pk) in html
    assert url("extension-request", task.pk) in html
    assert url("task-withdraw", task.pk) not in html
    html = login(client, monitor).get(url("task-detail", task.pk)).content.decode()
    assert url("task-progress", task.pk) not in html
    assert url("task-withdraw", task.pk) in html


def test_task_page_query_count_does_not_grow_with_history(
    client, manager, tasks, django_assert_max_num_queries
):
    task = tasks["district"]

    def report(n):
        for i in range(n):
            services.status_update_record(
                task=task,
                author=manager,
                agency=task.lead_agency,
                state=TaskState.IN_PROGRESS,
                progress=10 + i,
                evidence=[services.EvidenceUpload(f"f{i}.pdf", "application/pdf", PDF)],
            )

    report(1)
    login(client, manager)
    with django_assert_max_num_queries(25) as few:
        client.get(url("task-detail", task.pk))
    report(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("task-detail", task.pk))
    assert response.content.decode().count('class="evidence-link"') == 11


# --- Evidence download ---------------------------------------------------------------------------


@pytest.fixture
def evidence(tasks, manager):
    services.status_update_record(
        task=tasks["district"],
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=30,
        evidence=[
            services.EvidenceUpload("bien-ban.pdf", "application/pdf", PDF),
            services.EvidenceUpload("trang.html", "text/html", b"<script>alert(1)</script>"),
        ],
    )
    return Evidence.objects.order_by("pk")


def test_evidence_downloads_as_an_attachment_for_those_who_see_the_task(client, manager, evidence):
    response = login(client, manager).get(url("evidence-download", evidence[0].pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF


def test_evidence_of_unsafe_type_is_sent_as_plain_download(client, manager, evidence):
    response = login(client, manager).get(url("evidence-download", evidence[1].pk))
    assert response["Content-Type"] == "application/octet-stream"


def test_evidence_of_a_hidden_task_answers_404(client, outsider, evidence):
    response = login(client, outsider).get(url("evidence-download", evidence[0].pk))
    assert response.status_code == 404


# --- Progress form -------------------------------------------------------------------------------


def progress_data(task, **overrides):
    data = {
        "state": TaskState.IN_PROGRESS,
        "progress": 60,
        "kpi_actual": "",
        "completed_on": "",
        "result": "Đã lắp đặt thiết bị",
        "difficulties": "",
        "proposals": "",
        "version": task.version,
    }
    data.update(overrides)
    return data


def test_lead_agency_sees_the_progress_form(client, officer, tasks):
    task = tasks["district"]
    response = login(client, officer).get(url("task-progress", task.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="version" value="{task.version}"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "multiple" in html
    # A completion is sent for confirmation; stopping the task is not the lead's decision.
    assert 'value="awaiting_confirmation"' in html
    assert 'value="withdrawn"' not in html


def test_progress_report_with_a_file_is_saved(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("task-progress", task.pk),
        {**progress_data(task), "evidence": [pdf(), pdf("anh.pdf")]},
    )
    assert response.status_code == 302
    assert response.url == url("task-detail", task.pk) + "#history"
    update = StatusUpdate.objects.get(task=task)
    assert (update.progress, update.author, update.agency) == (60, manager, task.lead_agency)
    assert sorted(e.original_name for e in update.evidence.all()) == ["anh.pdf", "bien-ban.pdf"]
    task.refresh_from_db()
    assert task.progress == 60


def test_completion_without_date_shows_the_error_beside_the_field(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("task-progress", task.pk),
        progress_data(task, state=TaskState.AWAITING_CONFIRMATION, result=""),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_completed_on_error"' in html
    assert 'id="id_result_error"' in html
    assert re.search(r'aria-describedby="[^"]*id_completed_on_error', html)
    assert 'aria-invalid="true"' in html
    assert not StatusUpdate.objects.exists()


def test_completion_with_date_and_file_is_sent_for_confirmation(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("task-progress", task.pk),
        {
            **progress_data(
                task,
                state=TaskState.AWAITING_CONFIRMATION,
                result="",
                completed_on="2022-06-14",
            ),
            "evidence": [pdf()],
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.progress) == (TaskState.AWAITING_CONFIRMATION, 100)


def test_progress_out_of_range_is_refused(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("task-progress", task.pk), progress_data(task, progress=150)
    )
    assert response.status_code == 200
    assert 'id="id_progress_error"' in response.content.decode()


def test_a_file_whose_content_does_not_match_its_name_is_refused(client, manager, tasks):
    task = tasks["district"]
    fake = SimpleUploadedFile("bao-cao.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    response = login(client, manager).post(
        url("task-progress", task.pk), {**progress_data(task), "evidence": [fake]}
    )
    assert response.status_code == 200
    assert 'id="id_evidence_error"' in response.content.decode()
    assert not StatusUpdate.objects.exists()


def test_a_file_of_a_refused_kind_is_refused(client, manager, tasks):
    task = tasks["district"]
    script = SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream")
    response = login(client, manager).post(
        url("task-progress", task.pk), {**progress_data(task), "evidence": [script]}
    )
    assert 'id="id_evidence_error"' in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(client, manager, tasks, settings):
    settings.EVIDENCE_MAX_MB = 1
    task = tasks["district"]
    big = pdf(content=PDF + b"0" * (1024 * 1024))
    response = login(client, manager).post(
        url("task-progress", task.pk), {**progress_data(task), "evidence": [big]}
    )
    assert 'id="id_evidence_error"' in response.content.decode()
    assert "1 MB" in response.content.decode()


def test_stale_progress_form_is_refused_and_shows_the_other_change(
    client, manager, colleague, tasks
):
    task = tasks["district"]
    seen_version = task.version
    # The colleague saves while the manager still has the form open.
    services.status_update_record(
        task=task,
        author=colleague,
        agency=task.lead_agency,
        state=TaskState.IN_PROGRESS,
        progress=45,
        result="Cập nhật của đồng nghiệp",
        expected_version=seen_version,
    )
    response = login(client, manager).post(
        url("task-progress", task.pk), progress_data(task, progress=60, version=seen_version)
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert 'id="stale-notice"' in html
    assert "colleague" in html
    assert "45%" in html
    assert "Cập nhật của đồng nghiệp" in html
    # Nothing was overwritten: the colleague's update is the only one.
    assert list(StatusUpdate.objects.values_list("progress", flat=True)) == [45]
    # The manager's entries are kept and the form now carries the current version.
    task.refresh_from_db()
    assert 'value="60"' in html
    assert f'name="version" value="{task.version}"' in html


def test_progress_form_is_refused_to_a_visible_but_non_lead_agency(
    client, commune_manager, manager, tasks
):
    # Hải Hậu sees its commune's task but does not report for the commune.
    response = login(client, manager).get(url("task-progress", tasks["commune"].pk))
    assert response.status_code == 403
    response = login(client, commune_manager).get(url("task-progress", tasks["district"].pk))
    assert response.status_code == 404


def test_progress_form_of_a_hidden_task_answers_404(client, outsider, tasks):
    response = login(client, outsider).post(
        url("task-progress", tasks["district"].pk), progress_data(tasks["district"])
    )
    assert response.status_code == 404
    assert not StatusUpdate.objects.exists()


def test_monitor_cannot_report_progress(client, monitor, tasks):
    response = login(client, monitor).get(url("task-progress", tasks["district"].pk))
    assert response.status_code == 403


def test_completed_task_cannot_be_reported_again(client, manager, monitor, tasks):
    task = tasks["district"]
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.AWAITING_CONFIRMATION,
        progress=100,
        completed_on=datetime.date(2022, 6, 10),
        result="Xong",
    )
    services.task_confirm_completion(task=task, user=monitor)
    response = login(client, manager).get(url("task-progress", task.pk))
    assert response.status_code == 302
    assert response.url == url("task-detail", task.pk)


def test_a_task_split_per_agency_takes_no_report_of_its_own(client, manager, tasks, agencies):
    parent = tasks["district"]
    services.task_split(task=parent, agencies=[agencies["haitrung"]])
    # The lead of the plan item (Hải Hậu) reports through its children, not on the parent.
    login(client, manager)
    assert (
        url("task-progress", parent.pk)
        not in client.get(url("task-detail", parent.pk)).content.decode()
    )
    response = client.get(url("task-progress", parent.pk))
    assert response.status_code == 302
    assert response.url == url("task-detail", parent.pk)


# --- Contributions -------------------------------------------------------------------------------


def test_coordinating_agency_adds_a_contribution(client, manager, tasks):
    task = tasks["coordinated"]
    response = login(client, manager).post(
        url("task-contribute", task.pk),
        {"agency": task.coordinating_agencies.get().pk, "result": "Cử cán bộ tham gia"},
    )
    assert response.status_code == 302
    update = StatusUpdate.objects.get(task=task)
    assert update.kind == UpdateKind.CONTRIBUTION
    assert update.agency.code == "UBND_HAIHAU"


def test_empty_contribution_shows_the_service_error(client, manager, tasks):
    task = tasks["coordinated"]
    response = login(client, manager).post(
        url("task-contribute", task.pk), {"agency": task.coordinating_agencies.get().pk}
    )
    assert response.status_code == 200
    assert 'id="id_result_error"' in response.content.decode()


def test_lead_agency_cannot_contribute_to_its_own_task(client, manager, tasks):
    response = login(client, manager).get(url("task-contribute", tasks["district"].pk))
    assert response.status_code == 403


def test_contribution_to_a_hidden_task_answers_404(client, outsider, tasks):
    response = login(client, outsider).get(url("task-contribute", tasks["coordinated"].pk))
    assert response.status_code == 404


# --- Decisions of the monitoring agency ----------------------------------------------------------


@pytest.fixture
def reported(tasks, manager):
    task = tasks["district"]
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.AWAITING_CONFIRMATION,
        progress=100,
        completed_on=datetime.date(2022, 6, 10),
        result="Hệ thống đã vận hành",
    )
    task.refresh_from_db()
    return task


def test_monitor_confirms_a_reported_completion(client, monitor, reported):
    response = login(client, monitor).get(url("task-review", reported.pk))
    assert "Hệ thống đã vận hành" in response.content.decode()
    response = client.post(
        url("task-review", reported.pk), {"decision": "confirm", "version": reported.version}
    )
    assert response.status_code == 302
    reported.refresh_from_db()
    assert reported.state == TaskState.COMPLETED


def test_returning_a_completion_needs_a_reason(client, monitor, reported):
    response = login(client, monitor).post(
        url("task-review", reported.pk), {"decision": "return", "version": reported.version}
    )
    assert response.status_code == 200
    assert 'id="id_note_error"' in response.content.decode()
    response = client.post(
        url("task-review", reported.pk),
        {"decision": "return", "note": "Thiếu biên bản", "version": reported.version},
    )
    assert response.status_code == 302
    reported.refresh_from_db()
    assert reported.state == TaskState.IN_PROGRESS
    assert reported.updates.latest().reason == "Thiếu biên bản"


def test_confirming_a_task_not_reported_completed_shows_the_error(client, monitor, tasks):
    task = tasks["district"]
    response = login(client, monitor).post(
        url("task-review", task.pk), {"decision": "confirm", "version": task.version}
    )
    assert response.status_code == 200
    assert "Only a task awaiting confirmation can be confirmed." in response.content.decode()


def test_manager_cannot_confirm(client, manager, reported):
    response = login(client, manager).post(
        url("task-review", reported.pk), {"decision": "confirm", "version": reported.version}
    )
    assert response.status_code == 403
    reported.refresh_from_db()
    assert reported.state == TaskState.AWAITING_CONFIRMATION


def test_withdraw_asks_for_confirmation_and_a_reason(client, monitor, tasks):
    task = tasks["district"]
    login(client, monitor)
    page = client.get(url("task-withdraw", task.pk)).content.decode()
    assert "Are you sure you want to stop this task?" in page
    response = client.post(url("task-withdraw", task.pk), {"version": task.version})
    assert 'id="id_reason_error"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == TaskState.NOT_STARTED
    response = client.post(
        url("task-withdraw", task.pk), {"reason": "Quyết định 12/QĐ", "version": task.version}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.WITHDRAWN


def test_stale_withdraw_is_refused(client, monitor, manager, tasks):
    task = tasks["district"]
    version = task.version
    services.status_update_record(task=task, author=manager, state="in_progress", progress=10)
    response = login(client, monitor).post(
        url("task-withdraw", task.pk), {"reason": "Thôi", "version": version}
    )
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS


@pytest.mark.parametrize("persona", ["manager", "leader"])
def test_only_monitors_withdraw(client, request, tasks, persona):
    user = request.getfixturevalue(persona)
    response = login(client, user).post(
        url("task-withdraw", tasks["district"].pk), {"reason": "x", "version": 1}
    )
    assert response.status_code == 403


# --- Deadline extensions -------------------------------------------------------------------------


def test_lead_agency_requests_an_extension(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("extension-request", task.pk), {"proposed_due": "2022-08-31", "reason": "Chờ vốn"}
    )
    assert response.status_code == 302
    extension = DeadlineExtension.objects.get()
    assert (extension.status, extension.proposed_due) == (
        ExtensionStatus.PENDING,
        datetime.date(2022, 8, 31),
    )


def test_extension_before_the_due_date_shows_the_error_beside_the_field(client, manager, tasks):
    task = tasks["district"]
    response = login(client, manager).post(
        url("extension-request", task.pk), {"proposed_due": "2022-06-01", "reason": "Chờ vốn"}
    )
    html = response.content.decode()
    assert 'id="id_proposed_due_error"' in html
    assert "30/06/2022" in html
    assert not DeadlineExtension.objects.exists()


def test_extension_request_is_refused_to_others(client, manager, outsider, tasks):
    assert (
        login(client, manager).get(url("extension-request", tasks["commune"].pk)).status_code == 403
    )
    assert (
        login(client, outsider).get(url("extension-request", tasks["district"].pk)).status_code
        == 404
    )


@pytest.fixture
def pending(tasks, manager):
    return services.extension_request(
        task=tasks["district"],
        requested_by=manager,
        agency=tasks["district"].lead_agency,
        proposed_due=datetime.date(2022, 8, 31),
        reason="Chờ bố trí kinh phí",
    )


@pytest.mark.parametrize("persona", ["monitor", "leader"])
def test_monitors_and_leaders_see_pending_extensions(client, request, pending, persona):
    user = request.getfixturevalue(persona)
    response = login(client, user).get(url("extension-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert url("extension-decide", pending.pk) in html
    assert "31/08/2022" in html
    # The nav shows how many wait, and so does the task list.
    assert (
        "deadline extension request is waiting for your decision"
        in client.get(url("task-list")).content.decode()
    )


def test_managers_cannot_open_the_extension_decisions(client, manager, pending):
    login(client, manager)
    assert client.get(url("extension-list")).status_code == 403
    assert (
        client.post(url("extension-decide", pending.pk), {"decision": "approve"}).status_code == 403
    )
    pending.refresh_from_db()
    assert pending.status == ExtensionStatus.PENDING


def test_extension_of_a_hidden_task_answers_404(client, outsider, pending):
    assert login(client, outsider).get(url("extension-decide", pending.pk)).status_code == 404


def test_approving_moves_the_due_date_and_keeps_the_original(client, leader, pending):
    response = login(client, leader).post(
        url("extension-decide", pending.pk), {"decision": "approve", "note": ""}
    )
    assert response.status_code == 302
    task = Task.objects.get(pk=pending.task_id)
    assert (task.due, task.original_due) == (datetime.date(2022, 8, 31), datetime.date(2022, 6, 30))


def test_rejecting_needs_a_reason(client, monitor, pending):
    login(client, monitor)
    response = client.post(url("extension-decide", pending.pk), {"decision": "reject", "note": ""})
    assert 'id="id_note_error"' in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == ExtensionStatus.PENDING
    response = client.post(
        url("extension-decide", pending.pk), {"decision": "reject", "note": "Không đủ căn cứ"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == (ExtensionStatus.REJECTED, "Không đủ căn cứ")


def test_a_decided_extension_shows_no_form(client, monitor, pending):
    services.extension_reject(extension=pending, decided_by=monitor, note="Không")
    html = login(client, monitor).get(url("extension-decide", pending.pk)).content.decode()
    assert 'name="decision"' not in html
    assert "Không" in html


def test_an_overdue_task_offers_no_extension_and_says_since_when(client, manager, make_task):
    # The same rule as the service's refusal: the button would only lead to an error.
    late = make_task(
        code="HH-09", title="Nhiệm vụ quá hạn", due=TODAY.date() - datetime.timedelta(days=3)
    )
    html = login(client, manager).get(url("task-detail", late.pk)).content.decode()
    assert url("extension-request", late.pk) not in html
    since = (TODAY.date() - datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    assert f"overdue since {since}" in html


def test_a_task_still_in_time_offers_the_extension_button(client, manager, tasks):
    html = login(client, manager).get(url("task-detail", tasks["district"].pk)).content.decode()
    assert url("extension-request", tasks["district"].pk) in html
    assert 'id="extension-refusal"' not in html
