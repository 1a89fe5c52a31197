"""The audit of reads, for supervisors: who looked at a case, what an operator looked at.

These pages show who read what, never a case's content, so reading them is not itself a
read of a case. Anyone else gets a 404, like a case that is not theirs.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hotline.access import case_for
from hotline.errors import CaseNotFound
from hotline.selectors import case_reads, operator_reads, reads_by_person
from operators.roles import is_supervisor

AUDIT_PAGE_SIZE = 50
# The audit index counts reads over this many days.
AUDIT_RECENT_DAYS = 30


def _require_supervisor(request: HttpRequest) -> None:
    if not is_supervisor(request.user):
        raise Http404


@require_GET
def audit_index(request: HttpRequest) -> HttpResponse:
    """Every operator with how many case reads they made recently and when last."""
    _require_supervisor(request)
    since = timezone.now() - timedelta(days=AUDIT_RECENT_DAYS)
    people = reads_by_person(since)
    return render(request, "hotline/audit_index.html", {"people": people, "days": AUDIT_RECENT_DAYS})


@require_GET
def case_reads_page(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_supervisor(request)
    try:
        case = case_for(request.user, case_id)
    except CaseNotFound:
        raise Http404 from None
    page = Paginator(case_reads(case), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/audit_case.html", {"case": case, "page": page})


@require_GET
def operator_reads_page(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_supervisor(request)
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        raise Http404
    page = Paginator(operator_reads(person), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/audit_operator.html", {"person": person, "page": page})
