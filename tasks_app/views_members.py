"""The monitoring agency's page to move staff to the successor of a reorganised agency
(issue 14): nobody changes agency silently; the monitor confirms each move.

Only monitors use it (permissions.can_manage_tasks; others get 403). As in views.py, the
view parses its input with a form, reads through a selector, calls one service and renders.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from tasks_app import permissions, selectors, services
from tasks_app.forms import MembershipTransferForm, add_service_errors


@login_required
@require_http_methods(["GET", "POST"])
def membership_transfers(request: HttpRequest) -> HttpResponse:
    """Chuyển cán bộ sang đơn vị kế thừa: the staff of reorganised agencies who have not
    followed the reorganisation, by reorganisation; a POST moves the chosen ones of one
    reorganisation. Staff of an abolished agency without a successor are listed, without
    an action."""
    if not permissions.can_manage_tasks(request.user):
        raise PermissionDenied
    pending = selectors.membership_transfers_pending(on=timezone.localdate())
    forms = {
        group.succession.pk: MembershipTransferForm(memberships=group.memberships)
        for group in pending
        if group.can_transfer
    }
    if request.method == "POST":
        succession_id = request.POST.get("succession", "")
        group = next(
            (g for g in pending if g.can_transfer and str(g.succession.pk) == succession_id), None
        )
        if group is None:
            # Already moved (a second confirmation) or not a reorganisation with a successor.
            messages.info(request, _("Nobody is left to move for this reorganisation."))
            return redirect("tasks_app:membership-transfers")
        form = MembershipTransferForm(request.POST, memberships=group.memberships)
        forms[group.succession.pk] = form
        if form.is_valid():
            chosen = set(form.cleaned_data["memberships"])
            try:
                created = services.membership_transfer(
                    succession=group.succession,
                    memberships=[m for m in group.memberships if m.pk in chosen],
                    confirmed_by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d person now works for %(agency)s.",
                        "%(count)d people now work for %(agency)s.",
                        len(created),
                    )
                    % {"count": len(created), "agency": group.succession.successor},
                )
                return redirect("tasks_app:membership-transfers")
    groups = [
        {
            "succession": group.succession,
            "memberships": group.memberships,
            "form": forms.get(group.succession.pk),
            "checked": _checked(forms.get(group.succession.pk)),
            "day_before": group.succession.date - datetime.timedelta(days=1),
        }
        for group in pending
    ]
    return render(request, "tasks_app/membership_transfers.html", {"groups": groups})


def _checked(form: MembershipTransferForm | None) -> set[str]:
    """The ticked people of a group's form: all of them until the monitor sends it."""
    if form is None:
        return set()
    if form.is_bound:
        return set(form.data.getlist("memberships"))
    return {str(pk) for pk in form.fields["memberships"].initial}
