"""Tasks that need a new owner (issue 14): the district level ends on 01/07/2025, so the open
tasks of Hải Hậu district are flagged "cần giao lại", listed with the communes that took over
its communes, and reassigned in bulk by the monitoring agency with a reason."""

import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from tasks_app import selectors, services
from tasks_app.choices import AgencyKind, ChangeSource, SuccessionKind, TaskState
from tasks_app.models import Agency, AgencySuccession, Task, TaskChange
from tasks_app.tasks import tasks_flag_orphaned_task
from tests.factories import AgencyFactory, PlanFactory, PriorityAreaFactory, TaskFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REFORM = D(2025, 7, 1)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


@pytest.fixture
def reform(agencies, levels):
    """Hải Hậu district (with its communes Hải Trung and Hải Minh) ends on 30/06/2025; the
    communes are merged into the new communes xã Hải Hậu and xã Hải Anh."""
    last_day = D(2025, 6, 30)
    haihau, haitrung = agencies["haihau"], agencies["haitrung"]
    haiminh = AgencyFactory(
        code="HH_HAIMINH",
        name="Ủy ban nhân dân xã Hải Minh",
        level=levels["commune"],
        parent=haihau,
        kind=AgencyKind.UBND,
    )
    for agency in (haihau, haitrung, haiminh):
        agency.valid_to = last_day
        agency.save()
    new = {
        code: AgencyFactory(
            code=code,
            name=name,
            short_name=name.replace("Ủy ban nhân dân x", "X"),
            level=levels["commune"],
            kind=AgencyKind.UBND,
            valid_from=REFORM,
        )
        for code, name in [
            ("NB_XA_HAIHAU", "Ủy ban nhân dân xã Hải Hậu"),
            ("NB_XA_HAIANH", "Ủy ban nhân dân xã Hải Anh"),
        ]
    }
    law = "Luật Tổ chức chính quyền địa phương số 72/2025/QH15"
    AgencySuccession.objects.create(
        predecessor=haihau,
        successor=None,
        date=REFORM,
        kind=SuccessionKind.ABOLISH,
        legal_basis=law,
    )
    for old, successor, clause in [
        (haitrung, new["NB_XA_HAIHAU"], "45"),
        (haiminh, new["NB_XA_HAIANH"], "46"),
    ]:
        AgencySuccession.objects.create(
            predecessor=old,
            successor=successor,
            date=REFORM,
            kind=SuccessionKind.MERGE,
            legal_basis=f"NQ 1674/NQ-UBTVQH15, khoản {clause}",
        )
    return {"haihau": haihau, "haitrung": haitrung, "haiminh": haiminh, **new}


@pytest.fixture
def plan_2025(agencies):
    plan = PlanFactory(
        code="CDS-2025",
        issuing_agency=agencies["province"],
        monitor_agency=agencies["stttt"],
        period_start=D(2025, 1, 1),
        period_end=D(2025, 12, 31),
    )
    return PriorityAreaFactory(plan=plan, code="CQS", name="Chính quyền số")


def make(area, lead, code, *, state=TaskState.NOT_STARTED, due=D(2025, 9, 30), **fields):
    if state == TaskState.COMPLETED:
        fields.setdefault("completed_on", D(2025, 5, 20))
    return TaskFactory(
        priority_area=area,
        code=code,
        lead_agency=lead,
        assigned_on=D(2025, 2, 1),
        original_due=due,
        due=due,
        state=state,
        **fields,
    )


@pytest.fixture
def haihau_tasks(reform, plan_2025, agencies):
    """Four open tasks of Hải Hậu (not started, in progress, awaiting confirmation), one
    completed, one withdrawn, and one open task of the province (which goes on)."""
    lead = reform["haihau"]
    return {
        "open": [
            make(plan_2025, lead, "HH-01"),
            make(plan_2025, lead, "HH-02", state=TaskState.IN_PROGRESS, progress=40),
            make(plan_2025, lead, "HH-03", state=TaskState.AWAITING_CONFIRMATION),
            make(plan_2025, lead, "HH-04", due=D(2025, 6, 15)),
        ],
        "completed": make(plan_2025, lead, "HH-05", state=TaskState.COMPLETED, progress=100),
        "withdrawn": make(plan_2025, lead, "HH-06", state=TaskState.WITHDRAWN),
        "province": make(plan_2025, agencies["province"], "TINH-01"),
    }


def flagged_codes() -> set[str]:
    return set(Task.objects.filter(needs_reassignment=True).values_list("code", flat=True))


# --- Flagging -----------------------------------------------------------------------------------


def test_nothing_is_flagged_while_the_district_still_exists(haihau_tasks):
    assert services.tasks_flag_orphaned(on=D(2025, 6, 30)) == 0
    assert flagged_codes() == set()


def test_the_job_flags_only_the_open_tasks_of_the_abolished_agency_once(haihau_tasks):
    versions = {t.code: t.version for t in Task.objects.all()}
    with time_machine.travel(at(REFORM, 0), tick=False):
        assert tasks_flag_orphaned_task() == 4
        # Beat fired twice: nothing more is flagged, no version moves again.
        assert tasks_flag_orphaned_task() == 0
    assert flagged_codes() == {"HH-01", "HH-02", "HH-03", "HH-04"}
    after = {t.code: t.version for t in Task.objects.all()}
    assert {code for code in after if after[code] != versions[code]} == flagged_codes()
    assert all(after[code] == versions[code] + 1 for code in flagged_codes())


def test_the_job_takes_a_day_in_iso_form(haihau_tasks):
    assert tasks_flag_orphaned_task("2025-06-30") == 0
    assert tasks_flag_orphaned_task("2025-07-01") == 4


def test_the_beat_schedule_runs_the_job_at_a_quarter_past_midnight():
    from plan_tracker.celery import app

    entry = app.conf.beat_schedule["tasks-flag-orphaned"]
    assert entry["task"] == tasks_flag_orphaned_task.name
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {15}


def test_a_split_to_an_agency_that_no_longer_exists_is_flagged_at_once(
    haihau_tasks, reform, agencies
):
    parent = haihau_tasks["province"]
    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        children = services.task_split(
            task=parent, agencies=[reform["haitrung"], reform["NB_XA_HAIHAU"]]
        )
        assert {c.code: c.needs_reassignment for c in children} == {
            "TINH-01.HH_HAITRUNG": True,
            "TINH-01.NB_XA_HAIHAU": False,
        }
        # The job finds nothing more to flag among them.
        services.tasks_flag_orphaned(on=D(2025, 7, 2))
    assert Task.objects.get(code="TINH-01.HH_HAITRUNG").version == 1


# --- Suggestions --------------------------------------------------------------------------------


def test_the_communes_that_took_over_the_districts_communes_are_suggested(
    haihau_tasks, reform, monitor
):
    services.tasks_flag_orphaned(on=REFORM)
    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        groups = selectors.tasks_needing_reassignment(user=monitor)
    assert [group.agency.code for group in groups] == ["UBND_HAIHAU"]
    (group,) = groups
    assert [a.code for a in group.suggested] == ["NB_XA_HAIANH", "NB_XA_HAIHAU"]
    assert [t.code for t in group.tasks] == ["HH-01", "HH-02", "HH-03", "HH-04"]
    assert [(e.kind, e.date) for e in group.successions] == [("abolish", REFORM)]


def test_a_merge_suggests_its_successor_and_a_chain_leads_to_the_agency_existing_today(
    agencies, levels
):
    stttt, province = agencies["stttt"], agencies["province"]
    skhcn = AgencyFactory(code="SKHCN_ND", level=levels["province"], valid_to=D(2025, 6, 30))
    nb_skhcn = AgencyFactory(code="NB_SKHCN", level=levels["province"], valid_from=REFORM)
    stttt.valid_to = D(2025, 2, 28)
    stttt.save()
    for old, new, day in [(stttt, skhcn, D(2025, 3, 1)), (skhcn, nb_skhcn, REFORM)]:
        AgencySuccession.objects.create(
            predecessor=old, successor=new, date=day, kind=SuccessionKind.MERGE
        )
    _, suggested = selectors.succession_suggestions([stttt.pk, skhcn.pk, province.pk], on=REFORM)
    assert [a.code for a in suggested[stttt.pk]] == ["NB_SKHCN"]
    assert [a.code for a in suggested[skhcn.pk]] == ["NB_SKHCN"]
    assert suggested[province.pk] == []
    # Before the second merge, Sở KH&CN Nam Định was the one to take over.
    _, before = selectors.succession_suggestions([stttt.pk], on=D(2025, 4, 1))
    assert [a.code for a in before[stttt.pk]] == ["SKHCN_ND"]


# --- Reassigning --------------------------------------------------------------------------------


@pytest.fixture
def flagged(haihau_tasks):
    services.tasks_flag_orphaned(on=REFORM)
    return [Task.objects.get(pk=t.pk) for t in haihau_tasks["open"]]


def test_bulk_reassign_records_each_change_and_clears_the_flag(flagged, reform, monitor):
    chosen = flagged[:3]
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        tasks = services.tasks_reassign(
            tasks=chosen,
            lead_agency=reform["NB_XA_HAIHAU"],
            author=monitor,
            reason="Quyết định số 12/QĐ-UBND ngày 02/07/2025",
            source=ChangeSource.API,
        )
    assert [t.code for t in tasks] == ["HH-01", "HH-02", "HH-03"]
    # One change per task: the lead agency (the flag's clearing goes with it).
    changes = TaskChange.objects.all()
    assert sorted(changes.values_list("field", flat=True)) == ["lead_agency"] * 3
    for change in changes:
        assert change.author == monitor
        assert change.reason == "Quyết định số 12/QĐ-UBND ngày 02/07/2025"
        assert change.source == ChangeSource.API
        assert change.old_value == str(reform["haihau"].pk)
        assert change.new_value == str(reform["NB_XA_HAIHAU"].pk)
    assert flagged_codes() == {"HH-04"}
    assert all(t.version == f.version + 1 for t, f in zip(tasks, chosen, strict=True))
    assert set(
        Task.objects.filter(code__in=["HH-01", "HH-02", "HH-03"]).values_list(
            "lead_agency__code", flat=True
        )
    ) == {"NB_XA_HAIHAU"}
    # The job runs again the next night: the new lead exists, nothing is flagged again.
    assert services.tasks_flag_orphaned(on=D(2025, 7, 4)) == 0


@pytest.mark.parametrize(
    ("lead", "reason", "field"),
    [
        ("NB_XA_HAIHAU", "   ", "reason"),
        ("HH_HAITRUNG", "Quyết định số 12", "lead_agency"),
    ],
)
def test_a_refused_reassignment_writes_nothing(flagged, reform, monitor, lead, reason, field):
    before = {t.pk: (t.lead_agency_id, t.version) for t in Task.objects.all()}
    lead_agency = Agency.objects.get(code=lead)
    with (
        time_machine.travel(at(D(2025, 7, 3)), tick=False),
        pytest.raises(services.ValidationError) as error,
    ):
        services.tasks_reassign(
            tasks=flagged, lead_agency=lead_agency, author=monitor, reason=reason
        )
    assert list(error.value.message_dict) == [field]
    assert {t.pk: (t.lead_agency_id, t.version) for t in Task.objects.all()} == before
    assert not TaskChange.objects.exists()
    assert flagged_codes() == {"HH-01", "HH-02", "HH-03", "HH-04"}


def test_a_failure_on_a_later_task_rolls_back_the_earlier_ones(flagged, reform, monitor):
    # The second task's priority area belongs to another plan: full_clean refuses it.
    other = PriorityAreaFactory()
    Task.objects.filter(pk=flagged[1].pk).update(priority_area=other)
    with (
        time_machine.travel(at(D(2025, 7, 3)), tick=False),
        pytest.raises(services.ValidationError),
    ):
        services.tasks_reassign(
            tasks=flagged[:2],
            lead_agency=reform["NB_XA_HAIHAU"],
            author=monitor,
            reason="Quyết định số 12",
        )
    assert not TaskChange.objects.exists()
    assert Task.objects.get(pk=flagged[0].pk).lead_agency_id == reform["haihau"].pk


def test_correcting_the_lead_to_an_agency_that_ceased_to_exist_keeps_the_flag(
    flagged, reform, monitor
):
    # A correction of a past assignment (the district's commune led it in fact).
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        task = services.task_update_fields(
            task=flagged[0],
            expected_version=None,
            author=monitor,
            reason="Nhập sai cơ quan chủ trì",
            lead_agency=reform["haitrung"],
        )
    assert task.needs_reassignment is True
    assert list(TaskChange.objects.values_list("field", flat=True)) == ["lead_agency"]


# --- The page -----------------------------------------------------------------------------------


def url() -> str:
    return reverse("tasks_app:reassign-list")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def as_monitor(client, monitor):
    client.force_login(monitor)
    return client


def test_the_page_lists_the_flagged_tasks_with_the_suggested_communes(
    flagged, haihau_tasks, as_monitor
):
    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        response = as_monitor.get(url())
    assert response.status_code == 200
    page = text(response)
    for code in ["HH-01", "HH-02", "HH-03", "HH-04"]:
        assert f'<span class="task-code">{code}</span>' in page
    for code in ["HH-05", "HH-06", "TINH-01"]:
        assert f'<span class="task-code">{code}</span>' not in page
    assert "Ủy ban nhân dân huyện Hải Hậu" in page
    assert "Luật Tổ chức chính quyền địa phương số 72/2025/QH15" in page
    assert "01/07/2025" in page
    # The suggested communes come first in the select, then every agency existing today;
    # the abolished district is not offered.
    suggested = re.search(r'<optgroup label="Cơ quan kế thừa được gợi ý">(.*?)</optgroup>', page)
    assert suggested is not None
    assert re.findall(r">([^<]+)</option>", suggested.group(1)) == ["Xã Hải Anh", "Xã Hải Hậu"]
    others = re.search(r'<optgroup label="Tất cả cơ quan đang hoạt động">(.*?)</optgroup>', page)
    assert others is not None
    assert "Sở TT&amp;TT" in others.group(1)
    assert "UBND huyện Hải Hậu" not in others.group(1)
    assert "Nhiệm vụ cần giao lại" in page


def test_the_page_reassigns_the_ticked_tasks(flagged, reform, as_monitor, monitor):
    chosen = flagged[:3]
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        response = as_monitor.post(
            url(),
            {
                "group": reform["haihau"].pk,
                "tasks": [t.pk for t in chosen],
                "lead_agency": reform["NB_XA_HAIANH"].pk,
                "reason": "Quyết định số 15/QĐ-UBND",
            },
            follow=True,
        )
    assert "Đã giao 3 nhiệm vụ cho Xã Hải Anh." in text(response)
    assert (
        TaskChange.objects.filter(
            field="lead_agency", author=monitor, source=ChangeSource.PAGE
        ).count()
        == 3
    )
    assert flagged_codes() == {"HH-04"}


@pytest.mark.parametrize(
    ("lead", "reason", "message"),
    [
        ("NB_XA_HAIANH", "", "Hãy nêu lý do giao lại nhiệm vụ."),
        ("HH_HAIMINH", "Quyết định số 15", "đã chấm dứt hoạt động từ sau ngày 30/06/2025"),
    ],
)
def test_the_page_shows_the_error_and_writes_nothing(
    flagged, reform, as_monitor, lead, reason, message
):
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        response = as_monitor.post(
            url(),
            {
                "group": reform["haihau"].pk,
                "tasks": [flagged[0].pk, flagged[1].pk],
                "lead_agency": Agency.objects.get(code=lead).pk,
                "reason": reason,
            },
        )
    assert response.status_code == 400
    page = text(response)
    assert message in page
    # The ticked tasks stay ticked.
    assert f'value="{flagged[0].pk}" id="task-{flagged[0].pk}" checked' in page
    assert not TaskChange.objects.exists()
    assert flagged_codes() == {"HH-01", "HH-02", "HH-03", "HH-04"}


@pytest.mark.parametrize("person", ["manager", "officer", "leader", "outsider"])
def test_only_monitors_reach_the_page(flagged, reform, client, request, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(url()).status_code == 403
    response = client.post(
        url(),
        {
            "group": reform["haihau"].pk,
            "tasks": [flagged[0].pk],
            "lead_agency": reform["NB_XA_HAIANH"].pk,
            "reason": "x",
        },
    )
    assert response.status_code == 403
    assert flagged_codes() == {"HH-01", "HH-02", "HH-03", "HH-04"}


def test_the_page_query_count_does_not_grow_with_tasks(
    flagged, reform, plan_2025, as_monitor, django_assert_max_num_queries
):
    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        with django_assert_max_num_queries(12) as few:
            as_monitor.get(url())
        giaothuy = Agency.objects.get(code="UBND_GIAOTHUY")
        giaothuy.valid_to = D(2025, 6, 30)
        giaothuy.save()
        for n in range(30):
            make(plan_2025, reform["haihau"] if n % 2 else giaothuy, f"X-{n:02d}")
        services.tasks_flag_orphaned(on=REFORM)
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = as_monitor.get(url())
    assert text(response).count('name="tasks"') == 34


def test_the_task_list_and_task_page_show_the_badge(flagged, haihau_tasks, as_monitor):
    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        listing = text(as_monitor.get(reverse("tasks_app:task-list"), {"needs_reassignment": "1"}))
        detail = text(as_monitor.get(reverse("tasks_app:task-detail", args=[flagged[0].pk])))
        other = text(
            as_monitor.get(reverse("tasks_app:task-detail", args=[haihau_tasks["province"].pk]))
        )
    assert listing.count("Cần giao lại</span>") == 4
    assert "TINH-01" not in listing
    assert "Cần giao lại</span>" in detail
    assert "Cần giao lại</span>" not in other


# --- API ----------------------------------------------------------------------------------------


def test_the_api_reassigns_and_filters(flagged, reform, monitor, api_client):
    client = api_client(monitor)
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        listed = client.get("/api/v1/tasks/", {"needs_reassignment": "true"}).json()
        assert {row["code"] for row in listed["results"]} == {"HH-01", "HH-02", "HH-03", "HH-04"}
        response = client.post(
            "/api/v1/tasks/reassign/",
            {
                "tasks": [t.pk for t in flagged[:3]],
                "lead_agency": reform["NB_XA_HAIHAU"].pk,
                "reason": "Quyết định số 12",
            },
            format="json",
        )
    assert response.status_code == 200, response.json()
    rows = response.json()["tasks"]
    assert [row["code"] for row in rows] == ["HH-01", "HH-02", "HH-03"]
    assert all(row["needs_reassignment"] is False for row in rows)
    assert TaskChange.objects.filter(field="lead_agency", source=ChangeSource.API).count() == 3


@pytest.mark.parametrize(
    ("lead", "reason", "field"),
    [("NB_XA_HAIHAU", "", "reason"), ("HH_HAITRUNG", "Quyết định số 12", "lead_agency")],
)
def test_the_api_refuses_with_field_messages(flagged, monitor, api_client, lead, reason, field):
    with time_machine.travel(at(D(2025, 7, 3)), tick=False):
        response = api_client(monitor, HTTP_ACCEPT_LANGUAGE="vi").post(
            "/api/v1/tasks/reassign/",
            {
                "tasks": [t.pk for t in flagged],
                "lead_agency": Agency.objects.get(code=lead).pk,
                "reason": reason,
            },
            format="json",
        )
    assert response.status_code == 400
    assert field in response.json()
    assert not TaskChange.objects.exists()


def test_the_api_refuses_agency_staff(flagged, reform, manager, api_client):
    response = api_client(manager).post(
        "/api/v1/tasks/reassign/",
        {"tasks": [flagged[0].pk], "lead_agency": reform["NB_XA_HAIHAU"].pk, "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not TaskChange.objects.exists()


# --- The plan file ------------------------------------------------------------------------------


def test_loading_the_2022_plan_today_flags_hai_haus_open_tasks(db):
    from tests.tasks_app.conftest import PLAN_FILE

    out = io.StringIO()
    with time_machine.travel(at(D(2026, 1, 15)), tick=False):
        call_command("load_plan", str(PLAN_FILE), stdout=out)
    haihau = set(
        Task.objects.filter(lead_agency__code="UBND_HAIHAU").values_list("code", flat=True)
    )
    assert haihau
    assert haihau <= flagged_codes()
    assert not Task.objects.filter(
        needs_reassignment=True, lead_agency__valid_to__isnull=True
    ).exists()
    count = len(flagged_codes())
    assert (
        f"Nhiệm vụ được đánh dấu cần giao lại (cơ quan chủ trì đã chấm dứt hoạt động): {count}"
        in (out.getvalue())
    )
    # Loading again flags nothing more.
    again = io.StringIO()
    with time_machine.travel(at(D(2026, 1, 16)), tick=False):
        call_command("load_plan", str(PLAN_FILE), stdout=again)
    assert "(cơ quan chủ trì đã chấm dứt hoạt động): 0" in again.getvalue()


def test_loading_the_2022_plan_in_2022_flags_nothing(db):
    from tests.tasks_app.conftest import PLAN_FILE

    with time_machine.travel(at(D(2022, 3, 1)), tick=False):
        call_command("load_plan", str(PLAN_FILE), stdout=io.StringIO())
    assert flagged_codes() == set()


def test_a_flagged_task_completed_since_needs_no_new_owner(flagged, monitor):
    done = flagged[1]
    Task.objects.filter(pk=done.pk).update(
        state=TaskState.COMPLETED, progress=100, completed_on=D(2025, 7, 1)
    )

    with time_machine.travel(at(D(2025, 7, 2)), tick=False):
        groups = selectors.tasks_needing_reassignment(user=monitor)

    listed = [task.code for group in groups for task in group.tasks]
    assert done.code not in listed
    assert listed == ["HH-01", "HH-03", "HH-04"]
    assert selectors.task_needing_reassignment_count(user=monitor) == 3
