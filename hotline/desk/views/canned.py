"""Supervisors' page for canned replies (also in the admin). A refused save re-renders the page
with the form as typed and the error beside it."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.desk.canned import canned_reply_save
from hotline.desk.forms import CannedReplyForm
from hotline.desk.selectors import canned_replies_all, canned_reply
from hotline.desk.views._common import perform
from operators.roles import supervisor_required


def canned_page(
    request: HttpRequest, *, editing_id: int | None, form: forms.Form | None = None, status: int = 200,
) -> HttpResponse:
    editing = canned_reply(editing_id) if editing_id is not None else None
    return render(request, "hotline/canned.html", {
        "replies": canned_replies_all(),
        "form": form or CannedReplyForm(instance=editing, auto_id="canned_%s"),
        "editing": editing,
    }, status=status)


@require_GET
@supervisor_required
def canned_list(request: HttpRequest) -> HttpResponse:
    edit_id = request.GET.get("edit", "")
    return canned_page(request, editing_id=int(edit_id) if edit_id.isdigit() else None)


@require_POST
@supervisor_required
def canned_save(request: HttpRequest, canned_id: int | None = None) -> HttpResponse:
    def page(refused: forms.Form, status: int) -> HttpResponse:
        return canned_page(request, editing_id=canned_id, form=refused, status=status)

    return perform(
        request, CannedReplyForm(request.POST, auto_id="canned_%s"),
        lambda d: canned_reply_save(
            actor=request.user, canned_id=canned_id, title=d["title"], body=d["body"], language=d["language"],
            active=d["active"],
        ),
        back=reverse("canned_replies"), done=_("Canned reply saved."), page=page,
    )
