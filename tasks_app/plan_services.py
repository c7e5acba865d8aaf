"""Services of plans as the monitoring agency writes them: the plan, its basis documents and
its priority areas. Tasks are written by `tasks_app.services` (task_create,
task_update_fields, task_adjust_due, task_split, task_withdraw).

Like every service: keyword-only arguments, validation with a message per field (raising
ValidationError, nothing written), one transaction.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app.models import Agency, DtiIndex, Plan, PlanDocument, PriorityArea

# What plan_update may change. The code is the plan's key (Excel files, the API, the
# report archive refer to it): it is set once.
PLAN_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "number",
        "issuing_agency",
        "monitor_agency",
        "issued_on",
        "period_start",
        "period_end",
        "leader_in_charge",
        "source_document",
    }
)

AREA_EDITABLE_FIELDS = frozenset({"code", "name", "name_en", "order", "dti_index"})


def year_period(year: int) -> tuple[datetime.date, datetime.date]:
    """The period of a plan for a calendar year: 1 January to 31 December."""
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def _check_period(start: datetime.date | None, end: datetime.date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})


def plan_create(
    *,
    code: str,
    title: str,
    issuing_agency: Agency,
    period_start: datetime.date,
    period_end: datetime.date,
    number: str = "",
    monitor_agency: Agency | None = None,
    issued_on: datetime.date | None = None,
    leader_in_charge: str = "",
    source_document: str = "",
) -> Plan:
    """Create a plan. Its code must be new (compared without regard to case)."""
    code = code.strip()
    if Plan.objects.filter(code__iexact=code).exists():
        raise ValidationError(
            {"code": _("A plan with the code “%(code)s” already exists.") % {"code": code}}
        )
    _check_period(period_start, period_end)
    plan = Plan(
        code=code,
        title=title.strip(),
        issuing_agency=issuing_agency,
        monitor_agency=monitor_agency,
        period_start=period_start,
        period_end=period_end,
        number=number.strip(),
        issued_on=issued_on,
        leader_in_charge=leader_in_charge.strip(),
        source_document=source_document,
    )
    plan.full_clean()
    with transaction.atomic():
        plan.save()
    return plan


def plan_update(*, plan: Plan, **fields) -> Plan:
    """Change a plan's fields (PLAN_EDITABLE_FIELDS); the period stays in order and covers
    every task's assignment date."""
    unknown = set(fields) - PLAN_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        _check_period(locked.period_start, locked.period_end)
        locked.full_clean()
        locked.save()
    return locked


def plan_document_save(
    *,
    plan: Plan,
    number: str,
    title: str,
    issued_on: datetime.date | None = None,
    issuer: str = "",
    file=None,
    document: PlanDocument | None = None,
) -> PlanDocument:
    """Add a basis document to a plan, or change `document`. A new `file` replaces the
    stored one; None keeps it."""
    number = number.strip()
    duplicate = PlanDocument.objects.filter(plan=plan, number__iexact=number)
    if document is not None:
        duplicate = duplicate.exclude(pk=document.pk)
    if duplicate.exists():
        raise ValidationError(
            {
                "number": _("The plan already has a document numbered “%(number)s”.")
                % {"number": number}
            }
        )
    document = document or PlanDocument(plan=plan)
    document.number = number
    document.title = title.strip()
    document.issued_on = issued_on
    document.issuer = issuer.strip()
    if file is not None:
        document.file = file
    document.full_clean()
    with transaction.atomic():
        document.save()
    return document


def plan_document_delete(*, document: PlanDocument) -> None:
    """Remove a basis document from its plan (the plan's tasks do not refer to it)."""
    with transaction.atomic():
        if document.file:
            document.file.delete(save=False)
        document.delete()


def area_create(
    *,
    plan: Plan,
    code: str,
    name: str,
    order: int | None = None,
    name_en: str = "",
    dti_index: DtiIndex | None = None,
) -> PriorityArea:
    """Add a priority area to a plan; its code is new in the plan. Without an order it comes
    last."""
    code = code.strip()
    if PriorityArea.objects.filter(plan=plan, code__iexact=code).exists():
        raise ValidationError(
            {"code": _("The plan already has a priority area “%(code)s”.") % {"code": code}}
        )
    if order is None:
        last = plan.priority_areas.order_by("-order").values_list("order", flat=True).first()
        order = (last or 0) + 1
    area = PriorityArea(
        plan=plan,
        code=code,
        name=name.strip(),
        name_en=name_en.strip(),
        order=order,
        dti_index=dti_index,
    )
    area.full_clean()
    with transaction.atomic():
        area.save()
    return area


def area_update(*, area: PriorityArea, **fields) -> PriorityArea:
    """Change a priority area's fields (AREA_EDITABLE_FIELDS); its code stays unique in the
    plan."""
    unknown = set(fields) - AREA_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = PriorityArea.objects.select_for_update().get(pk=area.pk)
        code = fields.get("code")
        if code is not None:
            fields["code"] = code = code.strip()
            taken = PriorityArea.objects.filter(plan_id=locked.plan_id, code__iexact=code)
            if taken.exclude(pk=locked.pk).exists():
                raise ValidationError(
                    {"code": _("The plan already has a priority area “%(code)s”.") % {"code": code}}
                )
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.full_clean()
        locked.save()
    return locked
