"""tasks_app.compiled: one-row reads whose SQL is built once give the queryset's rows."""

import datetime
from decimal import Decimal

import pytest

from tasks_app.compiled import MARKER, rows_by_id, rows_by_ids, rows_by_value
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "code", "due", "kpi_actual", "updated_at", "lead_agency__code")


def _values():
    return Task.objects.values(*COLUMNS)


def test_each_id_gets_the_rows_the_queryset_gives(make_task):
    first = make_task(code="NV-1", due=datetime.date(2022, 6, 30), kpi_actual=Decimal("1.5"))
    second = make_task(code="NV-2", due=None)
    built = []

    def build():
        built.append(1)
        return _values()

    for task in (first, second, first):
        assert rows_by_id(("test", "values"), build, task.pk) == list(_values().filter(pk=task.pk))
    assert len(built) == 1  # the SQL was built once, then run with each id
    row = rows_by_id(("test", "values"), build, str(second.pk))[0]  # as a URL gives it
    assert (row["code"], row["due"], row["lead_agency__code"]) == ("NV-2", None, "UBND_HAIHAU")


def test_rows_by_a_value_in_a_subquery_are_the_querysets_in_its_order(make_task, agencies):
    """Issue 18: the value may sit anywhere in the SQL (here a sliced subquery, as a page
    of a task's history reads it), and the rows keep the queryset's order."""
    for n, agency in enumerate(["haihau", "haihau", "giaothuy", "haihau"]):
        make_task(code=f"NV-{n}", lead_agency=agencies[agency])
    built = []

    def build(agency_id):
        built.append(agency_id)
        latest = Task.objects.filter(lead_agency_id=agency_id).order_by("-code").values("pk")
        return Task.objects.filter(pk__in=latest[:2]).order_by("-code").values(*COLUMNS)

    for code in ("haihau", "giaothuy", "haihau"):
        pk = agencies[code].pk
        assert rows_by_value(("test", "latest two"), build, pk) == list(build(pk))
    assert [row["code"] for row in list(build(agencies["haihau"].pk))] == ["NV-3", "NV-1"]
    assert built.count(MARKER) == 1  # the SQL was built once, with the marker


def test_rows_by_ids_give_the_querysets_rows_with_sql_built_once_per_number_of_ids(make_task):
    """Issue 18: a page's coordinating agencies and days late, `…__in=ids`."""
    tasks = [make_task(code=f"NV-{n}", due=datetime.date(2022, 6, n + 1)) for n in range(4)]
    ids = [task.pk for task in tasks]
    built = []

    def build(wanted):
        built.append(len(wanted))
        return Task.objects.filter(pk__in=wanted).order_by("code").values(*COLUMNS)

    for wanted in (ids[:2], ids[2:], [ids[3], ids[0]], ids, [ids[1]]):
        assert rows_by_ids(("test", "by ids"), build, wanted) == list(build(wanted))
    # Built once for two ids (three lists of two), once for four and once for one; each
    # `build(wanted)` above adds its own count.
    assert built.count(2) == 1 + 3 and built.count(4) == 1 + 1 and built.count(1) == 1 + 1
    assert rows_by_ids(("test", "by ids"), build, []) == []
    assert rows_by_ids(("test", "by ids"), build, [ids[0], 10**30]) == []


def test_an_unknown_or_out_of_range_id_gives_no_row(make_task):
    make_task(code="NV-1")
    for pk in (0, -1, 10**6, 2**63, -(2**63) - 1, 10**30):
        assert rows_by_id(("test", "values"), _values, pk) == []


@pytest.mark.parametrize("pk", ["x", "1.5", ""])
def test_a_malformed_id_is_refused_as_the_orm_refuses_it(make_task, pk):
    make_task(code="NV-1")
    with pytest.raises((ValueError, TypeError)):
        list(_values().filter(pk=pk))
    with pytest.raises((ValueError, TypeError)):
        rows_by_id(("test", "values"), _values, pk)


def test_an_empty_queryset_gives_no_row(task):
    assert rows_by_id(("test", "none"), lambda: _values().none(), task.pk) == []


def test_the_task_found_for_an_action_is_the_one_the_orm_loads(make_task, manager, outsider):
    from tasks_app.selectors import task_get_for_action

    task = make_task(code="NV-1", kpi_actual=Decimal("2.50"), due=datetime.date(2022, 6, 30))
    found = task_get_for_action(user=manager, pk=str(task.pk))
    loaded = Task.objects.select_related("lead_agency").get(pk=task.pk)
    assert found == loaded and not found._state.adding
    for field in Task._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(loaded, field.attname), field.name
    for field in loaded.lead_agency._meta.concrete_fields:
        assert getattr(found.lead_agency, field.attname) == getattr(
            loaded.lead_agency, field.attname
        )
    found.title = "Đổi tên"  # a model instance like any other: it saves
    found.save(update_fields=["title"])
    assert Task.objects.get(pk=task.pk).title == "Đổi tên"
    with pytest.raises(Task.DoesNotExist):
        task_get_for_action(user=outsider, pk=task.pk)  # Giao Thủy does not see Hải Hậu's task
