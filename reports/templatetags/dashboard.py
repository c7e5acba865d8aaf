"""Template helpers of the dashboard: links to the task list and percentages."""

from django import template
from django.utils.formats import number_format

from reports.links import tasks_url as build_tasks_url

register = template.Library()


@register.simple_tag
def tasks_url(filters, **slice_params) -> str:
    """{% tasks_url filters category="overdue" lead_agency=row.id %}: the task list behind
    a number, with the dashboard's filters."""
    return build_tasks_url(filters, **slice_params)


@register.filter
def percent(rate) -> str:
    """0.756 → "75,6 %" in Vietnamese ("75.6%" in English); None → "—"."""
    if rate is None:
        return "—"
    return f"{number_format(rate * 100, 1, use_l10n=True)}%"


@register.filter
def count(counts, category: str) -> int:
    """{{ row.counts|count:"overdue" }}: one category's count."""
    return getattr(counts, category, 0)
