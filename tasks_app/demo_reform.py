"""The demo lives through the reorganisation of 1 July 2025 (`load_plan FILE --demo`).

The 2022 demo accounts belong to agencies that no longer exist. Here the demo does what the
monitoring agency does after a reorganisation, through the same services as its pages:

- staff follow their agency into its successor (the transfer the monitor confirms on the
  staff-move page): the leader to the merged province's People's Committee, the monitor
  of Sở TT&TT through Sở KH&CN Nam Định (03/2025) to Sở KH&CN Ninh Bình (07/2025). The
  manager of xã Hải Trung (merged into xã Hải Hậu) is left for the monitor to confirm,
  so the page shows a move waiting; the managers of the abolished districts and of Sở Y
  tế have no successor to follow and are listed there for the record. These three
  accounts keep showing the 2022 plan as their agencies saw it;
- the open tasks of huyện Hải Hậu and of its communes get a new lead agency, with a
  reason: a merged commune's tasks go to its successor, the district's own to xã Hải Hậu.
  The other abolished agencies' open tasks stay on the page "Nhiệm vụ cần giao lại", for
  the monitor to see what is left.

The decisions are illustrative (the real ones are made by the province); the names and
dates of the reorganisation are those of the plan file. Every step is idempotent: staff
already moved and tasks already reassigned are left as they are, so loading the demo again
writes nothing.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.choices import FINISHED_STATES
from tasks_app.models import Agency, AgencySuccession, Plan, Task
from tasks_app.querysets import local_tz
from tasks_app.selectors import membership_transfers_pending
from tasks_app.services import membership_transfer, tasks_flag_orphaned, tasks_reassign

# The demo accounts who follow their agency into its successor.
MOVING_ACCOUNTS = ("lanhdao", "sotttt")
# Who confirms the moves and the reassignments: the monitor of today's Sở KH&CN.
DECIDED_BY = "skhcn"
DISTRICT, DISTRICT_HEIR = "UBND_HAIHAU", "NB_XA_HAIHAU"
# When the monitor reassigned Hải Hậu's tasks: two weeks after the reform.
REASSIGNED_ON = datetime.date(2025, 7, 15)


def _staff_moved(users: dict) -> int:
    """Confirm the pending transfers of MOVING_ACCOUNTS, one reorganisation after another
    (a move may open the next one: Sở TT&TT → Sở KH&CN Nam Định → Sở KH&CN Ninh Bình)."""
    moving = {users[name].pk for name in MOVING_ACCOUNTS}
    moved = 0
    while True:
        step = 0
        for group in membership_transfers_pending():
            staff = [m for m in group.memberships if m.user_id in moving]
            if staff and group.can_transfer:
                step += len(
                    membership_transfer(
                        succession=group.succession,
                        memberships=staff,
                        confirmed_by=users[DECIDED_BY],
                    )
                )
        if not step:
            return moved
        moved += step


def _reassignment_reason(succession: AgencySuccession | None, heir: Agency) -> str:
    if succession is not None:
        basis = succession.legal_basis or succession.get_kind_display()
        return (
            f"{succession.predecessor} hợp nhất vào {heir} từ "
            f"{succession.date:%d/%m/%Y} ({basis}); {heir} tiếp tục thực hiện nhiệm vụ."
        )
    return (
        f"Huyện Hải Hậu kết thúc hoạt động từ 01/07/2025; giao {heir}, nơi đặt trụ sở huyện "
        f"cũ, tiếp tục thực hiện (quyết định minh họa của bản demo)."
    )


def _tasks_reassigned(plan: Plan, users: dict, today: datetime.date) -> int:
    """Give the plan's open tasks of huyện Hải Hậu and its communes (agencies ended by
    today) their new lead agency: a commune's merge successor, else xã Hải Hậu."""
    tasks_flag_orphaned(on=today)
    district = Agency.objects.get(code=DISTRICT)
    heir_of_district = Agency.objects.get(code=DISTRICT_HEIR)
    orphans = (
        Task.objects.filter(
            plan=plan, lead_agency__path__startswith=district.path, lead_agency__valid_to__lt=today
        )
        .exclude(state__in=FINISHED_STATES)
        .select_related("lead_agency")
        .order_by("code")
    )
    by_lead: dict[Agency, list[Task]] = {}
    for task in orphans:
        by_lead.setdefault(task.lead_agency, []).append(task)
    merges = {
        s.predecessor_id: s
        for s in AgencySuccession.objects.filter(
            predecessor__in=list(by_lead), successor__isnull=False
        ).select_related("predecessor", "successor")
    }
    at = min(
        timezone.now(),
        datetime.datetime.combine(REASSIGNED_ON, datetime.time(9), tzinfo=local_tz()),
    )
    reassigned = 0
    for lead, tasks in by_lead.items():
        succession = merges.get(lead.pk)
        heir = succession.successor if succession is not None else heir_of_district
        reassigned += len(
            tasks_reassign(
                tasks=tasks,
                lead_agency=heir,
                author=users[DECIDED_BY],
                reason=_reassignment_reason(succession, heir),
                changed_at=at,
            )
        )
    return reassigned


def demo_reform_apply(*, plan: Plan, today: datetime.date, users: dict) -> list[str]:
    """Move the demo's staff and reassign Hải Hậu's open tasks (see the module docstring);
    returns the lines that load_plan prints."""
    with transaction.atomic():
        moved = _staff_moved(users)
        reassigned = _tasks_reassigned(plan, users, today)
    return [
        _(
            "Reorganisation of 1 July 2025 (illustrative decisions): {moved} memberships "
            "moved to successor agencies, {tasks} open tasks of Hải Hậu reassigned."
        ).format(moved=moved, tasks=reassigned)
    ]
