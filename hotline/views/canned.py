"""Supervisors' page for canned replies (also in the admin)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.canned import canned_reply_save
from hotline.forms import CannedReplyForm
from hotline.models import CannedReply
from operators.roles import is_supervisor

from ._common import perform


def _require_supervisor(request: HttpRequest) -> None:
    if not is_supervisor(request.user):
        raise Http404  # like a case that is not yours: the page's existence does not matter


@require_GET
def canned_list(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    edit_id = request.GET.get("edit")
    editing = CannedReply.objects.filter(pk=edit_id).first() if edit_id and edit_id.isdigit() else None
    return render(request, "hotline/canned.html", {
        "replies": CannedReply.objects.order_by("-active", "title", "pk"),
        "form": CannedReplyForm(instance=editing, auto_id="canned_%s"),
        "editing": editing,
    })


@require_POST
def canned_save(request: HttpRequest, canned_id: int | None = None) -> HttpResponse:
    _require_supervisor(request)
    return perform(
        request, CannedReplyForm(request.POST),
        lambda d: canned_reply_save(
            actor=request.user, canned_id=canned_id, title=d["title"], body=d["body"], language=d["language"],
            active=d["active"],
        ),
        back=reverse("canned_replies"), done=_("Canned reply saved."),
    )
