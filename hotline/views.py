"""Pages: parse the request, call one selector or service, render. No rule lives here."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .access import case_for
from .errors import CaseNotFound
from .selectors import case_conversation, case_timeline, queue_cases

QUEUE_PAGE_SIZE = 50


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    scope = request.GET.get("scope", "mine")
    page = Paginator(queue_cases(request.user, scope=scope), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/queue.html", {"page": page, "scope": scope})


@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = case_for(request.user, case_id)
    except CaseNotFound:
        return render(request, "404.html", status=404)
    return render(
        request, "hotline/case.html",
        {"case": case, "conversation": case_conversation(case), "timeline": case_timeline(case)},
    )
