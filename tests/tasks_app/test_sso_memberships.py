"""Issue 17: the membership a single sign-on login gives (services.membership_grant_from_claims)
and the waiting rule for people without an agency (permissions.awaits_agency)."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry

from tasks_app import permissions, services
from tasks_app.choices import Role
from tasks_app.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _claims(settings):
    settings.OIDC_AGENCY_CLAIM = "agency"
    settings.OIDC_ROLE_CLAIM = "realm_access.roles"  # Keycloak's realm roles
    settings.OIDC_DEFAULT_ROLE = "officer"


def held(user) -> set[tuple[str, str]]:
    return set(Membership.objects.filter(user=user).values_list("agency__code", "role"))


def test_the_known_roles_of_a_keycloak_role_list_are_given_in_the_claimed_agency(agencies):
    person = UserFactory(username="nguoimoi")
    claims = {
        "agency": "UBND_HAIHAU",
        "realm_access": {"roles": ["offline_access", "manager", "uma_authorization"]},
    }

    created = services.membership_grant_from_claims(user=person, claims=claims, on=DAY)

    assert [(m.agency.code, m.role, m.valid_from) for m in created] == [
        ("UBND_HAIHAU", Role.MANAGER, DAY)
    ]
    entry = LogEntry.objects.get(object_id=str(created[0].pk))
    assert entry.user == person
    assert "đăng nhập một lần" in entry.get_change_message()


def test_granting_twice_gives_the_membership_once(agencies):
    person = UserFactory(username="nguoimoi")
    claims = {"agency": "UBND_HAIHAU", "realm_access": {"roles": ["officer"]}}

    first = services.membership_grant_from_claims(user=person, claims=claims, on=DAY)
    second = services.membership_grant_from_claims(user=person, claims=claims, on=DAY)

    assert len(first) == 1
    assert second == []
    assert held(person) == {("UBND_HAIHAU", Role.OFFICER)}
    assert LogEntry.objects.count() == 1


def test_without_a_role_claim_the_default_role_is_given(settings, agencies):
    settings.OIDC_ROLE_CLAIM = ""
    person = UserFactory(username="nguoimoi")

    services.membership_grant_from_claims(user=person, claims={"agency": "STTTT"}, on=DAY)

    assert held(person) == {("STTTT", Role.OFFICER)}


def test_nothing_is_given_while_no_agency_claim_is_configured(settings, agencies):
    settings.OIDC_AGENCY_CLAIM = ""
    person = UserFactory(username="nguoimoi")

    created = services.membership_grant_from_claims(
        user=person, claims={"agency": "STTTT", "realm_access": {"roles": ["monitor"]}}, on=DAY
    )

    assert created == []
    assert held(person) == set()


@pytest.mark.parametrize(
    "agency",
    [["UBND_HAIHAU", "UBND_GIAOTHUY"], "", 42, None],
    ids=["several", "blank", "not-text", "absent"],
)
def test_an_unclear_agency_claim_gives_nothing(agencies, agency):
    person = UserFactory(username="nguoimoi")

    created = services.membership_grant_from_claims(
        user=person, claims={"agency": agency, "realm_access": {"roles": ["officer"]}}, on=DAY
    )

    assert created == []
    assert held(person) == set()


def test_an_ended_membership_is_not_reopened_by_a_stale_claim(agencies):
    person = UserFactory(username="chuyendi")
    ended = MembershipFactory(
        user=person,
        agency=agencies["haihau"],
        role=Role.OFFICER,
        valid_to=DAY - datetime.timedelta(days=30),
    )

    created = services.membership_grant_from_claims(
        user=person,
        claims={"agency": "UBND_HAIHAU", "realm_access": {"roles": ["officer"]}},
        on=DAY,
    )

    assert created == []
    ended.refresh_from_db()
    assert ended.valid_to == DAY - datetime.timedelta(days=30)
    assert permissions.awaits_agency(person)


def test_a_person_waits_only_without_a_membership_in_force_and_a_whole_plan_view(
    agencies, officer, leader
):
    newcomer = UserFactory(username="nguoimoi")
    admin = UserFactory(username="admin", is_superuser=True)
    disabled = UserFactory(username="nghiviec", is_active=False)

    assert permissions.awaits_agency(newcomer)
    assert not permissions.awaits_agency(officer)
    assert not permissions.awaits_agency(leader)
    assert not permissions.awaits_agency(admin)  # the superuser reads the whole plan
    assert not permissions.awaits_agency(disabled)  # holds nothing and waits for nothing
