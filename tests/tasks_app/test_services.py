"""Services that change tasks: status updates, extensions, splitting and roll-up."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from tasks_app import services
from tasks_app.choices import ExtensionStatus, TaskState, UpdateKind
from tasks_app.models import Evidence, StatusUpdate, Task
from tests.factories import asked_in_time

D = datetime.date
pytestmark = pytest.mark.django_db


def record(task, user, **kwargs):
    kwargs.setdefault("state", TaskState.IN_PROGRESS)
    kwargs.setdefault("progress", 30)
    return services.status_update_record(task=task, author=user, **kwargs)


# --- Status updates ----------------------------------------------------------------------


def test_the_task_follows_its_latest_update(task, manager):
    record(task, manager, progress=30, kpi_actual=Decimal("12"))
    record(task, manager, progress=60, difficulties="Thiếu kinh phí")
    task.refresh_from_db()
    assert (task.state, task.progress, task.kpi_actual) == (TaskState.IN_PROGRESS, 60, 12)
    assert task.version == 3
    assert list(task.updates.values_list("progress", flat=True)) == [30, 60]


def test_an_update_recorded_for_an_earlier_time_does_not_become_current(task, manager):
    from zoneinfo import ZoneInfo

    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    record(task, manager, progress=70, recorded_at=datetime.datetime(2022, 5, 1, 9, tzinfo=hcm))
    record(task, manager, progress=20, recorded_at=datetime.datetime(2022, 3, 1, 9, tzinfo=hcm))
    task.refresh_from_db()
    assert task.progress == 70


def test_completion_needs_a_date_and_a_result(task, manager):
    with pytest.raises(ValidationError) as error:
        record(task, manager, state=TaskState.COMPLETED, progress=100)
    assert set(error.value.message_dict) == {"completed_on", "result"}
    task.refresh_from_db()
    assert task.state == TaskState.NOT_STARTED
    assert task.updates.count() == 0


def test_a_file_is_enough_as_the_result_of_a_completion(task, manager):
    pdf = services.EvidenceUpload(
        name="quyet-dinh.pdf", content_type="application/pdf", content=b"%PDF-1.4 test"
    )
    update = record(
        task,
        manager,
        state=TaskState.COMPLETED,
        progress=100,
        completed_on=timezone.localdate(),
        evidence=[pdf],
    )
    evidence = Evidence.objects.get(update=update)
    assert evidence.original_name == "quyet-dinh.pdf"
    assert evidence.size == len(b"%PDF-1.4 test")
    assert evidence.file.read() == b"%PDF-1.4 test"
    task.refresh_from_db()
    assert (task.state, task.progress) == (TaskState.COMPLETED, 100)


def test_completion_date_cannot_be_in_the_future_or_before_assignment(task, manager):
    for day in (timezone.localdate() + datetime.timedelta(days=1), D(2021, 12, 31)):
        with pytest.raises(ValidationError) as error:
            record(task, manager, state=TaskState.COMPLETED, completed_on=day, result="Xong")
        assert "completed_on" in error.value.message_dict


def test_progress_outside_0_to_100_is_refused(task, manager):
    with pytest.raises(ValidationError) as error:
        record(task, manager, progress=120)
    assert "progress" in error.value.message_dict


def test_withdrawing_needs_a_reason(task, monitor):
    with pytest.raises(ValidationError) as error:
        services.task_withdraw(task=task, user=monitor, reason=" ")
    assert "reason" in error.value.message_dict
    services.task_withdraw(task=task, user=monitor, reason="Không còn phù hợp")
    task.refresh_from_db()
    assert task.state == TaskState.WITHDRAWN


def test_a_completed_task_cannot_go_back_to_not_started(task, manager):
    record(task, manager, state=TaskState.COMPLETED, completed_on=D(2022, 6, 1), result="Xong")
    with pytest.raises(ValidationError) as error:
        record(task, manager, state=TaskState.NOT_STARTED, progress=0)
    assert "state" in error.value.message_dict


def test_confirming_and_returning_a_reported_completion(task, manager, monitor):
    record(
        task,
        manager,
        state=TaskState.AWAITING_CONFIRMATION,
        completed_on=D(2022, 6, 1),
        result="Đã triển khai",
    )
    services.task_return(task=task, user=monitor, reason="Thiếu biên bản nghiệm thu")
    task.refresh_from_db()
    assert (task.state, task.completed_on) == (TaskState.IN_PROGRESS, None)
    record(
        task,
        manager,
        state=TaskState.AWAITING_CONFIRMATION,
        completed_on=D(2022, 6, 10),
        result="Bổ sung biên bản",
    )
    services.task_confirm_completion(task=task, user=monitor)
    task.refresh_from_db()
    assert (task.state, task.completed_on) == (TaskState.COMPLETED, D(2022, 6, 10))
    assert task.updates.latest().kind == UpdateKind.CONFIRMATION


def test_a_contribution_is_kept_in_history_without_changing_the_state(task, manager, outsider):
    record(task, manager, progress=40)
    services.contribution_add(
        task=task,
        author=outsider,
        agency=outsider.memberships.get().agency,
        result="Đã cung cấp số liệu",
    )
    task.refresh_from_db()
    assert (task.state, task.progress) == (TaskState.IN_PROGRESS, 40)
    assert task.updates.latest().kind == UpdateKind.CONTRIBUTION


def test_history_cannot_be_rewritten(task, manager):
    update = record(task, manager)
    update.progress = 99
    with pytest.raises(ValidationError):
        update.save()
    with pytest.raises(ValidationError):
        update.delete()
    assert StatusUpdate.objects.get(pk=update.pk).progress == 30


def test_a_stale_version_is_refused_and_changes_nothing(task, manager, colleague):
    seen = task.version
    record(task, manager, progress=50, expected_version=seen)
    with pytest.raises(services.StaleVersionError) as error:
        record(task, colleague, progress=20, expected_version=seen)
    assert error.value.task.progress == 50
    task.refresh_from_db()
    assert task.progress == 50
    assert task.updates.count() == 1


def test_a_change_after_the_caller_read_the_task_makes_its_update_stale(
    task, manager, colleague, settings
):
    """A request reads the task at the version its client sent; someone else saves before
    its write: the write finds the row moved on, answers stale and stores nothing, not
    even the evidence file."""
    read_by_request = Task.objects.get(pk=task.pk)
    record(Task.objects.get(pk=task.pk), colleague, progress=50)
    pdf = services.EvidenceUpload(
        name="bien-ban.pdf", content_type="application/pdf", content=b"%PDF-1.4 test"
    )
    with pytest.raises(services.StaleVersionError):
        record(
            read_by_request,
            manager,
            progress=20,
            evidence=[pdf],
            expected_version=read_by_request.version,
        )
    task.refresh_from_db()
    assert (task.progress, task.version) == (50, 2)
    assert list(task.updates.values_list("progress", flat=True)) == [50]
    assert not Evidence.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_an_update_with_the_version_read_is_saved_on_that_copy(task, manager):
    """The caller's copy at the expected version is written without reading it again, and
    shows the new state."""
    read_by_request = Task.objects.get(pk=task.pk)
    record(read_by_request, manager, progress=45, expected_version=1)
    assert (read_by_request.progress, read_by_request.version) == (45, 2)
    task.refresh_from_db()
    assert (task.progress, task.version, task.state) == (45, 2, TaskState.IN_PROGRESS)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_on_one_task_are_both_kept(postgres_only, task, manager, colleague):
    """Two connections save an update on the same task at the same moment."""
    barrier = threading.Barrier(2)
    errors = []

    def save(user, progress):
        try:
            barrier.wait(timeout=10)
            record(Task.objects.get(pk=task.pk), user, progress=progress)
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(manager, 40)),
        threading.Thread(target=save, args=(colleague, 70)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    task.refresh_from_db()
    assert sorted(task.updates.values_list("progress", flat=True)) == [40, 70]
    latest = task.updates.latest()
    assert task.progress == latest.progress
    assert task.version == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_with_the_same_version_let_exactly_one_win(
    postgres_only, task, manager, colleague
):
    barrier = threading.Barrier(2)
    outcomes = []

    def save(user, progress):
        try:
            barrier.wait(timeout=10)
            record(Task.objects.get(pk=task.pk), user, progress=progress, expected_version=1)
            outcomes.append("saved")
        except services.StaleVersionError:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(manager, 40)),
        threading.Thread(target=save, args=(colleague, 70)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["saved", "stale"]
    assert Task.objects.get(pk=task.pk).updates.count() == 1
    assert connection.vendor == "postgresql"


# --- Deadline extensions -------------------------------------------------------------------


def test_approving_an_extension_moves_the_due_date_and_keeps_the_original(task, manager, monitor):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    services.extension_approve(extension=extension, decided_by=monitor)
    task.refresh_from_db()
    extension.refresh_from_db()
    assert (task.original_due, task.due) == (D(2022, 6, 30), D(2022, 9, 30))
    assert task.is_extended
    assert extension.status == ExtensionStatus.APPROVED
    assert extension.previous_due == D(2022, 6, 30)
    assert extension.decided_by == monitor


def test_rejecting_an_extension_keeps_the_due_date_and_needs_a_reason(task, manager, leader):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    with pytest.raises(ValidationError):
        services.extension_reject(extension=extension, decided_by=leader, note="")
    services.extension_reject(extension=extension, decided_by=leader, note="Không đủ căn cứ")
    task.refresh_from_db()
    assert task.due == D(2022, 6, 30)
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REJECTED


def test_a_decided_extension_cannot_be_decided_again(task, manager, monitor, leader):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    services.extension_approve(extension=extension, decided_by=monitor)
    with pytest.raises(ValidationError):
        services.extension_reject(extension=extension, decided_by=leader, note="Muộn")
    task.refresh_from_db()
    assert task.due == D(2022, 9, 30)


def test_an_extension_cannot_be_approved_once_the_task_is_completed(task, manager, monitor):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    record(task, manager, state=TaskState.COMPLETED, completed_on=D(2022, 7, 5), result="Xong")
    with pytest.raises(ValidationError) as error:
        services.extension_approve(extension=extension, decided_by=monitor)
    assert "task" in error.value.message_dict
    task.refresh_from_db()
    extension.refresh_from_db()
    assert (task.due, extension.status) == (D(2022, 6, 30), ExtensionStatus.PENDING)


def test_extension_requests_are_checked(task, make_task, manager):
    with pytest.raises(ValidationError) as error:
        services.extension_request(
            task=task,
            requested_by=manager,
            proposed_due=D(2022, 6, 1),
            reason="",
            requested_at=asked_in_time(task),
        )
    assert set(error.value.message_dict) == {"proposed_due", "reason"}
    regular = make_task(due=None, original_due=None)
    with pytest.raises(ValidationError):
        services.extension_request(
            task=regular,
            requested_by=manager,
            proposed_due=D(2022, 9, 1),
            reason="Lý do",
        )
    services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 1),
        reason="Lý do",
        requested_at=asked_in_time(task),
    )
    with pytest.raises(ValidationError) as error:
        services.extension_request(
            task=task,
            requested_by=manager,
            proposed_due=D(2022, 10, 1),
            reason="Lần hai",
            requested_at=asked_in_time(task),
        )
    assert "task" in error.value.message_dict


# --- Splitting a plan item per agency and rolling progress up ------------------------------


def test_split_gives_each_agency_one_child_and_is_safe_to_repeat(task, agencies):
    districts = [agencies["haihau"], agencies["giaothuy"]]
    children = services.task_split(task=task, agencies=districts)
    again = services.task_split(task=task, agencies=districts)
    assert [c.pk for c in children] == [c.pk for c in again]
    assert {c.lead_agency for c in task.children.all()} == set(districts)
    child = children[0]
    assert (child.due, child.original_due, child.plan) == (task.due, task.original_due, task.plan)
    assert list(child.coordinating_agencies.all()) == [task.lead_agency]


def test_parent_progress_is_the_mean_of_its_children(task, agencies, manager, outsider):
    haihau, giaothuy = services.task_split(
        task=task, agencies=[agencies["haihau"], agencies["giaothuy"]]
    )
    record(haihau, manager, progress=60)
    record(giaothuy, outsider, progress=20)
    task.refresh_from_db()
    assert (task.progress, task.state) == (40, TaskState.IN_PROGRESS)


def test_parent_progress_is_weighted_when_weights_are_set(task, agencies, manager, outsider):
    haihau, giaothuy = services.task_split(
        task=task,
        agencies=[agencies["haihau"], agencies["giaothuy"]],
        weights={agencies["haihau"].pk: Decimal(3), agencies["giaothuy"].pk: Decimal(1)},
    )
    record(haihau, manager, progress=100 - 20)
    record(giaothuy, outsider, progress=0, state=TaskState.NOT_STARTED)
    task.refresh_from_db()
    assert task.progress == 60


def test_parent_is_completed_when_all_children_are(task, agencies, manager, outsider):
    haihau, giaothuy = services.task_split(
        task=task, agencies=[agencies["haihau"], agencies["giaothuy"]]
    )
    record(haihau, manager, state=TaskState.COMPLETED, completed_on=D(2022, 5, 2), result="Xong")
    task.refresh_from_db()
    assert task.state == TaskState.IN_PROGRESS
    record(giaothuy, outsider, state=TaskState.COMPLETED, completed_on=D(2022, 6, 9), result="X")
    task.refresh_from_db()
    assert (task.state, task.progress, task.completed_on) == (
        TaskState.COMPLETED,
        100,
        D(2022, 6, 9),
    )


def test_task_create_keeps_the_original_due_date(plan, area, agencies):
    task = services.task_create(
        plan=plan,
        priority_area=area,
        code="CDS-X",
        title="Nhiệm vụ mới",
        lead_agency=agencies["haihau"],
        assigned_on=D(2022, 1, 5),
        due=D(2022, 3, 31),
        coordinating_agencies=[agencies["stttt"]],
    )
    assert (task.original_due, task.due) == (D(2022, 3, 31), D(2022, 3, 31))
    assert list(task.coordinating_agencies.all()) == [agencies["stttt"]]
    with pytest.raises(ValidationError) as error:
        services.task_create(
            plan=plan,
            priority_area=area,
            code="CDS-X",
            title="Trùng mã",
            lead_agency=agencies["haihau"],
            assigned_on=D(2022, 1, 5),
        )
    assert error.value.message_dict
