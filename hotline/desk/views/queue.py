"""The queue: my cases, unassigned, all (supervisors); take next; log an inbound call.

A refused form (take next, a row's Take, the inbound call) re-renders the queue as it was shown
(the forms carry the page's query string) with the error beside the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.desk import ownership, services
from hotline.desk.access import may_manage
from hotline.desk.display import queue_rows_shown
from hotline.desk.forms import ActionForm, CallLogForm, QueueFilterForm
from hotline.desk.selectors import queue_cases, queue_rows, queue_total
from hotline.desk.views._common import as_page, perform
from hotline.errors import InvalidTransition
from hotline.models import Case

QUEUE_PAGE_SIZE = 50
# How often the queue table refreshes itself (htmx polling), in seconds: the time left on each
# row. Changes refresh it within desk/live.py's DESK_POLL_SECONDS (the `desk-changed` event).
QUEUE_REFRESH_SECONDS = 60


class CountedPaginator(Paginator):
    """A paginator told its total (the ledger's count, `selectors.queue_total`) instead of
    running COUNT(*) over the list; with None it counts as usual."""

    def __init__(self, object_list: Any, per_page: int, *, total: int | None = None) -> None:
        super().__init__(object_list, per_page)
        if total is not None:
            self.__dict__["count"] = total  # the cached_property's slot


def _shown_query(request: HttpRequest, query: QueryDict | None) -> QueryDict:
    """The query string the queue was shown with: the GET's, or the one a form carried."""
    if query is None:
        return request.GET
    return QueryDict(str(query.get("query", "")))


def queue_page(
    request: HttpRequest, *, row_errors: dict[int, forms.Form] | None = None, take_next_form: forms.Form | None = None,
    call_form: forms.Form | None = None, status: int = 200, query: QueryDict | None = None,
) -> HttpResponse:
    """The whole page, or only the table when htmx polls for it; the bound forms of a refusal."""
    shown = _shown_query(request, query)
    filter_form = QueueFilterForm(shown)
    scope = filter_form.chosen_scope()
    filters = filter_form.filters()
    page = CountedPaginator(
        queue_cases(request.user, scope=scope, filters=filters), QUEUE_PAGE_SIZE,
        total=queue_total(request.user, scope=scope, filters=filters),
    ).get_page(shown.get("page"))
    # Names and previews for the page's rows only, then each row as shown (display.py: in Python).
    rows = queue_rows_shown(queue_rows(request.user, page.object_list), owners=scope == "all")
    without_page = shown.copy()
    without_page.pop("page", None)
    context = {
        "page": page, "rows": rows, "scope": scope, "filter_form": filter_form, "query": without_page.urlencode(),
        "shown_query": shown.urlencode(), "refresh_seconds": QUEUE_REFRESH_SECONDS,
        "row_errors": {pk: form.non_field_errors() for pk, form in (row_errors or {}).items()},
    }
    if query is None and request.htmx and not request.htmx.boosted:
        return render(request, "hotline/_queue_table.html", context, status=status)
    context["call_form"] = call_form or CallLogForm(auto_id="call_%s")
    context["take_next_form"] = take_next_form or ActionForm()
    return render(request, "hotline/queue.html", context, status=status)


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return queue_page(request)


def _case_url(case_id: int) -> str:
    return reverse("case", args=[case_id])


@require_POST
def take_next(request: HttpRequest) -> HttpResponse:
    """Give the operator the longest-waiting case they can serve (atomic, see ownership); when
    nothing fits, the queue says why beside the button (at the limit, languages, nothing waits)."""
    form = ActionForm(request.POST)

    def page(refused: forms.Form, status: int) -> HttpResponse:
        return queue_page(request, take_next_form=refused, status=status, query=request.POST)

    def then(case: Case | None) -> str | HttpResponse:
        if case is None:
            form.add_error(None, forms.ValidationError(ownership.why_nothing_to_take(request.user), code="nothing"))
            return as_page(request, page(form, InvalidTransition.status_code))
        messages.success(request, _("Case %(number)s is yours.") % {"number": case.number})
        return _case_url(case.pk)

    return perform(
        request, form, lambda _d: ownership.case_take_next(actor=request.user),
        back=reverse("queue") + "?scope=mine", done="", then=then, page=page,
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
        if may_manage(request.user, case):
            messages.success(request, _("Call logged on case %(number)s.") % {"number": case.number})
            return _case_url(case.pk)
        if case.owner_id is None:  # the operator is at their limit (hotline/desk/ownership.py)
            messages.info(request, _(
                "Call logged. You are at your limit of active cases, so the caller's case waits in the "
                "unassigned queue for a colleague."
            ))
            return reverse("queue")
        # A colleague's case: its number and owner stay unsaid (the service told the owner).
        messages.info(request, _("Call logged. The caller already has a case with a colleague, who has been told."))
        return reverse("queue")

    def page(refused: forms.Form, status: int) -> HttpResponse:
        return queue_page(request, call_form=refused, status=status, query=request.POST)

    return perform(request, form, log, back=reverse("queue"), done="", then=then, page=page)
