"""Template helpers of the dashboard: links to the task list and category counts.
Numbers and percentages: {% load formatting %} (tasks_app/formatting.py)."""

from django import template

from reports.links import tasks_url as build_tasks_url

register = template.Library()


@register.simple_tag
def tasks_url(filters, **slice_params) -> str:
    """{% tasks_url filters category="overdue" lead_agency=row.id %}: the task list behind
    a number, with the dashboard's filters."""
    return build_tasks_url(filters, **slice_params)


@register.filter
def count(counts, category: str) -> int:
    """{{ row.counts|count:"overdue" }}: one category's count."""
    return getattr(counts, category, 0)
