"""The supervisors' dashboard: page, self-refreshing fragment, CSV export and JSON API."""

from __future__ import annotations

import csv
from dataclasses import asdict
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.dashboard import metrics
from hotline.dashboard.charts import trend_svg
from hotline.desk.selectors import HeaderCounts
from operators.roles import IsSupervisor, supervisor_required


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        choices=[("today", _("Today")), ("7d", _("7 days")), ("30d", _("30 days")), ("custom", _("Custom"))],
        required=False,
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["period"] = data.get("period") or "7d"
        if data["period"] == "custom":
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError(_("A custom period needs a start and an end date."))
            if data["end"] < data["start"]:
                raise forms.ValidationError(_("The end date must be on or after the start date."))
            if (data["end"] - data["start"]).days > 366:
                raise forms.ValidationError(_("A custom period can span at most a year."))
        return data

    def period_or_none(self) -> metrics.Period | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return metrics.period_for(data["period"], start=data.get("start"), end=data.get("end"))

    @classmethod
    def parse(cls, query: Any) -> tuple[PeriodForm, metrics.Period | None]:
        """The period a query asks for (the last 7 days when it asks for none), or None if invalid."""
        form = cls(query or None)
        return form, (form.period_or_none() if query else metrics.period_for("7d"))


def _overdue_rows(cases: list[metrics.OverdueCase]) -> SafeString:
    """The overdue list's table rows, escaped, as one piece of HTML.

    200 rows: `{% url %}` and `|timesince` per row, then the template's four variables per
    row, were most of the page's rendering. The link comes from one reverse and string
    formatting, the wait is the same `timesince` with one now, and `format_html_join`
    escapes each value as the template did.
    """
    marker = 987654321
    link = reverse("case", args=[marker]).replace(str(marker), "{}")
    now = timezone.now()
    unassigned = gettext("unassigned")
    return format_html_join(
        "\n", '<tr class="sla-overdue"><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
        ((link.format(case.pk), case.number, case.owner or unassigned, timesince(case.awaiting_since, now))
         for case in cases),
    )


@require_GET
@supervisor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, period = PeriodForm.parse(request.GET)
    if period is None:
        return render(request, "hotline/dashboard.html", {"form": form}, status=400)
    figures = metrics.dashboard(period)
    # The header's counts are the dashboard's own "now" figures (a supervisor sees every
    # case): the context processor then does not count the open cases a second time.
    request.header_counts = HeaderCounts(  # type: ignore[attr-defined]
        overdue=figures.now.overdue, at_risk=figures.now.at_risk, unassigned=figures.now.unassigned,
    )
    context = {
        "form": form, "d": figures, "trend_chart": trend_svg(figures.trend, figures.sla_seconds),
        "overdue_rows": _overdue_rows(figures.overdue),
    }
    template = "hotline/dashboard_body.html" if getattr(request, "htmx", False) else "hotline/dashboard.html"
    return render(request, template, context)


def _stats_row(stat: metrics.ResponseStats) -> list[Any]:
    def fmt(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    share = stat.share_within
    return [
        stat.label, stat.received, stat.answered, fmt(stat.median_s), fmt(stat.p90_s), fmt(stat.max_s),
        "" if share is None else f"{share:.4f}",
    ]


@require_GET
@supervisor_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """Response times for the period, one row per group, for spreadsheets and reports."""
    form, period = PeriodForm.parse(request.GET)
    if period is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    figures = metrics.dashboard(period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="hotline-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["group", "key", "received", "answered", "median_s", "p90_s", "max_s", "share_within_sla"])
    writer.writerow(["all", *_stats_row(figures.overall)])
    for name, rows in (
        ("operator", figures.by_operator), ("channel", figures.by_channel), ("language", figures.by_language),
        ("day", figures.trend),
    ):
        for stat in rows:
            writer.writerow([name, *_stats_row(stat)])
    return response


def _stats_json(stat: metrics.ResponseStats) -> dict[str, Any]:
    data = asdict(stat)
    data["key"] = str(stat.key)
    data["share_within_sla"] = stat.share_within
    return data


# A date (YYYY-MM-DD), or empty: the form reads an empty value as none given.
_DAY_OR_EMPTY = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]}


class MetricsView(APIView):
    """GET /api/v1/metrics/?period=7d — the dashboard's figures, for supervisors."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(
        operation_id="metrics",
        summary="The dashboard's figures",
        parameters=[
            OpenApiParameter(
                "period", str, enum=["", "today", "7d", "30d", "custom"],
                description="The period of the response figures; 7d when empty or absent. custom needs start and end.",
            ),
            OpenApiParameter("start", _DAY_OR_EMPTY, description="First day of a custom period (empty: none)."),
            OpenApiParameter("end", _DAY_OR_EMPTY, description="Last day of a custom period, at most a year on."),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The figures (a plain object: no serializer)."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description=(
                "A malformed period, as {errors: {field: [messages]}}: custom without start and end, an end "
                "before the start, more than a year."
            )),
            403: OpenApiResponse(description="Not logged in, or not a supervisor."),
        },
        tags=["dashboard"],
    )
    def get(self, request: Request) -> Response:
        form, period = PeriodForm.parse(request.query_params)
        if period is None:
            return Response({"errors": form.errors}, status=400)
        d = metrics.dashboard(period)
        return Response({
            "period": {"key": period.key, "start": period.start, "end": period.end},
            "sla_seconds": d.sla_seconds,
            "now": asdict(d.now),
            "response": {
                "overall": _stats_json(d.overall),
                "by_operator": [_stats_json(s) for s in d.by_operator],
                "by_channel": [_stats_json(s) for s in d.by_channel],
                "by_language": [_stats_json(s) for s in d.by_language],
                "trend": [_stats_json(s) for s in d.trend],
            },
            "flow": {
                **asdict(d.flow),
                "avg_to_surrender": None,  # a timedelta: given in seconds below
                "avg_to_surrender_seconds": (
                    d.flow.avg_to_surrender.total_seconds() if d.flow.avg_to_surrender else None
                ),
            },
            "rewards": {
                "equipment": [{**row, "amount": str(row["amount"])} for row in d.rewards.equipment],
                "totals": [{**row, "due": str(row["due"]), "paid": str(row["paid"])} for row in d.rewards.totals],
            },
            "overdue": [
                {"case": c.pk, "stage": c.stage, "owner": c.owner, "awaiting_since": c.awaiting_since}
                for c in d.overdue
            ],
        })
