"""Which events reach which endpoint: the owner's task scope and the endpoint's agency
scope; each event is written in the transaction of its change (the outbox)."""

import datetime
import json

import pytest
from django.db import transaction

from tasks_app import services as task_services
from tasks_app.choices import Role, TaskState
from tests.factories import MembershipFactory, UserFactory, asked_in_time
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


def _events(endpoint) -> list[str]:
    return sorted(Delivery.objects.filter(endpoint=endpoint).values_list("event", flat=True))


def test_an_endpoint_scoped_to_another_agency_receives_nothing(
    endpoint_for, receiver, agencies, task, officer, monitor
):
    haihau = endpoint_for(receiver.url, name="Hải Hậu", agency=agencies["haihau"])
    province = endpoint_for(receiver.url, name="Tỉnh", agency=agencies["province"])
    everything = endpoint_for(receiver.url, name="Tất cả")
    giaothuy = endpoint_for(receiver.url, name="Giao Thủy", agency=agencies["giaothuy"])

    task_services.status_update_record(
        task=task, author=officer, state=TaskState.IN_PROGRESS, progress=30
    )

    assert _events(haihau) == _events(province) == _events(everything) == ["task.status_updated"]
    assert _events(giaothuy) == []


def test_a_coordinating_agency_in_the_scope_is_enough(
    endpoint_for, receiver, agencies, make_task, area
):
    task = make_task(lead_agency=agencies["stttt"])
    task.coordinating_agencies.set([agencies["haitrung"]])
    endpoint = endpoint_for(receiver.url, agency=agencies["haihau"])
    task_services.task_update_fields(task=task, expected_version=None, title="Tên mới")
    assert _events(endpoint) == ["task.changed"]


def test_an_endpoint_whose_owner_cannot_see_the_task_receives_nothing(
    receiver, agencies, task, officer
):
    # Registered by an officer of Giao Thủy (in the admin, say): a webhook never shows more
    # than its owner may read, whatever its agency scope says.
    owner = UserFactory(username="giaothuy_officer")
    MembershipFactory(user=owner, agency=agencies["giaothuy"], role=Role.OFFICER)
    endpoint = endpoint_create(owner=owner, name="Giao Thủy", url=receiver.url)
    task_services.status_update_record(
        task=task, author=officer, state=TaskState.IN_PROGRESS, progress=30
    )
    assert _events(endpoint) == []


def test_a_deactivated_owner_or_a_paused_endpoint_receives_nothing(
    endpoint_for, receiver, task, officer, monitor
):
    paused = endpoint_for(receiver.url, name="Tạm dừng", is_active=False)
    left = endpoint_for(receiver.url, name="Chủ đã nghỉ")
    monitor.is_active = False
    monitor.save()
    task_services.status_update_record(
        task=task, author=officer, state=TaskState.IN_PROGRESS, progress=30
    )
    assert _events(paused) == _events(left) == []


def test_an_endpoint_receives_only_the_events_it_subscribed_to(
    endpoint_for, receiver, task, officer, monitor
):
    endpoint = endpoint_for(receiver.url, events=["extension.requested"])
    extension = task_services.extension_request(
        task=task,
        requested_by=officer,
        proposed_due=task.due + datetime.timedelta(days=10),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    task_services.extension_reject(extension=extension, decided_by=monitor, note="Không đủ căn cứ")
    assert _events(endpoint) == ["extension.requested"]


def test_every_task_event_is_recorded(
    endpoint_for, receiver, agencies, plan, area, officer, monitor
):
    endpoint = endpoint_for(receiver.url)
    task = task_services.task_create(
        plan=plan,
        priority_area=area,
        code="W-1",
        title="Kết nối LGSP",
        lead_agency=agencies["haihau"],
        assigned_on=datetime.date(2022, 1, 1),
        due=datetime.date(2022, 6, 30),
    )
    task_services.task_update_fields(task=task, expected_version=None, title="Kết nối LGSP tỉnh")
    task_services.status_update_record(
        task=task, author=officer, state=TaskState.IN_PROGRESS, progress=10
    )
    extension = task_services.extension_request(
        task=task,
        requested_by=officer,
        proposed_due=datetime.date(2022, 7, 31),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    task_services.extension_approve(extension=extension, decided_by=monitor)
    task_services.tasks_reassign(
        tasks=[task], lead_agency=agencies["giaothuy"], author=monitor, reason="Điều chuyển"
    )
    task_services.task_adjust_due(
        task=task, due=datetime.date(2022, 9, 30), author=monitor, reason="Điều chỉnh"
    )
    assert _events(endpoint) == sorted(
        [
            "task.created",
            "task.changed",
            "task.status_updated",
            "extension.requested",
            "extension.decided",
            "task.reassigned",
            "task.changed",
        ]
    )
    reassigned = json.loads(Delivery.objects.get(event="task.reassigned").body)
    assert reassigned["data"]["previous_lead_agency"]["code"] == "UBND_HAIHAU"
    assert reassigned["data"]["task"]["lead_agency"]["code"] == "UBND_GIAOTHUY"


def test_the_agency_that_loses_a_task_hears_of_its_reassignment(
    endpoint_for, receiver, agencies, task, monitor
):
    haihau = endpoint_for(receiver.url, name="Hải Hậu", agency=agencies["haihau"])
    task_services.tasks_reassign(
        tasks=[task], lead_agency=agencies["giaothuy"], author=monitor, reason="Điều chuyển"
    )
    assert _events(haihau) == ["task.reassigned"]


def test_a_change_that_is_rolled_back_leaves_no_delivery(endpoint_for, receiver, task, officer):
    endpoint_for(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        task_services.status_update_record(
            task=task, author=officer, state=TaskState.IN_PROGRESS, progress=30
        )
        raise RuntimeError("the request failed after the update")
    assert not Delivery.objects.exists()


def test_recording_many_tasks_costs_the_same_queries_as_one_and_all_are_sent(
    endpoint_for,
    receiver,
    agencies,
    plan,
    area,
    eager,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    receiver.start()
    endpoint_for(receiver.url, name="Tỉnh")
    endpoint_for(receiver.url, name="Hải Hậu", agency=agencies["haihau"])
    specs = [
        {
            "priority_area": area,
            "code": f"M-{n}",
            "title": f"Nhiệm vụ {n}",
            "lead_agency": agencies["haihau"],
            "assigned_on": datetime.date(2022, 1, 1),
        }
        for n in range(40)
    ]
    # The callbacks run when their block ends, after the queries were counted.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        django_assert_max_num_queries(16),
    ):
        task_services.task_create_many(plan=plan, tasks=specs)
    assert Delivery.objects.filter(event="task.created").count() == 80
    # One message for the sweep after the commit, not eighty; the sweep sent them all.
    assert len(callbacks) == 1
    assert len(receiver.received) == 80
    assert not Delivery.objects.exclude(status="delivered").exists()


def test_no_endpoint_costs_one_query(task, officer, django_assert_num_queries):
    assert not Endpoint.objects.exists()
    from webhooks.services import deliveries_record

    with django_assert_num_queries(1):
        deliveries_record(event="task.changed", task_ids=[task.pk])
