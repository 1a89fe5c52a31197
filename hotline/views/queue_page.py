"""The queue: my cases, unassigned, all (supervisors); take next; log an inbound call."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline import services
from hotline.forms import CallLogForm, QueueFilterForm
from hotline.models import Case
from hotline.selectors import queue_cases
from operators.roles import is_supervisor

from ._common import perform

QUEUE_PAGE_SIZE = 50
# How often the queue table refreshes itself (htmx polling), in seconds.
QUEUE_REFRESH_SECONDS = 10


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The whole page, or only the table when htmx polls for it."""
    filter_form = QueueFilterForm(request.GET)
    scope = filter_form.chosen_scope()
    page = Paginator(
        queue_cases(request.user, scope=scope, filters=filter_form.filters()), QUEUE_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page, "scope": scope, "filter_form": filter_form, "query": query.urlencode(),
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "hotline/_queue_table.html", context)
    context["call_form"] = CallLogForm(auto_id="call_%s")
    return render(request, "hotline/queue.html", context)


def _case_url(case_id: int) -> str:
    return reverse("case", args=[case_id])


@require_POST
def take_next(request: HttpRequest) -> HttpResponse:
    """Give the operator the longest-waiting case they can serve (atomic, see services)."""
    back = reverse("queue") + "?scope=mine"

    def then(case: Case | None) -> str:
        if case is None:
            messages.info(request, _("No waiting case fits you now (language or capacity)."))
            return back
        messages.success(request, _("Case %(number)s is yours.") % {"number": case.number})
        return _case_url(case.pk)

    return perform(
        request, forms.Form(request.POST), lambda _d: services.case_take_next(actor=request.user),
        back=back, done="", then=then,
    )


@require_POST
def call_log(request: HttpRequest) -> HttpResponse:
    """An inbound phone call: stored as a request and its human answer, in one service call."""
    form = CallLogForm(request.POST, auto_id="call_%s")

    def log(data: dict) -> services.Received:
        return services.call_log_inbound(
            actor=request.user, identifier=data["number"].strip() or data["caller_name"].strip(),
            caller_name=data["caller_name"], language=data["language"], summary=data["summary"],
        )

    def then(received: services.Received) -> str:
        case = received.case
        if case.owner_id == request.user.pk or is_supervisor(request.user):
            messages.success(request, _("Call logged on case %(number)s.") % {"number": case.number})
            return _case_url(case.pk)
        messages.warning(
            request, _("Call logged on case %(number)s, which another operator owns.") % {"number": case.number},
        )
        return reverse("queue")

    return perform(request, form, log, back=reverse("queue"), done="", then=then)
