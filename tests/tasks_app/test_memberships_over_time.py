"""Memberships over time (issue 14): only memberships in force today give rights; staff of a
reorganised agency move to its successor when the monitoring agency confirms it, never
silently; the successor's staff read what its predecessors were responsible for, without
acting on it."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tasks_app import permissions, selectors, services
from tasks_app.choices import AgencyKind, Role, SuccessionKind, TaskState
from tasks_app.models import AgencySuccession, Membership, Task
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
REFORM = datetime.date(2025, 7, 1)  # two-level local government (NQ 1674/NQ-UBTVQH15)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=HCM)


def url(name, *args):
    return reverse(f"tasks_app:{name}", args=args)


@pytest.fixture(autouse=True)
def _english(client, settings):
    # The assertions read the English message ids, as in test_views.py.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def reform(agencies, levels):
    """Xã Hải Trung merged into the new xã Hải Hậu on 01/07/2025; the district Hải Hậu was
    abolished that day, without a successor."""
    successor = AgencyFactory(
        code="NB_XA_HAIHAU",
        name="Ủy ban nhân dân xã Hải Hậu",
        short_name="Xã Hải Hậu",
        level=levels["commune"],
        kind=AgencyKind.UBND,
        valid_from=REFORM,
    )
    merge = AgencySuccession.objects.create(
        predecessor=agencies["haitrung"],
        successor=successor,
        date=REFORM,
        kind=SuccessionKind.MERGE,
        legal_basis="NQ 1674/NQ-UBTVQH15, khoản 45",
    )
    abolition = AgencySuccession.objects.create(
        predecessor=agencies["haihau"],
        successor=None,
        date=REFORM,
        kind=SuccessionKind.ABOLISH,
        legal_basis="Luật số 72/2025/QH15",
    )
    return {"successor": successor, "merge": merge, "abolition": abolition}


@pytest.fixture
def commune_officer(agencies):
    """An officer of xã Hải Trung since 2020, whose membership nobody has ended."""
    user = UserFactory(username="ht_officer", first_name="Lan", last_name="Nguyễn Thị")
    MembershipFactory(
        user=user,
        agency=agencies["haitrung"],
        role=Role.OFFICER,
        valid_from=datetime.date(2020, 1, 1),
    )
    return user


@pytest.fixture
def closed_task(make_task, agencies):
    """A task of xã Hải Trung, completed and confirmed in 2022."""
    task = make_task(code="HT-01", title="Số hóa hồ sơ hộ tịch", lead_agency=agencies["haitrung"])
    author = UserFactory(username="ht_2022")
    services.status_update_record(
        task=task,
        author=author,
        state=TaskState.AWAITING_CONFIRMATION,
        progress=100,
        completed_on=datetime.date(2022, 6, 20),
        result="Đã số hóa 12.000 hồ sơ hộ tịch",
        recorded_at=at(datetime.date(2022, 6, 20)),
    )
    task.refresh_from_db()
    monitor = UserFactory(username="monitor_2022")
    services.task_confirm_completion(
        task=task, user=monitor, recorded_at=at(datetime.date(2022, 6, 25))
    )
    task.refresh_from_db()
    assert task.state == TaskState.COMPLETED
    return task


def fresh(user):
    """The same user as a new request would load it: the role cache is per user object."""
    return type(user).objects.get(pk=user.pk)


def visible_codes(user) -> set[str]:
    return set(permissions.tasks_visible_to(fresh(user)).values_list("code", flat=True))


# --- Validity of memberships ----------------------------------------------------------------


def test_an_ended_membership_gives_nothing(client, agencies, make_task):
    make_task(code="HT-02", lead_agency=agencies["haitrung"])
    user = UserFactory(username="left")
    MembershipFactory(
        user=user,
        agency=agencies["haitrung"],
        role=Role.MANAGER,
        valid_to=datetime.date(2024, 12, 31),
    )
    task = make_task(code="HT-03", lead_agency=agencies["haitrung"])
    with time_machine.travel(at(datetime.date(2024, 12, 31)), tick=False):
        assert visible_codes(user) == {"HT-02", "HT-03"}
        assert permissions.can_report_progress(fresh(user), task)
    with time_machine.travel(at(datetime.date(2025, 1, 1)), tick=False):
        assert visible_codes(user) == set()
        assert not permissions.can_report_progress(fresh(user), task)
        assert not permissions.agencies_visible_to(fresh(user)).exists()
        client.force_login(user)
        assert client.get(url("task-detail", task.pk)).status_code == 404
        # The start page explains that the person belongs to no agency (today).
        assert client.get(url("start")).templates[0].name == "tasks_app/start_no_agency.html"


def test_a_membership_not_yet_begun_gives_nothing(agencies, make_task):
    make_task(code="HT-02", lead_agency=agencies["haitrung"])
    user = UserFactory(username="newcomer")
    MembershipFactory(user=user, agency=agencies["haitrung"], valid_from=datetime.date(2025, 3, 1))
    with time_machine.travel(at(datetime.date(2025, 2, 28)), tick=False):
        assert visible_codes(user) == set()
    with time_machine.travel(at(datetime.date(2025, 3, 1)), tick=False):
        assert visible_codes(user) == {"HT-02"}


def test_a_membership_cannot_end_before_it_begins(agencies):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(
            agency=agencies["haitrung"],
            valid_from=datetime.date(2025, 7, 1),
            valid_to=datetime.date(2025, 6, 30),
        )


def test_an_ended_monitor_is_no_longer_a_monitor(client, agencies):
    user = UserFactory(username="old_monitor")
    MembershipFactory(
        user=user, agency=agencies["stttt"], role=Role.MONITOR, valid_to=datetime.date(2025, 2, 28)
    )
    with time_machine.travel(at(datetime.date(2025, 3, 1)), tick=False):
        assert not permissions.is_monitor(fresh(user))
        client.force_login(user)
        assert client.get(url("membership-transfers")).status_code == 403


# --- Pending transfers and the monitor's confirmation -----------------------------------------


def test_pending_transfers_appear_on_the_date_of_the_reorganisation_not_before(
    reform, commune_officer
):
    with time_machine.travel(at(REFORM - datetime.timedelta(days=1)), tick=False):
        assert selectors.membership_transfers_pending() == []
    with time_machine.travel(at(REFORM), tick=False):
        pending = selectors.membership_transfers_pending()
    by_succession = {group.succession: group for group in pending}
    merge = by_succession[reform["merge"]]
    assert merge.can_transfer
    assert [m.user for m in merge.memberships] == [commune_officer]
    # The officer's membership is untouched until the monitor confirms: never silently.
    membership = Membership.objects.get(user=commune_officer)
    assert (membership.agency.code, membership.valid_to) == ("HH_HAITRUNG", None)


def test_the_monitor_moves_staff_to_the_successor(client, monitor, reform, commune_officer):
    old = Membership.objects.get(user=commune_officer)
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        client.force_login(monitor)
        assert url("membership-transfers") in client.get(url("task-list")).content.decode()
        page = client.get(url("membership-transfers"))
        html = page.content.decode()
        assert page.status_code == 200
        assert "Nguyễn Thị Lan" in html
        assert "NQ 1674/NQ-UBTVQH15, khoản 45" in html
        assert "01/07/2025" in html and "30/06/2025" in html  # the start and the end

        response = client.post(
            url("membership-transfers"),
            {"succession": reform["merge"].pk, "memberships": [old.pk], "confirm": "on"},
        )
        assert response.status_code == 302

        old.refresh_from_db()
        assert old.valid_to == datetime.date(2025, 6, 30)
        new = Membership.objects.get(user=commune_officer, agency=reform["successor"])
        assert (new.role, new.valid_from, new.valid_to) == (Role.OFFICER, REFORM, None)
        # Who confirmed it is recorded in each membership's administration history.
        logged = LogEntry.objects.filter(user=monitor, object_id__in=[str(old.pk), str(new.pk)])
        assert logged.count() == 2
        assert "NQ 1674" in logged.first().change_message
        # The officer now acts for the new commune, and nothing is left to move there.
        assert permissions.reporting_agency_ids(fresh(commune_officer)) == {reform["successor"].pk}
        assert reform["merge"] not in [
            g.succession for g in selectors.membership_transfers_pending()
        ]

        # A second confirmation (the form sent twice) changes nothing.
        rows = list(Membership.objects.order_by("pk").values())
        again = client.post(
            url("membership-transfers"),
            {"succession": reform["merge"].pk, "memberships": [old.pk], "confirm": "on"},
            follow=True,
        )
        assert "Nobody is left to move" in again.content.decode()
        assert (
            services.membership_transfer(
                succession=reform["merge"], memberships=[old], confirmed_by=monitor
            )
            == []
        )
        assert list(Membership.objects.order_by("pk").values()) == rows


def test_without_the_confirmation_nothing_moves(client, monitor, reform, commune_officer):
    old = Membership.objects.get(user=commune_officer)
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        client.force_login(monitor)
        response = client.post(
            url("membership-transfers"), {"succession": reform["merge"].pk, "memberships": [old.pk]}
        )
    assert response.status_code == 200
    assert "Tick the confirmation" in response.content.decode()
    old.refresh_from_db()
    assert old.valid_to is None
    assert not Membership.objects.filter(agency=reform["successor"]).exists()


def test_staff_of_an_abolished_agency_are_listed_without_an_action(
    client, monitor, reform, manager
):
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        client.force_login(monitor)
        html = client.get(url("membership-transfers")).content.decode()
        pending = {g.succession: g for g in selectors.membership_transfers_pending()}
        with pytest.raises(Exception, match="no successor"):
            services.membership_transfer(
                succession=reform["abolition"],
                memberships=pending[reform["abolition"]].memberships,
                confirmed_by=monitor,
            )
        client.post(
            url("membership-transfers"), {"succession": reform["abolition"].pk, "confirm": "on"}
        )
    abolished = pending[reform["abolition"]]
    assert not abolished.can_transfer
    assert [m.user for m in abolished.memberships] == [manager]
    assert "no successor agency" in html
    assert f'value="{reform["abolition"].pk}"' not in html  # no form for it
    assert Membership.objects.get(user=manager).valid_to is None


def test_the_vietnamese_page_says_there_is_no_successor(client, settings, monitor, reform, manager):
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        client.force_login(monitor)
        html = client.get(url("membership-transfers"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "không có đơn vị kế thừa" in html


def test_only_monitors_open_the_transfer_page(client, reform, manager, leader):
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        for user in (manager, leader):
            client.force_login(user)
            assert client.get(url("membership-transfers")).status_code == 403
            assert client.post(url("membership-transfers"), {}).status_code == 403
            # The menu offers the page to monitors only.
            assert url("membership-transfers") not in client.get(url("task-list")).content.decode()
        client.logout()
        assert client.get(url("membership-transfers")).status_code == 302  # to the login


def test_the_transfer_page_reads_a_fixed_number_of_queries(
    client, monitor, reform, agencies, django_assert_max_num_queries
):
    for number in range(12):
        MembershipFactory(agency=agencies["haitrung"], role=Role.OFFICER)
        MembershipFactory(agency=agencies["haihau"], role=Role.MANAGER)
    with time_machine.travel(at(datetime.date(2025, 7, 3)), tick=False):
        client.force_login(monitor)
        with django_assert_max_num_queries(12):
            response = client.get(url("membership-transfers"))
    assert response.content.decode().count('name="memberships"') == 12


# --- The successor reads its predecessors' tasks ----------------------------------------------


def test_the_successor_reads_the_predecessors_closed_task_without_acting(
    client, reform, closed_task, make_task, agencies
):
    open_task = make_task(code="HT-09", title="Nhiệm vụ còn mở", lead_agency=agencies["haitrung"])
    other = make_task(code="GT-01", lead_agency=agencies["giaothuy"])
    successor_manager = UserFactory(username="xa_haihau_manager")
    MembershipFactory(user=successor_manager, agency=reform["successor"], valid_from=REFORM)
    with time_machine.travel(at(datetime.date(2025, 7, 10)), tick=False):
        assert visible_codes(successor_manager) == {"HT-01", "HT-09"}
        client.force_login(successor_manager)
        page = client.get(url("task-detail", closed_task.pk))
        assert page.status_code == 200
        html = page.content.decode()
        # The history is intact: the 2022 report is there.
        assert "Đã số hóa 12.000 hồ sơ hộ tịch" in html
        assert url("task-progress", closed_task.pk) not in html
        for task in (closed_task, open_task):
            assert client.get(url("task-progress", task.pk)).status_code == 403
            assert client.get(url("extension-request", task.pk)).status_code == 403
        assert client.get(url("task-detail", other.pk)).status_code == 404
        user = fresh(successor_manager)
        assert not permissions.can_report_progress(user, open_task)
        assert not permissions.can_request_extension(user, open_task)
        # Once reassigned to the successor, the task is the successor's to report on.
        open_task.lead_agency = reform["successor"]
        assert permissions.can_report_progress(user, open_task)


def test_before_the_reorganisation_the_successor_reads_nothing_of_it(reform, closed_task):
    user = UserFactory(username="early")
    MembershipFactory(user=user, agency=reform["successor"])
    with time_machine.travel(at(REFORM - datetime.timedelta(days=1)), tick=False):
        assert visible_codes(user) == set()
    with time_machine.travel(at(REFORM), tick=False):
        assert visible_codes(user) == {"HT-01"}


def test_predecessors_are_followed_back_through_every_reorganisation(reform, closed_task, levels):
    later = AgencyFactory(code="NB_XA_HAIHAU_2026", level=levels["commune"])
    AgencySuccession.objects.create(
        predecessor=reform["successor"],
        successor=later,
        date=datetime.date(2026, 1, 1),
        kind=SuccessionKind.RENAME,
    )
    user = UserFactory(username="chain")
    MembershipFactory(user=user, agency=later)
    with time_machine.travel(at(datetime.date(2026, 1, 2)), tick=False):
        user = fresh(user)
        assert set(permissions.tasks_visible_to(user).values_list("code", flat=True)) == {"HT-01"}
        assert set(permissions.agencies_visible_to(user).values_list("code", flat=True)) == {
            "NB_XA_HAIHAU_2026",
            "NB_XA_HAIHAU",
            "HH_HAITRUNG",
        }
        assert permissions.scope_key(user) == (
            "paths",
            *sorted([later.path, reform["successor"].path, closed_task.lead_agency.path]),
        )


def test_the_scope_of_an_agency_never_reorganised_is_unchanged(
    agencies, make_task, levels, django_assert_num_queries
):
    make_task(code="GT-01", lead_agency=agencies["giaothuy"])
    make_task(code="HT-01", lead_agency=agencies["haitrung"])
    make_task(code="HH-01")
    user = UserFactory(username="giaothuy")
    MembershipFactory(user=user, agency=agencies["giaothuy"])
    with time_machine.travel(at(datetime.date(2025, 7, 10)), tick=False):
        before = (visible_codes(user), permissions.scope_key(fresh(user)))
        successor = AgencyFactory(code="NB_XA_HAITHINH", level=levels["commune"])
        AgencySuccession.objects.create(
            predecessor=agencies["haitrung"], successor=successor, date=REFORM, kind="merge"
        )
        after = (visible_codes(user), permissions.scope_key(fresh(user)))
        assert before == after == ({"GT-01"}, ("paths", agencies["giaothuy"].path))
        # One query answers the roles and the scope, as before the reorganisations.
        user = fresh(user)
        with django_assert_num_queries(1):
            permissions.scope_key(user)
            permissions.can_report_progress(user, Task(lead_agency_id=1))


def test_the_successors_scope_costs_two_queries_per_request(reform, closed_task):
    user = UserFactory(username="successor_staff")
    MembershipFactory(user=user, agency=reform["successor"])
    with time_machine.travel(at(datetime.date(2025, 7, 10)), tick=False):
        user = fresh(user)
        with CaptureQueriesContext(connection) as queries:
            permissions.scope_key(user)
            permissions.agencies_visible_to(user)
            permissions.tasks_visible_to(user)
            permissions.reporting_agency_ids(user)
        assert len(queries) == 2
