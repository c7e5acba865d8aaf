"""Plan services: the plan, its basis documents and its priority areas, written with a
message per field when the input is wrong, and nothing written then."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from tasks_app import plan_services
from tasks_app.models import Plan, PlanDocument, PriorityArea
from tests.factories import AgencyFactory, PlanFactory, PriorityAreaFactory

pytestmark = pytest.mark.django_db


def test_a_plan_for_a_year_covers_the_calendar_year():
    start, end = plan_services.year_period(2026)

    plan = plan_services.plan_create(
        code="KH-2026",
        title=" Kế hoạch 2026 ",
        issuing_agency=AgencyFactory(),
        period_start=start,
        period_end=end,
    )

    plan.refresh_from_db()
    assert (plan.title, plan.period_start, plan.period_end) == (
        "Kế hoạch 2026",
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
    )


def test_a_second_plan_with_the_same_code_is_refused():
    PlanFactory(code="KH-2026")

    with pytest.raises(ValidationError) as error:
        plan_services.plan_create(
            code="kh-2026",
            title="Khác",
            issuing_agency=AgencyFactory(),
            period_start=datetime.date(2026, 1, 1),
            period_end=datetime.date(2026, 12, 31),
        )

    assert "code" in error.value.message_dict
    assert Plan.objects.count() == 1


def test_a_period_that_ends_before_it_starts_is_refused_and_nothing_changes():
    plan = PlanFactory(title="Cũ")

    with pytest.raises(ValidationError) as error:
        plan_services.plan_update(plan=plan, title="Mới", period_end=datetime.date(2021, 12, 31))

    assert "period_end" in error.value.message_dict
    plan.refresh_from_db()
    assert plan.title == "Cũ"


def test_basis_documents_are_added_changed_and_removed():
    plan = PlanFactory()
    document = plan_services.plan_document_save(
        plan=plan, number="06-NQ/TU", title="Nghị quyết", issuer="Tỉnh ủy"
    )
    plan_services.plan_document_save(
        plan=plan, number="06-NQ/TU", title="Nghị quyết về chuyển đổi số", document=document
    )
    with pytest.raises(ValidationError):
        plan_services.plan_document_save(plan=plan, number="06-nq/tu", title="Trùng")

    assert list(plan.documents.values_list("title", flat=True)) == ["Nghị quyết về chuyển đổi số"]
    plan_services.plan_document_delete(document=document)
    assert not PlanDocument.objects.exists()


def test_a_new_area_comes_last_and_its_code_is_unique_in_the_plan():
    plan = PlanFactory()
    PriorityAreaFactory(plan=plan, code="A", order=4)

    area = plan_services.area_create(plan=plan, code="B", name="Chính quyền số")
    with pytest.raises(ValidationError) as error:
        plan_services.area_update(area=area, code="a")

    assert area.order == 5
    assert "code" in error.value.message_dict
    assert PriorityArea.objects.get(pk=area.pk).code == "B"
