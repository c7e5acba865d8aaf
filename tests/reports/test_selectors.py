"""The dashboard's numbers on the demo plan, against counts worked out by hand.

How the expectations were worked out (data/plan_2022.yaml and tasks_app/demo.py):

The plan has 44 tasks; CDS22-26 and CDS22-41 are split into one child per district (10
each), so reports count 42 + 20 = 62 leaf tasks. Every task is assigned by 01/06/2022.
CDS22-12 is withdrawn on 20/05 (listed apart, out of the totals: 61 counted). CDS22-09 has
no due date (regular). The only approved extension moves CDS22-13 from 30/06 to 30/09; it
is requested 15/06 and approved 20/06 16:00. A category at D uses only what was recorded
by the end of D (a completion reported later does not count yet).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reports.selectors import (
    dashboard_overdue,
    dashboard_summary,
    dashboard_trend,
    month_ends,
)
from tasks_app.choices import AgeingBand
from tasks_app.models import Agency, PriorityArea

D = datetime.date
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
pytestmark = pytest.mark.django_db

BEFORE_EXTENSION = D(2022, 6, 19)  # the day before CDS22-13's extension was approved
END_OF_JUNE = D(2022, 6, 30)
END_OF_YEAR = D(2022, 12, 31)


def categories(counts) -> dict:
    return {k: v for k, v in counts.category_counts().items() if v}


def test_counts_on_19_june_before_the_extension_was_approved(demo_user, at):
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(BEFORE_EXTENSION))
    assert categories(board.totals) == {
        # CDS22-01 (done 25/02, due 28/02) and CDS22-29 (done 15/06, reported 16/06, due
        # 30/06: finished early, so on time but not yet due).
        "completed_on_time": 2,
        # CDS22-44: due 15/02, done 08/03.
        "completed_late": 1,
        # CDS22-33: due 31/03, 70 % and not done by 19/06.
        "overdue": 1,
        # CDS22-09, no due date.
        "regular": 1,
        # CDS22-12, stopped 20/05.
        "withdrawn": 1,
        # No update recorded yet: CDS22-20, -22, -32, -34, -38, -39, -40, -42; 8 children of
        # CDS22-26 (all but Hải Hậu 10/06 and Giao Thủy 15/06); 6 children of CDS22-41 (all
        # but Hải Hậu, TP Nam Định, Giao Thủy, Xuân Trường). 8 + 8 + 6 = 22.
        "not_started": 22,
        # The rest: 62 − 2 − 1 − 1 − 1 − 1 − 22 = 34 (CDS22-13 among them: due 30/06 then).
        "in_progress": 34,
    }
    assert board.totals.total == 61
    # Due by 19/06: CDS22-01 (28/02), -33 (31/03), -44 (15/02); everything else is due
    # 30/06 or later. Only CDS22-01 of them was done on time: 1 of 3.
    assert (board.totals.due, board.totals.due_on_time) == (3, 1)
    assert board.totals.on_time_rate == pytest.approx(1 / 3)
    # CDS22-33 is 80 days overdue (30 in April + 31 in May + 19 in June): 31–90 band.
    ageing = board.totals.overdue_1_30, board.totals.overdue_31_90, board.totals.overdue_over_90
    assert ageing == (0, 1, 0)
    assert [(t.code, t.days_overdue, t.band) for t in board.overdue] == [
        ("CDS22-33", 80, AgeingBand.DAYS_31_90)
    ]
    # The extension is approved on 20/06: not granted yet on 19/06.
    assert (board.extensions_granted, board.extended_tasks) == (0, 0)


def test_counts_on_30_june(demo_user, at):
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(END_OF_JUNE))
    assert categories(board.totals) == {
        # CDS22-01; CDS22-06 (done 28/06); CDS22-28 (28/06); CDS22-29 (15/06); CDS22-31
        # (24/06) — all due 30/06 or earlier and done by then.
        "completed_on_time": 5,
        "completed_late": 1,  # CDS22-44
        "overdue": 1,  # CDS22-33
        "regular": 1,  # CDS22-09
        "withdrawn": 1,  # CDS22-12
        # CDS22-20, -22 (due today, no report: not yet overdue), -32; 4 children of
        # CDS22-26 (Mỹ Lộc, Nghĩa Hưng, Vụ Bản, Trực Ninh); 6 children of CDS22-41.
        "not_started": 13,
        # 62 − 5 − 1 − 1 − 1 − 1 − 13. CDS22-16 reported done on 27/06 but awaits
        # confirmation (confirmed 05/07): still in progress. CDS22-02, -10 are due today.
        "in_progress": 40,
    }
    # Due by 30/06: CDS22-01, -02, -06, -10, -16, -22, -28, -29, -31, -33, -44 = 11.
    # CDS22-13 is NOT due: its extension (approved 20/06) moved it to 30/09.
    # Done on time among them: -01, -06, -28, -29, -31 = 5.
    assert (board.totals.due, board.totals.due_on_time) == (11, 5)
    assert board.totals.on_time_rate == pytest.approx(5 / 11)
    # CDS22-33: 30/06 − 31/03 = 91 days, over 90.
    assert [(t.code, t.days_overdue, t.band) for t in board.overdue] == [
        ("CDS22-33", 91, AgeingBand.OVER_90)
    ]
    assert (board.extensions_granted, board.extended_tasks) == (1, 1)
    # KPI: 30 leaf tasks have a target (the split children have none; CDS22-12 is
    # withdrawn). Reached by 30/06: CDS22-06 (100/100), -16 (10/10), -28 (535/500),
    # -29 (12/12), -31 (34/34).
    assert (board.totals.kpi_tasks, board.totals.kpi_met) == (30, 5)


def test_counts_on_31_december(demo_user, at):
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(END_OF_YEAR))
    assert categories(board.totals) == {
        # -01, -05, -06, -11, -13 (done 19/09 within its extended 30/09), -15, -16
        # (confirmed 05/07, done 27/06), -18, -24, -27, -28, -29, -31, -34, -35, -37, -39;
        # CDS22-26 in Hải Hậu, TP Nam Định, Ý Yên, Nam Trực, Xuân Trường; CDS22-41 in
        # TP Nam Định. 17 + 5 + 1 = 23.
        "completed_on_time": 23,
        # -02 (16/09 > 30/06), -10 (14/07 > 30/06, extension rejected), -17, -25, -30,
        # -33, -44; CDS22-26 in Giao Thủy (10/10) and Trực Ninh (08/11). 7 + 2 = 9.
        "completed_late": 9,
        # -04 and -23 and -43 (due 30/11), -08 (30/09), -19 (31/10), -22 (30/06), -32
        # (30/09, led by Văn phòng UBND tỉnh since 10/05); CDS22-26 in Mỹ Lộc, Nghĩa Hưng,
        # Vụ Bản (30/09). 7 + 3 = 10.
        "overdue": 10,
        # -20 (no report; its due date adjusted on 14/10 to 30/06/2023); CDS22-41 in Mỹ
        # Lộc and Vụ Bản.
        "not_started": 3,
        # -03, -07, -14, -21, -36, -38, -40, -42 … and 7 children of CDS22-41.
        "in_progress": 15,
        "regular": 1,
        "withdrawn": 1,
    }
    # Everything but the regular task and -20 (now due 30/06/2023) is due by 31/12:
    # 61 − 2 = 59; 23 done on time.
    assert (board.totals.due, board.totals.due_on_time) == (59, 23)
    # Ageing: 31 days (-04, -23, -43), 61 days (-19): 31–90; 92 days (-08, -32, three
    # CDS22-26 children), 184 days (-22): over 90.
    ageing = board.totals.overdue_1_30, board.totals.overdue_31_90, board.totals.overdue_over_90
    assert ageing == (0, 4, 6)
    assert [(t.code, t.days_overdue) for t in board.overdue] == [
        ("CDS22-22", 184),
        ("CDS22-08", 92),
        ("CDS22-26.UBND_MYLOC", 92),
        ("CDS22-26.UBND_NGHIAHUNG", 92),
        ("CDS22-26.UBND_VUBAN", 92),
        ("CDS22-32", 92),
        ("CDS22-19", 61),
        ("CDS22-04", 31),
        ("CDS22-23", 31),
        ("CDS22-43", 31),
    ]
    assert board.overdue[0].lead_agency == "Sở TN&MT"


def test_the_extension_moves_the_due_date_only_from_its_approval(demo_user, at):
    leader = demo_user("lanhdao")
    # CDS22-13 (STTTT, area DTTM) is in progress at both dates; on 19/06 its due date in
    # force is still 30/06, from 20/06 it is 30/09 — seen in "due by D" at 30/06: the
    # smart-city area has CDS22-11 (15/12), -12 (withdrawn) and -13, none due by 30/06.
    area = PriorityArea.objects.get(code="DTTM")
    before = dashboard_summary(user=leader, filters=at(BEFORE_EXTENSION, priority_area=area))
    after = dashboard_summary(user=leader, filters=at(END_OF_JUNE, priority_area=area))
    assert categories(before.totals) == {"in_progress": 2, "withdrawn": 1}
    assert categories(after.totals) == {"in_progress": 2, "withdrawn": 1}
    assert after.totals.due == 0
    # At 1 October (past the extended date) CDS22-13 is done (19/09): on time.
    october = dashboard_summary(user=leader, filters=at(D(2022, 10, 1), priority_area=area))
    assert categories(october.totals) == {
        "completed_on_time": 1,
        "in_progress": 1,
        "withdrawn": 1,
    }


def test_areas_and_agencies_add_up_to_the_totals(demo_user, at):
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(END_OF_YEAR))
    assert sum(a.counts.total for a in board.areas) == board.totals.total == 61
    agencies = [row for ranking in board.rankings for row in ranking.agencies]
    assert sum(a.counts.total for a in agencies) == 61
    assert sum(a.counts.overdue for a in agencies) == board.totals.overdue
    assert [r.code for r in board.rankings] == ["province", "district", "commune"]


def test_agency_ranking_by_on_time_rate_and_overdue(demo_user, at):
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(END_OF_YEAR))
    districts = next(r for r in board.rankings if r.code == "district")
    by_code = {row.code: row for row in districts.agencies}
    # Hải Hậu (UBND) leads -07 (IP, due 31/12), -17 (late), -23 (overdue), -27 (on time),
    # -31 (on time), -42 (IP), -43 (overdue), and the CDS22-26 (on time) and CDS22-41 (IP)
    # children: 9 tasks, all due by 31/12; 3 on time; 2 overdue.
    haihau = by_code["UBND_HAIHAU"].counts
    assert (haihau.total, haihau.due, haihau.due_on_time, haihau.overdue) == (9, 9, 3, 2)
    # Mỹ Lộc: CDS22-26 child overdue, CDS22-41 child not started: 0 of 2 on time.
    myloc = by_code["UBND_MYLOC"].counts
    assert (myloc.due, myloc.due_on_time, myloc.overdue) == (2, 0, 1)
    # Ranks follow the on-time rate, highest first, within the level.
    rates = [row.counts.on_time_rate for row in districts.agencies if row.rank]
    assert rates == sorted(rates, reverse=True)
    assert [row.rank for row in districts.agencies if row.rank] == list(range(1, len(rates) + 1))
    # The most overdue agency at 31/12 is UBND huyện Hải Hậu (-23, -43). Sở TT&TT has
    # one (-04): -32 passed to Văn phòng UBND tỉnh on 10/05. It leads 17 tasks, 8 of 16
    # due on time (-01, -06, -11, -13, -24, -29, -34, -35; -09 is regular).
    provinces = next(r for r in board.rankings if r.code == "province")
    stttt = next(row for row in provinces.agencies if row.code == "STTTT").counts
    assert (stttt.total, stttt.due, stttt.due_on_time, stttt.overdue) == (17, 16, 8, 1)
    vp = next(row for row in provinces.agencies if row.code == "VP_UBND").counts
    assert (vp.total, vp.overdue) == (2, 1)
    assert board.most_overdue_agency.code == "UBND_HAIHAU"


def test_level_and_agency_filters(demo_user, at, demo_plan):
    leader = demo_user("lanhdao")
    commune = Agency.objects.get(code="HH_HAITRUNG").level
    board = dashboard_summary(user=leader, filters=at(END_OF_JUNE, level=commune))
    # Only CDS22-28 is led by a commune (Hải Trung): done 28/06, on time.
    assert categories(board.totals) == {"completed_on_time": 1}
    haihau = Agency.objects.get(code="UBND_HAIHAU")
    subtree = dashboard_summary(user=leader, filters=at(END_OF_JUNE, agency=haihau))
    # Led by Hải Hậu or below it: UBND (9 incl. two children), TT VHTT&TT (-37..-40: 4),
    # xã Hải Trung (-28): 14.
    assert subtree.totals.total == 14


def test_trend_has_one_point_per_month_end_up_to_the_date(demo_user, at, demo_plan):
    trend = dashboard_trend(user=demo_user("lanhdao"), filters=at(END_OF_JUNE))
    assert [p.date for p in trend] == [
        D(2022, 1, 31),
        D(2022, 2, 28),
        D(2022, 3, 31),
        D(2022, 4, 30),
        D(2022, 5, 31),
        D(2022, 6, 30),
    ]
    # 31/01: 27 tasks assigned (the rest start in February or later); -01 reported
    # progress on 20/01, -09 is regular, the other 25 have no report yet.
    assert categories(trend[0].counts) == {"in_progress": 1, "regular": 1, "not_started": 25}
    # 28/02: 35 assigned; -01 done 25/02 (on time); -44 (due 15/02, 60 %) overdue; -36
    # reported 15/02; -09 regular; 31 not started.
    assert categories(trend[1].counts) == {
        "completed_on_time": 1,
        "overdue": 1,
        "in_progress": 1,
        "regular": 1,
        "not_started": 31,
    }
    # The last point is D itself and equals the dashboard's totals at D.
    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(END_OF_JUNE))
    assert trend[-1].counts.category_counts() == board.totals.category_counts()


def test_month_ends_stop_at_the_date_and_the_plan_period(demo_plan):
    assert month_ends(demo_plan, D(2022, 3, 15)) == [
        D(2022, 1, 31),
        D(2022, 2, 28),
        D(2022, 3, 15),
    ]
    assert len(month_ends(demo_plan, D(2023, 5, 1))) == 12
    assert month_ends(demo_plan, D(2021, 12, 31)) == []


def test_a_report_is_the_same_whenever_it_is_computed(demo_user, at, settings):
    # Regenerating June later gives the same figures: later updates do not leak back.
    leader = demo_user("lanhdao")
    first = dashboard_summary(user=leader, filters=at(END_OF_JUNE))
    again = dashboard_summary(user=leader, filters=at(END_OF_JUNE))
    assert first.totals == again.totals
    assert [t.code for t in dashboard_overdue(user=leader, filters=at(END_OF_JUNE))] == ["CDS22-33"]


def test_today_shortcuts_give_the_same_numbers_as_history(demo_user, at):
    # For a day not yet over, the KPI value and the overdue candidates come from the task
    # rows (which mirror the latest update); for a past day, from the history. Both must
    # give the same dashboard for the same day. The day follows the demo's last change of
    # the 2022 plan (Hải Hậu's tasks reassigned on 15/07/2025): no record is dated after it.
    day = D(2025, 7, 20)
    with time_machine.travel(datetime.datetime(2025, 7, 20, 15, tzinfo=HCM), tick=False):
        today = dashboard_summary(user=demo_user("lanhdao"), filters=at(day))
    with time_machine.travel(datetime.datetime(2025, 7, 21, 9, tzinfo=HCM), tick=False):
        past = dashboard_summary(user=demo_user("lanhdao"), filters=at(day))
    assert today.totals == past.totals
    assert today.overdue == past.overdue
    assert [a.counts for a in today.areas] == [a.counts for a in past.areas]
    assert today.totals.kpi_met == past.totals.kpi_met > 0
