"""The Django admin: every page renders, the task list shows and filters the report category
of today without one query per row, and history stays read-only (decisions go through the
services)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.messages import constants as message_levels
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tasks_app import calendar_feed, services, tokens
from tasks_app.choices import (
    ExtensionStatus,
    ReportCategory,
    SuccessionKind,
    TaskState,
)
from tasks_app.models import (
    AgencySuccession,
    ApiToken,
    CalendarFeed,
    DeadlineExtension,
    DtiIndex,
    Evidence,
    Membership,
    PlanDocument,
    SheetUpload,
    StatusUpdate,
    Task,
    TaskChange,
)
from tests.factories import (
    AgencyFactory,
    PlanFactory,
    PriorityAreaFactory,
    UserFactory,
    asked_in_time,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TASKS_APP_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "tasks_app"),
    key=lambda model: model._meta.model_name,
)
# History is appended by the services only; the admin never adds it. API tokens are made only
# by their owner (the secret is shown once, to them).
NO_ADD_IN_ADMIN = {
    StatusUpdate,
    Evidence,
    DeadlineExtension,
    TaskChange,
    SheetUpload,
    ApiToken,
    CalendarFeed,
}


def url(model, view, *args):
    return reverse(f"admin:tasks_app_{model._meta.model_name}_{view}", args=args)


def changelist(client, model=Task, **params):
    response = client.get(url(model, "changelist"), params)
    assert response.status_code == 200
    return response


def listed_codes(response) -> set[str]:
    return {task.code for task in response.context["cl"].result_list}


def form_data(response) -> dict:
    """The POST data of a rendered admin change form, as a browser would send it."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


def report(task, user, *, state=TaskState.IN_PROGRESS, progress=30, **kwargs):
    return services.status_update_record(
        task=task, author=user, state=state, progress=progress, **kwargs
    )


@pytest.fixture
def one_of_each(task, agencies, manager, plan, area, admin_user):
    """One row of every model of tasks_app, with the task's history filled in."""
    dti = DtiIndex.objects.create(edition=2022, code="cqs", name="Chính quyền số", points=100)
    area.dti_index = dti
    area.save()
    document = PlanDocument.objects.create(
        plan=plan, number="06-NQ/TU", title="Nghị quyết về chuyển đổi số"
    )
    succession = AgencySuccession.objects.create(
        predecessor=agencies["haitrung"],
        successor=agencies["haihau"],
        date=datetime.date(2025, 7, 1),
        kind=SuccessionKind.MERGE,
    )
    update = report(
        task,
        manager,
        agency=agencies["haihau"],
        result="Đã khảo sát",
        evidence=[services.EvidenceUpload("bien-ban.pdf", "application/pdf", b"%PDF-1.4")],
    )
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=datetime.date(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    child = services.task_split(task=task, agencies=[agencies["haitrung"]])[0]
    services.task_update_fields(
        task=child, expected_version=None, author=manager, reason="Sửa tên", title="Khảo sát"
    )
    change = TaskChange.objects.get(task=child)
    upload = SheetUpload.objects.create(
        kind=SheetUpload.Kind.PLAN,
        plan=plan,
        uploaded_by=manager,
        original_name="ke-hoach.xlsx",
        content=b"PK",
        sha256="0" * 64,
    )
    return {
        type(obj): obj
        for obj in (
            agencies["haihau"].level,
            agencies["haihau"],
            succession,
            Membership.objects.get(user=manager),
            dti,
            plan,
            document,
            area,
            child,
            update,
            update.evidence.get(),
            extension,
            change,
            upload,
            tokens.token_create(user=manager, name="Kết nối LGSP")[0],
            calendar_feed.calendar_feed_get(user=manager),
        )
    }


def test_every_model_of_tasks_app_has_an_admin():
    from django.apps import apps

    assert set(TASKS_APP_MODELS) == set(apps.get_app_config("tasks_app").get_models())


@pytest.mark.parametrize("model", TASKS_APP_MODELS, ids=lambda model: model._meta.model_name)
def test_admin_pages_render_for_a_superuser(admin_client, one_of_each, model):
    obj = one_of_each[model]

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "changelist"), {"q": "a"}).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    expected_add = 403 if model in NO_ADD_IN_ADMIN else 200
    assert admin_client.get(url(model, "add")).status_code == expected_add


def test_task_change_page_lists_history_children_and_extensions(admin_client, one_of_each):
    parent = one_of_each[Task].parent

    response = admin_client.get(url(Task, "change", parent.pk))

    inlines = {
        inline.formset.prefix: len(inline.formset.forms)
        for inline in response.context["inline_admin_formsets"]
    }
    assert inlines == {"children": 1, "updates": 1, "changes": 0, "extensions": 1}
    assert parent.children.get().code in response.text


def test_task_change_page_lists_the_change_history(admin_client, one_of_each):
    change = one_of_each[TaskChange]

    response = admin_client.get(url(Task, "change", change.task_id))

    changes = next(
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "changes"
    )
    assert len(changes.formset.forms) == 1
    assert "Sửa tên" in response.text
    assert "Khảo sát" in response.text


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("task", "lead_agency"), ("task", "parent"), ("membership", "user")],
)
def test_autocomplete_fields_answer(admin_client, one_of_each, model_name, field_name):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "tasks_app", "model_name": model_name, "field_name": field_name},
    )

    assert response.status_code == 200
    assert response.json()["results"]


def test_task_changelist_filters_by_report_category_today(admin_client, make_task, manager):
    with time_machine.travel(datetime.datetime(2022, 7, 1, 9, 0, tzinfo=HCM), tick=False):
        overdue = make_task(code="OVERDUE", due=datetime.date(2022, 6, 30))
        on_time = make_task(code="ON-TIME", due=datetime.date(2022, 6, 30))
        report(
            on_time,
            manager,
            state=TaskState.COMPLETED,
            completed_on=datetime.date(2022, 6, 20),
            result="Đã đưa vào sử dụng",
        )
        running = make_task(code="RUNNING", due=datetime.date(2022, 12, 31))
        report(running, manager, progress=40)
        make_task(code="REGULAR", due=None)

        everything = changelist(admin_client)
        only_overdue = changelist(admin_client, category_today=ReportCategory.OVERDUE)
        only_on_time = changelist(admin_client, category_today=ReportCategory.COMPLETED_ON_TIME)
        # "Show counts" counts every filter choice on the annotated queryset.
        counted = admin_client.get(
            url(Task, "changelist"), {"_facets": "True"}, headers={"accept-language": "en"}
        )

    categories = {task.code: task.category for task in everything.context["cl"].result_list}
    assert categories == {
        "OVERDUE": ReportCategory.OVERDUE,
        "ON-TIME": ReportCategory.COMPLETED_ON_TIME,
        "RUNNING": ReportCategory.IN_PROGRESS,
        "REGULAR": ReportCategory.REGULAR,
    }
    assert listed_codes(only_overdue) == {overdue.code}
    assert listed_codes(only_on_time) == {on_time.code}
    assert "In progress, overdue (1)" in counted.text


def test_category_column_follows_the_day_it_is_shown(admin_client, make_task):
    task = make_task(code="DUE-30-06", due=datetime.date(2022, 6, 30))

    # Overdue from 00:00 of due + 1 in Asia/Ho_Chi_Minh (still 30/06 in UTC).
    for moment, expected in [
        (datetime.datetime(2022, 6, 30, 23, 59, tzinfo=HCM), ReportCategory.NOT_STARTED),
        (datetime.datetime(2022, 7, 1, 0, 1, tzinfo=HCM), ReportCategory.OVERDUE),
    ]:
        with time_machine.travel(moment, tick=False):
            response = changelist(admin_client)
        assert response.context["cl"].result_list[0].category == expected, moment
    assert task.code in response.text


def test_task_changelist_query_count_does_not_grow_with_the_tasks(
    admin_client, make_task, manager, agencies, django_assert_max_num_queries
):
    def add_tasks(count):
        for _ in range(count):
            task = make_task(due=datetime.date(2022, 6, 30))
            task.coordinating_agencies.add(agencies["stttt"])
            report(task, manager)
            extension = services.extension_request(
                task=task,
                requested_by=manager,
                proposed_due=datetime.date(2022, 8, 31),
                reason="Chờ kinh phí",
                requested_at=asked_in_time(task),
            )
            services.extension_approve(extension=extension, decided_by=manager)

    add_tasks(3)
    with CaptureQueriesContext(connection) as few:
        response = changelist(admin_client)
    assert len(response.context["cl"].result_list) == 3

    add_tasks(27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = changelist(admin_client)
    assert len(response.context["cl"].result_list) == 30


def test_extended_task_shows_due_and_original_due(admin_client, task, manager):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=datetime.date(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    services.extension_approve(extension=extension, decided_by=manager)

    row = changelist(admin_client).context["cl"].result_list[0]

    with translation.override("en"):
        shown = admin.site._registry[Task].due_display(row)
    assert shown == "30/09/2022 (originally 30/06/2022)"


def test_search_finds_a_task_by_part_of_its_title(admin_client, make_task):
    wanted = make_task(title="Xây dựng trung tâm giám sát điều hành thông minh (IOC)")
    make_task(title="Số hóa hồ sơ hộ tịch")

    response = changelist(admin_client, q="giám sát điều hành")

    assert listed_codes(response) == {wanted.code}


def test_search_finds_a_task_by_lead_agency_name(admin_client, make_task, agencies):
    wanted = make_task(lead_agency=agencies["giaothuy"])
    make_task(lead_agency=agencies["haihau"])

    response = changelist(admin_client, q="Giao Thủy")

    assert listed_codes(response) == {wanted.code}


def test_task_changelist_filters_by_lead_agency_level(admin_client, make_task, agencies):
    make_task(code="PROVINCE", lead_agency=agencies["stttt"])
    make_task(code="DISTRICT", lead_agency=agencies["haihau"])

    response = changelist(admin_client, lead_agency__level__id__exact=agencies["haihau"].level_id)

    assert listed_codes(response) == {"DISTRICT"}


def test_task_structure_filter(admin_client, make_task, agencies):
    parent = make_task(code="PARENT")
    make_task(code="ALONE")
    children = services.task_split(task=parent, agencies=[agencies["haihau"]])

    assert listed_codes(changelist(admin_client, structure="parent")) == {"PARENT"}
    assert listed_codes(changelist(admin_client, structure="child")) == {children[0].code}
    assert listed_codes(changelist(admin_client, structure="standalone")) == {"ALONE"}


def test_agency_valid_today_filter(admin_client, agencies, levels):
    with time_machine.travel(datetime.datetime(2025, 8, 1, 9, 0, tzinfo=HCM), tick=False):
        abolished = AgencyFactory(
            code="OLD", level=levels["district"], valid_to=datetime.date(2025, 6, 30)
        )
        valid = changelist(admin_client, model=type(abolished), valid_today="yes")
        invalid = changelist(admin_client, model=type(abolished), valid_today="no")

    assert abolished not in valid.context["cl"].result_list
    assert agencies["haihau"] in valid.context["cl"].result_list
    assert list(invalid.context["cl"].result_list) == [abolished]


def test_adding_a_task_sets_its_original_due_date(admin_client, plan, area, agencies):
    response = admin_client.post(
        url(Task, "add"),
        {
            "plan": plan.pk,
            "priority_area": area.pk,
            "code": "CDS22-99",
            "title": "Triển khai nền tảng họp trực tuyến",
            "lead_agency": agencies["stttt"].pk,
            "coordinating_agencies": [agencies["haihau"].pk, agencies["giaothuy"].pk],
            "assigned_on": "2022-03-01",
            "due": "2022-10-31",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    task = Task.objects.get(code="CDS22-99")
    assert task.original_due == task.due == datetime.date(2022, 10, 31)
    assert task.state == TaskState.NOT_STARTED
    assert set(task.coordinating_agencies.all()) == {agencies["haihau"], agencies["giaothuy"]}


def test_adding_a_task_refuses_a_priority_area_of_another_plan(admin_client, plan, agencies):
    other_area = PriorityAreaFactory(plan=PlanFactory(issuing_agency=agencies["province"]))

    response = admin_client.post(
        url(Task, "add"),
        {
            "plan": plan.pk,
            "priority_area": other_area.pk,
            "code": "CDS22-99",
            "title": "Nhiệm vụ",
            "lead_agency": agencies["stttt"].pk,
            "assigned_on": "2022-03-01",
            "due": "2022-02-01",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"priority_area", "due"}
    assert not Task.objects.filter(code="CDS22-99").exists()


def test_changing_a_task_keeps_its_state_and_a_concurrent_update(admin_client, task, manager):
    report(task, manager, progress=20)
    page = admin_client.get(url(Task, "change", task.pk))
    assert {"state", "progress", "due", "original_due", "version"} <= set(
        page.context["adminform"].readonly_fields
    )
    data = form_data(page)
    # Someone reports progress while the administrator edits the title.
    report(task, manager, progress=60)
    version_before = Task.objects.get(pk=task.pk).version

    response = admin_client.post(
        url(Task, "change", task.pk), {**data, "title": "Tên mới", "_save": "1"}
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Tên mới"
    assert task.progress == 60
    assert task.version == version_before + 1
    assert task.updates.count() == 2


def change_task(client, task, **changes):
    page = client.get(url(Task, "change", task.pk))
    return client.post(url(Task, "change", task.pk), {**form_data(page), **changes, "_save": "1"})


def test_changing_a_task_goes_through_the_service(admin_client, task, agencies):
    """The service's rules apply: a new lead agency clears the reassignment flag, and the
    coordinating agencies are set with the rest."""
    Task.objects.filter(pk=task.pk).update(needs_reassignment=True)
    task.refresh_from_db()

    response = change_task(
        admin_client,
        task,
        lead_agency=agencies["giaothuy"].pk,
        coordinating_agencies=[agencies["stttt"].pk],
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.lead_agency == agencies["giaothuy"]
    assert task.needs_reassignment is False
    assert list(task.coordinating_agencies.all()) == [agencies["stttt"]]


def test_the_services_refusals_show_beside_the_fields_and_nothing_is_written(
    admin_client, task, make_task
):
    make_task(code="TAKEN")
    title, version, code = task.title, task.version, task.code

    late_start = change_task(admin_client, task, title="Tên mới", assigned_on="2022-07-01")
    taken_code = change_task(admin_client, task, title="Tên mới", code="TAKEN")

    assert late_start.status_code == 200
    assert "assigned_on" in late_start.context["adminform"].form.errors
    assert taken_code.status_code == 200
    assert taken_code.context["adminform"].form.errors  # the code is unique in the plan
    task.refresh_from_db()
    assert (task.title, task.version, task.code) == (title, version, code)


def test_adding_a_child_task_rolls_up_its_parent_and_refuses_a_grandchild(
    admin_client, task, plan, area, agencies, manager
):
    report(task, manager, progress=40)
    child = services.task_split(task=task, agencies=[agencies["haitrung"]])[0]
    fields = {
        "plan": plan.pk,
        "priority_area": area.pk,
        "title": "Phần việc của Giao Thủy",
        "lead_agency": agencies["giaothuy"].pk,
        "assigned_on": "2022-03-01",
        "due": "2022-06-30",
    }

    added = admin_client.post(url(Task, "add"), {**fields, "code": "NEW.GT", "parent": task.pk})
    grandchild = admin_client.post(
        url(Task, "add"), {**fields, "code": "NEW.X", "parent": child.pk}
    )

    assert added.status_code == 302
    task.refresh_from_db()
    # Rolled up from its two children, neither started: no longer the 40 % it reported.
    assert (task.progress, task.state) == (0, TaskState.NOT_STARTED)
    assert grandchild.status_code == 200
    assert "parent" in grandchild.context["adminform"].form.errors
    assert not Task.objects.filter(code="NEW.X").exists()


def test_task_without_history_can_be_deleted_from_the_list(admin_client, make_task):
    task = make_task()

    response = admin_client.post(
        url(Task, "changelist"),
        {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [task.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Task.objects.filter(pk=task.pk).exists()


def test_status_update_admin_is_read_only(admin_client, task, manager):
    update = report(task, manager, progress=20, result="Đang triển khai")

    change_page = admin_client.get(url(StatusUpdate, "change", update.pk))
    post = admin_client.post(
        url(StatusUpdate, "change", update.pk), {"progress": 90, "state": "completed"}
    )
    delete_page = admin_client.get(url(StatusUpdate, "delete", update.pk))
    delete = admin_client.post(url(StatusUpdate, "delete", update.pk), {"post": "yes"})
    listing = changelist(admin_client, model=StatusUpdate)

    assert change_page.status_code == 200
    assert change_page.context["has_change_permission"] is False
    assert change_page.context["has_delete_permission"] is False
    assert post.status_code == 403
    assert delete_page.status_code == 403
    assert delete.status_code == 403
    assert listing.context["action_form"] is None  # not even "delete selected"
    update.refresh_from_db()
    assert (update.progress, update.state) == (20, TaskState.IN_PROGRESS)


@pytest.fixture
def extension(task, manager):
    return services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=datetime.date(2022, 9, 30),
        reason="Chờ phân bổ kinh phí",
        requested_at=asked_in_time(task),
    )


def decide(client, action, extension, **confirmation):
    """Run an extension action: the first POST asks for confirmation, the second decides."""
    changelist_url = url(DeadlineExtension, "changelist")
    selected = {"action": action, helpers.ACTION_CHECKBOX_NAME: [extension.pk]}
    asked = client.post(changelist_url, {**selected, "index": 0})
    assert asked.status_code == 200
    assert asked.templates[0].name.endswith("decide_confirmation.html")
    return client.post(changelist_url, {**selected, "post": "yes", **confirmation}, follow=True)


def test_approving_an_extension_moves_the_due_date_and_keeps_the_original(
    admin_client, admin_user, extension
):
    changelist_url = url(DeadlineExtension, "changelist")
    asked = admin_client.post(
        changelist_url,
        {
            "action": "approve_selected",
            helpers.ACTION_CHECKBOX_NAME: [extension.pk],
            "index": 0,
        },
    )
    # Nothing is decided before the confirmation.
    assert asked.status_code == 200
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING

    response = decide(admin_client, "approve_selected", extension, note="Đồng ý")

    assert response.status_code == 200
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert extension.decided_by == admin_user
    assert extension.decision_note == "Đồng ý"
    task = extension.task
    task.refresh_from_db()
    assert task.due == datetime.date(2022, 9, 30)
    assert task.original_due == datetime.date(2022, 6, 30)
    levels = [message.level for message in response.context["messages"]]
    assert levels == [message_levels.SUCCESS]


def test_rejecting_an_extension_needs_a_reason(admin_client, extension):
    without_reason = decide(admin_client, "reject_selected", extension)
    assert without_reason.context["form"].errors
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING

    decide(admin_client, "reject_selected", extension, note="Không đủ căn cứ")

    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REJECTED
    assert extension.decision_note == "Không đủ căn cứ"
    extension.task.refresh_from_db()
    assert extension.task.due == datetime.date(2022, 6, 30)


def test_a_refused_decision_is_reported_as_an_error(admin_client, extension, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"status": "Đã được quyết định."})

    monkeypatch.setattr(services, "extension_approve", refuse)

    response = decide(admin_client, "approve_selected", extension)

    messages = list(response.context["messages"])
    assert [message.level for message in messages] == [message_levels.ERROR]
    assert "Đã được quyết định." in messages[0].message
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.PENDING


def test_an_already_decided_extension_is_left_alone(admin_client, extension, manager):
    services.extension_reject(extension=extension, decided_by=manager, note="Không")

    response = admin_client.post(
        url(DeadlineExtension, "changelist"),
        {
            "action": "approve_selected",
            helpers.ACTION_CHECKBOX_NAME: [extension.pk],
            "index": 0,
        },
        follow=True,
    )

    assert [m.level for m in response.context["messages"]] == [message_levels.WARNING]
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REJECTED


def test_staff_without_permissions_is_refused_the_task_list(client, task):
    staff = UserFactory(username="staff-only", is_staff=True)
    client.force_login(staff)

    assert client.get(url(Task, "changelist")).status_code == 403
    assert client.get(url(Task, "change", task.pk)).status_code == 403


def test_staff_with_view_permission_cannot_decide_extensions(client, extension):
    from django.contrib.auth.models import Permission

    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_deadlineextension"),
        Permission.objects.get(codename="view_task"),
    )
    client.force_login(staff)

    listing = changelist(client, model=DeadlineExtension)

    assert listing.context["action_form"] is None
    assert client.get(url(Task, "change", extension.task.pk)).status_code == 200
