"""Views of API v1. Each one parses input with a serializer, loads objects through a selector
(so through the one permission scope), calls one service and answers with an output
serializer.

Guarantees common to every view:
- an object outside the user's scope answers 404, as if it did not exist; an action on a
  visible object that the user may not take answers 403 (tasks_app/permissions.py);
- a write that carries a stale `version` answers 409 with the task as it is now, and
  writes nothing (tasks_app/api/exceptions.py);
- a refused input answers 400 with messages per field, in the request's language.
"""

import uuid
from contextlib import nullcontext
from functools import cached_property
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from plan_tracker.db import planned_with_values, prepared_statements
from tasks_app import (
    calendar_feed,
    formatting,
    permissions,
    plan_services,
    selectors,
    services,
    tokens,
)
from tasks_app.api import serializers as s
from tasks_app.api.common import (
    ANY_ID,
    MALFORMED_ID,
    FileDownloadNegotiation,
    conflict_response,
    detail_error,
    validation_error,
)
from tasks_app.api.exceptions import LoginLockedOut
from tasks_app.api.filters import (
    AgencyFilter,
    ExtensionFilter,
    PriorityAreaFilter,
    TaskFilter,
    TaskOrdering,
)
from tasks_app.choices import ChangeSource
from tasks_app.compiled import rows_of
from tasks_app.models import (
    ApiToken,
    DeadlineExtension,
    Evidence,
    Plan,
    PlanDocument,
    PriorityArea,
    Task,
)
from tasks_app.uploads import ACCEPTED_MIME_TYPES
from tasks_app.views_files import evidence_file_response, plan_document_file_response


class _CountedRows:
    """What the paginator pages through: rows of `task_values_for_api`, counted on the
    tasks alone (the joins of the rows' columns would only slow the count down). `build`
    gives (tasks, rows), called only when needed: with a `sql_key`
    (TaskViewSet.list_sql_key), a page is read with SQL built once per key, page and
    connection (tasks_app.compiled.rows_of), and a page that is not full needs no count,
    so a list read again builds no queryset at all (issue 18)."""

    def __init__(self, build, sql_key: tuple | None = None):
        self._build, self.sql_key = build, sql_key

    @cached_property
    def _built(self):
        return self._build()

    def count(self) -> int:
        tasks, _rows = self._built
        with planned_with_values():  # how many rows match depends on the values
            return tasks.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if self.sql_key is None or not isinstance(key, slice):
            with planned_with_values():
                return list(self._built[1][key])
        # The same SQL for every request with this query string: in the task list's
        # prepared_statements() block, planned once per connection (plan_tracker/db.py).
        return rows_of((*self.sql_key, key.start, key.stop), lambda: self._built[1][key])


class _ApiView:
    """Helpers shared by the views: input parsing and the `as_of` date; prepared
    statements for the actions on one object."""

    lookup_value_regex = ANY_ID
    # The list reads its count, and a page whose SQL is built each time, inside
    # planned_with_values() (TaskViewSet.list), so its other queries may be prepared too.
    prepares_list = False

    def dispatch(self, request, *args, **kwargs):
        # One object's page or action (`detail` routes: a task, its updates, an extension)
        # runs a few short queries whose planning took most of the database's time; lists
        # plan their filters with the values given (plan_tracker/db.py).
        prepared = getattr(self, "detail", False) or self.prepares_list
        with prepared_statements() if prepared else nullcontext():
            return super().dispatch(request, *args, **kwargs)

    def parse(self, serializer_class, **context) -> dict:
        """The request's body checked by `serializer_class` (400 with messages per field);
        `context`: what the serializer needs besides the request (e.g. the `task`)."""
        serializer = serializer_class(
            data=self.request.data, context={"request": self.request, "view": self, **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @property
    def as_of(self):
        """`?as_of=YYYY-MM-DD`, default today in Asia/Ho_Chi_Minh; 400 when malformed."""
        if not hasattr(self, "_as_of"):
            query = s.AsOfQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            self._as_of = query.validated_data.get("as_of") or timezone.localdate()
        return self._as_of


# --- Authentication -------------------------------------------------------------------------


class TokenView(APIView):
    """POST: exchange a username and password for a new API token, named for its purpose
    (`name`) and lasting `days` days (default API_TOKEN_DAYS); send it afterwards as
    `Authorization: Token <token>`. The token is shown in this answer only: the server keeps
    its digest. Failed attempts count towards the login lockout (django-axes): a locked account
    or client gets 429 with the lockout message.

    DELETE: revoke the token that authenticates the request (log the client out)."""

    permission_classes = [AllowAny]

    def get_authenticators(self):
        # POST takes a password, never a token or a session: a stolen token cannot mint more.
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self.request is not None and self.request.method == "DELETE":
            return [IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={
            200: s.TokenCreatedSerializer,
            400: validation_error(),
            429: detail_error("Too many requests, or too many failed logins (locked)."),
        },
        tags=["auth"],
        auth=[],
    )
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # axes marks the request it was given (this DRF request, not the Django one its
            # middleware sees) when the account or the client is locked.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, secret = tokens.token_create(
            user=data["user"], name=data.get("name") or "API", days=data.get("days")
        )
        token.token = secret
        return Response(s.TokenCreatedSerializer(token, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={204: None, 401: detail_error("Not authenticated with a token.")},
        tags=["auth"],
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise NotAuthenticated(_("Only a request made with a token can revoke it."))
        tokens.token_revoke(user=request.user, uid=request.auth.uid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own API tokens: list them (never their secrets) and revoke one.
    New tokens come from POST /auth/token/ (with the password) or the API tokens page."""

    serializer_class = s.ApiTokenSerializer
    pagination_class = None
    lookup_field = "uid"
    # Any non-slash id reaches the view, which answers a JSON 404 for a malformed one.
    lookup_value_regex = "[^/]+"
    filter_backends: list = []

    def get_queryset(self):
        return tokens.tokens_of(self.request.user)

    @extend_schema(tags=["auth"])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=["auth"],
        responses={204: None, 404: detail_error("No such token of yours.")},
    )
    def destroy(self, request, *args, **kwargs):
        try:
            uid = uuid.UUID(kwargs["uid"])
        except ValueError as error:
            raise Http404 from error
        if tokens.token_revoke(user=request.user, uid=uid) is None:
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, the agencies and roles they hold, and what they may do."""

    @extend_schema(responses=s.MeSerializer, tags=["me"])
    def get(self, request):
        user = request.user
        feed = calendar_feed.calendar_feed_get(user=user)
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "full_name": formatting.full_name(user),
            "email": user.email,
            "memberships": selectors.membership_list_for(user=user),
            "capabilities": {
                "sees_everything": permissions.sees_everything(user),
                "can_manage_tasks": permissions.can_manage_tasks(user),
                "can_decide_extensions": permissions.can_decide_extension(user),
                "is_monitor": permissions.is_monitor(user),
                "is_leader": permissions.is_leader(user),
            },
            # Made on first use (issue 17); null once revoked.
            "calendar_url": calendar_feed.feed_url(request, feed),
        }
        return Response(s.MeSerializer(data).data)


# --- Reference data -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Agencies the user may read about (the subtrees of theirs)"),
    retrieve=extend_schema(summary="One agency"),
)
class AgencyViewSet(_ApiView, viewsets.ReadOnlyModelViewSet):
    """Agencies in the user's scope: monitors and leaders see every agency, others the
    subtrees of their own agencies."""

    serializer_class = s.AgencySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AgencyFilter

    def get_queryset(self):
        return selectors.agency_list_visible_to(user=self.request.user)


class _AuthoredByMonitors:
    """Reading is open to every signed-in user; writing (every action but list and
    retrieve) to the monitoring agency (403 for others)."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        return [IsAuthenticated(), permissions.CanAuthorPlans()]


@extend_schema_view(
    list=extend_schema(summary="Plans, with their basis documents"),
    retrieve=extend_schema(summary="One plan, with its basis documents"),
)
class PlanViewSet(
    _AuthoredByMonitors,
    _ApiView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Plans: public documents of the province, readable by every signed-in user; the
    monitoring agency creates and changes them."""

    serializer_class = s.PlanSerializer

    def get_queryset(self):
        return selectors.plan_list()

    def _plan(self) -> Plan:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (Plan.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error

    def _respond(self, plan: Plan, code=status.HTTP_200_OK) -> Response:
        return Response(s.PlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=code)

    @extend_schema(
        summary="Create a plan (monitoring agency)",
        request=s.PlanCreateInputSerializer,
        responses={201: s.PlanSerializer},
    )
    def create(self, request):
        """A plan for a calendar `year`, or for the period from `period_start` to
        `period_end`. Its `code` must be new."""
        plan = plan_services.plan_create(**self.parse(s.PlanCreateInputSerializer))
        return self._respond(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a plan's fields (monitoring agency)",
        request=s.PlanUpdateInputSerializer,
        responses={200: s.PlanSerializer},
    )
    def partial_update(self, request, pk=None):
        """Any field but the code; the period stays in order."""
        plan = self._plan()
        data = self.parse(s.PlanUpdateInputSerializer)
        if data:
            plan = plan_services.plan_update(plan=plan, **data)
        return self._respond(plan)

    @extend_schema(
        summary="Add a basis document to a plan (monitoring agency)",
        request={
            "multipart/form-data": s.PlanDocumentInputSerializer,
            "application/json": s.PlanDocumentInputSerializer,
        },
        responses={201: s.PlanSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def documents(self, request, pk=None):
        """A document the plan is based on (resolution, programme…), with its file when
        sent (multipart). Its number is new in the plan. Answers the plan."""
        plan = self._plan()
        plan_services.plan_document_save(plan=plan, **self.parse(s.PlanDocumentInputSerializer))
        return self._respond(plan, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Priority areas of the plans"),
    retrieve=extend_schema(summary="One priority area"),
)
class PriorityAreaViewSet(
    _AuthoredByMonitors,
    _ApiView,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Priority areas of the plans; `?plan=` narrows to one plan. The monitoring agency
    adds and changes them."""

    serializer_class = s.PriorityAreaSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = PriorityAreaFilter

    def get_queryset(self):
        return selectors.priority_area_list()

    @extend_schema(
        summary="Add a priority area to a plan (monitoring agency)",
        request=s.AreaCreateInputSerializer,
        responses={201: s.PriorityAreaSerializer},
    )
    def create(self, request):
        """Its code is new in the plan; without an `order` it comes last."""
        area = plan_services.area_create(**self.parse(s.AreaCreateInputSerializer))
        return Response(s.PriorityAreaSerializer(area).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a priority area (monitoring agency)",
        request=s.AreaUpdateInputSerializer,
        responses={200: s.PriorityAreaSerializer},
    )
    def partial_update(self, request, pk=None):
        """Its code stays unique in its plan; it stays in its plan."""
        try:
            area = self.get_queryset().get(pk=self.kwargs["pk"])
        except (PriorityArea.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        data = self.parse(s.AreaUpdateInputSerializer)
        if data:
            area = plan_services.area_update(area=area, **data)
        return Response(s.PriorityAreaSerializer(area).data)


# --- Tasks ----------------------------------------------------------------------------------

_AS_OF = s.AsOfQuerySerializer


@extend_schema_view(
    list=extend_schema(summary="Tasks the user may see, with their category at `as_of`"),
    retrieve=extend_schema(
        summary="One task, its visible children and what the user may do with it; with "
        "`?expand=updates`, its latest status updates",
        parameters=[_AS_OF, s.TaskExpandQuerySerializer],
    ),
)
class TaskViewSet(
    _ApiView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tasks in the user's scope (their lead or a coordinating agency lies in the subtree of
    one of the user's agencies; monitors and leaders see all)."""

    serializer_class = s.TaskSerializer
    filter_backends = [DjangoFilterBackend, TaskOrdering]
    filterset_class = TaskFilter
    ordering_fields = ["due", "code", "progress", "updated_at"]
    ordering = ["plan", "code"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    prepares_list = True

    # Checks beyond "signed in", per action. Object-level ones run on a task already found
    # in the scope, so a hidden task answers 404 and a visible one 403.
    action_permissions = {
        "create": [permissions.IsMonitor],
        "partial_update": [permissions.CanManageTask],
        "assign": [permissions.CanManageTask],
        "confirm": [permissions.CanManageTask],
        "return_": [permissions.CanManageTask],
        "withdraw": [permissions.CanManageTask],
        "adjust_due": [permissions.CanManageTask],
        "reassign": [permissions.IsMonitor],
        "record_update": [permissions.CanReportProgress],
        "contributions": [permissions.CanContribute],
        "request_extension": [permissions.CanRequestExtension],
    }

    def get_permissions(self):
        extra = self.action_permissions.get(self.action, [])
        return [IsAuthenticated(), *(permission() for permission in extra)]

    def get_queryset(self):
        if self.action == "list":
            return selectors.task_list_for_api(
                user=self.request.user, as_of=self.as_of, by_category=self._by_category
            )
        return selectors.task_list_visible_to(user=self.request.user, as_of=self.as_of)

    def list_sql_key(self) -> tuple | None:
        """What the SQL of the list's page depends on besides the page: the scope and the
        date (selectors.cache_key) and the query string, when each of its parameters is
        made of its value alone (TaskFilter.SQL_FROM_VALUES); None otherwise (the page's
        SQL is built as usual). Issue 18 (bench/api.py `list_one_agency`, >= 100 req/s):
        building the page's SQL was 2.2 of its 3.7 ms CPU; tests/tasks_app/
        test_api_history.py holds the pages to the ones built each time."""
        params = self.request.query_params
        allowed = {*TaskFilter.SQL_FROM_VALUES, "page", "page_size", "ordering"}
        if not set(params) <= allowed:
            return None
        return (
            *selectors.cache_key("task list page", as_of=self.as_of, user=self.request.user),
            self._by_category,
            tuple(sorted((name, tuple(params.getlist(name))) for name in params if name != "page")),
        )

    @property
    def _by_category(self) -> bool:
        return any(name in self.request.query_params for name in TaskFilter.NEEDS_CATEGORY)

    def get_serializer_class(self):
        return s.TaskDetailSerializer if self.action == "retrieve" else s.TaskSerializer

    def _task(self) -> Task:
        """The task of the URL, through the scope (404 when hidden), with the action's
        permission checked (403)."""
        try:
            task = selectors.task_get_for_action(user=self.request.user, pk=self.kwargs["pk"])
        except (Task.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        self.check_object_permissions(self.request, task)
        return task

    def _task_data(self, pk: int, detail: bool = False, reached: bool = False) -> dict:
        """TaskSerializer's (with `detail`, TaskDetailSerializer's) output for one visible
        task, built from value rows (serializers.task_data); `reached`: the task was
        loaded through the scope by this request (`_task`)."""
        row = selectors.task_row_for_api(
            user=self.request.user, pk=pk, as_of=self.as_of, children=detail, reached=reached
        )
        row = selectors.task_rows_with_days_late([row], self.as_of)[0]
        return s.task_detail_data(row, self.request.user) if detail else s.task_data(row)

    def _update_result(
        self, update, code=status.HTTP_201_CREATED, *, with_files: bool = False
    ) -> Response:
        """The update just recorded and the task as it is now (with its new version).
        `with_files`: files were sent with it, so its evidence is read back; otherwise it
        has none, and no query is needed to say so (a status update's p50 target)."""
        data = {"update": s.status_update_data(update, files=None if with_files else [])}
        data["task"] = self._task_data(update.task_id, reached=True)
        return Response(data, status=code)

    def list(self, request, *args, **kwargs):
        # TaskSerializer's output, page by page, from value rows: the count (only for a full
        # page), the page, its coordinating agencies and, unless the request filters on the
        # category, the categories of its parent tasks, one query each. (A docstring
        # here would replace the class's in the schema's description of the operation.)
        sql_key = self.list_sql_key()
        if sql_key is None:
            built = self._tasks_and_rows()  # the filters checked (400) before the page (404)
            counted = _CountedRows(lambda: built)
        else:
            TaskFilter.check_values(request)
            counted = _CountedRows(self._tasks_and_rows, sql_key)
        page = self.paginate_queryset(counted)
        rows = selectors.task_rows_with_coordination(counted[:] if page is None else page)
        if not self._by_category:
            rows = selectors.task_rows_with_parent_categories(rows, self.as_of)
        rows = selectors.task_rows_with_days_late(rows, self.as_of)
        data = s.task_list_data(rows)
        return Response(data) if page is None else self.get_paginated_response(data)

    def _tasks_and_rows(self):
        """The list's tasks (scope, filters, ordering) and their rows, as querysets."""
        tasks = self.filter_queryset(self.get_queryset())
        return tasks, selectors.task_values_for_api(tasks)

    def retrieve(self, request, pk=None):
        query = s.TaskExpandQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            data = self._task_data(pk, detail=True)
        except (Task.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        if query.validated_data.get("expand") == "updates":
            data["updates"] = self._latest_updates(data["id"])
        return Response(data)

    def _latest_updates(self, pk: int) -> dict:
        """The first page of the task's history (GET updates/?page_size=LATEST_UPDATES),
        read with its evidence in one query; `next` is its page 2 when there is more.
        Issue 18: a task with its history in one request instead of two."""
        updates = selectors.StatusUpdatePages(task_id=pk)[: s.LATEST_UPDATES + 1]
        rest = None
        if len(updates) > s.LATEST_UPDATES:
            history = reverse("api:task-updates", kwargs={"pk": pk})
            rest = self.request.build_absolute_uri(
                f"{history}?{urlencode({'page': 2, 'page_size': s.LATEST_UPDATES})}"
            )
        return {
            "results": s.status_update_list_data(updates[: s.LATEST_UPDATES]),
            "next": rest,
        }

    @extend_schema(
        summary="Create a task (monitoring agency)",
        request=s.TaskCreateInputSerializer,
        responses={201: s.TaskSerializer},
    )
    def create(self, request):
        """Create a task; its original due date is the due date it is created with."""
        data = self.parse(s.TaskCreateInputSerializer)
        task = services.task_create(**data)
        return Response(self._task_data(task.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a task's fields (monitoring agency)",
        request=s.TaskUpdateInputSerializer,
        responses={200: s.TaskSerializer, 409: conflict_response()},
    )
    def partial_update(self, request, pk=None):
        """Change descriptive fields, the lead agency (with a `reason`) or the coordinating
        agencies; each change is kept in the task's change history (`changes`). Due dates
        move only through extensions and adjustments (`adjust-due`). A stale `version`
        answers 409."""
        task = self._task()
        data = self.parse(s.TaskUpdateInputSerializer, task=task)
        services.task_update_fields(
            task=task,
            expected_version=data.pop("version"),
            author=request.user,
            reason=data.pop("reason"),
            source=ChangeSource.API,
            **data,
        )
        return Response(self._task_data(task.pk))

    @extend_schema(
        summary="Move a task's due date, earlier or later, with a reason (monitoring agency)",
        request=s.TaskAdjustDueInputSerializer,
        responses={201: s.TaskAdjustDueResultSerializer, 409: conflict_response()},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="adjust-due",
        url_name="adjust-due",
        filter_backends=[],
    )
    def adjust_due(self, request, pk=None):
        """Recorded as an approved extension of kind `adjustment` and in the change history;
        the original due date stays. Refused for a regular task, the same date, a date
        before the assignment, a completed or stopped task, or while an agency's extension
        request waits. A stale `version` answers 409."""
        task = self._task()
        data = self.parse(s.TaskAdjustDueInputSerializer)
        adjustment = services.task_adjust_due(
            task=task,
            due=data["due"],
            author=request.user,
            reason=data["reason"],
            expected_version=data["version"],
            source=ChangeSource.API,
        )
        return Response(
            {
                "adjustment": s.ExtensionSerializer(adjustment).data,
                "task": self._task_data(task.pk, reached=True),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Give several tasks a new lead agency, with one reason (monitoring agency)",
        request=s.TaskReassignInputSerializer,
        responses={200: s.TaskReassignResultSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def reassign(self, request):
        """All or nothing: each task gets the new lead agency, each change is kept in its
        change history with the reason, and `needs_reassignment` is cleared. Refused (400,
        nothing written) without a reason or when the new lead agency no longer exists."""
        data = self.parse(s.TaskReassignInputSerializer)
        tasks = services.tasks_reassign(
            tasks=data["tasks"],
            lead_agency=data["lead_agency"],
            author=request.user,
            reason=data["reason"],
            source=ChangeSource.API,
        )
        rows = selectors.task_list_visible_to(user=request.user, as_of=self.as_of).filter(
            pk__in=[task.pk for task in tasks]
        )
        rows = selectors.task_rows_with_days_late(
            selectors.task_rows_with_coordination(
                selectors.task_values_for_api(rows.order_by("plan_id", "code"))
            ),
            self.as_of,
        )
        return Response({"tasks": s.task_list_data(rows)})

    @extend_schema(
        summary="The change history of a task's fields (newest first)",
        responses=s.TaskChangeSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def changes(self, request, pk=None):
        """Who changed which field, when, from what to what, why, and where (pages, API,
        import…)."""
        task = self._task()
        page = self.paginate_queryset(selectors.task_changes(task=task))
        return self.get_paginated_response(s.TaskChangeSerializer(page, many=True).data)

    @extend_schema(
        summary="Split a task into one child per agency (monitoring agency)",
        request=s.TaskAssignInputSerializer,
        responses={201: s.TaskAssignResultSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def assign(self, request, pk=None):
        """Give each listed agency its own child task; an agency that already has one keeps
        it (safe to repeat)."""
        task = self._task()
        data = self.parse(s.TaskAssignInputSerializer)
        children = services.task_split(task=task, agencies=data["agencies"])
        child_rows = selectors.task_list_visible_to(user=request.user, as_of=self.as_of).filter(
            pk__in=[child.pk for child in children]
        )
        child_rows = selectors.task_rows_with_days_late(
            selectors.task_rows_with_coordination(
                selectors.task_values_for_api(child_rows.order_by("code"))
            ),
            self.as_of,
        )
        return Response(
            {
                "task": self._task_data(task.pk),
                "children": s.task_list_data(child_rows),
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="The history of a task (status updates, newest first)",
        responses=s.StatusUpdateSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def updates(self, request, pk=None):
        task = self._task()
        page = self.paginate_queryset(selectors.StatusUpdatePages(task_id=task.pk))
        return self.get_paginated_response(s.status_update_list_data(page))

    @extend_schema(
        summary="Report progress (lead agency), with evidence files",
        request={
            "multipart/form-data": s.StatusUpdateInputSerializer,
            "application/json": s.StatusUpdateInputSerializer,
        },
        responses={201: s.UpdateResultSerializer, 409: conflict_response()},
    )
    @updates.mapping.post
    def record_update(self, request, pk=None):
        """Append a status update and make it the task's current state. `version` must be
        the task's version the client read: a stale one answers 409 and writes nothing.
        Evidence files go in `files` (multipart), checked by content and size."""
        task = self._task()
        data = self.parse(s.StatusUpdateInputSerializer)
        files = data.pop("files")
        update = services.status_update_record(
            task=task,
            author=request.user,
            agency=task.lead_agency,
            expected_version=data.pop("version"),
            evidence=files,
            **data,
        )
        return self._update_result(update, with_files=bool(files))

    @extend_schema(
        summary="Add a contribution (coordinating agency)",
        request={
            "multipart/form-data": s.ContributionInputSerializer,
            "application/json": s.ContributionInputSerializer,
        },
        responses={201: s.UpdateResultSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def contributions(self, request, pk=None):
        """Record what a coordinating agency did; the task's state and progress stay."""
        task = self._task()
        data = self.parse(s.ContributionInputSerializer)
        files = data.pop("files")
        update = services.contribution_add(
            task=task,
            author=request.user,
            agency=selectors.contributing_agency_for(user=request.user, task=task),
            evidence=files,
            **data,
        )
        return self._update_result(update, with_files=bool(files))

    @extend_schema(
        summary="Confirm a reported completion (monitoring agency)",
        request=s.ConfirmInputSerializer,
        responses={200: s.UpdateResultSerializer, 409: conflict_response()},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        task = self._task()
        data = self.parse(s.ConfirmInputSerializer)
        update = services.task_confirm_completion(
            task=task, user=request.user, expected_version=data["version"], note=data["note"]
        )
        return self._update_result(update, status.HTTP_200_OK)

    @extend_schema(
        summary="Send a reported completion back to the lead agency (monitoring agency)",
        request=s.ReasonInputSerializer,
        responses={200: s.UpdateResultSerializer, 409: conflict_response()},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return", filter_backends=[])
    def return_(self, request, pk=None):
        task = self._task()
        data = self.parse(s.ReasonInputSerializer)
        update = services.task_return(
            task=task, user=request.user, reason=data["reason"], expected_version=data["version"]
        )
        return self._update_result(update, status.HTTP_200_OK)

    @extend_schema(
        summary="Stop a task (monitoring agency); it leaves the report totals",
        request=s.ReasonInputSerializer,
        responses={200: s.UpdateResultSerializer, 409: conflict_response()},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request, pk=None):
        task = self._task()
        data = self.parse(s.ReasonInputSerializer)
        update = services.task_withdraw(
            task=task, user=request.user, reason=data["reason"], expected_version=data["version"]
        )
        return self._update_result(update, status.HTTP_200_OK)

    @extend_schema(
        summary="Extension requests on a task", responses=s.ExtensionSerializer(many=True)
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def extensions(self, request, pk=None):
        task = self._task()
        rows = selectors.extension_list_visible_to(user=request.user).filter(task=task)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.ExtensionSerializer(page, many=True).data)

    @extend_schema(
        summary="Ask for a later due date (lead agency)",
        request=s.ExtensionRequestInputSerializer,
        responses={201: s.ExtensionSerializer},
    )
    @extensions.mapping.post
    def request_extension(self, request, pk=None):
        """One request per task may be pending; the monitoring agency or the leadership
        decides it."""
        task = self._task()
        data = self.parse(s.ExtensionRequestInputSerializer)
        extension = services.extension_request(
            task=task, requested_by=request.user, agency=task.lead_agency, **data
        )
        return Response(s.ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)


# --- Extensions -----------------------------------------------------------------------------


class ExtensionViewSet(_ApiView, viewsets.ReadOnlyModelViewSet):
    """Extension requests on the tasks the user may see; monitors and leaders decide them."""

    serializer_class = s.ExtensionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ExtensionFilter

    def get_permissions(self):
        extra = [permissions.CanDecideExtension] if self.action in ("approve", "reject") else []
        return [IsAuthenticated(), *(permission() for permission in extra)]

    def get_queryset(self):
        return selectors.extension_list_visible_to(user=self.request.user)

    def _extension(self) -> DeadlineExtension:
        try:
            extension = self.get_queryset().get(pk=self.kwargs["pk"])
        except (DeadlineExtension.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        self.check_object_permissions(self.request, extension)
        return extension

    def _respond(self, extension) -> Response:
        return Response(s.ExtensionSerializer(self.get_queryset().get(pk=extension.pk)).data)

    @extend_schema(
        summary="Approve: the task's due date moves, its original due date stays",
        request=s.ExtensionDecisionInputSerializer,
        responses={200: s.ExtensionSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        extension = self._extension()
        data = self.parse(s.ExtensionDecisionInputSerializer)
        services.extension_approve(extension=extension, decided_by=request.user, note=data["note"])
        return self._respond(extension)

    @extend_schema(
        summary="Reject, with the reason (`note`); the due date stays",
        request=s.ExtensionDecisionInputSerializer,
        responses={200: s.ExtensionSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request, pk=None):
        extension = self._extension()
        data = self.parse(s.ExtensionDecisionInputSerializer)
        services.extension_reject(extension=extension, decided_by=request.user, note=data["note"])
        return self._respond(extension)


# --- Evidence files ---------------------------------------------------------------------------


class EvidenceDownloadView(APIView):
    """Stream an evidence file, only if its task is visible to the user (404 otherwise),
    as an attachment named with the name it was uploaded with."""

    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        summary="Download an evidence file",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
            for mime in ACCEPTED_MIME_TYPES
        },
        tags=["evidence"],
    )
    def get(self, request, pk: int):
        try:
            evidence = selectors.evidence_get_visible_to(user=request.user, pk=pk)
        except (Evidence.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        return evidence_file_response(evidence)


class PlanDocumentDownloadView(APIView):
    """Stream a plan's basis document as an attachment, to every signed-in user (plans are
    public documents); 404 for a document without a file."""

    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        summary="Download a plan's basis document",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            (200, mime): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
            for mime in ACCEPTED_MIME_TYPES
        },
        tags=["plans"],
    )
    def get(self, request, pk: int):
        try:
            document = selectors.plan_document_with_file(pk=pk)
        except (PlanDocument.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        return plan_document_file_response(document)
