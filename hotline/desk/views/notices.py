"""An operator's notices: what happened to their cases that they should know about (a colleague
logged a call from the person of one of them). The header counts the unread ones."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from hotline.desk import services
from hotline.desk.selectors import notices_of


@require_GET
def notices(request: HttpRequest) -> HttpResponse:
    return render(request, "hotline/notices.html", {"notices": notices_of(request.user)})


@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    services.notices_mark_read(actor=request.user)
    return redirect("notices")
