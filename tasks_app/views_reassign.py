"""The monitoring agency's page "Nhiệm vụ cần giao lại" (issue 14): the tasks flagged because
their lead agency ceased to exist, grouped by that agency with its reorganisation and the
suggested successors, and a form per group to give several of them a new lead agency at once
(services.tasks_reassign: with a reason, all or nothing, each change in the history).

Monitors only (permissions.can_manage_tasks; others get 403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from tasks_app import permissions, selectors, services
from tasks_app.choices import ChangeSource
from tasks_app.forms import add_service_errors
from tasks_app.forms_plans import TaskReassignForm


@login_required
@require_http_methods(["GET", "POST"])
def reassign_list(request: HttpRequest) -> HttpResponse:
    """The flagged tasks by former lead agency; POST reassigns the ticked tasks of one group.

    Queries do not grow with the tasks: the tasks, the successions and the agencies existing
    today are read once each (selectors.tasks_needing_reassignment)."""
    # Assigning tasks is the monitoring agency's work (DESIGN.md, "Who does what").
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied
    user = request.user
    groups = selectors.tasks_needing_reassignment(user=user)
    current = list(selectors.agency_list_current())
    flagged = permissions.tasks_visible_to(user).filter(needs_reassignment=True)

    posted = None
    if request.method == "POST":
        group_id = request.POST.get("group", "")
        group = next((g for g in groups if str(g.agency.pk) == group_id), None)
        posted = TaskReassignForm(
            request.POST,
            tasks=flagged,
            suggested=group.suggested if group else [],
            current=current,
            auto_id=f"id_g{group_id}_%s",
        )
        if posted.is_valid():
            data = posted.cleaned_data
            try:
                services.tasks_reassign(
                    tasks=list(data["tasks"]),
                    lead_agency=data["lead_agency"],
                    author=user,
                    reason=data["reason"],
                    source=ChangeSource.PAGE,
                )
            except ValidationError as exc:
                add_service_errors(posted, exc)
            else:
                count = len(data["tasks"])
                messages.success(
                    request,
                    ngettext(
                        "%(count)d task was assigned to %(agency)s.",
                        "%(count)d tasks were assigned to %(agency)s.",
                        count,
                    )
                    % {"count": count, "agency": data["lead_agency"]},
                )
                return redirect("tasks_app:reassign-list")

    unplaced_errors = posted is not None
    entries = []
    for group in groups:
        if posted is not None and posted.data.get("group") == str(group.agency.pk):
            form = posted
            unplaced_errors = False
        else:
            form = TaskReassignForm(
                tasks=flagged,
                suggested=group.suggested,
                current=current,
                auto_id=f"id_g{group.agency.pk}_%s",
                initial={"group": group.agency.pk},
            )
        entries.append({"group": group, "form": form, "ticked": form.chosen_task_ids()})
    context = {
        "entries": entries,
        "task_count": sum(len(group.tasks) for group in groups),
        # A refused form whose group is gone (its tasks were reassigned meanwhile).
        "orphan_form": posted if unplaced_errors else None,
    }
    status = 400 if posted is not None else 200
    return render(request, "tasks_app/reassign_list.html", context, status=status)
