"""{% load formatting %}: the template face of tasks_app/formatting.py (numbers,
percentages, names, lateness), for the pages, the e-mails and the monthly PDF."""

from django import template

from tasks_app import formatting

register = template.Library()


@register.filter
def percent(rate, places: int = formatting.PERCENT_PLACES) -> str:
    """{{ counts.on_time_rate|percent }}: a ratio 5/11 → "45,5 %"; None → "—"."""
    return formatting.format_rate(rate, int(places))


@register.filter
def percentage(value, places: int = formatting.PERCENT_PLACES) -> str:
    """{{ task.kpi_percent|percentage }}: a value already × 100 → "45,5 %"; None → "—"."""
    return formatting.format_percent(value, int(places))


@register.filter
def number(value, places=None) -> str:
    """{{ counts.total|number }} → "1.990"; {{ row.rate|number:1 }} → "45,5"; None → "—";
    an empty string stays empty."""
    if value == "":
        return ""
    return formatting.format_number(value, None if places in (None, "") else int(places))


@register.filter
def full_name(user) -> str:
    """{{ update.author|full_name }} → "Nguyễn Văn An" (family name first)."""
    return formatting.full_name(user)


@register.filter
def late_label(days) -> str:
    """{{ task_days_late|late_label }} → "trễ 3 ngày"; empty when not late."""
    return formatting.late_label(days)
