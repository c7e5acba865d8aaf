"""Numbers and words as a Vietnamese reader expects them: half-up percentages with a decimal
comma, Vietnamese alphabetical order, family name first, "trễ N ngày", a KPI's share of its
target, extension requests on or before the due date, and a navigation without repeats."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from tasks_app import formatting, services
from tasks_app.choices import TaskState
from tasks_app.collation import vi_order, vi_sorted
from tasks_app.models import Agency
from tests.factories import AgencyFactory, UserFactory

D = datetime.date
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=HCM)


# --- Percentages and numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (5, 11, "45.5"),  # 45.4545…: never 45.4
        (1, 8, "12.5"),
        (1, 16, "6.3"),  # 6.25: float's round(1 / 16 * 100, 1) gives 6.2
        (29, 200, "14.5"),  # 0.145 * 100 is 14.499999999999998 in float
        (3, 80, "3.8"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (0, 7, "0.0"),
    ],
)
def test_percentages_round_half_up(part, whole, expected):
    assert formatting.percent_of(part, whole) == Decimal(expected)
    # The ratio the selectors hand over (a float) rounds the same way.
    assert formatting.percent_value(part / whole) == Decimal(expected)


def test_nothing_to_divide_by_is_no_percentage():
    assert formatting.percent_of(3, 0) is None
    assert formatting.format_rate(None) == "—"


def test_vietnamese_numbers_use_a_decimal_comma_and_dotted_thousands():
    with translation.override("vi"):
        assert formatting.format_rate(5 / 11) == "45,5 %"
        assert formatting.format_number(1234567) == "1.234.567"
        assert formatting.format_number(Decimal("1234.50")) == "1.234,5"
        assert formatting.format_number(Decimal("35.00")) == "35"
    with translation.override("en"):
        assert formatting.format_rate(5 / 11) == "45.5%"
        assert formatting.format_number(1234567) == "1,234,567"


def test_late_label_and_names():
    with translation.override("vi"):
        assert formatting.late_label(3) == "trễ 3 ngày"
    assert formatting.late_label(None) == ""
    assert formatting.person_name("Nguyễn Văn", "An") == "Nguyễn Văn An"
    assert formatting.person_name("", "", "nva") == "nva"
    assert formatting.days_late(D(2022, 7, 3), D(2022, 6, 30)) == 3
    assert formatting.days_late(D(2022, 6, 30), D(2022, 6, 30)) is None


# --- Vietnamese alphabetical order ----------------------------------------------------------

# The order PostgreSQL's ICU collation "vi-VN-x-icu" gives (measured): letters first
# (Đ after every D, ă and â after a), tones only between otherwise equal words, lower case
# before upper case.
VIETNAMESE_ORDER = [
    "a",
    "A",
    "à",
    "á",
    "ạ",
    "an",
    "ăn",
    "Ấp",
    "Bắc Ninh",
    "Dung",
    "Dương",
    "Đào",
    "Đinh",
    "Hà",
    "hạ",
    "Hai",
    "Hải An",
    "Hải Anh",
    "Hải Hậu",
    "Hải Ninh",
    "Ô Môn",
    "Ơn",
    "Uông",
    "Ưng",
    "Yên",
]


def test_the_sort_key_puts_words_in_vietnamese_order():
    shuffled = sorted(VIETNAMESE_ORDER, key=lambda w: w.encode("utf-8")[::-1])
    assert vi_sorted(shuffled) == VIETNAMESE_ORDER
    assert sorted(["Đào", "Dung", "Ấp", "An"]) != ["An", "Ấp", "Dung", "Đào"]  # code points


@pytest.mark.django_db
def test_the_database_sorts_in_the_same_order(levels):
    """On SQLite (the collation registered per connection) and on PostgreSQL (migration
    0005's ICU collation) alike: run with DATABASE_URL for the second."""
    for index, name in enumerate(reversed(VIETNAMESE_ORDER)):
        AgencyFactory(code=f"A{index:02}", name=name, level=levels["province"])
    names = list(Agency.objects.order_by(vi_order("name")).values_list("name", flat=True))
    assert names == VIETNAMESE_ORDER


@pytest.mark.django_db
def test_agency_pickers_and_the_api_list_agencies_alphabetically(
    agencies, levels, monitor, api_client, client
):
    AgencyFactory(code="DAI", name="Đài Phát thanh và Truyền hình", level=levels["province"])
    AgencyFactory(code="CA", name="Công an tỉnh", level=levels["province"])
    AgencyFactory(code="DAN", name="Dân tộc", level=levels["province"])
    response = api_client(monitor).get("/api/v1/agencies/?page_size=100")
    names = [row["name"] for row in response.json()["results"]]
    assert names == vi_sorted(names)
    assert names.index("Dân tộc") < names.index("Đài Phát thanh và Truyền hình")
    # The dashboard's agency picker, by the names it shows (the short name, else the name).
    client.force_login(monitor)
    html = client.get(reverse("reports:dashboard")).content.decode()
    shown = ["Công an tỉnh", "Dân tộc", "Đài Phát thanh", "Sở TT&amp;TT", "UBND huyện Giao Thủy"]
    shown += ["UBND huyện Hải Hậu", "UBND tỉnh", "Xã Hải Trung"]
    picker = html[html.index('name="agency"') :]
    assert sorted(shown, key=picker.index) == shown


@pytest.mark.django_db
def test_a_tasks_coordinating_agencies_are_listed_alphabetically(
    task, levels, monitor, api_client, client
):
    # Codes in the opposite order to the names: Đ comes after D, whatever the codes say.
    dai = AgencyFactory(code="A_DAI", name="Đài Phát thanh", level=levels["province"])
    dan = AgencyFactory(code="B_DAN", name="Dân tộc", level=levels["province"])
    cong_an = AgencyFactory(code="C_CA", name="Công an tỉnh", level=levels["province"])
    task.coordinating_agencies.set([dai, dan, cong_an])
    expected = ["Công an tỉnh", "Dân tộc", "Đài Phát thanh"]
    api = api_client(monitor)
    detail = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert [a["name"] for a in detail["coordinating_agencies"]] == expected
    listed = api.get(f"/api/v1/tasks/?q={task.code}").json()["results"]
    assert [a["name"] for a in listed[0]["coordinating_agencies"]] == expected
    client.force_login(monitor)
    html = client.get(reverse("tasks_app:task-detail", args=[task.pk])).content.decode()
    assert sorted(expected, key=html.index) == expected


# --- Full names, family name first -------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_writes_full_names_family_name_first(task, agencies, api_client):
    from tests.factories import MembershipFactory

    user = UserFactory(username="nva", first_name="An", last_name="Nguyễn Văn")
    MembershipFactory(user=user, agency=agencies["haihau"], role="manager")
    client = api_client(user)
    assert client.get("/api/v1/me/").json()["full_name"] == "Nguyễn Văn An"
    services.status_update_record(task=task, author=user, state=TaskState.IN_PROGRESS, progress=10)
    updates = client.get(f"/api/v1/tasks/{task.pk}/updates/").json()
    rows = updates["results"] if isinstance(updates, dict) else updates
    assert rows[0]["author"]["full_name"] == "Nguyễn Văn An"


# --- Completed late: by how many days ------------------------------------------------------------


@pytest.fixture
def late_task(task, manager, monitor):
    """Due 30/06/2022, extended on 01/07 (asked on 30/06) to 10/07, completed on 15/07: five
    days after the due date in force on the completion day (fifteen after the original)."""
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 7, 10),
        reason="Chờ kinh phí",
        requested_at=at(D(2022, 6, 30)),
    )
    services.extension_approve(
        extension=extension, decided_by=monitor, decided_at=at(D(2022, 7, 1))
    )
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.COMPLETED,
        progress=100,
        completed_on=D(2022, 7, 15),
        result="Đã triển khai",
        recorded_at=at(D(2022, 7, 15), 16),
    )
    return task


@pytest.mark.django_db
def test_a_task_completed_late_says_by_how_many_days_in_the_api(
    late_task, make_task, monitor, api_client
):
    on_time = make_task(code="ON-TIME", due=D(2022, 12, 31))
    client = api_client(monitor)
    with time_machine.travel(at(D(2022, 7, 20)), tick=False):
        detail = client.get(f"/api/v1/tasks/{late_task.pk}/").json()
        listed = {row["code"]: row for row in client.get("/api/v1/tasks/").json()["results"]}
        july_end = client.get(f"/api/v1/tasks/{late_task.pk}/?as_of=2022-07-31").json()
        before = client.get(f"/api/v1/tasks/{late_task.pk}/?as_of=2022-07-14").json()
    assert (detail["category"], detail["days_late"]) == ("completed_late", 5)
    assert listed[late_task.code]["days_late"] == 5
    assert listed[on_time.code]["days_late"] is None
    assert july_end["days_late"] == 5
    # Not completed yet on 14/07: overdue, not late-completed.
    assert (before["category"], before["days_late"]) == ("overdue", None)


@pytest.mark.django_db
def test_a_task_completed_late_says_by_how_many_days_on_its_page(late_task, manager, client):
    client.force_login(manager)
    with time_machine.travel(at(D(2022, 7, 20)), tick=False):
        html = client.get(reverse("tasks_app:task-detail", args=[late_task.pk])).content
    assert 'data-days-late="5"' in html.decode()
    assert "trễ 5 ngày" in html.decode()


# --- A KPI's percentage of its target ---------------------------------------------------------


@pytest.mark.django_db
def test_a_kpi_shows_its_percentage_of_the_target(make_task, manager, api_client, client):
    kpi = make_task(code="KPI", due=D(2022, 12, 31), kpi_target=Decimal("11"), kpi_unit="xã")
    services.status_update_record(
        task=kpi,
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=40,
        kpi_actual=Decimal("5"),
    )
    data = api_client(manager).get(f"/api/v1/tasks/{kpi.pk}/").json()
    assert data["kpi_percent"] == "45.5"
    listed = api_client(manager).get("/api/v1/tasks/").json()["results"]
    assert [row["kpi_percent"] for row in listed if row["code"] == "KPI"] == ["45.5"]
    client.force_login(manager)
    html = client.get(reverse("tasks_app:task-detail", args=[kpi.pk])).content.decode()
    assert "đạt 45,5 % chỉ tiêu" in html


# --- Extension requests: on or before the due date in force ------------------------------------


@pytest.mark.django_db
def test_a_request_on_the_due_date_is_accepted(task, manager):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=at(D(2022, 6, 30), 23),
    )
    assert extension.pk


@pytest.mark.django_db
def test_a_late_request_is_refused_in_the_form_saying_since_when_the_task_is_overdue(
    task, manager, client
):
    client.force_login(manager)
    with time_machine.travel(at(D(2022, 7, 2)), tick=False):
        response = client.post(
            reverse("tasks_app:extension-request", args=[task.pk]),
            {"proposed_due": "2022-09-30", "reason": "Chờ kinh phí"},
        )
    assert response.status_code == 200
    assert "Nhiệm vụ đã quá hạn từ ngày 01/07/2022" in response.content.decode()
    assert not task.extensions.exists()


@pytest.mark.django_db
def test_a_late_request_is_a_400_with_a_field_message_in_the_api(task, manager, api_client):
    with time_machine.travel(at(D(2022, 7, 2)), tick=False):
        response = api_client(manager).post(
            f"/api/v1/tasks/{task.pk}/extensions/",
            {"proposed_due": "2022-09-30", "reason": "Chờ kinh phí"},
            format="json",
        )
    assert response.status_code == 400
    (message,) = response.json()["proposed_due"]
    assert message.startswith("Nhiệm vụ đã quá hạn từ ngày 01/07/2022")
    assert not task.extensions.exists()


@pytest.mark.django_db
def test_the_lead_time_is_configurable(task, manager, settings):
    settings.EXTENSION_REQUEST_LEAD_DAYS = 3
    with pytest.raises(services.ValidationError) as error:
        services.extension_request(
            task=task,
            requested_by=manager,
            proposed_due=D(2022, 9, 30),
            reason="Chờ kinh phí",
            requested_at=at(D(2022, 6, 28)),
        )
    assert "27/06/2022" in error.value.message_dict["proposed_due"][0]
    assert services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=at(D(2022, 6, 27)),
    ).pk


# --- Navigation and where the login lands ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", ["tasks_app:task-list", "reports:dashboard", "report-archive:list"]
)
def test_the_navigation_shows_each_place_once(page, monitor, client):
    client.force_login(monitor)
    html = client.get(reverse(page)).content.decode()
    nav = html[html.index('id="main-nav"') : html.index("</nav>")]
    for place in ("tasks_app:task-list", "reports:dashboard", "report-archive:list"):
        assert nav.count(f'href="{reverse(place)}"') == 1, place


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("leader", "reports:dashboard"),
        ("monitor", "tasks_app:task-list"),
        ("manager", "tasks_app:task-list"),
    ],
)
def test_a_leader_lands_on_the_dashboard_after_login(who, lands_on, request, client):
    user = request.getfixturevalue(who)
    user.set_password("mat-khau-123")
    user.save()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "mat-khau-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(lands_on)
