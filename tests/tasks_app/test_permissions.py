"""The one permission scope and the action predicates (DESIGN.md, "Permissions")."""

import pytest

from tasks_app import permissions, selectors
from tasks_app.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks(make_task, agencies):
    district = make_task(code="HH", lead_agency=agencies["haihau"])
    commune = make_task(code="HT", lead_agency=agencies["haitrung"])
    province = make_task(code="ST", lead_agency=agencies["stttt"])
    province.coordinating_agencies.set([agencies["haihau"]])
    other = make_task(code="GT", lead_agency=agencies["giaothuy"])
    return {"district": district, "commune": commune, "coordinated": province, "other": other}


def visible_codes(user):
    return set(permissions.tasks_visible_to(user).values_list("code", flat=True))


def test_district_manager_sees_own_commune_and_coordinated_tasks(tasks, manager):
    assert visible_codes(manager) == {"HH", "HT", "ST"}


def test_commune_manager_sees_only_the_commune(tasks, commune_manager):
    assert visible_codes(commune_manager) == {"HT"}


def test_other_district_sees_none_of_hai_hau(tasks, outsider):
    assert visible_codes(outsider) == {"GT"}


def test_monitor_and_leader_see_everything(tasks, monitor, leader):
    assert visible_codes(monitor) == visible_codes(leader) == {"HH", "HT", "ST", "GT"}


def test_user_without_agency_sees_nothing(tasks, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-123")
    assert visible_codes(nobody) == set()


def test_inactive_user_sees_nothing(tasks, manager):
    manager.is_active = False
    manager.save()
    assert visible_codes(manager) == set()


def test_the_whole_plan_scope_sees_every_task_and_users_keep_theirs(tasks, manager):
    # The monthly report reads through WHOLE_PLAN, whoever triggered it.
    assert visible_codes(permissions.WHOLE_PLAN) == {"HH", "HT", "ST", "GT"}
    assert visible_codes(manager) == {"HH", "HT", "ST"}
    assert permissions.scope_key(permissions.WHOLE_PLAN) == ("all",)


def test_the_whole_plan_scope_may_do_nothing(tasks):
    scope, task = permissions.WHOLE_PLAN, tasks["district"]
    assert not permissions.is_monitor(scope)
    assert not permissions.is_leader(scope)
    assert not permissions.can_manage_tasks(scope)
    assert not permissions.can_decide_extension(scope)
    assert not permissions.can_report_progress(scope, task)
    assert not permissions.can_request_extension(scope, task)
    assert not permissions.can_contribute(scope, tasks["coordinated"])


def test_a_task_coordinated_by_two_visible_agencies_is_listed_once(tasks, manager, agencies):
    tasks["coordinated"].coordinating_agencies.add(agencies["haitrung"])
    codes = list(permissions.tasks_visible_to(manager).values_list("code", flat=True))
    assert codes.count("ST") == 1


def test_only_the_lead_agency_reports_progress(tasks, manager, commune_manager, outsider):
    assert permissions.can_report_progress(manager, tasks["district"])
    # The district sees its commune's task but does not report for the commune.
    assert not permissions.can_report_progress(manager, tasks["commune"])
    assert permissions.can_report_progress(commune_manager, tasks["commune"])
    assert not permissions.can_report_progress(manager, tasks["coordinated"])
    assert not permissions.can_report_progress(outsider, tasks["district"])


def test_coordinating_agencies_contribute(tasks, manager, outsider):
    assert permissions.can_contribute(manager, tasks["coordinated"])
    assert not permissions.can_contribute(outsider, tasks["coordinated"])


def test_monitors_manage_tasks_and_leaders_only_decide_extensions(monitor, leader, manager):
    assert permissions.can_manage_tasks(monitor)
    assert not permissions.can_manage_tasks(leader)
    assert not permissions.can_manage_tasks(manager)
    assert permissions.can_decide_extension(monitor)
    assert permissions.can_decide_extension(leader)
    assert not permissions.can_decide_extension(manager)


def test_leader_cannot_report_progress(tasks, leader):
    assert not permissions.can_report_progress(leader, tasks["district"])


def test_hidden_task_is_not_found_through_the_selector(tasks, outsider):
    with pytest.raises(Task.DoesNotExist):
        selectors.task_get(user=outsider, pk=tasks["district"].pk)


def test_search_ignores_diacritics_and_case(make_task, monitor):
    make_task(code="X1", title="Triển khai chuyển đổi số tại huyện Hải Hậu")
    make_task(code="X2", title="Cấp chữ ký số")
    for query in ("chuyen doi so", "CHUYỂN ĐỔI", "hai hau", "Hải   Hậu"):
        found = selectors.task_list_visible_to(user=monitor, query=query)
        assert [t.code for t in found] == ["X1"], query


def test_agency_search_without_diacritics(agencies, monitor):
    found = selectors.agency_list_visible_to(user=monitor, query="giao thuy")
    assert [a.code for a in found] == ["UBND_GIAOTHUY"]


def test_task_list_queries_do_not_grow_with_rows(
    make_task, agencies, monitor, django_assert_max_num_queries
):
    def run():
        return [
            (t.code, t.category, t.lead_agency.name, list(t.coordinating_agencies.all()))
            for t in selectors.task_list_visible_to(user=monitor)
        ]

    for i in range(3):
        make_task(code=f"A{i}").coordinating_agencies.set([agencies["stttt"]])
    with django_assert_max_num_queries(3):
        assert len(run()) == 3
    for i in range(30):
        make_task(code=f"B{i}").coordinating_agencies.set([agencies["stttt"]])
    with django_assert_max_num_queries(3):
        assert len(run()) == 33
