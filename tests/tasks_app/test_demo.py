"""`load_plan --demo`: demo accounts, a year of activity showing every report category,
an approved extension, per-district child tasks; running it again creates nothing."""

import datetime
import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from tasks_app.choices import (
    FINISHED_STATES,
    ExtensionStatus,
    ReportCategory,
    Role,
    TaskState,
    UpdateKind,
)
from tasks_app.demo import DEMO_PASSWORD, DISTRICTS, demo_categories
from tasks_app.models import (
    Agency,
    DeadlineExtension,
    Membership,
    Plan,
    StatusUpdate,
    Task,
    TaskChange,
)
from tasks_app.permissions import can_report_progress, tasks_visible_to
from tasks_app.planfile import plan_file_read
from tasks_app.querysets import local_tz
from tasks_app.selectors import membership_transfers_pending
from tasks_app.services import status_update_record


@pytest.fixture(autouse=True)
def _english_messages():
    # Assertions below read the English message ids; operators see Vietnamese by default.
    with translation.override("en"):
        yield


PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"
JUNE, DECEMBER = datetime.date(2022, 6, 30), datetime.date(2022, 12, 31)


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Load the plan with --demo once for this module (it takes a few seconds), inside a
    transaction that is rolled back afterwards so other modules start from an empty
    database. Each test still runs in its own savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("load_plan", str(PLAN_FILE), "--demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def plan(demo_output, db):
    return Plan.objects.get(code="CDS-ND-2022")


def local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(local_tz())


def login_request():
    # The login lockout (django-axes) counts attempts per client: it needs the request.
    return RequestFactory().post(reverse("login"))


def test_demo_accounts_log_in_with_their_memberships(plan):
    expected = {
        "admin": set(),
        # Moved to the successors of their agencies in 2025 (demo_reform).
        "lanhdao": {("NB_UBND_TINH", Role.LEADER)},
        "sotttt": {("NB_SKHCN", Role.MONITOR)},
        "haihau": {("UBND_HAIHAU", Role.MANAGER)},
        "giaothuy": {("UBND_GIAOTHUY", Role.MANAGER)},
        "haitrung": {("HH_HAITRUNG", Role.MANAGER)},
        "syt": {("SYT", Role.MANAGER)},
        "skhcn": {("NB_SKHCN", Role.MONITOR)},
        "xahaihau": {("NB_XA_HAIHAU", Role.MANAGER)},
    }
    for username, memberships in expected.items():
        user = authenticate(login_request(), username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.email == f"{username}@example.vn"
        assert user.first_name and user.last_name
        assert user.is_staff == user.is_superuser == (username == "admin")
        in_force = user.memberships.valid_on(timezone.localdate())
        assert set(in_force.values_list("agency__code", "role")) == memberships
    assert authenticate(login_request(), username="sotttt", password="wrong") is None


def test_demo_twice_creates_nothing_more(plan):
    models = (
        get_user_model(),
        Membership,
        Task,
        StatusUpdate,
        DeadlineExtension,
        Agency,
        TaskChange,
    )
    before = {model: model.objects.count() for model in models}
    versions = dict(Task.objects.values_list("code", "version"))

    out = io.StringIO()
    call_command("load_plan", str(PLAN_FILE), "--demo", stdout=out)

    assert {model: model.objects.count() for model in models} == before
    assert dict(Task.objects.values_list("code", "version")) == versions
    assert "Demo accounts: 9 (0 new)" in out.getvalue()
    assert "skipped" in out.getvalue()
    assert "already there" in out.getvalue()
    assert "0 memberships moved to successor agencies, 0 open tasks" in out.getvalue()


@pytest.mark.parametrize("as_of", [JUNE, DECEMBER])
def test_every_report_category_occurs_among_leaf_tasks(plan, as_of):
    counts = demo_categories(plan=plan, as_of=as_of)

    assert set(counts) == set(ReportCategory.values)
    # Leaf tasks: 42 plan tasks that were not split, plus 2 × 10 district tasks.
    assert sum(counts.values()) == 62


def test_categories_follow_the_history(plan):
    # One query per date: the category annotation is heavy to build.
    at = {
        as_of: dict(
            Task.objects.filter(plan=plan).with_category(as_of).values_list("code", "category")
        )
        for as_of in (JUNE, DECEMBER)
    }

    def category(code, as_of):
        return at[as_of][code]

    # Extended on 20/06 to 30/09, completed 19/09: in progress in June, on time in December.
    assert category("CDS22-13", JUNE) == ReportCategory.IN_PROGRESS
    assert category("CDS22-13", DECEMBER) == ReportCategory.COMPLETED_ON_TIME
    # Completion reported on 27/06 but confirmed only on 05/07.
    assert category("CDS22-16", JUNE) == ReportCategory.IN_PROGRESS
    assert category("CDS22-16", DECEMBER) == ReportCategory.COMPLETED_ON_TIME
    # Extension rejected, completed in July: late.
    assert category("CDS22-10", DECEMBER) == ReportCategory.COMPLETED_LATE
    # Never started and past due.
    assert category("CDS22-22", JUNE) == ReportCategory.NOT_STARTED
    assert category("CDS22-22", DECEMBER) == ReportCategory.OVERDUE
    assert category("CDS22-09", DECEMBER) == ReportCategory.REGULAR
    assert category("CDS22-12", JUNE) == ReportCategory.WITHDRAWN
    # A parent shows the roll-up of its children: some are overdue in December.
    assert category("CDS22-26", DECEMBER) == ReportCategory.OVERDUE


def test_the_approved_extension_keeps_the_original_due_date(plan):
    task = Task.objects.get(plan=plan, code="CDS22-13")
    extension = task.extensions.get()

    assert task.original_due == datetime.date(2022, 6, 30)
    assert task.due == datetime.date(2022, 9, 30)
    assert extension.status == ExtensionStatus.APPROVED
    assert (extension.previous_due, extension.proposed_due) == (task.original_due, task.due)
    assert extension.requested_by.username == "sotttt"
    assert extension.decided_by.username == "lanhdao"
    assert local(extension.requested_at).date() == datetime.date(2022, 6, 15)
    assert local(extension.decided_at).date() == datetime.date(2022, 6, 20)

    rejected = Task.objects.get(plan=plan, code="CDS22-10")
    assert rejected.extensions.get().status == ExtensionStatus.REJECTED
    assert rejected.due == rejected.original_due == datetime.date(2022, 6, 30)


def test_the_monitors_corrections_are_in_the_change_history_and_survive_a_reload(plan):
    reassigned = Task.objects.get(plan=plan, code="CDS22-32")
    adjusted = Task.objects.get(plan=plan, code="CDS22-20")

    call_command("load_plan", str(PLAN_FILE), "--demo", stdout=io.StringIO())

    reassigned.refresh_from_db()
    adjusted.refresh_from_db()
    assert reassigned.lead_agency.code == "VP_UBND"
    change = TaskChange.objects.get(task=reassigned)
    assert (change.field, change.author.username) == ("lead_agency", "sotttt")
    assert local(change.changed_at).date() == datetime.date(2022, 5, 10)
    assert (adjusted.original_due, adjusted.due) == (
        datetime.date(2022, 12, 31),
        datetime.date(2023, 6, 30),
    )
    assert adjusted.changes.get().new_text == "30/06/2023"


def test_two_plan_tasks_are_split_into_one_child_per_district(plan):
    for code in ("CDS22-26", "CDS22-41"):
        parent = Task.objects.get(plan=plan, code=code)
        children = parent.children.with_history_at(DECEMBER)
        leads_in_2022 = Agency.objects.filter(pk__in=[c.lead_agency_at for c in children])

        assert sorted(leads_in_2022.values_list("code", flat=True)) == sorted(DISTRICTS)
        assert all(child.due == parent.due for child in children)
        assert all(
            list(child.coordinating_agencies.values_list("code", flat=True)) == ["STTTT"]
            for child in children
        )
        assert children.filter(state=TaskState.COMPLETED).exists()
        assert len({child.progress for child in children}) > 3

    haihau_child = Task.objects.get(plan=plan, code="CDS22-41.UBND_HAIHAU")
    assert set(haihau_child.updates.values_list("author__username", flat=True)) == {"haihau"}
    assert haihau_child.updates.count() == 4


def test_activity_is_recorded_in_2022_by_the_demo_accounts(plan):
    updates = StatusUpdate.objects.filter(task__plan=plan)

    assert {local(u.recorded_at).year for u in updates} == {2022}
    assert set(updates.values_list("author__username", flat=True)) <= {
        "sotttt", "haihau", "giaothuy", "haitrung", "syt", "lanhdao",
    }  # fmt: skip
    withdrawn = updates.get(task__code="CDS22-12")
    assert withdrawn.state == TaskState.WITHDRAWN and withdrawn.reason
    contribution = updates.get(task__code="CDS22-07", kind=UpdateKind.CONTRIBUTION)
    assert contribution.agency.code == "STTTT"
    confirmation = updates.get(task__code="CDS22-16", kind=UpdateKind.CONFIRMATION)
    assert confirmation.author.username == "sotttt"
    assert confirmation.state == TaskState.COMPLETED
    assert local(confirmation.recorded_at).date() == datetime.date(2022, 7, 5)


def test_demo_needs_the_2022_plan(demo_output, db, tmp_path):
    data = plan_file_read(path=PLAN_FILE)
    data["plan"]["code"] = "CDS-OTHER"
    data["tasks"] = data["tasks"][:3]
    path = tmp_path / "other.yaml"
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper), encoding="utf-8")

    with pytest.raises(CommandError, match="the demo could not be loaded") as refused:
        call_command("load_plan", str(path), "--demo", stdout=io.StringIO())

    assert "CDS22-26" in str(refused.value)
    assert not Plan.objects.filter(code="CDS-OTHER").exists()


def test_the_demo_opened_today_shows_live_work_of_todays_agencies(demo_output, db):
    today = timezone.localdate()
    plan = Plan.objects.get(code=f"CDS-NB-{today.year}")

    assert (plan.period_start.year, plan.period_end.year) == (today.year, today.year)
    assert "minh họa" in plan.title or "illustrative" in plan.title
    leads = Agency.objects.filter(led_tasks__plan=plan).distinct()
    assert leads.exists() and all(agency.is_valid_on(today) for agency in leads)
    categories = demo_categories(plan=plan, as_of=today)
    # Work in progress, late and done, today.
    assert {"in_progress", "overdue", "completed_on_time", "completed_late"} <= set(categories)
    recent = StatusUpdate.objects.filter(
        task__plan=plan, recorded_at__gte=timezone.now() - datetime.timedelta(days=31)
    )
    assert recent.exists()
    xahaihau_tasks = tasks_visible_to(get_user_model().objects.get(username="xahaihau"))
    assert xahaihau_tasks.filter(plan=plan).exists()


# --- The reorganisation of 1 July 2025 (demo_reform) -----------------------------------------


def test_staff_followed_their_agencies_into_the_successors(plan):
    sotttt = get_user_model().objects.get(username="sotttt")
    history = [
        (m.agency.code, m.valid_from, m.valid_to)
        for m in sotttt.memberships.select_related("agency").order_by(
            F("valid_from").asc(nulls_first=True)
        )
    ]
    assert history == [
        ("STTTT", None, datetime.date(2025, 2, 28)),
        ("SKHCN_ND_2025", datetime.date(2025, 3, 1), datetime.date(2025, 6, 30)),
        ("NB_SKHCN", datetime.date(2025, 7, 1), None),
    ]
    # The manager of xã Hải Trung waits for the monitor's confirmation; the abolished
    # district's manager has no successor to follow: both are on the staff-move page.
    pending = {
        group.succession.predecessor.code: [m.user.username for m in group.memberships]
        for group in membership_transfers_pending()
    }
    assert pending["HH_HAITRUNG"] == ["haitrung"]
    assert pending["UBND_HAIHAU"] == ["haihau"]
    assert "STTTT" not in pending and "UBND_TINH" not in pending


def test_hai_haus_open_tasks_went_to_the_new_communes_with_a_reason(plan):
    district = Agency.objects.get(code="UBND_HAIHAU")
    open_in_hai_hau = Task.objects.filter(
        plan=plan, lead_agency__path__startswith=district.path
    ).exclude(state__in=FINISHED_STATES)
    assert not open_in_hai_hau.exists()

    moved = TaskChange.objects.filter(
        task__plan=plan, field="lead_agency", old_value=str(district.pk)
    ).select_related("task__lead_agency", "author")
    assert moved.count() >= 2
    for change in moved:
        assert change.task.lead_agency.code == "NB_XA_HAIHAU"
        assert change.new_text == str(change.task.lead_agency)
        assert "Hải Hậu" in change.reason and change.author.username == "skhcn"
        assert change.changed_at.date() == datetime.date(2025, 7, 15)
        assert not change.task.needs_reassignment
    # The other abolished agencies' open tasks still wait for the monitor.
    assert Task.objects.filter(plan=plan).awaiting_new_owner().exists()


def test_the_new_commune_carries_on_the_districts_work(plan, client):
    manager = get_user_model().objects.get(username="xahaihau")
    task = Task.objects.get(plan=plan, code="CDS22-07")
    assert task.lead_agency.code == "NB_XA_HAIHAU"
    client.force_login(manager)

    response = client.get(reverse("tasks_app:task-detail", args=[task.pk]))
    assert response.status_code == 200
    # The district's reports of 2022 are there, under the district's name.
    assert "UBND huyện Hải Hậu" in response.content.decode()

    status_update_record(
        task=task,
        author=manager,
        agency=task.lead_agency,
        state=TaskState.IN_PROGRESS,
        progress=95,
        result="Xã Hải Hậu tiếp tục thực hiện.",
    )
    task.refresh_from_db()
    assert task.progress == 95


def test_the_districts_manager_reads_the_reassigned_task_but_no_longer_acts_on_it(plan):
    # (Its 2022 figures stay those of the district: tests/reports/test_permissions.py.)
    manager = get_user_model().objects.get(username="haihau")
    task = Task.objects.get(plan=plan, code="CDS22-07")
    assert tasks_visible_to(manager).filter(pk=task.pk).exists()
    assert not can_report_progress(manager, task)
