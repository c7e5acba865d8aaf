"""factory_boy factories for the domain model."""

import datetime

import factory
from django.contrib.auth import get_user_model

from tasks_app import models
from tasks_app.choices import AgencyKind, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.vn")
    password = factory.django.Password("secret-pass-123")


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AdministrativeLevel
        django_get_or_create = ("code",)

    code = "province"
    name = "Cấp tỉnh"
    order = 1


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Agency

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.Sequence(lambda n: f"Sở số {n}")
    level = factory.SubFactory(LevelFactory)
    kind = AgencyKind.DEPARTMENT
    place_name = "Nam Định"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.MANAGER


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Plan

    code = factory.Sequence(lambda n: f"PLAN-{n}")
    title = factory.Sequence(lambda n: f"Kế hoạch chuyển đổi số số {n}")
    issuing_agency = factory.SubFactory(AgencyFactory)
    period_start = datetime.date(2022, 1, 1)
    period_end = datetime.date(2022, 12, 31)


class PriorityAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.PriorityArea

    plan = factory.SubFactory(PlanFactory)
    code = factory.Sequence(lambda n: f"PA{n}")
    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")


class TaskFactory(factory.django.DjangoModelFactory):
    """A task due 30/06/2022, assigned 01/01/2022, not started."""

    class Meta:
        model = models.Task

    priority_area = factory.SubFactory(PriorityAreaFactory)
    plan = factory.SelfAttribute("priority_area.plan")
    code = factory.Sequence(lambda n: f"T-{n:04d}")
    title = factory.Sequence(lambda n: f"Nhiệm vụ chuyển đổi số {n}")
    lead_agency = factory.SubFactory(AgencyFactory)
    assigned_on = datetime.date(2022, 1, 1)
    original_due = datetime.date(2022, 6, 30)
    due = factory.SelfAttribute("original_due")


def asked_in_time(task) -> datetime.datetime:
    """A moment an extension of `task` may be asked for: 09:00 (Asia/Ho_Chi_Minh) on its due
    date in force (services.extension_request refuses a request made after it)."""
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(
        task.due, datetime.time(9), tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")
    )
