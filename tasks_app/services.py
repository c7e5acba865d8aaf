"""Services: every change to tasks, their history and their deadlines goes through here.

Each service validates its input (raising ValidationError with a message per field, in the
user's language), runs in one transaction, and locks the task row it changes, so that two
people saving at once are serialised and neither update is lost. Callers that show a form
pass the `expected_version` they displayed; a stale version raises StaleVersionError instead
of overwriting someone else's change. A status update on a task the caller has just read at
that version skips the lock: its write of the row is a compare-and-set on the version
(status_update_record).
"""

import datetime
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tasks_app import formatting
from tasks_app.choices import (
    FINISHED_STATES,
    ChangeSource,
    ExtensionKind,
    ExtensionStatus,
    Role,
    TaskState,
    UpdateKind,
)
from tasks_app.collation import vi_sorted
from tasks_app.models import (
    Agency,
    AgencySuccession,
    DeadlineExtension,
    DtiIndex,
    Evidence,
    Membership,
    Plan,
    PriorityArea,
    StatusUpdate,
    Task,
    TaskChange,
)
from tasks_app.search import fold
from tasks_app.signals import (
    extension_decided,
    extension_requested,
    past_status_recorded,
    status_recorded,
    task_changed,
    task_created,
    task_reassigned,
)


class StaleVersionError(Exception):
    """The task changed since the caller read it; nothing was written."""

    def __init__(self, task: Task):
        super().__init__(f"Task {task.pk} is at version {task.version}.")
        self.task = task


# Which stored state may follow which. Who may make each move is decided in permissions.py.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    TaskState.NOT_STARTED: {
        TaskState.NOT_STARTED,
        TaskState.IN_PROGRESS,
        TaskState.AWAITING_CONFIRMATION,
        TaskState.COMPLETED,
        TaskState.WITHDRAWN,
    },
    TaskState.IN_PROGRESS: {
        TaskState.IN_PROGRESS,
        TaskState.AWAITING_CONFIRMATION,
        TaskState.COMPLETED,
        TaskState.WITHDRAWN,
    },
    TaskState.AWAITING_CONFIRMATION: {
        TaskState.AWAITING_CONFIRMATION,
        TaskState.COMPLETED,
        TaskState.IN_PROGRESS,
        TaskState.WITHDRAWN,
    },
    # A completed task can only be reopened (returned by the monitor).
    TaskState.COMPLETED: {TaskState.IN_PROGRESS},
    # A withdrawn task can be reinstated.
    TaskState.WITHDRAWN: {TaskState.NOT_STARTED, TaskState.IN_PROGRESS},
}

_DONE_STATES = {TaskState.COMPLETED, TaskState.AWAITING_CONFIRMATION}


@dataclass(frozen=True)
class EvidenceUpload:
    """A file to attach: its name as the user knows it, its type and its bytes."""

    name: str
    content_type: str
    content: bytes

    @classmethod
    def from_uploaded(cls, uploaded: UploadedFile) -> "EvidenceUpload":
        return cls(
            name=uploaded.name or "file",
            content_type=uploaded.content_type or "application/octet-stream",
            content=uploaded.read(),
        )


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


def _check_version(task: Task, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise StaleVersionError(task)


# --- Tasks ----------------------------------------------------------------------------------


def _dates_out_of_order(assigned_on: datetime.date | None, due: datetime.date | None) -> str:
    """Why a task assigned on `assigned_on` cannot be due on `due` (it is due on or after
    the day it is assigned; a regular task has no due date); "" when the dates are fine."""
    if assigned_on is not None and due is not None and due < assigned_on:
        return _("The due date cannot be before the assignment date.")
    return ""


def _codes_taken(plan_id: int, codes: Sequence[str], exclude: int | None = None) -> list[str]:
    """Those of `codes` already used by a task of the plan, compared without regard to case
    (a plan's task codes are its keys in Excel files, the API and documents); the task
    `exclude` does not count. In the order given."""
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__iexact=code)
    tasks = Task.objects.filter(condition, plan_id=plan_id)
    if exclude is not None:
        tasks = tasks.exclude(pk=exclude)
    taken = {code.lower() for code in tasks.values_list("code", flat=True)}
    return [code for code in codes if code.lower() in taken]


def _code_taken_error(code: str) -> str:
    return _("The plan already has a task with the code “%(code)s”.") % {"code": code}


def _has_ceased(agency: Agency) -> bool:
    """Whether the agency ceased to exist before today: a task it leads needs a new owner
    (tasks_flag_orphaned states the rule)."""
    return agency.valid_to is not None and agency.valid_to < timezone.localdate()


def _task_built(
    *,
    plan: Plan,
    spec: dict,
    code_taken: bool,
    parent_plan_id: int | None,
    parent_is_child: bool,
) -> tuple[Task, dict[str, list[str]]]:
    """A new task of `plan` from `spec` (task_create's keyword arguments but `plan`,
    `parent` and `coordinating_agencies`), not saved, with what is wrong with it by field:
    the rules of a new task, stated once for task_create and task_create_many. The related
    rows are saved instances, so no query checks them again; the caller tells whether the
    code is taken and where the parent stands."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    code = spec["code"].strip()
    if code_taken:
        refuse("code", _code_taken_error(code))
    # The priority area in the plan: Task.clean, run by full_clean below.
    if dates_error := _dates_out_of_order(spec["assigned_on"], spec.get("due")):
        refuse("due", dates_error)
    if parent_plan_id is not None and parent_plan_id != plan.pk:
        refuse("parent", _("The parent task belongs to another plan."))
    elif parent_is_child:
        refuse("parent", _("A child task cannot be split again."))
    weight = spec.get("weight")
    if weight is not None and weight <= 0:
        refuse("weight", _("The weight must be greater than zero."))
    task = Task(
        plan=plan,
        priority_area=spec["priority_area"],
        code=code,
        title=spec["title"],
        lead_agency=spec["lead_agency"],
        assigned_on=spec["assigned_on"],
        original_due=spec.get("due"),
        due=spec.get("due"),
        expected_output=spec.get("expected_output", ""),
        kpi_target=spec.get("kpi_target"),
        kpi_unit=spec.get("kpi_unit", ""),
        weight=weight,
        dti_index=spec.get("dti_index"),
    )
    try:
        task.full_clean(
            exclude=["plan", "priority_area", "lead_agency", "parent", "dti_index"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                refuse(field, message)
    task.search_text = fold(f"{task.code} {task.title}")
    return task, errors


def task_create(
    *,
    plan: Plan,
    priority_area: PriorityArea,
    code: str,
    title: str,
    lead_agency: Agency,
    assigned_on: datetime.date,
    due: datetime.date | None = None,
    coordinating_agencies: Iterable[Agency] = (),
    parent: Task | None = None,
    expected_output: str = "",
    kpi_target: Decimal | None = None,
    kpi_unit: str = "",
    weight: Decimal | None = None,
    dti_index: DtiIndex | None = None,
) -> Task:
    """Create a task; its original due date is the due date it is created with. A child
    task (of a plan item split per agency) belongs to the parent's plan, and the parent's
    roll-up counts it at once. The rules are `_task_built`'s; ValidationError by field."""
    task, errors = _task_built(
        plan=plan,
        spec={
            "priority_area": priority_area,
            "code": code,
            "title": title,
            "lead_agency": lead_agency,
            "assigned_on": assigned_on,
            "due": due,
            "expected_output": expected_output,
            "kpi_target": kpi_target,
            "kpi_unit": kpi_unit,
            "weight": weight,
            "dti_index": dti_index,
        },
        code_taken=bool(_codes_taken(plan.pk, [code.strip()])),
        parent_plan_id=parent.plan_id if parent is not None else None,
        parent_is_child=parent is not None and parent.parent_id is not None,
    )
    if errors:
        raise ValidationError(errors)
    task.parent = parent
    with transaction.atomic():
        task.save()
        task.coordinating_agencies.set(list(coordinating_agencies))
        if parent is not None:
            task_rollup(parent=parent)
        task_created.send(sender=Task, tasks=[task])
    return task


def task_split(
    *, task: Task, agencies: Sequence[Agency], weights: dict[int, Decimal] | None = None
) -> list[Task]:
    """Give each agency its own child task ("tasks per agency"). The children inherit the
    plan item's title, dates and KPI unit, with the parent's lead agency coordinating. A
    child led by an agency that ceased to exist before today is flagged "cần giao lại".

    Safe to run twice: an agency that already has a child keeps it.
    """
    if not agencies:
        raise ValidationError({"agencies": _("Choose at least one agency.")})
    with transaction.atomic():
        parent = _locked(task)
        if parent.parent_id is not None:
            raise ValidationError(_("A child task cannot be split again."))
        existing = {child.lead_agency_id: child for child in parent.children.all()}
        new_codes = [f"{parent.code}.{a.code}" for a in agencies if a.pk not in existing]
        if taken := _codes_taken(parent.plan_id, new_codes):
            raise ValidationError(
                {
                    "agencies": _("The plan already has tasks with these codes: %(codes)s.")
                    % {"codes": ", ".join(taken)}
                }
            )
        children = []
        created: list[Task] = []
        for agency in agencies:
            if agency.pk in existing:
                children.append(existing[agency.pk])
                continue
            child = Task(
                plan_id=parent.plan_id,
                priority_area_id=parent.priority_area_id,
                code=f"{parent.code}.{agency.code}",
                title=parent.title,
                expected_output=parent.expected_output,
                lead_agency=agency,
                parent=parent,
                assigned_on=parent.assigned_on,
                original_due=parent.due,
                due=parent.due,
                kpi_unit=parent.kpi_unit,
                weight=(weights or {}).get(agency.pk),
                dti_index_id=parent.dti_index_id,
                # Split to an agency that no longer exists: flagged at once, as the daily
                # job (tasks_flag_orphaned) would flag it.
                needs_reassignment=_has_ceased(agency),
            )
            child.full_clean(validate_constraints=False)
            child.save()
            child.coordinating_agencies.set([parent.lead_agency])
            children.append(child)
            created.append(child)
        Task.objects.filter(pk=parent.pk).update(version=F("version") + 1)
        if created:
            task_created.send(sender=Task, tasks=created)
    return children


def task_rollup(*, parent: Task) -> Task:
    """Recompute a parent task's progress, state and completion from its children.

    Progress is the weighted average of the children's progress; a child without a weight
    counts as weight 1, so with no weights set it is the plain mean. Withdrawn children are
    left out. The parent is completed when every remaining child is, on the latest date.
    """
    with transaction.atomic():
        parent = _locked(parent)
        children = [c for c in parent.children.all() if c.state != TaskState.WITHDRAWN]
        if not children:
            return parent
        total_weight = sum((c.weight or Decimal(1)) for c in children)
        weighted = sum((c.weight or Decimal(1)) * c.progress for c in children)
        parent.progress = int((weighted / total_weight).to_integral_value())
        if all(c.state == TaskState.COMPLETED for c in children):
            parent.state = TaskState.COMPLETED
            parent.completed_on = max(c.completed_on for c in children)
        else:
            started = any(c.state != TaskState.NOT_STARTED or c.progress for c in children)
            parent.state = TaskState.IN_PROGRESS if started else TaskState.NOT_STARTED
            parent.completed_on = None
        parent.version += 1
        parent.save(update_fields=["progress", "state", "completed_on", "version", "updated_at"])
    return parent


# --- Status updates ---------------------------------------------------------------------------


def _validate_update(
    *,
    task: Task,
    state: str,
    progress: int,
    completed_on: datetime.date | None,
    result: str,
    reason: str,
    kpi_actual: Decimal | None,
    has_evidence: bool,
    recorded_on: datetime.date,
) -> None:
    errors: dict[str, str] = {}
    if state not in TaskState.values:
        errors["state"] = _("Unknown state.")
    elif state not in ALLOWED_TRANSITIONS[task.state]:
        errors["state"] = _("A task that is “%(current)s” cannot become “%(new)s”.") % {
            "current": TaskState(task.state).label,
            "new": TaskState(state).label,
        }
    if not 0 <= progress <= 100:
        errors["progress"] = _("Progress must be between 0 and 100%.")
    elif state == TaskState.NOT_STARTED and progress > 0:
        errors["progress"] = _("A task with progress cannot be “not started”.")
    if kpi_actual is not None and kpi_actual < 0:
        errors["kpi_actual"] = _("The KPI value cannot be negative.")
    if state in _DONE_STATES:
        if completed_on is None:
            errors["completed_on"] = _("Enter the completion date.")
        elif completed_on > recorded_on:
            errors["completed_on"] = _("The completion date cannot be in the future.")
        elif completed_on < task.assigned_on:
            errors["completed_on"] = _(
                "The completion date cannot be before the task was assigned (%(date)s)."
            ) % {"date": task.assigned_on.strftime("%d/%m/%Y")}
        if not result.strip() and not has_evidence:
            errors["result"] = _("Describe the result or attach a file.")
    elif completed_on is not None:
        errors["completed_on"] = _("Only a completed task has a completion date.")
    if state == TaskState.WITHDRAWN and not reason.strip():
        errors["reason"] = _("Give the reason for stopping the task.")
    if errors:
        raise ValidationError(errors)


def _mirror(task: Task, update: StatusUpdate) -> None:
    """Make the task row show its latest update, `update` (about to be stored) or one
    recorded later, and bump its version; a compare-and-set on `task.version`, the version
    the row had when `task` was read. When the row moved on since (a caller that did not
    lock it, see status_update_record), StaleVersionError, and the transaction is undone.

    `update` is the latest when recorded at or after the row last changed (`updated_at`):
    every stored update was recorded before the change that mirrored it. Otherwise (history
    loaded with a past date) the latest one stored is read; a tie goes to `update`, stored
    last."""
    latest = update
    if update.recorded_at < task.updated_at:
        stored = task.updates.order_by("-recorded_at", "-pk").first()
        if stored is not None and stored.recorded_at > update.recorded_at:
            latest = stored
    changes = {
        "state": latest.state,
        "progress": latest.progress,
        "completed_on": latest.completed_on,
        "result": latest.result if latest.state in _DONE_STATES else task.result,
        "kpi_actual": task.kpi_actual if latest.kpi_actual is None else latest.kpi_actual,
        "version": task.version + 1,
        "updated_at": timezone.now(),
    }
    if not Task.objects.filter(pk=task.pk, version=task.version).update(**changes):
        raise StaleVersionError(task)
    for name, value in changes.items():
        setattr(task, name, value)


def _attach_evidence(update: StatusUpdate, files: Sequence[EvidenceUpload]) -> None:
    """Store the files of a new update."""
    from django.core.files.base import ContentFile

    for upload in files:
        evidence = Evidence(
            update=update,
            original_name=upload.name[:255],
            content_type=upload.content_type[:100],
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
        )
        evidence.file.save(upload.name, ContentFile(upload.content), save=False)
        evidence.save()


def status_update_record(
    *,
    task: Task,
    author,
    state: str,
    progress: int,
    agency: Agency | None = None,
    kpi_actual: Decimal | None = None,
    completed_on: datetime.date | None = None,
    result: str = "",
    difficulties: str = "",
    proposals: str = "",
    reason: str = "",
    evidence: Sequence[EvidenceUpload] = (),
    expected_version: int | None = None,
    recorded_at: datetime.datetime | None = None,
    kind: str = UpdateKind.REPORT,
) -> StatusUpdate:
    """Append a status update to a task and make it the task's current state.

    1. Refuse a stale `expected_version` (StaleVersionError) and invalid input
       (ValidationError); nothing is written then.
    2. Write the task row, only while it is at the version checked (services._mirror);
       store the update and its evidence files.
    3. Roll the progress up to the parent task, if any.

    Concurrent updates of one task never overwrite each other. Without `expected_version`,
    or when `task` is not at it, the row is locked and read again first, so updates run one
    after the other and each is kept. When `task` is at `expected_version` (the caller read
    it for this request), the checks run on it and the row's write checks that nobody
    changed it since: one query less, and a change in between still answers stale.

    `recorded_at` defaults to now; loaders of past activity pass the historical time.
    """
    with transaction.atomic():
        if expected_version is None or task.version != expected_version:
            task = _locked(task)
            _check_version(task, expected_version)
        return _record(
            task,
            author=author,
            agency=agency,
            kind=kind,
            state=state,
            progress=progress,
            kpi_actual=kpi_actual,
            completed_on=completed_on,
            result=result,
            difficulties=difficulties,
            proposals=proposals,
            reason=reason,
            evidence=evidence,
            recorded_at=recorded_at or timezone.now(),
        )


def _announce_if_past(update: StatusUpdate) -> None:
    """Tell the other apps when an update is dated before today (signals.py)."""
    day = timezone.localdate(update.recorded_at)
    if day < timezone.localdate():
        past_status_recorded.send(sender=StatusUpdate, task=update.task, day=day)


def status_update_validate(
    task: Task,
    *,
    has_evidence: bool = False,
    recorded_at: datetime.datetime | None = None,
    author=None,
    agency: Agency | None = None,
    kind: str = UpdateKind.REPORT,
    state: str,
    progress: int,
    kpi_actual: Decimal | None = None,
    completed_on: datetime.date | None = None,
    result: str = "",
    difficulties: str = "",
    proposals: str = "",
    reason: str = "",
) -> StatusUpdate:
    """The update `status_update_record` would store on `task` as it is now, checked with
    the same rules, unsaved (a completion counts as 100%). Raises ValidationError with a
    message per field. Runs no query: a preview of many updates calls it per row."""
    if state in _DONE_STATES:
        progress = 100
    recorded_at = recorded_at or timezone.now()
    _validate_update(
        task=task,
        state=state,
        progress=progress,
        completed_on=completed_on,
        result=result,
        reason=reason,
        kpi_actual=kpi_actual,
        has_evidence=has_evidence,
        recorded_on=timezone.localdate(recorded_at),
    )
    update = StatusUpdate(
        task=task,
        recorded_at=recorded_at,
        author=author,
        agency=agency,
        kind=kind,
        state=state,
        progress=progress,
        kpi_actual=kpi_actual,
        completed_on=completed_on,
        result=result,
        difficulties=difficulties,
        proposals=proposals,
        reason=reason,
    )
    # The author and agency were loaded by the caller, and the task row is written first:
    # checking that they exist would cost a query each. The model's check constraints
    # (progress 0–100, a completed update has its date) are _validate_update's rules
    # already, and PostgreSQL enforces them too.
    update.full_clean(exclude=["task", "author", "agency"], validate_constraints=False)
    return update


def _record(task: Task, *, evidence, recorded_at, **fields) -> StatusUpdate:
    """Validate and store one update on a task read at the version the caller checked
    (locked, or compare-and-set by _mirror)."""
    update = status_update_validate(
        task, has_evidence=bool(evidence), recorded_at=recorded_at, **fields
    )
    # The row first: a stale task stops here, before any file is stored.
    _mirror(task, update)
    update.save()
    _announce_if_past(update)
    _attach_evidence(update, evidence)
    if task.parent is not None:
        task_rollup(parent=task.parent)
    status_recorded.send(sender=StatusUpdate, update=update)
    return update


def contribution_add(
    *,
    task: Task,
    author,
    agency: Agency,
    result: str,
    difficulties: str = "",
    proposals: str = "",
    evidence: Sequence[EvidenceUpload] = (),
    recorded_at: datetime.datetime | None = None,
) -> StatusUpdate:
    """A coordinating agency's contribution: recorded in the history, the task's state and
    progress stay as they are."""
    if not result.strip() and not evidence:
        raise ValidationError({"result": _("Describe the contribution or attach a file.")})
    with transaction.atomic():
        task = _locked(task)
        update = StatusUpdate(
            task=task,
            kind=UpdateKind.CONTRIBUTION,
            author=author,
            agency=agency,
            recorded_at=recorded_at or timezone.now(),
            state=task.state,
            progress=task.progress,
            completed_on=task.completed_on,
            result=result,
            difficulties=difficulties,
            proposals=proposals,
        )
        update.save()
        _announce_if_past(update)
        _attach_evidence(update, evidence)
        Task.objects.filter(pk=task.pk).update(version=F("version") + 1)
        status_recorded.send(sender=StatusUpdate, update=update)
    return update


def _monitor_decision(
    task: Task,
    *,
    user,
    allowed_from: set[TaskState],
    error: str,
    expected_version: int | None,
    fields: Callable[[Task], dict],
    recorded_at: datetime.datetime | None = None,
) -> StatusUpdate:
    """Record a decision of the monitoring agency. The state is checked, and the new
    update's fields are derived, on the locked row, so a concurrent report cannot slip in
    between the check and the write."""
    with transaction.atomic():
        locked = _locked(task)
        _check_version(locked, expected_version)
        if locked.state not in allowed_from:
            raise ValidationError({"state": error})
        values = {"completed_on": None, "result": "", "kpi_actual": None, "reason": ""}
        values.update(fields(locked))
        return _record(
            locked,
            author=user,
            agency=None,
            kind=UpdateKind.CONFIRMATION,
            difficulties="",
            proposals="",
            evidence=(),
            recorded_at=recorded_at or timezone.now(),
            **values,
        )


def task_confirm_completion(
    *,
    task: Task,
    user,
    expected_version: int | None = None,
    note: str = "",
    recorded_at: datetime.datetime | None = None,
) -> StatusUpdate:
    """The monitoring agency confirms a completion the lead agency reported."""
    return _monitor_decision(
        task,
        recorded_at=recorded_at,
        user=user,
        allowed_from={TaskState.AWAITING_CONFIRMATION},
        error=_("Only a task awaiting confirmation can be confirmed."),
        expected_version=expected_version,
        fields=lambda t: {
            "state": TaskState.COMPLETED,
            "progress": 100,
            "completed_on": t.completed_on,
            "result": t.result or note,
            "kpi_actual": t.kpi_actual,
            "reason": note,
        },
    )


def task_return(
    *,
    task: Task,
    user,
    reason: str,
    expected_version: int | None = None,
    recorded_at: datetime.datetime | None = None,
) -> StatusUpdate:
    """The monitoring agency sends a reported completion back to the lead agency."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for returning the task.")})
    return _monitor_decision(
        task,
        recorded_at=recorded_at,
        user=user,
        allowed_from=_DONE_STATES,
        error=_("Only a reported completion can be returned."),
        expected_version=expected_version,
        fields=lambda t: {"state": TaskState.IN_PROGRESS, "progress": 99, "reason": reason},
    )


def task_withdraw(
    *,
    task: Task,
    user,
    reason: str,
    expected_version: int | None = None,
    recorded_at: datetime.datetime | None = None,
) -> StatusUpdate:
    """Stop a task (dừng thực hiện): it leaves the report totals from then on."""
    return _monitor_decision(
        task,
        recorded_at=recorded_at,
        user=user,
        allowed_from={
            TaskState.NOT_STARTED,
            TaskState.IN_PROGRESS,
            TaskState.AWAITING_CONFIRMATION,
        },
        error=_("A completed or stopped task cannot be stopped."),
        expected_version=expected_version,
        fields=lambda t: {"state": TaskState.WITHDRAWN, "progress": t.progress, "reason": reason},
    )


# --- Deadline extensions ----------------------------------------------------------------------


def extension_request(
    *,
    task: Task,
    requested_by,
    proposed_due: datetime.date,
    reason: str,
    agency: Agency | None = None,
    requested_at: datetime.datetime | None = None,
) -> DeadlineExtension:
    """Ask for a later due date. One request per task may be pending at a time.

    The request comes on or before the due date in force (`task.due`), at least
    EXTENSION_REQUEST_LEAD_DAYS days ahead of it (the domain notes: a written request before
    the deadline); a later one is refused, saying since when the task is overdue."""
    errors = {}
    requested_on = timezone.localdate(requested_at) if requested_at else timezone.localdate()
    if task.due is None:
        errors["proposed_due"] = _("A regular task has no due date to extend.")
    elif (late := _extension_request_too_late(task.due, requested_on)) is not None:
        errors["proposed_due"] = late
    elif proposed_due <= task.due:
        errors["proposed_due"] = _("The new due date must be after %(due)s.") % {
            "due": task.due.strftime("%d/%m/%Y")
        }
    if not reason.strip():
        errors["reason"] = _("Give the reason for the extension.")
    if task.state in FINISHED_STATES:
        errors["task"] = _("A completed or stopped task cannot be extended.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = _locked(task)
        if task.extensions.filter(status=ExtensionStatus.PENDING).exists():
            raise ValidationError(
                {"task": _("An extension request for this task is already waiting.")}
            )
        # Checked above on the caller's copy; the locked row has a due date too.
        assert task.due is not None
        extension = DeadlineExtension.objects.create(
            task=task,
            requested_by=requested_by,
            agency=agency,
            requested_at=requested_at or timezone.now(),
            previous_due=task.due,
            proposed_due=proposed_due,
            reason=reason,
        )
        extension_requested.send(sender=DeadlineExtension, extension=extension)
    return extension


def extension_request_last_day(due: datetime.date) -> datetime.date:
    """The last day an extension of a task due on `due` may be asked for."""
    return due - datetime.timedelta(days=settings.EXTENSION_REQUEST_LEAD_DAYS)


def extension_request_refusal(*, task: Task, on: datetime.date | None = None) -> str | None:
    """Why the lead agency can no longer ask for more time on `task` on the day `on`
    (default today), in the words `extension_request` refuses with; None while it can.
    The task page shows it in place of the "ask for more time" button."""
    if task.due is None:
        return None
    return _extension_request_too_late(task.due, on or timezone.localdate())


def _extension_request_too_late(due: datetime.date, requested_on: datetime.date) -> str | None:
    """Why a request made on `requested_on` comes too late for the due date `due`; None
    when it is in time."""
    fmt = "%d/%m/%Y"
    if requested_on > due:
        # Overdue from 00:00 of the day after the due date.
        return _(
            "The task has been overdue since %(since)s (due date %(due)s): an extension "
            "must be asked for on or before the due date."
        ) % {
            "since": (due + datetime.timedelta(days=1)).strftime(fmt),
            "due": due.strftime(fmt),
        }
    last_day = extension_request_last_day(due)
    if requested_on > last_day:
        days = settings.EXTENSION_REQUEST_LEAD_DAYS
        return ngettext(
            "An extension must be asked for at least %(days)s day before the due date "
            "(%(due)s), that is by %(last)s.",
            "An extension must be asked for at least %(days)s days before the due date "
            "(%(due)s), that is by %(last)s.",
            days,
        ) % {"days": days, "due": due.strftime(fmt), "last": last_day.strftime(fmt)}
    return None


def _decide(extension: DeadlineExtension, decided_by, decided_at) -> DeadlineExtension:
    extension = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != ExtensionStatus.PENDING:
        raise ValidationError(
            {
                "status": _("This request was already decided (%(status)s).")
                % {"status": ExtensionStatus(extension.status).label}
            }
        )
    extension.decided_by = decided_by
    extension.decided_at = decided_at or timezone.now()
    return extension


def extension_approve(
    *,
    extension: DeadlineExtension,
    decided_by,
    note: str = "",
    decided_at: datetime.datetime | None = None,
) -> DeadlineExtension:
    """Approve an extension: the task's due date moves, its original due date stays."""
    with transaction.atomic():
        task = _locked(extension.task)
        extension = _decide(extension, decided_by, decided_at)
        if task.state in FINISHED_STATES:
            raise ValidationError({"task": _("A completed or stopped task cannot be extended.")})
        extension.status = ExtensionStatus.APPROVED
        extension.decision_note = note
        extension.save()
        context = ChangeContext(
            author=decided_by,
            reason=_("Extension approved: %(reason)s") % {"reason": extension.reason},
        )
        _record_change(
            task,
            "due",
            _as_change(task.due),
            _as_change(extension.proposed_due),
            context,
            at=extension.decided_at or timezone.now(),
        )
        task.due = extension.proposed_due
        task.due_moved = True
        task.version += 1
        task.save(update_fields=["due", "due_moved", "version", "updated_at"])
        extension.task = task
        extension_decided.send(sender=DeadlineExtension, extension=extension)
    return extension


def extension_reject(
    *,
    extension: DeadlineExtension,
    decided_by,
    note: str,
    decided_at: datetime.datetime | None = None,
) -> DeadlineExtension:
    """Reject an extension, with the reason; the due date stays."""
    if not note.strip():
        raise ValidationError({"note": _("Give the reason for the rejection.")})
    with transaction.atomic():
        extension = _decide(extension, decided_by, decided_at)
        extension.status = ExtensionStatus.REJECTED
        extension.decision_note = note
        extension.save()
        extension_decided.send(sender=DeadlineExtension, extension=extension)
    return extension


# --- Task fields (the monitoring agency's corrections) ----------------------------------------

# What a task update may change. The due dates are not here: the due date moves only through
# an approved extension or a recorded adjustment (task_adjust_due), so that the original due
# date and the reports at past dates stay true. The assignment date may move, never past
# the original due date.
TASK_EDITABLE_FIELDS = frozenset(
    {
        "code",
        "assigned_on",
        "needs_reassignment",
        "title",
        "expected_output",
        "priority_area",
        "lead_agency",
        "kpi_target",
        "kpi_unit",
        "weight",
        "dti_index",
    }
)

COORDINATING_AGENCIES = "coordinating_agencies"


def _as_change(value) -> tuple[str, str]:
    """A field's value as stored in the change history: (machine form, what a reader sees).
    Model instances by primary key and name, dates ISO and dd/mm/yyyy, decimals plain and
    with a decimal comma, booleans 1/0; None is "" in both forms."""
    if value is None:
        return "", ""
    if isinstance(value, bool):
        return ("1", _("Yes")) if value else ("0", _("No"))
    if hasattr(value, "_meta"):
        return str(value.pk), str(value)
    if isinstance(value, datetime.date):
        return value.isoformat(), value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        plain = f"{value.normalize():f}"
        return plain, formatting.format_number(value)
    return str(value), str(value)


def _agencies_as_change(agencies: Iterable[Agency]) -> tuple[str, str]:
    agencies = list(agencies)
    keys = ",".join(str(pk) for pk in sorted(a.pk for a in agencies))
    return keys, ", ".join(str(a) for a in vi_sorted(agencies, key=str))


@dataclass(frozen=True)
class ChangeContext:
    """Who makes a change, why, and where: stored with every TaskChange it produces."""

    author: Any = None
    reason: str = ""
    source: str = ChangeSource.PAGE


def _record_change(
    task: Task,
    field: str,
    old: tuple[str, str],
    new: tuple[str, str],
    context: ChangeContext,
    *,
    at: datetime.datetime,
) -> TaskChange | None:
    """Store one change of `field` made at `at` (the time the task row was written, so
    that a row written before a day's end has all its changes of the day before it);
    None when the value did not change."""
    if old[0] == new[0]:
        return None
    return TaskChange.objects.create(
        task=task,
        changed_at=at,
        author=context.author,
        field=field,
        old_value=old[0],
        old_text=old[1],
        new_value=new[0],
        new_text=new[1],
        reason=context.reason,
        source=context.source,
    )


def task_changes_record(
    *,
    task: Task,
    before: dict,
    after: dict,
    context: ChangeContext,
    at: datetime.datetime,
) -> int:
    """Record in the change history each field whose value differs between `before` and
    `after` (field name → value: model instances, dates, decimals, text; the coordinating
    agencies as a list of agencies). For writers that set the row themselves (the plan file
    loader); returns how many changes were recorded."""
    recorded = 0
    for name, new in after.items():
        as_change = _agencies_as_change if name == COORDINATING_AGENCIES else _as_change
        if _record_change(task, name, as_change(before[name]), as_change(new), context, at=at):
            recorded += 1
    return recorded


def task_update_fields(
    *,
    task: Task,
    expected_version: int | None,
    coordinating_agencies: Iterable[Agency] | None = None,
    author=None,
    reason: str = "",
    source: str = ChangeSource.PAGE,
    changed_at: datetime.datetime | None = None,
    **fields,
) -> Task:
    """Change a task's descriptive fields, its lead agency or its coordinating agencies.

    1. Lock the task row and refuse a stale `expected_version` (StaleVersionError).
    2. Validate: only TASK_EDITABLE_FIELDS; the priority area stays in the task's plan; the
       assignment date stays on or before the original due date.
    3. Save, bump the version and record each changed field in the change history
       (TaskChange: `author`, `reason`, `source`). A new lead agency clears
       `needs_reassignment`, or sets it for an open task when that agency ceased to exist
       too (recorded as the change of lead agency only). Nothing changed:
       nothing is written, the version stays. `changed_at` defaults to the time the row is
       written; loaders of past activity pass the historical time.

    Nothing is written when a check fails.
    """
    unknown = set(fields) - TASK_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    context = ChangeContext(author=author, reason=reason.strip(), source=source)
    with transaction.atomic():
        locked = _locked(task)
        _check_version(locked, expected_version)
        area = fields.get("priority_area")
        if area is not None and area.plan_id != locked.plan_id:
            raise ValidationError(
                {"priority_area": _("The priority area belongs to another plan.")}
            )
        if dates_error := _dates_out_of_order(fields.get("assigned_on"), locked.original_due):
            raise ValidationError({"assigned_on": dates_error})
        if "code" in fields:
            fields["code"] = fields["code"].strip()
            if _codes_taken(locked.plan_id, [fields["code"]], exclude=locked.pk):
                raise ValidationError({"code": _code_taken_error(fields["code"])})
        lead = fields.get("lead_agency")
        # A new lead agency clears "cần giao lại", unless it ceased to exist too (a
        # correction of a past assignment) and the task is open; the history records the
        # change of lead agency, which says it all, not the flag as a second change.
        flag_implied = "needs_reassignment" not in fields
        if lead is not None and lead.pk != locked.lead_agency_id:
            still_orphaned = _has_ceased(lead) and locked.state not in FINISHED_STATES
            fields.setdefault("needs_reassignment", still_orphaned)
        before = {name: _as_change(getattr(locked, name)) for name in fields}
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        changed = [
            name for name in fields if _as_change(getattr(locked, name))[0] != before[name][0]
        ]
        coordinators_change = None
        new_coordinators: list[Agency] = []
        if coordinating_agencies is not None:
            new_coordinators = list(coordinating_agencies)
            old = _agencies_as_change(locked.coordinating_agencies.all())
            new = _agencies_as_change(new_coordinators)
            if old[0] != new[0]:
                coordinators_change = (old, new)
        if not changed and coordinators_change is None:
            return locked
        locked.version += 1
        locked.save()
        at = changed_at or locked.updated_at
        for name in changed:
            if name == "needs_reassignment" and flag_implied:
                continue
            after = _as_change(getattr(locked, name))
            _record_change(locked, name, before[name], after, context, at=at)
        if coordinators_change is not None:
            locked.coordinating_agencies.set(new_coordinators)
            _record_change(locked, COORDINATING_AGENCIES, *coordinators_change, context, at=at)
        if "lead_agency" in changed:
            task_reassigned.send(
                sender=Task, task=locked, previous_lead_agency_id=int(before["lead_agency"][0])
            )
        else:
            task_changed.send(sender=Task, task=locked)
    return locked


def task_adjust_due(
    *,
    task: Task,
    due: datetime.date,
    author,
    reason: str,
    expected_version: int | None = None,
    source: str = ChangeSource.PAGE,
    adjusted_at: datetime.datetime | None = None,
) -> DeadlineExtension:
    """The monitoring agency moves a task's due date, earlier or later, with a reason.

    Recorded twice, for two readers: as an approved DeadlineExtension of kind
    `adjustment` (so reports at past dates keep the due date in force then, as for an
    agency's extension) and in the change history (TaskChange of `due`). The original due
    date stays. Refused for a regular task, for the same date, before the assignment date,
    while an agency's extension request waits, and for a completed or stopped task.
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the adjustment.")})
    when = adjusted_at or timezone.now()
    with transaction.atomic():
        locked = _locked(task)
        _check_version(locked, expected_version)
        errors = {}
        if locked.due is None:
            errors["due"] = _("A regular task has no due date to adjust.")
        elif due == locked.due:
            errors["due"] = _("The task is already due on %(due)s.") % {
                "due": due.strftime("%d/%m/%Y")
            }
        elif dates_error := _dates_out_of_order(locked.assigned_on, due):
            errors["due"] = dates_error
        if locked.state in FINISHED_STATES:
            errors["task"] = _("A completed or stopped task cannot be extended.")
        elif locked.extensions.filter(status=ExtensionStatus.PENDING).exists():
            errors["task"] = _("An extension request for this task is waiting: decide it first.")
        if errors:
            raise ValidationError(errors)
        assert locked.due is not None
        adjustment = DeadlineExtension.objects.create(
            task=locked,
            kind=ExtensionKind.ADJUSTMENT,
            requested_by=author,
            requested_at=when,
            previous_due=locked.due,
            proposed_due=due,
            reason=reason.strip(),
            status=ExtensionStatus.APPROVED,
            decided_by=author,
            decided_at=when,
        )
        context = ChangeContext(author=author, reason=reason.strip(), source=source)
        _record_change(locked, "due", _as_change(locked.due), _as_change(due), context, at=when)
        locked.due = due
        locked.due_moved = True
        locked.version += 1
        locked.save(update_fields=["due", "due_moved", "version", "updated_at"])
        task_changed.send(sender=Task, task=locked)
    return adjustment


# --- Many tasks at once (a plan workbook's new rows) ------------------------------------------

BULK_BATCH = 1000


def task_create_many(*, plan: Plan, tasks: Sequence[dict]) -> list[Task]:
    """Create many tasks of `plan` at once, with the rules of task_create: each dict holds
    task_create's keyword arguments but `plan`; a `parent` is a saved task of the plan or a
    dict of this batch given before it (the child gets the parent created from it).

    The rules are checked for the whole batch first, in Python (the priority area and the
    parent in the plan, a child not split again, the due date on or after the assignment
    date, the code new in the plan and in the batch, the fields' own validation); then the
    tasks are written with one INSERT per BULK_BATCH rows, their coordinating agencies with
    one more, and each parent rolled up once. task_create validates each task with about
    twenty queries, which made a 5,000-task plan take minutes (bench/results/plan_import.md).
    Raises ValidationError (nothing written) naming the task's code.
    """
    batch = list(tasks)
    errors: list[str] = []
    taken = {code.lower() for code in Task.objects.filter(plan=plan).values_list("code", flat=True)}
    built: list[Task] = []
    position = {id(spec): index for index, spec in enumerate(batch)}
    for spec in batch:
        code = spec["code"].strip()
        parent = spec.get("parent")
        if isinstance(parent, dict):
            if id(parent) not in position or position[id(parent)] > position[id(spec)]:
                raise ValueError(f"The parent of {code} must come before it in the batch.")
            parent_plan_id, parent_is_child = plan.pk, parent.get("parent") is not None
        elif parent is not None:
            parent_plan_id, parent_is_child = parent.plan_id, parent.parent_id is not None
        else:
            parent_plan_id, parent_is_child = None, False
        task, task_errors = _task_built(
            plan=plan,
            spec=spec,
            code_taken=code.lower() in taken,
            parent_plan_id=parent_plan_id,
            parent_is_child=parent_is_child,
        )
        taken.add(code.lower())
        errors.extend(
            f"{code}: {message}" for messages in task_errors.values() for message in messages
        )
        built.append(task)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created: dict[int, Task] = {}
        for top_level in (True, False):
            rows = []
            for spec, task in zip(batch, built, strict=True):
                parent = spec.get("parent")
                if (parent is None) != top_level:
                    continue
                if parent is not None:
                    task.parent = created[id(parent)] if isinstance(parent, dict) else parent
                rows.append((spec, task))
            Task.objects.bulk_create([task for _spec, task in rows], batch_size=BULK_BATCH)
            for spec, task in rows:
                created[id(spec)] = task
        through = Task.coordinating_agencies.through
        through.objects.bulk_create(
            [
                through(task_id=task.pk, agency_id=agency.pk)
                for spec, task in zip(batch, built, strict=True)
                for agency in {a.pk: a for a in spec.get("coordinating_agencies", ())}.values()
            ],
            batch_size=BULK_BATCH,
        )
        parents = {task.parent_id: task.parent for task in built if task.parent is not None}
        for parent_task in parents.values():
            task_rollup(parent=parent_task)
        task_created.send(sender=Task, tasks=built)
    return built


# --- Tasks that need a new owner (issue 14) ----------------------------------------------------


def tasks_flag_orphaned(*, on: datetime.date) -> int:
    """Flag "cần giao lại" (needs_reassignment, version + 1) every open task (neither
    completed nor stopped) whose lead agency had ceased to exist by `on` (its `valid_to` is
    before `on`: the agency's last day is over) and that is not flagged yet; returns how
    many were flagged.

    One UPDATE, no loop over rows. Safe to run twice: a flagged task is skipped, so a second
    run flags nothing. Nothing is recorded in the change history: the flag is the system's
    finding, and the reassignment that clears it is recorded (tasks_reassign).
    """
    return (
        Task.objects.filter(needs_reassignment=False, lead_agency__valid_to__lt=on)
        .exclude(state__in=FINISHED_STATES)
        .update(needs_reassignment=True, version=F("version") + 1, updated_at=timezone.now())
    )


def tasks_reassign(
    *,
    tasks: Sequence[Task],
    lead_agency: Agency,
    author,
    reason: str,
    source: str = ChangeSource.PAGE,
    changed_at: datetime.datetime | None = None,
) -> list[Task]:
    """Give several tasks a new lead agency at once, with one reason: all or nothing.

    Refused (ValidationError, nothing written) without a reason, without tasks, or when the
    new lead agency no longer exists today. Each task goes through `task_update_fields`, so
    the change history records each change of lead agency with its author, reason and
    source, and the "cần giao lại" flag is cleared. A task that this agency leads already is
    left as it is. `changed_at` (default now) dates a reassignment decided earlier on
    paper. Returns the tasks as saved.
    """
    reason = reason.strip()
    errors = {}
    if not tasks:
        errors["tasks"] = _("Choose at least one task.")
    if not reason:
        errors["reason"] = _("Give the reason for the reassignment.")
    today = timezone.localdate()
    if lead_agency.valid_to is not None and lead_agency.valid_to < today:
        errors["lead_agency"] = _(
            "%(agency)s ceased to exist on %(date)s: choose an agency that exists today."
        ) % {"agency": lead_agency, "date": lead_agency.valid_to.strftime("%d/%m/%Y")}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return [
            task_update_fields(
                task=task,
                expected_version=None,
                author=author,
                reason=reason,
                source=source,
                changed_at=changed_at,
                lead_agency=lead_agency,
            )
            for task in tasks
        ]


# --- Memberships over time (issue 14) ------------------------------------------------------------


def membership_transfer(
    *, succession: AgencySuccession, memberships: Iterable[Membership], confirmed_by
) -> list[Membership]:
    """Move staff of a reorganised agency to its successor, as the monitoring agency
    confirmed: each membership ends on the day before `succession.date` and the same role
    starts in the successor on that date. One transaction; the admin history of each
    membership records who confirmed it. Memberships no longer pending (already moved, or
    ended before the date) are left as they are, so a second confirmation changes nothing.
    Raises ValidationError (nothing written) for a reorganisation without a successor or a
    membership of another agency. Returns the memberships created in the successor."""
    from django.contrib.admin.models import CHANGE, LogEntry

    from tasks_app.selectors import membership_transfers_pending

    successor = succession.successor
    if successor is None:
        raise ValidationError(
            _("This reorganisation names no successor: its staff cannot be moved automatically.")
        )
    chosen = list(memberships)
    if any(m.agency_id != succession.predecessor_id for m in chosen):
        raise ValidationError(
            _("Only memberships of %(agency)s can follow this reorganisation.")
            % {"agency": succession.predecessor}
        )
    day = succession.date
    with transaction.atomic():
        # Lock the rows, then decide on what is stored now: a confirmation sent twice (two
        # tabs, a double click) finds nothing left to do the second time.
        ids = {m.pk for m in chosen}
        list(Membership.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        pending = membership_transfers_pending(on=day, successions=[succession])
        to_move = [m for group in pending for m in group.memberships if m.pk in ids]
        created = []
        for membership in to_move:
            membership.valid_to = day - datetime.timedelta(days=1)
            membership.save(update_fields=["valid_to"])
            created.append(
                Membership.objects.create(
                    user=membership.user,
                    agency=successor,
                    role=membership.role,
                    valid_from=day,
                )
            )
        if to_move:
            message = _("Moved to %(successor)s from %(date)s (%(basis)s), confirmed by %(user)s.")
            values = {
                "successor": successor,
                "date": f"{day:%d/%m/%Y}",
                "basis": succession.legal_basis or succession.get_kind_display(),
                "user": formatting.full_name(confirmed_by),
            }
            LogEntry.objects.log_actions(
                user_id=confirmed_by.pk,
                queryset=[*to_move, *created],
                action_flag=CHANGE,
                change_message=message % values,
            )
    return created


# --- Single sign-on (issue 17) -------------------------------------------------------------------


def _claim(claims: dict, name: str) -> Any:
    """The claim `name` of the provider's answer; a dotted name reads a nested claim
    (Keycloak puts realm roles under `realm_access.roles`)."""
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _claim_values(value: Any) -> list[str]:
    """A claim holding one value or a list of them, as a list of non-empty strings."""
    items = value if isinstance(value, list) else [value]
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def membership_grant_from_claims(
    *, user, claims: dict, on: datetime.date | None = None
) -> list[Membership]:
    """Give a person who logged in through single sign-on the membership the provider's
    claims name (settings OIDC_AGENCY_CLAIM, OIDC_ROLE_CLAIM, OIDC_DEFAULT_ROLE): the
    agency by its code, in force on `on` (today), and each role the claim lists that is a
    role of the product (a provider lists other roles too); without a role claim, the
    default role. The membership starts on `on` and the admin history records it.

    Nothing happens when the claims name no agency, an unknown or ended agency, or no known
    role: the person then waits for an administrator (permissions.awaits_agency), and the
    reason is logged for them. It never ends or reopens a membership: moves between
    agencies stay with the monitoring agency (membership_transfer) and the admin, so a
    membership someone ended is not brought back by a stale attribute of the provider.
    Safe to run at every login: a membership already held is kept as it is. Returns the
    memberships created."""
    import logging

    from django.contrib.admin.models import ADDITION, LogEntry

    log = logging.getLogger(__name__)
    on = on or timezone.localdate()
    # 1. The agency: its code in the configured claim, an agency in force on the day.
    if not settings.OIDC_AGENCY_CLAIM:
        return []
    codes = _claim_values(_claim(claims, settings.OIDC_AGENCY_CLAIM))
    if len(codes) != 1:
        if codes:
            log.warning("SSO: %s names several agencies %s; none given.", user, codes)
        return []
    agency = Agency.objects.filter(code=codes[0]).first()
    if agency is None or not agency.is_valid_on(on):
        log.warning("SSO: %s names agency %r, unknown or ended; none given.", user, codes[0])
        return []
    # 2. The roles: those of the claim that the product knows, else the default role.
    if settings.OIDC_ROLE_CLAIM:
        named = _claim_values(_claim(claims, settings.OIDC_ROLE_CLAIM))
    else:
        named = [settings.OIDC_DEFAULT_ROLE]
    roles = sorted({role for role in named if role in Role.values})
    if not roles:
        log.warning("SSO: %s has no known role in %r; none given.", user, named)
        return []
    # 3. One membership per role, created once (the unique constraint settles a race).
    created = []
    with transaction.atomic():
        for role in roles:
            membership, is_new = Membership.objects.get_or_create(
                user=user, agency=agency, role=role, defaults={"valid_from": on}
            )
            if is_new:
                created.append(membership)
            elif (membership.valid_from or on) > on or (membership.valid_to or on) < on:
                log.warning("SSO: %s's membership %s is not in force; left.", user, membership)
        if created:
            LogEntry.objects.log_actions(
                user_id=user.pk,
                queryset=created,
                action_flag=ADDITION,
                change_message=_("Given at single sign-on, from the identity provider's claims."),
            )
    return created
