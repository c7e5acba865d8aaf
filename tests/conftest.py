"""Shared fixtures: a small agency tree and the people of the permission tests.

UBND tỉnh (province)
├── Sở TT&TT            monitor: `monitor`
├── UBND huyện Hải Hậu  manager: `manager`, officer: `officer`, `colleague`
│   └── xã Hải Trung    manager: `commune_manager`
└── UBND huyện Giao Thủy manager: `outsider`
leader of UBND tỉnh: `leader`
"""

import copy
import datetime
from pathlib import Path

import pytest
from django.db import connection

from tasks_app.choices import AgencyKind, Role, SuccessionKind
from tasks_app.models import AgencySuccession
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
# The reorganisation of 2025: districts end, communes merge (map_2025).
REFORM_2025 = datetime.date(2025, 7, 1)


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


@pytest.fixture
def map_2025(levels, agencies):
    """The 2025 map, for the tests of the reorganisation: the district level, Hải Hậu,
    Giao Thủy and xã Hải Trung end on 30/06/2025; xã Hải Hậu (from Hải Trung) and xã Hải
    Anh begin on 01/07/2025, under the province."""
    last_day = REFORM_2025 - datetime.timedelta(days=1)
    levels["district"].valid_to = last_day
    levels["district"].save()
    for code in ("haihau", "giaothuy", "haitrung"):
        agencies[code].valid_to = last_day
        agencies[code].save()
    new = {
        code: AgencyFactory(
            code=code,
            name=name,
            short_name=short,
            level=levels["commune"],
            parent=agencies["province"],
            kind=AgencyKind.UBND,
            valid_from=REFORM_2025,
        )
        for code, name, short in [
            ("NB_XA_HAIHAU", "Ủy ban nhân dân xã Hải Hậu", "Xã Hải Hậu"),
            ("NB_XA_HAIANH", "Ủy ban nhân dân xã Hải Anh", "Xã Hải Anh"),
        ]
    }
    AgencySuccession.objects.create(
        predecessor=agencies["haitrung"],
        successor=new["NB_XA_HAIHAU"],
        date=REFORM_2025,
        kind=SuccessionKind.MERGE,
    )
    AgencySuccession.objects.create(
        predecessor=agencies["haihau"],
        successor=None,
        date=REFORM_2025,
        kind=SuccessionKind.ABOLISH,
    )
    return {**agencies, "xa_haihau": new["NB_XA_HAIHAU"], "xa_haianh": new["NB_XA_HAIANH"]}


@pytest.fixture
def eager():
    """Celery runs tasks inline (set on the app: settings are read once at start-up)."""
    from plan_tracker.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def database_url() -> str:
    """The URL of the database the tests run on, for a subprocess (a worker, pg_dump)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


# --- Issue 17: single sign-on against the tests' OpenID provider (tests/oidc_provider.py) --------


@pytest.fixture
def sso_provider():
    """A running OpenID provider on 127.0.0.1 (a free port), stopped after the test."""
    from tests.oidc_provider import Provider

    provider = Provider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, sso_provider):
    """Single sign-on on, against `sso_provider`, as a Keycloak deployment would configure
    it: the agency code in the claim `agency`, the role in `role`."""
    from plan_tracker import oidc

    settings.OIDC_RP_CLIENT_ID = sso_provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = sso_provider.client_secret
    settings.OIDC_OP_ISSUER = sso_provider.issuer
    settings.OIDC_AGENCY_CLAIM = "agency"
    settings.OIDC_ROLE_CLAIM = "role"
    # What settings.py does with OIDC_OP_ISSUER: the logout may redirect to the provider.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(sso_provider.issuer)
    settings.CONTENT_SECURITY_POLICY = policy
    oidc.forget_discovery()
    yield sso_provider
    oidc.forget_discovery()
