"""The monitoring agency's plan pages (tasks_app/views_plans.py): every form writes through
its service; wrong input shows a Vietnamese message beside the field and writes nothing;
others than monitors are refused; a stale task form is refused; the task page shows the
change history; the lists' query counts do not grow with the rows."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app import services
from tasks_app.choices import AgencyKind, ExtensionKind
from tasks_app.models import (
    Agency,
    DeadlineExtension,
    Plan,
    PlanDocument,
    PriorityArea,
    Task,
    TaskChange,
)
from tests.factories import AgencyFactory, PlanFactory, PriorityAreaFactory, TaskFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = datetime.datetime(2022, 6, 15, 9, 0, tzinfo=HCM)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def url(name, *args):
    return reverse(f"tasks_app:{name}", args=args)


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def as_monitor(client, monitor):
    client.force_login(monitor)
    return client


def field_errors(response, name) -> str:
    """The error text shown under the field `name` (templates/tasks_app/partials/_field.html)."""
    match = re.search(rf'id="id_{name}_error">(.*?)</div></div>', html(response), re.S)
    return match.group(1) if match else ""


# --- Who may use the pages ---------------------------------------------------------------------


def _targets(plan, area, task, document):
    return [
        ("plan-list", ()),
        ("plan-create", ()),
        ("plan-detail", (plan.pk,)),
        ("plan-edit", (plan.pk,)),
        ("document-create", (plan.pk,)),
        ("document-edit", (document.pk,)),
        ("document-delete", (document.pk,)),
        ("area-create", (plan.pk,)),
        ("area-edit", (area.pk,)),
        ("task-create", (plan.pk,)),
        ("task-edit", (task.pk,)),
        ("task-lead", (task.pk,)),
        ("task-due", (task.pk,)),
        ("task-split", (task.pk,)),
        ("agency-search", ()),
    ]


@pytest.fixture
def document(plan):
    return PlanDocument.objects.create(plan=plan, number="149/NQ-CP", title="Nghị quyết")


@pytest.mark.parametrize("person", ["manager", "leader"])
def test_only_monitors_may_use_the_plan_pages(client, request, plan, area, task, document, person):
    client.force_login(request.getfixturevalue(person))
    for name, args in _targets(plan, area, task, document):
        assert client.get(url(name, *args)).status_code == 403, name
    response = client.post(url("plan-edit", plan.pk), {"title": "Đổi tên", "year": 2022})
    assert response.status_code == 403
    assert Plan.objects.get(pk=plan.pk).title != "Đổi tên"


def test_a_task_hidden_from_a_district_is_not_found_on_its_edit_pages(client, outsider, task):
    client.force_login(outsider)
    for name in ("task-edit", "task-lead", "task-due", "task-split"):
        assert client.get(url(name, task.pk)).status_code == 404, name


def test_anonymous_visitors_go_to_the_login_page(client, plan):
    response = client.get(url("plan-detail", plan.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_menu_shows_plans_to_monitors_only(client, monitor, manager):
    client.force_login(monitor)
    assert f'href="{url("plan-list")}"' in html(client.get(url("task-list")))
    client.force_login(manager)
    assert f'href="{url("plan-list")}"' not in html(client.get(url("task-list")))


# --- Plans --------------------------------------------------------------------------------------


def plan_data(**overrides):
    data = {
        "code": "CDS-2023",
        "title": "Kế hoạch chuyển đổi số năm 2023",
        "year": "2023",
        "number": "12/KH-UBND",
        "issued_on": "2023-01-10",
        "issuing_agency": "",
        "monitor_agency": "",
    }
    data.update(overrides)
    return data


def test_a_new_plan_starts_with_the_provinces_committee_and_covers_its_year(as_monitor, agencies):
    form = html(as_monitor.get(url("plan-create")))
    assert f'<option value="{agencies["province"].pk}" selected>' in form

    response = as_monitor.post(
        url("plan-create"),
        plan_data(issuing_agency=agencies["province"].pk, monitor_agency=agencies["stttt"].pk),
    )

    plan = Plan.objects.get(code="CDS-2023")
    assert response.status_code == 302
    assert response.url == url("plan-detail", plan.pk)
    assert (plan.period_start, plan.period_end) == (
        datetime.date(2023, 1, 1),
        datetime.date(2023, 12, 31),
    )
    assert (plan.issuing_agency, plan.monitor_agency) == (agencies["province"], agencies["stttt"])
    assert plan.number == "12/KH-UBND"


def test_a_plan_with_a_code_in_use_is_refused_in_vietnamese(as_monitor, plan, agencies):
    response = as_monitor.post(
        url("plan-create"),
        plan_data(code=plan.code.lower(), issuing_agency=agencies["province"].pk),
    )

    assert response.status_code == 200
    assert "Đã có kế hoạch mang mã “cds-test”" in field_errors(response, "code")
    assert Plan.objects.count() == 1


def test_editing_a_plan_keeps_its_code_and_a_new_year_moves_its_period(as_monitor, plan, agencies):
    data = plan_data(
        code="IGNORED", title="Kế hoạch sửa", year="2024", issuing_agency=agencies["province"].pk
    )
    response = as_monitor.post(url("plan-edit", plan.pk), data)

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.code, plan.title) == ("CDS-TEST", "Kế hoạch sửa")
    assert (plan.period_start, plan.period_end) == (
        datetime.date(2024, 1, 1),
        datetime.date(2024, 12, 31),
    )


def test_the_plan_page_lists_its_documents_areas_and_tasks_with_children(
    as_monitor, plan, area, task, agencies, document
):
    services.task_split(task=task, agencies=[agencies["haitrung"]])

    page = html(as_monitor.get(url("plan-detail", plan.pk)))

    assert "149/NQ-CP" in page and "Chính quyền số" in page
    codes = re.findall(r'data-task-code="([^"]+)"', page)
    assert codes == [task.code, f"{task.code}.HH_HAITRUNG"]
    assert 'class="task-child"' in page
    assert "{# import/export links are added at merge #}" not in page  # a template comment


# --- Basis documents ----------------------------------------------------------------------------


def test_a_basis_document_is_added_with_its_file_changed_and_deleted_after_confirmation(
    as_monitor, plan
):
    upload = SimpleUploadedFile("nq149.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    data = {
        "number": "149/NQ-CP",
        "issued_on": "2022-03-01",
        "issuer": "Chính phủ",
        "title": "Nghị quyết về chuyển đổi số",
        "file": upload,
    }
    response = as_monitor.post(url("document-create", plan.pk), data)
    assert response.status_code == 302
    document = PlanDocument.objects.get(plan=plan)
    assert document.issuer == "Chính phủ" and document.file

    download = as_monitor.get(url("document-file", document.pk))
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n"

    data = {"number": "149/NQ-CP", "title": "Nghị quyết 149", "issuer": "Chính phủ"}
    as_monitor.post(url("document-edit", document.pk), data)
    document.refresh_from_db()
    assert document.title == "Nghị quyết 149" and document.file  # the file stays

    confirm = as_monitor.get(url("document-delete", document.pk))
    assert "Bạn có chắc" in html(confirm)
    assert PlanDocument.objects.filter(pk=document.pk).exists()
    as_monitor.post(url("document-delete", document.pk))
    assert not PlanDocument.objects.filter(pk=document.pk).exists()


def test_a_second_document_with_the_same_number_is_refused(as_monitor, plan, document):
    response = as_monitor.post(
        url("document-create", plan.pk), {"number": "149/nq-cp", "title": "Khác"}
    )
    assert "149/nq-cp" in field_errors(response, "number")
    assert PlanDocument.objects.count() == 1


# --- Priority areas -----------------------------------------------------------------------------


def test_priority_areas_are_added_last_and_edited(as_monitor, plan, area):
    response = as_monitor.post(url("area-create", plan.pk), {"code": "KTS", "name": "Kinh tế số"})
    assert response.status_code == 302
    new = PriorityArea.objects.get(plan=plan, code="KTS")
    assert new.order > area.order

    as_monitor.post(url("area-edit", new.pk), {"code": "KTS", "name": "Phát triển kinh tế số"})
    new.refresh_from_db()
    assert new.name == "Phát triển kinh tế số"

    duplicate = as_monitor.post(url("area-create", plan.pk), {"code": "cqdt", "name": "Trùng"})
    assert "cqdt" in field_errors(duplicate, "code")
    assert PriorityArea.objects.filter(plan=plan).count() == 2


# --- Tasks ------------------------------------------------------------------------------------


def task_data(area, agencies, **overrides):
    data = {
        "code": "CQDT-10",
        "title": "Triển khai nền tảng họp trực tuyến",
        "priority_area": area.pk,
        "lead_agency": agencies["haihau"].pk,
        "coordinating_agencies": [agencies["stttt"].pk],
        "assigned_on": "2022-02-01",
        "due": "2022-09-30",
        "expected_output": "Nền tảng vận hành",
        "kpi_target": "100",
        "kpi_unit": "% cuộc họp",
        "dti_index": "",
        "parent": "",
    }
    data.update(overrides)
    return data


def test_a_task_is_created_through_the_service(as_monitor, plan, area, agencies):
    response = as_monitor.post(url("task-create", plan.pk), task_data(area, agencies))

    task = Task.objects.get(plan=plan, code="CQDT-10")
    assert response.status_code == 302
    assert response.url == url("task-detail", task.pk)
    assert (task.lead_agency, task.due, task.original_due) == (
        agencies["haihau"],
        datetime.date(2022, 9, 30),
        datetime.date(2022, 9, 30),
    )
    assert list(task.coordinating_agencies.all()) == [agencies["stttt"]]
    assert task.kpi_target == 100 and task.kpi_unit == "% cuộc họp"


def test_a_regular_task_has_no_due_date(as_monitor, plan, area, agencies):
    data = task_data(area, agencies, due="2022-09-30", regular="on")
    as_monitor.post(url("task-create", plan.pk), data)
    assert Task.objects.get(code="CQDT-10").due is None


def test_a_task_under_a_parent_belongs_to_it(as_monitor, plan, area, agencies, task):
    data = task_data(area, agencies, parent=task.pk, lead_agency=agencies["haitrung"].pk)
    as_monitor.post(url("task-create", plan.pk), data)
    assert Task.objects.get(code="CQDT-10").parent == task


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"due": "2022-01-15"}, "due", "không được trước ngày giao"),
        ({"due": ""}, "due", "Nhập thời hạn"),
        ({"code": "T-DUP"}, "code", "Kế hoạch đã có nhiệm vụ mã “T-DUP”"),
    ],
)
def test_a_wrong_task_is_refused_in_vietnamese_and_nothing_is_written(
    as_monitor, plan, area, agencies, make_task, overrides, field, message
):
    make_task(code="T-DUP")
    response = as_monitor.post(url("task-create", plan.pk), task_data(area, agencies, **overrides))

    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert Task.objects.count() == 1


def test_a_task_is_edited_and_each_change_is_kept_with_its_reason(as_monitor, task, agencies):
    data = task_data(
        task.priority_area,
        agencies,
        code=task.code,
        title="Tên mới của nhiệm vụ",
        assigned_on="2022-01-01",
        kpi_target="",
        kpi_unit="",
        expected_output="",
        coordinating_agencies=[agencies["giaothuy"].pk],
        reason="Theo Kế hoạch sửa đổi",
        version=task.version,
    )
    response = as_monitor.post(url("task-edit", task.pk), data)

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Tên mới của nhiệm vụ"
    changes = {c.field: c for c in TaskChange.objects.filter(task=task)}
    assert set(changes) == {"title", "coordinating_agencies"}
    assert changes["title"].reason == "Theo Kế hoạch sửa đổi"


def test_a_stale_task_edit_is_refused_and_shows_the_other_change(
    as_monitor, task, agencies, monitor
):
    seen = task.version
    services.task_update_fields(
        task=task, expected_version=seen, author=monitor, title="Đổi bởi người khác"
    )
    data = task_data(
        task.priority_area,
        agencies,
        code=task.code,
        title="Tên của tôi",
        assigned_on="2022-01-01",
        version=seen,
    )
    response = as_monitor.post(url("task-edit", task.pk), data)

    assert response.status_code == 409
    page = html(response)
    assert 'id="stale-notice"' in page and "Đổi bởi người khác" in page
    task.refresh_from_db()
    assert task.title == "Đổi bởi người khác"
    assert TaskChange.objects.filter(task=task).count() == 1


def test_the_lead_agency_changes_with_a_reason_shown_in_the_change_history(
    as_monitor, task, agencies
):
    empty = as_monitor.post(
        url("task-lead", task.pk),
        {"lead_agency": agencies["haitrung"].pk, "reason": " ", "version": task.version},
    )
    assert "Nhập lý do thay đổi." in field_errors(empty, "reason")
    assert not TaskChange.objects.exists()

    response = as_monitor.post(
        url("task-lead", task.pk),
        {
            "lead_agency": agencies["haitrung"].pk,
            "reason": "Quyết định 12/QĐ-UBND giao lại",
            "version": task.version,
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.lead_agency == agencies["haitrung"]

    page = html(as_monitor.get(url("task-detail", task.pk)))
    section = page[page.index('id="changes-section"') :]
    assert "Lịch sử thay đổi" in page
    assert "UBND huyện Hải Hậu</span> → <span" in section
    assert "Xã Hải Trung" in section
    assert "Quyết định 12/QĐ-UBND giao lại" in section


def test_the_history_lists_changes_newest_first_with_the_authors_name(as_monitor, task, monitor):
    monitor.first_name, monitor.last_name = "Minh", "Lê Văn"
    monitor.save()
    services.task_update_fields(task=task, expected_version=None, author=monitor, title="Một")
    services.task_update_fields(task=task, expected_version=None, author=monitor, kpi_unit="xã")

    page = html(as_monitor.get(url("task-detail", task.pk)))

    assert re.findall(r'class="change-item" data-field="([^"]+)"', page) == ["kpi_unit", "title"]
    assert "Lê Văn Minh" in page


def test_the_due_date_is_adjusted_with_a_reason(as_monitor, task):
    same = as_monitor.post(
        url("task-due", task.pk),
        {"due": "2022-06-30", "reason": "Không đổi", "version": task.version},
    )
    assert "30/06/2022" in field_errors(same, "due")
    empty = as_monitor.post(
        url("task-due", task.pk), {"due": "2022-08-31", "reason": "", "version": task.version}
    )
    assert "lý do điều chỉnh" in field_errors(empty, "reason")
    assert not DeadlineExtension.objects.exists()

    page = html(as_monitor.get(url("task-due", task.pk)))
    assert "đề nghị gia hạn" in page  # agencies ask through their own path

    response = as_monitor.post(
        url("task-due", task.pk),
        {"due": "2022-08-31", "reason": "UBND tỉnh điều chỉnh kế hoạch", "version": task.version},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.due, task.original_due) == (datetime.date(2022, 8, 31), datetime.date(2022, 6, 30))
    assert DeadlineExtension.objects.get(task=task).kind == ExtensionKind.ADJUSTMENT


def test_a_task_is_split_per_agency_after_its_codes_are_shown(as_monitor, task, agencies):
    chosen = [agencies["haitrung"].pk, agencies["giaothuy"].pk]
    preview = as_monitor.post(
        url("task-split", task.pk), {"agencies": chosen, "version": task.version}
    )
    page = html(preview)
    assert f"{task.code}.HH_HAITRUNG" in page and f"{task.code}.UBND_GIAOTHUY" in page
    assert not task.children.exists()

    response = as_monitor.post(
        url("task-split", task.pk), {"agencies": chosen, "version": task.version, "confirm": "1"}
    )

    assert response.status_code == 302
    assert sorted(task.children.values_list("code", flat=True)) == [
        f"{task.code}.HH_HAITRUNG",
        f"{task.code}.UBND_GIAOTHUY",
    ]


def test_a_split_whose_code_is_taken_is_refused(as_monitor, task, agencies, make_task):
    make_task(code=f"{task.code}.UBND_GIAOTHUY")
    response = as_monitor.post(
        url("task-split", task.pk),
        {"agencies": [agencies["giaothuy"].pk], "version": task.version, "confirm": "1"},
    )
    assert f"{task.code}.UBND_GIAOTHUY" in field_errors(response, "agencies")
    assert not task.children.exists()


def test_the_task_page_offers_the_monitors_corrections(client, as_monitor, task, manager):
    page = html(as_monitor.get(url("task-detail", task.pk)))
    for name in ("task-edit", "task-lead", "task-due", "task-split", "task-withdraw"):
        assert url(name, task.pk) in page, name
    client.force_login(manager)
    page = html(client.get(url("task-detail", task.pk)))
    assert url("task-edit", task.pk) not in page


# --- Agency pickers ---------------------------------------------------------------------------


def test_agency_search_ignores_diacritics(as_monitor, agencies):
    response = as_monitor.get(url("agency-search"), {"q": "so thong tin"})
    assert [r["name"] for r in response.json()["results"]] == ["Sở Thông tin và Truyền thông"]


def test_agency_search_is_in_vietnamese_order_and_leaves_out_abolished_agencies(as_monitor, levels):
    for name in ("Đoàn Dân tộc", "Dân tộc", "Ban Dân tộc", "Ban Dân tộc cũ"):
        AgencyFactory(name=name, level=levels["province"], kind=AgencyKind.OTHER)
    Agency.objects.filter(name="Ban Dân tộc cũ").update(valid_to=datetime.date(2022, 6, 14))

    response = as_monitor.get(url("agency-search"), {"q": "dan toc"})

    names = [r["name"] for r in response.json()["results"]]
    assert names == ["Ban Dân tộc", "Dân tộc", "Đoàn Dân tộc"]


def test_the_pickers_list_agencies_in_vietnamese_order(as_monitor, plan, levels):
    AgencyFactory(name="Đài Phát thanh", code="DPT", level=levels["province"])
    AgencyFactory(name="Dịch vụ công", code="DVC", level=levels["province"])
    page = html(as_monitor.get(url("task-create", plan.pk)))
    select = page[
        page.index('name="lead_agency"') : page.index("</select>", page.index('name="lead_agency"'))
    ]
    labels = re.findall(r"<option value=\"\d+\">([^<]+)</option>", select)
    assert labels.index("Dịch vụ công") < labels.index("Đài Phát thanh")
    assert labels == sorted(labels, key=__import__("tasks_app.collation").collation.vi_sort_key)


# --- Query counts -----------------------------------------------------------------------------


def _tasks(plan, area, agencies, n, start):
    for i in range(start, start + n):
        task = TaskFactory(
            plan=plan, priority_area=area, code=f"Q-{i:03d}", lead_agency=agencies["haihau"]
        )
        task.coordinating_agencies.set([agencies["stttt"], agencies["giaothuy"]])
        if i % 3 == 0:
            TaskFactory(
                plan=plan,
                priority_area=area,
                code=f"Q-{i:03d}.X",
                parent=task,
                lead_agency=agencies["haitrung"],
            )


def test_the_plan_page_query_count_does_not_grow_with_tasks(
    as_monitor, plan, area, agencies, document, django_assert_max_num_queries
):
    _tasks(plan, area, agencies, 5, 0)
    with django_assert_max_num_queries(15) as few:
        as_monitor.get(url("plan-detail", plan.pk))
    _tasks(plan, area, agencies, 25, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_monitor.get(url("plan-detail", plan.pk))
    assert html(response).count("data-task-code=") == Task.objects.filter(plan=plan).count()


def test_the_plan_list_query_count_does_not_grow_with_plans(
    as_monitor, agencies, django_assert_max_num_queries
):
    for i in range(5):
        PriorityAreaFactory(plan=PlanFactory(issuing_agency=agencies["province"]))
    with django_assert_max_num_queries(12) as few:
        as_monitor.get(url("plan-list"))
    for i in range(25):
        PriorityAreaFactory(plan=PlanFactory(issuing_agency=agencies["province"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_monitor.get(url("plan-list"))
    assert html(response).count('class="plan-link"') == 30


def test_the_task_page_query_count_does_not_grow_with_changes(
    as_monitor, task, monitor, django_assert_max_num_queries
):
    services.task_update_fields(task=task, expected_version=None, author=monitor, title="A")
    with django_assert_max_num_queries(30) as few:
        as_monitor.get(url("task-detail", task.pk))
    for i in range(10):
        services.task_update_fields(
            task=task, expected_version=None, author=monitor, title=f"Tên {i}"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = as_monitor.get(url("task-detail", task.pk))
    assert html(response).count('class="change-item"') == 11
