"""Every access decision of the product, in one place.

- `tasks_visible_to(user)` is the one scope that every selector, API view, HTML view and
  export starts from. Objects outside it answer 404, so their existence stays hidden.
- The `can_*` predicates decide actions on a visible object; a refused action answers 403.
- `WHOLE_PLAN` is the named scope of documents about the whole plan (the monthly report):
  it sees every task and may do nothing.

Roles come from Membership rows in force today; a user may hold several roles in several
agencies. What a user reads also covers the predecessors of their agencies (AgencySuccession,
followed back through every reorganisation up to today): the successor's staff read what the
agencies they replaced were responsible for. It also covers the tasks those agencies led
before they were reassigned (TaskChange): what an agency was responsible for stays readable,
so its figures at a past date do not change when the task moves on. Acting on a task stays
with the staff of its lead or coordinating agency today: a predecessor's task, or one that
moved to another agency, is read-only.
"""

from typing import Any, TypeVar, overload

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from tasks_app.choices import Role
from tasks_app.compiled import rows_by_value
from tasks_app.models import Agency, AgencySuccession, Membership, Task, TaskChange
from tasks_app.querysets import TaskQuerySet

# A queryset of tasks, model instances or values() rows: the scope keeps its kind.
_TaskRows = TypeVar("_TaskRows", bound=QuerySet[Task, Any])

# Roles whose members act for their agency on the tasks it leads.
AGENCY_STAFF_ROLES = (Role.MANAGER, Role.OFFICER)


class WholePlanScope:
    """The named scope of a document about the whole plan (the monthly report, the stored
    trend): every task, whoever triggered the work. It is not a person: it holds no role,
    so every `can_*` predicate refuses it. Pass `WHOLE_PLAN` where a selector asks for the
    user whose scope to read (`tasks_visible_to(WHOLE_PLAN)`); access to what such a
    document shows is checked when someone opens it (reports/archive.py)."""

    def __repr__(self) -> str:
        return "WHOLE_PLAN"


WHOLE_PLAN = WholePlanScope()


def _memberships(user) -> list[tuple[str, int, str]]:
    """The user's (role, agency id, agency path) triples of the memberships in force today,
    read once per user object: one query answers every role and scope question of a
    request. Ended or future memberships give no right and no view."""
    cached = getattr(user, "_plan_tracker_memberships", None)
    if cached is None:
        today = timezone.localdate()

        def build(user_id: int) -> QuerySet:
            return (
                Membership.objects.filter(user_id=user_id)
                .valid_on(today)
                .order_by()  # the model's order joins the user table; the callers need none
                .annotate(
                    # Whether the agency replaced others: only then is a second query needed.
                    has_predecessors=Exists(
                        AgencySuccession.objects.filter(successor_id=OuterRef("agency_id"))
                    )
                )
                .values("role", "agency_id", "agency__path", "has_predecessors")
            )

        # Read on every API request: SQL built once per day and connection (compiled.py).
        rows = rows_by_value(("memberships", today), build, user.pk)
        cached = [(row["role"], row["agency_id"], row["agency__path"]) for row in rows]
        user._plan_tracker_memberships = cached
        user._plan_tracker_succeeds = any(row["has_predecessors"] for row in rows)
    return cached


def _predecessor_paths(user) -> list[str]:
    """Paths of the agencies the user's agencies replaced, following AgencySuccession back
    through every reorganisation in force today (a merge of a merge…). Read once per user
    object, and only when one of the user's agencies has predecessors (the membership query
    tells): users of agencies never reorganised cost no query."""
    _memberships(user)
    if not user._plan_tracker_succeeds:
        return []
    cached = getattr(user, "_plan_tracker_predecessor_paths", None)
    if cached is None:
        # The successions are a short list (dozens of rows): read them whole, walk here.
        replaced: dict[int, list[tuple[int, str]]] = {}
        for predecessor, successor, path in (
            AgencySuccession.objects.filter(successor__isnull=False, date__lte=timezone.localdate())
            .order_by()
            .values_list("predecessor_id", "successor_id", "predecessor__path")
        ):
            replaced.setdefault(successor, []).append((predecessor, path))
        seen = {agency for _role, agency, _path in _memberships(user)}
        todo = list(seen)
        paths = set()
        while todo:
            for predecessor, path in replaced.get(todo.pop(), []):
                if predecessor not in seen:
                    seen.add(predecessor)
                    paths.add(path)
                    todo.append(predecessor)
        cached = sorted(paths)
        user._plan_tracker_predecessor_paths = cached
    return cached


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _roles(user) -> set[str]:
    if not _active(user):
        return set()
    return {role for role, _agency, _path in _memberships(user)}


def _agency_ids(user, roles=None) -> set[int]:
    if not _active(user):
        return set()
    return {agency for role, agency, _path in _memberships(user) if roles is None or role in roles}


def _own_paths(user) -> list[str]:
    """Paths of the user's own agencies (any role), each once; none for inactive users."""
    if not _active(user):
        return []
    return sorted({path for _role, _agency, path in _memberships(user)})


def _scope_paths(user) -> list[str]:
    """Paths of the agencies whose subtrees the user reads: their own agencies and the
    predecessors of those, each once, without a path already inside another one."""
    if not _active(user):
        return []
    paths = sorted(set(_own_paths(user)) | set(_predecessor_paths(user)))
    # Sorted, a path comes right after the one that contains it: keep only the outermost.
    outermost: list[str] = []
    for path in paths:
        if not outermost or not path.startswith(outermost[-1]):
            outermost.append(path)
    return outermost


def has_agency(user) -> bool:
    """Whether the user holds a role in some agency today (no query once roles were read)."""
    return bool(_active(user) and _memberships(user))


def awaits_agency(user) -> bool:
    """Whether a signed-in person has nothing to see or do yet: no role in any agency today
    and no view of the whole plan (a first single sign-on login before an agency is given).
    The pages show them whom to ask instead of empty lists."""
    # Monitors (the superuser included) and leaders read the whole plan without an agency.
    if sees_everything(user):
        return False
    # An inactive account holds nothing; an active one waits when no membership is in force.
    return _active(user) and not has_agency(user)


def _subtree(paths: list[str]) -> QuerySet[Agency]:
    """The agencies at or below the given paths (Agency.objects.subtree_of by path)."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return Agency.objects.filter(condition)


def is_monitor(user) -> bool:
    # The monitoring agency (Sở TT&TT) runs the plan: creates, assigns and confirms tasks.
    return bool(_active(user) and user.is_superuser) or Role.MONITOR in _roles(user)


def is_leader(user) -> bool:
    # Provincial leadership reads everything and decides extensions, nothing else.
    return Role.LEADER in _roles(user)


def sees_everything(user) -> bool:
    # A document about the whole plan reads every task.
    if user is WHOLE_PLAN:
        return True
    # Monitors and leaders follow the whole plan, whatever agency they sit in.
    return is_monitor(user) or is_leader(user)


def agencies_visible_to(user) -> QuerySet[Agency]:
    """The agencies whose tasks the user may read: the subtrees of the user's agencies and
    of their predecessors."""
    if sees_everything(user):
        return Agency.objects.all()
    paths = _scope_paths(user)
    if not paths:
        return Agency.objects.none()
    return _subtree(paths)


def scope_key(user) -> tuple:
    """Everything `tasks_visible_to(user, …)` depends on: ("all",) for monitors and
    leaders, else the paths of the user's agencies and their predecessors (none: nothing is
    visible). Users with equal keys have equal scopes, so selectors may reuse a scoped
    queryset built for one of them; keep this in step with tasks_visible_to."""
    if sees_everything(user):
        return ("all",)
    return ("paths", *_scope_paths(user))


@overload
def tasks_visible_to(user) -> TaskQuerySet: ...
@overload
def tasks_visible_to(user, queryset: _TaskRows) -> _TaskRows: ...


def tasks_visible_to(user, queryset=None):
    """The one scope of tasks: those whose lead or a coordinating agency lies in the
    subtree of one of the user's agencies (memberships in force today) or of one of their
    predecessors, or whose lead was once such an agency (a reassignment in the task's
    history); monitors and leaders see every task, and so does the whole-plan scope
    (`WHOLE_PLAN`) of the monthly report."""
    queryset = Task.objects.all() if queryset is None else queryset
    if sees_everything(user):
        return queryset
    paths = _scope_paths(user)
    if not paths:
        return queryset.none()
    in_subtree = Q()
    for path in paths:
        in_subtree |= Q(path__startswith=path)
    scope = Agency.objects.filter(in_subtree)
    # Exists rather than a join: a join on coordinating agencies would repeat rows.
    coordinated = Task.coordinating_agencies.through.objects.filter(
        task_id=OuterRef("pk"), agency__in=scope
    )
    # A change of lead keeps the former lead's key as text (TaskChange.old_value).
    led_before = TaskChange.objects.filter(
        task_id=OuterRef("pk"),
        field="lead_agency",
        old_value__in=scope.annotate(key=Cast("pk", CharField())).values("key"),
    )
    return queryset.filter(Q(lead_agency__in=scope) | Exists(coordinated) | Exists(led_before))


def _leads(user, lead_agency_id: int) -> bool:
    return lead_agency_id in _agency_ids(user, AGENCY_STAFF_ROLES)


def _coordinates(user, coordinating_ids: set[int]) -> bool:
    return bool(coordinating_ids & _agency_ids(user, AGENCY_STAFF_ROLES))


def can_report_progress(user, task: Task) -> bool:
    """Report progress, change the state, ask for an extension: staff of the lead agency
    itself (not of its parent: a district does not report for its communes)."""
    return _leads(user, task.lead_agency_id)


def can_contribute(user, task: Task) -> bool:
    """Add a contribution: staff of a coordinating agency of the task."""
    return _coordinates(user, set(task.coordinating_agencies.values_list("pk", flat=True)))


def can_manage_tasks(user) -> bool:
    """Create, edit, split, withdraw tasks and confirm completions: monitors only."""
    return is_monitor(user)


def can_manage_webhooks(user) -> bool:
    """Register, change and delete webhook endpoints, read their deliveries and send one
    again (issue 17): system administrators and monitors, who run the plan's integrations
    with the province's platform (LGSP)."""
    # is_monitor already admits superusers (system administrators).
    return is_monitor(user)


def can_decide_extension(user) -> bool:
    """Approve or reject an extension: monitors and leaders."""
    return is_monitor(user) or is_leader(user)


def can_request_extension(user, task: Task) -> bool:
    """Ask for more time: the lead agency, the one accountable for the deadline."""
    return can_report_progress(user, task)


def task_capabilities(user, *, lead_agency_id: int, coordinating_ids: set[int]) -> dict:
    """What the user may do with one task, from its lead agency and the ids of its
    coordinating agencies (already read): the predicates above, without a query."""
    return {
        "can_report_progress": _leads(user, lead_agency_id),
        "can_contribute": _coordinates(user, coordinating_ids),
        # can_request_extension is can_report_progress: the lead agency asks for time.
        "can_request_extension": _leads(user, lead_agency_id),
        "can_manage": can_manage_tasks(user),
        "can_decide_extensions": can_decide_extension(user),
    }


# --- Staff pages (appended for the web UI) -----------------------------------------------------


def own_agency_subtree(user) -> QuerySet[Agency]:
    """The user's own agencies and everything below them, whatever the role: what "my
    agency" means for the led/coordinated filter of the task list. Unlike
    `agencies_visible_to`, monitors and leaders get their own agencies here, not all."""
    # Inactive or anonymous users have no agencies (`_own_paths` returns none).
    paths = _own_paths(user)
    if not paths:
        return Agency.objects.none()
    return _subtree(paths)


def contributing_agencies(user, task: Task) -> QuerySet[Agency]:
    """The coordinating agencies of `task` in whose name the user may add a contribution:
    those where the user is staff (the same rule as `can_contribute`)."""
    return task.coordinating_agencies.filter(pk__in=_agency_ids(user, AGENCY_STAFF_ROLES))


def reporting_agencies(user) -> QuerySet[Agency]:
    """The agencies for which the user reports progress (staff: manager or officer), the
    agencies whose tasks `can_report_progress` lets the user report on."""
    return Agency.objects.filter(pk__in=_agency_ids(user, AGENCY_STAFF_ROLES))


def reporting_agency_ids(user) -> set[int]:
    """The ids of `reporting_agencies`, without a query once the user's roles were read."""
    return _agency_ids(user, AGENCY_STAFF_ROLES)


def reports_for(user, agency_id: int) -> bool:
    """Whether the user reports progress for this agency (the rule of `can_report_progress`
    for all of its tasks); no query once the user's roles were read."""
    return agency_id in _agency_ids(user, AGENCY_STAFF_ROLES)


# --- The monthly report on its way out of the office (reports/issuing.py) -------------------
# A whole-plan report is the monitoring agency's document: its monitors draft, edit, issue and
# send it; a leader approves it. An agency's own report (scope set) is that agency's: its
# staff draft, edit, issue and send it, its manager (the head) approves it, and the
# monitors and leaders who follow the whole plan may do the same.


def _report_agency_id(report) -> int | None:
    # The agency whose document it is: the scope's, else the issuer fixed on the draft.
    return report.scope_id


def can_prepare_report(user, report=None, *, scope_id: int | None = None) -> bool:
    """Draft a report, edit its narrative, issue it (văn thư), send it, correct it. With no
    report yet, `scope_id` says whose report would be made (None: the whole plan)."""
    agency_id = _report_agency_id(report) if report is not None else scope_id
    if is_monitor(user):
        return True
    return agency_id is not None and agency_id in _agency_ids(user, AGENCY_STAFF_ROLES)


def can_approve_report(user, report) -> bool:
    """Approve a draft: a leader, or the head (manager) of the agency whose document it is;
    for a whole-plan report also a manager of the issuing (monitoring) agency."""
    if is_leader(user):
        return True
    agency_id = _report_agency_id(report) or report.issuer_id
    return agency_id is not None and agency_id in _agency_ids(user, {Role.MANAGER})


# --- DRF permission classes ------------------------------------------------------------------
# The API asks the same predicates as the pages. Object-level checks run after the object was
# loaded through the visible scope, so a hidden task answers 404 before any 403 is decided.

from django.utils.translation import gettext_lazy as _  # noqa: E402
from rest_framework.permissions import BasePermission  # noqa: E402


class IsMonitor(BasePermission):
    """View level: create tasks. Only the monitoring agency runs the plan."""

    message = _("Only the monitoring agency can create and assign tasks.")

    def has_permission(self, request, view) -> bool:
        return can_manage_tasks(request.user)


class CanAuthorPlans(BasePermission):
    """View level: create or change plans, their basis documents and priority areas. Only
    the monitoring agency authors the plan."""

    message = _("Only the monitoring agency can write plans, their documents and priority areas.")

    def has_permission(self, request, view) -> bool:
        return is_monitor(request.user)


class CanManageWebhooks(BasePermission):
    """View level: webhook endpoints and their deliveries (administrators and monitors)."""

    message = _("Only administrators and the monitoring agency can manage webhooks.")

    def has_permission(self, request, view) -> bool:
        return can_manage_webhooks(request.user)


class CanManageTask(BasePermission):
    """Object level: edit, assign, confirm, return or withdraw a visible task."""

    message = _("Only the monitoring agency can change, assign, confirm or stop tasks.")

    def has_object_permission(self, request, view, obj) -> bool:
        return can_manage_tasks(request.user)


class CanReportProgress(BasePermission):
    """Object level: report progress on a task (the lead agency's staff only)."""

    message = _("Only the lead agency of this task can report its progress.")

    def has_object_permission(self, request, view, obj) -> bool:
        return can_report_progress(request.user, obj)


class CanContribute(BasePermission):
    """Object level: add a contribution (the coordinating agencies' staff only)."""

    message = _("Only a coordinating agency of this task can add a contribution.")

    def has_object_permission(self, request, view, obj) -> bool:
        return can_contribute(request.user, obj)


class CanRequestExtension(BasePermission):
    """Object level: ask for a later due date (the lead agency's staff only)."""

    message = _("Only the lead agency of this task can ask for an extension.")

    def has_object_permission(self, request, view, obj) -> bool:
        return can_request_extension(request.user, obj)


class CanDecideExtension(BasePermission):
    """Object level: approve or reject an extension request (monitors and leaders)."""

    message = _("Only the monitoring agency or the provincial leadership can decide extensions.")

    def has_object_permission(self, request, view, obj) -> bool:
        return can_decide_extension(request.user)
