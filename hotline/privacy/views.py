"""The audit pages, for supervisors: who looked at a case, what an operator looked at.

These pages show who read what, never a case's content, so reading them is not itself a
read of a case. Anyone but a supervisor gets the 403 page.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hotline.desk.access import case_for
from hotline.desk.search import recent_searches
from hotline.errors import CaseNotFound
from hotline.privacy.audit import case_reads, operator_reads, reads_by_person, staff_events, staff_events_of
from operators.roles import supervisor_required

AUDIT_PAGE_SIZE = 50
# The audit index counts reads over this many days.
AUDIT_RECENT_DAYS = 30


@require_GET
@supervisor_required
def audit_index(request: HttpRequest) -> HttpResponse:
    """Every operator with how many case reads they made recently and when last, the latest
    searches (desk/search.py), and the latest actions on staff accounts (paginated)."""
    since = timezone.now() - timedelta(days=AUDIT_RECENT_DAYS)
    people = reads_by_person(since)
    actions = Paginator(staff_events(), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"people": people, "days": AUDIT_RECENT_DAYS, "actions": actions, "searches": recent_searches()}
    return render(request, "hotline/audit_index.html", context)


@require_GET
@supervisor_required
def case_reads_page(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = case_for(request.user, case_id)
    except CaseNotFound:
        raise Http404 from None
    page = Paginator(case_reads(case), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/audit_case.html", {"case": case, "page": page})


@require_GET
@supervisor_required
def operator_reads_page(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id)
    page = Paginator(operator_reads(person), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    actions = list(staff_events_of(person)[:AUDIT_PAGE_SIZE])
    return render(request, "hotline/audit_operator.html", {"person": person, "page": page, "actions": actions})
