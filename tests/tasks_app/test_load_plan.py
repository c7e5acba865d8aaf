"""`load_plan`: the 2022 plan file loads completely, loads twice without change, and a
malformed file is refused with messages naming its records, writing nothing."""

import copy
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation

from tasks_app.choices import ChangeSource, TaskState
from tasks_app.models import (
    AdministrativeLevel,
    Agency,
    AgencySuccession,
    DtiIndex,
    Plan,
    PlanDocument,
    PriorityArea,
    StatusUpdate,
    Task,
    TaskChange,
)
from tasks_app.planfile import plan_file_read
from tasks_app.services import (
    extension_approve,
    extension_request,
    status_update_record,
    task_update_fields,
)
from tests.factories import asked_in_time


@pytest.fixture(autouse=True)
def _english_messages():
    # Assertions below read the English message ids; operators see Vietnamese by default.
    with translation.override("en"):
        yield


PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"
MODELS = (
    AdministrativeLevel,
    Agency,
    AgencySuccession,
    DtiIndex,
    Plan,
    PlanDocument,
    PriorityArea,
    Task,
)


def load(path, *args) -> str:
    out = io.StringIO()
    call_command("load_plan", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def plan_data() -> dict:
    """The parsed plan file; tests change a deep copy."""
    return plan_file_read(path=PLAN_FILE)


@pytest.fixture(scope="module")
def _loaded_once(django_db_setup, django_db_blocker):
    """Load the plan file once for this module, in a transaction rolled back at the end;
    each test runs in its own savepoint, so its changes vanish after it."""
    with django_db_blocker.unblock(), transaction.atomic(), translation.override("en"):
        yield load(PLAN_FILE)
        transaction.set_rollback(True)


@pytest.fixture
def first_load(_loaded_once, db) -> str:
    """The output of loading data/plan_2022.yaml into an empty database."""
    return _loaded_once


def write_yaml(tmp_path, data, name="plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")
    return path


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def task_snapshot() -> list[tuple]:
    return [
        (*values, tuple(sorted(task.coordinating_agencies.values_list("code", flat=True))))
        for task, values in (
            (
                task,
                (
                    task.code, task.title, task.priority_area.code, task.lead_agency.code,
                    task.assigned_on, task.original_due, task.due, task.expected_output,
                    task.kpi_target, task.kpi_unit, task.dti_index_id, task.state,
                    task.progress, task.version, task.updated_at,
                ),
            )
            for task in Task.objects.select_related("priority_area", "lead_agency")
            .prefetch_related("coordinating_agencies")
            .order_by("code")
        )
    ]  # fmt: skip


def test_loads_the_whole_2022_plan(plan_data, first_load):
    out = first_load

    assert Task.objects.count() == 44
    assert list(Task.objects.order_by("code").values_list("code", flat=True)) == [
        f"CDS22-{n:02d}" for n in range(1, 45)
    ]
    assert not Task.objects.filter(parent__isnull=False).exists()
    assert list(AdministrativeLevel.objects.values_list("code", "order")) == [
        ("province", 1),
        ("district", 2),
        ("commune", 3),
    ]
    assert Agency.objects.count() == len(plan_data["agencies"])
    haihau_communes = Agency.objects.filter(parent__code="UBND_HAIHAU", level__code="commune")
    assert haihau_communes.count() == 34
    assert PriorityArea.objects.count() == 9
    assert list(PriorityArea.objects.values_list("order", flat=True)) == list(range(1, 10))
    assert DtiIndex.objects.filter(edition=2022).count() == 9
    predecessors = sum(len(r["predecessors"]) for r in plan_data["reorganizations"])
    assert AgencySuccession.objects.count() == predecessors
    assert "Agencies: 80 (80 new, 0 updated)" in out
    assert "Tasks: 44 (44 new, 0 updated)" in out

    plan = Plan.objects.get(code="CDS-ND-2022")
    assert plan.number == ""
    assert plan.issuing_agency.code == "UBND_TINH"
    assert plan.monitor_agency.code == "STTTT"
    assert (plan.period_start, plan.period_end) == (
        datetime.date(2022, 1, 1),
        datetime.date(2022, 12, 31),
    )
    assert plan.documents.count() == 5

    # Agency fields, a parent declared after its child's level, a 2025 successor.
    stttt = Agency.objects.get(code="STTTT")
    assert (stttt.short_name, stttt.doc_code, stttt.kind) == ("Sở TT&TT", "STTTT", "so")
    assert stttt.valid_to == datetime.date(2025, 2, 28)
    assert stttt.path.startswith(Agency.objects.get(code="UBND_TINH").path)
    assert Agency.objects.get(code="NB_XA_HAITIEN").gso_code == "14218"
    merged = AgencySuccession.objects.get(predecessor__code="HH_HAITRUNG")
    assert (merged.successor.code, merged.kind) == ("NB_XA_HAIHAU", "merge")
    abolished = AgencySuccession.objects.get(predecessor__code="UBND_HAIHAU")
    assert (abolished.successor, abolished.kind) == (None, "abolish")

    # Task fields.
    regular = Task.objects.get(code="CDS22-09")
    assert regular.due is None and regular.original_due is None
    task = Task.objects.get(code="CDS22-13")
    assert task.lead_agency.code == "STTTT"
    assert task.priority_area.code == "DTTM"
    assert task.assigned_on == datetime.date(2022, 2, 15)
    assert task.due == task.original_due == datetime.date(2022, 6, 30)
    assert task.dti_index.code == "the_che_so"
    assert set(task.coordinating_agencies.values_list("code", flat=True)) == {"VP_UBND", "SKHDT"}
    assert task.state == TaskState.NOT_STARTED
    kpi_task = Task.objects.get(code="CDS22-26")
    assert (kpi_task.kpi_target, kpi_task.kpi_unit) == (Decimal(226), "tổ")


def test_loading_twice_changes_nothing(first_load):
    before_counts, before_tasks = counts(), task_snapshot()
    before_agencies = list(Agency.objects.order_by("code").values())

    out = load(PLAN_FILE)

    assert counts() == before_counts
    assert task_snapshot() == before_tasks
    assert list(Agency.objects.order_by("code").values()) == before_agencies
    assert "Tasks: 44 (0 new, 0 updated)" in out
    assert "Agencies: 80 (0 new, 0 updated)" in out


def test_reloading_a_changed_file_updates_plan_fields_only(plan_data, first_load, tmp_path):
    monitor = get_user_model().objects.create_user("monitor")
    task = Task.objects.get(code="CDS22-02")
    status_update_record(
        task=task, author=monitor, state=TaskState.IN_PROGRESS, progress=40, result="Đang làm"
    )
    extended = Task.objects.get(code="CDS22-13")
    extension_approve(
        extension=extension_request(
            task=extended,
            requested_by=monitor,
            proposed_due=datetime.date(2022, 9, 30),
            reason="Chờ hướng dẫn của Bộ",
            requested_at=asked_in_time(extended),
        ),
        decided_by=monitor,
    )
    task.refresh_from_db()
    extended.refresh_from_db()
    data = copy.deepcopy(plan_data)
    data["tasks"][1]["title"] = "Tiêu đề mới"
    data["tasks"][1]["coordinators"] = ["VP_UBND"]
    data["tasks"][12]["due"] = "2022-07-15"

    out = load(write_yaml(tmp_path, data))

    assert "Tasks: 44 (0 new, 2 updated)" in out
    changed = Task.objects.get(code="CDS22-02")
    assert changed.title == "Tiêu đề mới"
    assert list(changed.coordinating_agencies.values_list("code", flat=True)) == ["VP_UBND"]
    assert (changed.state, changed.progress) == (TaskState.IN_PROGRESS, 40)
    assert changed.version == task.version + 1
    assert StatusUpdate.objects.filter(task=changed).count() == 1
    # The approved extension stays in force; the file's date becomes the original one.
    moved = Task.objects.get(code="CDS22-13")
    assert moved.original_due == datetime.date(2022, 7, 15)
    assert moved.due == datetime.date(2022, 9, 30)
    assert moved.version == extended.version + 1
    # Each change the file made is in the change history, from the plan file.
    recorded = {
        (c.task.code, c.field, c.old_text, c.new_text)
        for c in TaskChange.objects.filter(source=ChangeSource.PLAN_FILE).select_related("task")
    }
    assert ("CDS22-02", "title", task.title, "Tiêu đề mới") in recorded
    assert ("CDS22-13", "original_due", "30/06/2022", "15/07/2022") in recorded
    assert any(code == "CDS22-02" and f == "coordinating_agencies" for code, f, _o, _n in recorded)


def test_a_correction_made_in_the_product_survives_loading_the_file_again(
    plan_data, first_load, tmp_path
):
    monitor = get_user_model().objects.create_user("monitor")
    task = Task.objects.get(code="CDS22-02")
    new_lead = Agency.objects.get(code="VP_UBND")
    task_update_fields(
        task=task,
        expected_version=task.version,
        author=monitor,
        reason="Giao lại theo Quyết định số 15/QĐ-UBND",
        lead_agency=new_lead,
        title="Tên đã sửa trên hệ thống",
    )
    data = copy.deepcopy(plan_data)
    data["tasks"][1]["output"] = "Sản phẩm mới theo tệp"

    load(write_yaml(tmp_path, data))

    task = Task.objects.get(code="CDS22-02")
    assert (task.lead_agency, task.title) == (new_lead, "Tên đã sửa trên hệ thống")
    assert task.expected_output == "Sản phẩm mới theo tệp"


@pytest.mark.django_db
def test_loads_a_json_plan_file(plan_data, tmp_path):
    data = copy.deepcopy(plan_data)
    data["plan"]["code"] = "CDS-JSON"
    data["tasks"] = data["tasks"][:3]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    load(path)

    assert Plan.objects.get(code="CDS-JSON").tasks.count() == 3


def _set(data, section, code, /, **fields):
    record = next(r for r in data[section] if r.get("code") == code)
    record.update(fields)


def _unknown_coordinator(data):
    _set(data, "tasks", "CDS22-13", coordinators=["VP_UBND", "SXX"])


def _bad_date(data):
    _set(data, "agencies", "SNV", valid_to="2022-13-01")


def _duplicate_code(data):
    _set(data, "tasks", "CDS22-10", code="CDS22-05")


def _unknown_area(data):
    _set(data, "tasks", "CDS22-18", area="GDXX")


def _unknown_level(data):
    _set(data, "agencies", "HH_HAIAN", level="xa")


def _unknown_parent(data):
    _set(data, "agencies", "HH_HAIAN", parent="UBND_HAIHAUU")


def _due_before_start(data):
    _set(data, "tasks", "CDS22-44", due="2021-02-15")


def _missing_title(data):
    del next(r for r in data["tasks"] if r["code"] == "CDS22-07")["title"]


def _unknown_dti(data):
    _set(data, "tasks", "CDS22-09", dti="attt")


def _unknown_kind(data):
    _set(data, "agencies", "SYT", kind="bo")


def _misspelt_field(data):
    _set(data, "tasks", "CDS22-04", coordinator=["VP_UBND"])


def _lead_not_yet_created(data):
    _set(data, "tasks", "CDS22-28", lead="NB_XA_HAIHAU")


def _parent_cycle(data):
    _set(data, "agencies", "UBND_TINH", parent="STTTT")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_unknown_coordinator, 'tasks[12] (CDS22-13): unknown agency code "SXX" in coordinators'),
        (_bad_date, 'agencies[4] (SNV): bad date "2022-13-01" in valid_to'),
        (_duplicate_code, "duplicate task code CDS22-05 (tasks[4] and tasks[9])"),
        (_unknown_area, 'tasks[17] (CDS22-18): unknown priority area "GDXX"'),
        (_unknown_level, 'agencies[35] (HH_HAIAN): unknown level "xa"'),
        (
            _unknown_parent,
            'agencies[35] (HH_HAIAN): unknown agency code "UBND_HAIHAUU" in parent',
        ),
        (_due_before_start, "tasks[43] (CDS22-44): due 2021-02-15 is before start 2022-01-15"),
        (_missing_title, 'tasks[6] (CDS22-07): missing required field "title"'),
        (_unknown_dti, 'tasks[8] (CDS22-09): unknown DTI index "attt"'),
        (_unknown_kind, 'agencies[7] (SYT): unknown kind "bo"'),
        (_misspelt_field, 'tasks[3] (CDS22-04): unknown field "coordinator"'),
        (
            _lead_not_yet_created,
            "tasks[27] (CDS22-28): the lead agency NB_XA_HAIHAU did not exist on 2022-04-01",
        ),
        (_parent_cycle, "agencies: the parents of UBND_TINH, STTTT form a cycle"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_record(plan_data, tmp_path, damage, message):
    data = copy.deepcopy(plan_data)
    damage(data)
    before = counts()

    with pytest.raises(CommandError) as refused:
        load(write_yaml(tmp_path, data))

    assert message in str(refused.value)
    assert counts() == before


def test_every_problem_is_reported_and_a_loaded_plan_stays_as_it_was(
    plan_data, first_load, tmp_path
):
    before_counts, before_tasks = counts(), task_snapshot()
    data = copy.deepcopy(plan_data)
    _unknown_coordinator(data)
    _bad_date(data)
    _duplicate_code(data)
    data["tasks"][0]["title"] = "Đổi tên, nhưng tệp có lỗi nên không được ghi"

    with pytest.raises(CommandError) as refused:
        load(write_yaml(tmp_path, data))

    message = str(refused.value)
    assert "nothing was written" in message
    assert 'unknown agency code "SXX"' in message
    assert 'bad date "2022-13-01"' in message
    assert "duplicate task code CDS22-05" in message
    assert counts() == before_counts
    assert task_snapshot() == before_tasks


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        load(tmp_path / "no-such-plan.yaml")


@pytest.mark.django_db
def test_invalid_yaml_is_refused(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("plan: {code: CDS-ND-2022\ntasks: [\n", encoding="utf-8")

    with pytest.raises(CommandError, match="is not valid YAML") as refused:
        load(path)

    assert "line 2, column 6" in str(refused.value)


@pytest.mark.django_db
def test_a_file_without_sections_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")

    with pytest.raises(CommandError, match="does not hold a plan"):
        load(path)


@pytest.mark.django_db
def test_operators_read_the_progress_in_vietnamese_by_default():
    out = io.StringIO()
    with translation.override("vi"):
        call_command("load_plan", str(PLAN_FILE), stdout=out)
    assert "Cơ quan: 80 (" in out.getvalue()
    assert "mới" in out.getvalue()
