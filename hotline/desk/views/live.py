"""The polls that keep open pages current (the versions: desk/live.py).

- An open case page asks every CASE_POLL_SECONDS: `GET /cases/<id>/live/?v=<version>&t=<ticket>`.
  The same version: 204, read from the cache alone (the ticket, signed for this viewer and
  case when the page was shown, stands in for the access check). A new version: the case's
  head, conversation, path and timeline re-rendered (swapped out of band), after the access
  check; a case the viewer may no longer see stops the poll and says so.
- Every signed-in page asks every live.DESK_POLL_SECONDS: `GET /live/desk/?v=<version>&since=<t>`.
  A new version: the header's counts, a notice for each case given to the viewer since
  `since` (auto-assignment, a supervisor), and an htmx `desk-changed` event on which the
  queue's table refreshes itself.

Both are background requests (X-Background-Refresh): they neither extend the idle session
nor count as reads of a case (the page's visit already did, once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET

from hotline.desk import live, services
from hotline.desk.access import case_for
from hotline.desk.context_processors import remember_header_counts
from hotline.desk.selectors import header_counts, newly_owned
from hotline.desk.views.case import case_context, live_context, live_ticket
from hotline.errors import CaseNotFound
from operators.roles import can_work, is_supervisor


def _unchanged() -> HttpResponse:
    return HttpResponse(status=204)


@require_GET
def case_live(request: HttpRequest, case_id: int) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    if not constant_time_compare(request.GET.get("t", ""), live_ticket(actor.pk, case_id)):
        return HttpResponse(status=404)
    version = live.case_version(case_id)
    if constant_time_compare(request.GET.get("v", ""), version):
        return _unchanged()
    try:
        case = case_for(actor, case_id, related=("owner", "contact"))
    except CaseNotFound:  # a 404 like the page's; htmx still swaps it in (base.html), ending the poll
        return render(request, "hotline/_case_live_gone.html", status=404)
    services.case_mark_seen(actor=actor, case=case)
    context = case_context(request, case)
    context.update(live_context(request, case.pk, version))
    context["oob"] = True
    return render(request, "hotline/_case_live.html", context)


def _since(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


@require_GET
def desk_live(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    version = live.desk_version()
    if constant_time_compare(request.GET.get("v", ""), version):
        return _unchanged()  # says only that the desk did not change: nothing of a case
    if not can_work(actor):
        return HttpResponse(status=404)
    started = time.time()
    since = _since(request.GET.get("since", ""))
    counts = header_counts(actor)
    remember_header_counts(actor, counts, version)  # the pages opened next reuse them
    context = {
        "live_desk_version": version, "live_desk_since": f"{started:.3f}", "live_desk_seconds": live.DESK_POLL_SECONDS,
        "header_counts": counts, "is_supervisor": is_supervisor(actor),
        "newly_owned": newly_owned(actor, since) if since is not None else [], "oob": True,
    }
    response = render(request, "hotline/_desk_live.html", context)
    response["HX-Trigger"] = "desk-changed"
    return response
