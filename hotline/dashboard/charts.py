"""Charts drawn on the server as SVG: no chart library, no CDN, readable without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from hotline.dashboard.metrics import ResponseStats

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


def _hours(seconds: float) -> float:
    return seconds / 3600


def _labelled(count: int, most: int = 8) -> list[tuple[int, str]]:
    """Which days get a date under the axis, and how each is anchored: about `most` of them, the
    last day always; the first is drawn from its point rightwards and the last leftwards, so no
    label runs past the chart's edge."""
    if count == 1:
        return [(0, "middle")]
    step = max(1, -(-count // most))
    chosen = list(range(0, count, step))
    if chosen[-1] != count - 1:
        if count - 1 - chosen[-1] < step / 2:  # too close to the last: it would overlap it
            chosen.pop()
        chosen.append(count - 1)
    return [(i, "start" if i == 0 else "end" if i == count - 1 else "middle") for i in chosen]


def trend_svg(trend: Sequence[ResponseStats], sla_seconds: float) -> SafeString:
    """Median and p90 of the first response per day, with the SLA as a dashed line."""
    points = [t for t in trend if t.median_s is not None]
    if not points:
        return format_html('<p class="empty">{}</p>', gettext("No answered requests in this period."))
    top = max([_hours(sla_seconds), *(_hours(t.p90_s or 0) for t in points)]) * 1.1 or 1
    span = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (i / span if len(points) > 1 else 0.5)

    def y(hours: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - hours / top)

    def line(attr: str) -> str:
        return " ".join(f"{x(i):.1f},{y(_hours(getattr(t, attr) or 0)):.1f}" for i, t in enumerate(points))

    ticks = [top * k / 4 for k in range(5)]
    grid = format_html_join(
        "", '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
        '<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>',
        ((LEFT, WIDTH - RIGHT, f"{y(t):.1f}", f"{y(t):.1f}", LEFT - 6, f"{y(t) + 4:.1f}",
          gettext("%(hours)s h") % {"hours": f"{t:.0f}"}) for t in ticks),
    )
    labels = format_html_join(
        "", '<text x="{}" y="{}" class="tick" text-anchor="{}">{}</text>',
        ((f"{x(i):.1f}", HEIGHT - 8, anchor, points[i].key.strftime("%d.%m")) for i, anchor in _labelled(len(points))),
    )
    dots = format_html_join(
        "", '<circle cx="{}" cy="{}" r="3" class="median"><title>{}</title></circle>',
        ((f"{x(i):.1f}", f"{y(_hours(t.median_s or 0)):.1f}",
          gettext("%(day)s: median %(median)s h, p90 %(p90)s h") % {
              "day": t.label, "median": f"{_hours(t.median_s or 0):.1f}", "p90": f"{_hours(t.p90_s or 0):.1f}",
          }) for i, t in enumerate(points)),
    )
    sla_y = y(_hours(sla_seconds))
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="trend-title">'
        '<title id="trend-title">{title}</title>'
        '{grid}{labels}'
        '<line x1="{l}" x2="{r}" y1="{sy}" y2="{sy}" class="sla"/>'
        '<text x="{r}" y="{sty}" class="tick sla-label" text-anchor="end">{sla}</text>'
        '<polyline points="{p90}" class="p90"/><polyline points="{median}" class="median"/>{dots}</svg>',
        w=WIDTH, h=HEIGHT, grid=grid, labels=labels, l=LEFT, r=WIDTH - RIGHT, sy=f"{sla_y:.1f}", sty=f"{sla_y - 4:.1f}",
        title=gettext("First response time per day: median and 90th percentile, hours"),
        sla=gettext("SLA %(hours)s h") % {"hours": f"{_hours(sla_seconds):.0f}"},
        p90=line("p90_s"), median=line("median_s"), dots=dots,
    )
