"""Query building blocks: agency subtrees, and the report category of tasks at a date as
annotations. The category's rules live in tasks_app/categories.py (the category engine);
this module only puts them on querysets. See DESIGN.md, "Status".
"""

import datetime

from django.db import models
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Subquery, Sum, When

from tasks_app.categories import (
    CATEGORY_BITS,
    ROLLUP_BY_MASK,
    end_of_day,
    facts_at,
    local_tz,
    own_category_expression,
    parent_category_expression,
)
from tasks_app.choices import FINISHED_STATES

__all__ = [
    "AdministrativeLevelQuerySet",
    "AgencyQuerySet",
    "MembershipQuerySet",
    "SimpleCase",
    "TaskQuerySet",
    "children_of_outer_task",
    "end_of_day",
    "local_tz",
]


def in_force_on(day: datetime.date) -> Q:
    """The rows whose validity (`valid_from`, `valid_to`: null for open-ended) covers `day`."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=day)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    )


class AdministrativeLevelQuerySet(models.QuerySet):
    def valid_on(self, day: datetime.date) -> "AdministrativeLevelQuerySet":
        """Levels in force on `day` (the district level ended on 30/06/2025)."""
        return self.filter(in_force_on(day))


class AgencyQuerySet(models.QuerySet):
    def subtree_of(self, *agencies) -> "AgencyQuerySet":
        """The given agencies and every agency below them."""
        condition = Q(pk__in=[])
        for agency in agencies:
            condition |= Q(path__startswith=agency.path)
        return self.filter(condition)

    def valid_on(self, day: datetime.date) -> "AgencyQuerySet":
        """Agencies that existed on `day`."""
        return self.filter(in_force_on(day))


class MembershipQuerySet(models.QuerySet):
    def valid_on(self, day: datetime.date) -> "MembershipQuerySet":
        """Memberships in force on `day` (no date: open-ended on that side)."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )


class SimpleCase(Func):
    """`CASE expression WHEN value THEN result … ELSE default END`: the expression is
    written (and evaluated) once, however many values are mapped (a searched CASE with
    one `expression = value` per WHEN would repeat the expression's SQL each time)."""

    def __init__(self, expression, mapping: dict, default=None, output_field=None):
        self.mapping = mapping
        self.default = default
        super().__init__(expression, output_field=output_field or models.CharField(null=True))

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        parts = ["WHEN %s THEN %s" for _ in self.mapping]
        values = [value for pair in self.mapping.items() for value in pair]
        return (
            f"CASE {sql} {' '.join(parts)} ELSE %s END",
            [*params, *values, self.default],
        )


def children_of_outer_task():
    """The children of the task the enclosing query is on (`OuterRef("pk")`).

    `parent__isnull=False` changes no result (parent = pk implies it), but lets PostgreSQL
    build its hashed form of such subqueries from the 5 % of tasks that have a parent
    rather than from every task: 2.8 ms less per use on 20,000 tasks."""
    from tasks_app.models import Task

    return Task.objects.filter(parent=OuterRef("pk"), parent__isnull=False)


class TaskQuerySet(models.QuerySet):
    def awaiting_new_owner(self) -> "TaskQuerySet":
        """Open tasks flagged "cần giao lại" (their lead agency ceased to exist): a task
        completed or stopped since it was flagged needs no new owner."""
        return self.filter(needs_reassignment=True).exclude(state__in=FINISHED_STATES)

    def leaves(self) -> "TaskQuerySet":
        """Tasks without children: the units of work that reports count."""
        from tasks_app.models import Task

        return self.filter(~Exists(Task.objects.filter(parent=OuterRef("pk"))))

    def with_history_at(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate what was known about each task at the end of `as_of`: `state_at`,
        `progress_at`, `completed_on_at`, `due_at` (the due date in force) and
        `due_at_completion` (categories.facts_at, the one place that computes them)."""
        return self.annotate(**facts_at(as_of))

    def with_own_category(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate the history fields of `with_history_at` and `own_category`: the report
        category at `as_of` from the task's own facts (NULL for a task not yet assigned;
        categories.own_category_expression)."""
        return self.with_history_at(as_of).annotate(own_category=own_category_expression(as_of))

    def with_category(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate `category` at `as_of` and `is_parent`, besides `own_category`.

        A leaf task's category is its own. A parent task (a plan item split per agency)
        rolls up its children's (categories.rollup): the categories present among them,
        one bit each, add up to a mask that `ROLLUP_BY_MASK` maps to the parent's.
        """
        children = children_of_outer_task()
        child_bits = (
            children.annotate(
                bit=SimpleCase(
                    own_category_expression(as_of),
                    CATEGORY_BITS,
                    default=0,
                    output_field=models.IntegerField(),
                )
            )
            .values("parent")
            .annotate(mask=Sum("bit", distinct=True))
            .values("mask")
        )
        rollup = SimpleCase(Subquery(child_bits[:1]), ROLLUP_BY_MASK, default=None)
        return (
            self.with_own_category(as_of)
            .annotate(is_parent=Exists(children))
            .annotate(
                category=Case(
                    When(is_parent=True, then=parent_category_expression(as_of, rollup)),
                    default=F("own_category"),
                    output_field=models.CharField(max_length=30, null=True),
                )
            )
        )
