"""`manage.py import_plan` and `export_plan`: the exit status says whether the file was
(or with --dry-run would be) applied whole."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from tasks_app.models import SheetUpload, Task, TaskChange
from tests.tasks_app.plan_workbooks import edit, make_plan, snapshot, task_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(agencies):
    return make_plan(agencies)


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_export_plan_writes_the_workbook(plan, tmp_path):
    path = tmp_path / "kh.xlsx"
    output = run("export_plan", "KH-2026", str(path))
    assert "KH-2026" in output
    rows = list(load_workbook(path)["Nhiệm vụ"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == Task.objects.filter(plan=plan).count()


def test_export_plan_of_an_unknown_code_fails(plan, tmp_path):
    with pytest.raises(CommandError, match="KHONG"):
        run("export_plan", "KHONG", str(tmp_path / "x.xlsx"))


def test_a_dry_run_of_a_good_file_succeeds_and_writes_nothing(plan, monitor, tmp_path):
    path = tmp_path / "kh.xlsx"
    run("export_plan", "KH-2026", str(path))
    path.write_bytes(edit(path.read_bytes(), {"Nhiệm vụ": {"B2": "Tên mới"}}))
    before = snapshot()

    output = run("import_plan", str(path), "--dry-run", "--user", "monitor")

    assert "Triển khai nền tảng số → Tên mới" in output
    assert snapshot() == before
    assert not SheetUpload.objects.exists()


def test_import_plan_applies_a_good_file(plan, monitor, tmp_path):
    path = tmp_path / "kh.xlsx"
    run("export_plan", "KH-2026", str(path))
    path.write_bytes(edit(path.read_bytes(), {"Nhiệm vụ": {"B2": "Tên mới"}}))

    run("import_plan", str(path), "--user", "monitor")

    assert Task.objects.get(plan=plan, code="1").title == "Tên mới"
    assert TaskChange.objects.get().author == monitor
    assert SheetUpload.objects.get().applied_at is not None


def test_import_plan_of_a_bad_file_fails_naming_the_cell(plan, monitor, tmp_path):
    path = tmp_path / "kh.xlsx"
    run("export_plan", "KH-2026", str(path))
    content = path.read_bytes()
    path.write_bytes(edit(content, {"Nhiệm vụ": {f"D{task_row(content, '2')}": "KHONG_CO"}}))
    before = snapshot()

    with pytest.raises(CommandError) as failed:
        run("import_plan", str(path), "--user", "monitor")

    assert "Nhiệm vụ" in str(failed.value) and "KHONG_CO" in str(failed.value)
    assert snapshot() == before


def test_import_plan_exits_with_a_non_zero_status_on_a_bad_file(plan, monitor, tmp_path):
    from django.core.management import ManagementUtility

    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_plan", str(path), "--user", "monitor"]).execute()
    assert exited.value.code != 0
