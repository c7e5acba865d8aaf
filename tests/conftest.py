"""Shared fixtures: a small agency tree and the people of the permission tests.

UBND tỉnh (province)
├── Sở TT&TT            monitor: `monitor`
├── UBND huyện Hải Hậu  manager: `manager`, officer: `officer`, `colleague`
│   └── xã Hải Trung    manager: `commune_manager`
└── UBND huyện Giao Thủy manager: `outsider`
leader of UBND tỉnh: `leader`
"""

import datetime
from pathlib import Path

import pytest
from django.db import connection

from tasks_app.choices import AgencyKind, Role
from tests.factories import (
    AgencyFactory,
    LevelFactory,
    MembershipFactory,
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
    UserFactory,
)

BROWSER_TESTS = Path(__file__).parent / "browser"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items):
    """Every test under tests/browser/ drives chromium: it gets the `browser` marker here,
    so a new browser test cannot be left out of the quick run (`make quick`)."""
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks and two real connections")


@pytest.fixture
def levels(db):
    return {
        "province": LevelFactory(code="province", name="Cấp tỉnh", order=1),
        "district": LevelFactory(code="district", name="Cấp huyện", order=2),
        "commune": LevelFactory(code="commune", name="Cấp xã", order=3),
    }


@pytest.fixture
def agencies(levels):
    province = AgencyFactory(
        code="UBND_TINH",
        name="Ủy ban nhân dân tỉnh Nam Định",
        short_name="UBND tỉnh",
        level=levels["province"],
        kind=AgencyKind.UBND,
    )
    stttt = AgencyFactory(
        code="STTTT",
        name="Sở Thông tin và Truyền thông",
        short_name="Sở TT&TT",
        level=levels["province"],
        parent=province,
    )
    haihau = AgencyFactory(
        code="UBND_HAIHAU",
        name="Ủy ban nhân dân huyện Hải Hậu",
        short_name="UBND huyện Hải Hậu",
        level=levels["district"],
        parent=province,
        kind=AgencyKind.UBND,
        place_name="Hải Hậu",
    )
    haitrung = AgencyFactory(
        code="HH_HAITRUNG",
        name="Ủy ban nhân dân xã Hải Trung",
        short_name="Xã Hải Trung",
        level=levels["commune"],
        parent=haihau,
        kind=AgencyKind.UBND,
        place_name="Hải Trung",
    )
    giaothuy = AgencyFactory(
        code="UBND_GIAOTHUY",
        name="Ủy ban nhân dân huyện Giao Thủy",
        short_name="UBND huyện Giao Thủy",
        level=levels["district"],
        parent=province,
        kind=AgencyKind.UBND,
        place_name="Giao Thủy",
    )
    return {
        "province": province,
        "stttt": stttt,
        "haihau": haihau,
        "haitrung": haitrung,
        "giaothuy": giaothuy,
    }


def _member(username, agency, role):
    user = UserFactory(username=username)
    MembershipFactory(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def manager(agencies):
    return _member("manager", agencies["haihau"], Role.MANAGER)


@pytest.fixture
def officer(agencies):
    return _member("officer", agencies["haihau"], Role.OFFICER)


@pytest.fixture
def colleague(agencies):
    return _member("colleague", agencies["haihau"], Role.OFFICER)


@pytest.fixture
def commune_manager(agencies):
    return _member("commune_manager", agencies["haitrung"], Role.MANAGER)


@pytest.fixture
def outsider(agencies):
    return _member("outsider", agencies["giaothuy"], Role.MANAGER)


@pytest.fixture
def monitor(agencies):
    return _member("monitor", agencies["stttt"], Role.MONITOR)


@pytest.fixture
def leader(agencies):
    return _member("leader", agencies["province"], Role.LEADER)


@pytest.fixture
def plan(agencies):
    return PlanFactory(
        code="CDS-TEST", issuing_agency=agencies["province"], monitor_agency=agencies["stttt"]
    )


@pytest.fixture
def area(plan):
    return PriorityAreaFactory(plan=plan, code="CQDT", name="Chính quyền số")


@pytest.fixture
def make_task(area, agencies):
    """Build a task of the test plan; lead agency Hải Hậu unless told otherwise."""

    def make(**kwargs):
        kwargs.setdefault("lead_agency", agencies["haihau"])
        if "due" in kwargs and "original_due" not in kwargs:
            kwargs["original_due"] = kwargs["due"]
        return TaskFactory(priority_area=area, **kwargs)

    return make


@pytest.fixture
def task(make_task):
    return make_task(due=datetime.date(2022, 6, 30))
