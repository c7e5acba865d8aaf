"""Server-side SVG charts for the dashboard and the monthly PDF.

Pure functions: plain data in, an SVG string out; no database, no request, nothing fetched
from outside. The same code draws the web page's charts and the PDF's (issue 7): only the
`variant` changes, which picks the font (an inline SVG's <text> does not inherit the page
font, and WeasyPrint needs a font it has: Liberation Serif covers every Vietnamese glyph).

Every chart is an <svg role="img"> labelled by its <title> and <desc> for screen readers;
each bar segment has its own <title> (a tooltip on screen). All text passes through
`escape`, so agency and area names (user data) cannot inject markup. Colours match the
category badges: green on time, orange late, blue in progress, red overdue, grey not
started; the legend and the numbers written on the bars keep the charts readable in
black-and-white print.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

from django.utils.translation import gettext as _

from tasks_app.choices import ReportCategory
from tasks_app.formatting import format_percent, format_rate

C = ReportCategory

WEB = "web"
PDF = "pdf"
FONTS = {
    WEB: "system-ui, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', "
    "'DejaVu Sans', sans-serif",
    PDF: "'Liberation Serif', 'Times New Roman', 'DejaVu Serif', serif",
}

# One palette for the charts; the dashboard's CSS uses the same values for its badges.
COLOURS: dict[str, str] = {
    C.COMPLETED_ON_TIME: "#2e7d32",  # green
    C.COMPLETED_LATE: "#ef6c00",  # orange
    C.IN_PROGRESS: "#1565c0",  # blue
    C.OVERDUE: "#c62828",  # red
    C.NOT_STARTED: "#9e9e9e",  # grey
    C.REGULAR: "#6a5acd",  # slate blue: no deadline
    C.WITHDRAWN: "#5d4037",  # brown (listed apart, not charted)
}
# Text drawn on a coloured segment: white where it contrasts enough, else near-black.
_TEXT_ON = {C.NOT_STARTED: "#111111"}
TEXT = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"

# The categories charted (withdrawn tasks are out of the totals), in report order.
CHART_CATEGORIES: tuple[str, ...] = (
    C.COMPLETED_ON_TIME,
    C.COMPLETED_LATE,
    C.IN_PROGRESS,
    C.OVERDUE,
    C.NOT_STARTED,
    C.REGULAR,
)


def escape(text: object) -> str:
    """Escape text for an SVG element or a double-quoted attribute."""
    return _xml_escape(str(text), {'"': "&quot;"})


@dataclass(frozen=True)
class CategoryRow:
    """One bar of a stacked chart: a label and its count per category."""

    label: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class RateRow:
    """One bar of the ranking chart: an agency, its on-time rate (0–1, None when nothing
    was due) and its overdue count."""

    label: str
    rate: float | None
    overdue: int


def _label(category: str) -> str:
    return str(ReportCategory(category).label)


def _wrap(text: str, width: int, lines: int = 2) -> list[str]:
    """Break `text` into at most `lines` lines of about `width` characters; the last line
    ends with an ellipsis when the text is longer."""
    words, out, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: max(width - 1, 1)].rstrip() + "…"
    return [line if len(line) <= width + 4 else line[: width + 3] + "…" for line in out]


class _Svg:
    """A small SVG writer: collects elements and wraps them with the accessible header."""

    def __init__(self, width: int, height: int, title: str, desc: str, variant: str):
        if variant not in FONTS:
            raise ValueError(f"unknown chart variant {variant!r}")
        self.width, self.height, self.title = width, height, title
        self.desc = desc or _("No tasks to show.")
        self.font = FONTS[variant]
        self.parts: list[str] = []
        # Ids derived from the content: the same data gives byte-identical SVG (a
        # regenerated PDF is the same), and different charts on one page differ.
        digest = hashlib.sha256(f"{title}\n{desc}".encode()).hexdigest()[:10]
        self.uid = f"chart-{digest}"

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(self, x, y, content, *, size=12, anchor="start", fill=TEXT, weight="normal"):
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{self.font}" font-size="{size}" '
            f'text-anchor="{anchor}" fill="{fill}" font-weight="{weight}">'
            f"{escape(content)}</text>"
        )

    def lines(self, x, y, lines: Sequence[str], *, size=12, anchor="end", tooltip=""):
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size + 2}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        title = f"<title>{escape(tooltip)}</title>" if tooltip else ""
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{self.font}" font-size="{size}" '
            f'text-anchor="{anchor}" fill="{TEXT}">{title}{spans}</text>'
        )

    def rect(self, x, y, w, h, fill, tooltip=""):
        title = f"<title>{escape(tooltip)}</title>" if tooltip else ""
        self.add(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
            f'fill="{fill}">{title}</rect>'
        )

    def line(self, x1, y1, x2, y2, stroke=GRID, width=1, dash=""):
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{width}"{dash_attr}/>'
        )

    def render(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
            f'viewBox="0 0 {self.width} {self.height}" width="{self.width}" '
            f'height="{self.height}" aria-labelledby="{self.uid}-title {self.uid}-desc" '
            f'font-family="{self.font}">'
            f'<title id="{self.uid}-title">{escape(self.title)}</title>'
            f'<desc id="{self.uid}-desc">{escape(self.desc)}</desc>'
            f"{''.join(self.parts)}</svg>"
        )


def _legend(svg: _Svg, x: float, y: float, categories: Sequence[str], max_width: float) -> float:
    """Draw the colour legend from (x, y), wrapping; return the y below it."""
    cursor_x, cursor_y = x, y
    for category in categories:
        label = _label(category)
        item_width = 18 + len(label) * 6.4 + 14
        if cursor_x + item_width > x + max_width and cursor_x > x:
            cursor_x, cursor_y = x, cursor_y + 18
        svg.rect(cursor_x, cursor_y - 10, 12, 12, COLOURS[category])
        svg.text(cursor_x + 17, cursor_y, label, size=11)
        cursor_x += item_width
    return cursor_y + 12


def _describe(rows: Sequence[CategoryRow]) -> str:
    parts = []
    for row in rows:
        counts = ", ".join(
            f"{_label(c)} {row.counts.get(c, 0)}" for c in CHART_CATEGORIES if row.counts.get(c)
        )
        parts.append(f"{row.label}: {counts or '0'}")
    return "; ".join(parts)


def category_bars(
    rows: Sequence[CategoryRow],
    *,
    title: str,
    desc: str = "",
    variant: str = WEB,
    width: int = 760,
) -> str:
    """Horizontal stacked bars, one per row (e.g. per priority area), of the task counts
    per category; each bar is as long as its row's total, so the bars compare sizes."""
    label_width = 230 if width >= 600 else 150
    chars = int(label_width / 6.6)
    bar_h, gap, top = 22, 16, 12
    legend_y = top + len(rows) * (bar_h + gap) + 18
    height = legend_y + 40
    svg = _Svg(width, height, title, desc or _describe(rows), variant)
    left, right = label_width + 10, width - 40
    biggest = max((sum(r.counts.get(c, 0) for c in CHART_CATEGORIES) for r in rows), default=0)
    scale = (right - left) / biggest if biggest else 0
    if not rows or not biggest:
        svg.text(width / 2, top + 20, _("No tasks to show."), anchor="middle", fill=MUTED)
    for index, row in enumerate(rows):
        y = top + index * (bar_h + gap)
        svg.lines(
            left - 8, y + 9, _wrap(row.label, chars), size=11, anchor="end", tooltip=row.label
        )
        x = left
        total = 0
        for category in CHART_CATEGORIES:
            n = row.counts.get(category, 0)
            if not n:
                continue
            w = n * scale
            tip = _("{label}: {category} {count}").format(
                label=row.label, category=_label(category), count=n
            )
            svg.rect(x, y, w, bar_h, COLOURS[category], tooltip=tip)
            if w >= 16:
                svg.text(
                    x + w / 2,
                    y + 15,
                    n,
                    size=11,
                    anchor="middle",
                    fill=_TEXT_ON.get(category, "#ffffff"),
                    weight="bold",
                )
            x += w
            total += n
        if total:
            svg.text(x + 5, y + 15, total, size=11, fill=MUTED)
    _legend(svg, 10, legend_y, CHART_CATEGORIES, width - 20)
    return svg.render()


def trend_columns(
    points: Sequence[tuple[datetime.date, Mapping[str, int]]],
    *,
    title: str,
    desc: str = "",
    variant: str = WEB,
    width: int = 760,
    height: int = 300,
) -> str:
    """Stacked columns of the category counts at each month end, with a line for the
    on-time share of the completed work drawn over them (overdue is the red top)."""
    rows = [CategoryRow(label=day.strftime("%d/%m/%Y"), counts=counts) for day, counts in points]
    svg = _Svg(width, height, title, desc or _describe(rows), variant)
    left, right, top, bottom = 44, width - 12, 14, height - 72
    totals = [sum(c.get(k, 0) for k in CHART_CATEGORIES) for _day, c in points]
    biggest = max(totals, default=0)
    if not points or not biggest:
        svg.text(width / 2, height / 2, _("No tasks to show."), anchor="middle", fill=MUTED)
        return svg.render()
    step = _nice_step(biggest)
    ceiling = step * -(-biggest // step)
    scale = (bottom - top) / ceiling
    for tick in range(0, ceiling + 1, step):
        y = bottom - tick * scale
        svg.line(left, y, right, y)
        svg.text(left - 6, y + 4, tick, size=10, anchor="end", fill=MUTED)
    slot = (right - left) / len(points)
    column = min(44, slot * 0.7)
    for index, (day, counts) in enumerate(points):
        x = left + index * slot + (slot - column) / 2
        y = bottom
        for category in CHART_CATEGORIES:
            n = counts.get(category, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            tip = _("{label}: {category} {count}").format(
                label=day.strftime("%d/%m/%Y"), category=_label(category), count=n
            )
            svg.rect(x, y, column, h, COLOURS[category], tooltip=tip)
            if h >= 13 and column >= 18:
                svg.text(
                    x + column / 2,
                    y + h / 2 + 4,
                    n,
                    size=10,
                    anchor="middle",
                    fill=_TEXT_ON.get(category, "#ffffff"),
                )
        svg.text(x + column / 2, bottom + 14, day.strftime("%m/%Y"), size=10, anchor="middle")
    svg.line(left, bottom, right, bottom, stroke=MUTED)
    _legend(svg, 10, bottom + 36, CHART_CATEGORIES, width - 20)
    return svg.render()


def _nice_step(biggest: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if biggest / step <= 6:
            return step
    return 10 ** (len(str(biggest)) - 1)


def ranking_bars(
    rows: Sequence[RateRow],
    *,
    title: str,
    desc: str = "",
    variant: str = WEB,
    width: int = 760,
) -> str:
    """Horizontal bars of the on-time rate per agency (0–100 %), in the given order, with
    the overdue count written beside each bar."""
    label_width = 210 if width >= 600 else 170
    chars = int(label_width / 6.6)
    bar_h, gap, top = 18, 10, 22
    height = top + max(len(rows), 1) * (bar_h + gap) + 10
    if not desc:
        desc = "; ".join(
            _("{label}: on-time rate {rate}, overdue {overdue}").format(
                label=r.label,
                rate=format_rate(r.rate, 0),
                overdue=r.overdue,
            )
            for r in rows
        )
    svg = _Svg(width, height, title, desc, variant)
    left, right = label_width + 10, width - 70
    svg.text(left, 12, format_percent(0, 0), size=10, fill=MUTED)
    svg.text(right, 12, format_percent(100, 0), size=10, anchor="end", fill=MUTED)
    svg.text(right + 12, 12, _("Overdue"), size=10, fill=MUTED)
    if not rows:
        svg.text(width / 2, top + 14, _("No tasks to show."), anchor="middle", fill=MUTED)
    for index, row in enumerate(rows):
        y = top + index * (bar_h + gap)
        svg.lines(left - 8, y + 12, _wrap(row.label, chars, lines=1), size=11, tooltip=row.label)
        svg.rect(left, y, right - left, bar_h, "#eef1f4")
        if row.rate is None:
            svg.text(left + 6, y + 12, _("nothing due yet"), size=10, fill=MUTED)
        else:
            w = (right - left) * row.rate
            tip = _("{label}: on-time rate {rate}").format(
                label=row.label, rate=format_rate(row.rate, 0)
            )
            svg.rect(left, y, w, bar_h, COLOURS[C.COMPLETED_ON_TIME], tooltip=tip)
            inside = w >= 40
            svg.text(
                left + w - 4 if inside else left + w + 4,
                y + 12,
                format_rate(row.rate, 0),
                size=10,
                anchor="end" if inside else "start",
                fill="#ffffff" if inside else TEXT,
                weight="bold",
            )
        colour = COLOURS[C.OVERDUE] if row.overdue else MUTED
        svg.text(right + 12, y + 12, row.overdue, size=11, fill=colour, weight="bold")
    return svg.render()


# --- The dashboard's charts, from the selectors' dataclasses (the PDF calls these too) -----


def area_chart(areas, as_of: datetime.date, *, variant: str = WEB, width: int = 760) -> str:
    """Categories per priority area (`reports.selectors.AreaRow` list)."""
    return category_bars(
        [CategoryRow(label=a.name, counts=a.counts.category_counts()) for a in areas],
        title=_("Tasks by priority area and status at {date}").format(
            date=as_of.strftime("%d/%m/%Y")
        ),
        variant=variant,
        width=width,
    )


def ranking_chart(ranking, *, variant: str = WEB, width: int = 520) -> str:
    """On-time rate of the agencies of one level (`reports.selectors.LevelRanking`)."""
    return ranking_bars(
        [
            RateRow(label=a.label, rate=a.counts.on_time_rate, overdue=a.counts.overdue)
            for a in ranking.agencies
        ],
        title=_("On-time rate and overdue tasks: {level}").format(level=ranking.name),
        variant=variant,
        width=width,
    )


def trend_chart(trend, *, variant: str = WEB, width: int = 760) -> str:
    """Categories at each month end (`reports.selectors.TrendPoint` list)."""
    return trend_columns(
        [(point.date, point.counts.category_counts()) for point in trend],
        title=_("Tasks by status at the end of each month"),
        variant=variant,
        width=width,
    )
