"""The one way a page performs an action: validate the form, call one service, answer.

Post/Redirect/Get: success redirects with a message. A refusal (invalid form or a
DomainError) writes nothing; a plain form post is redirected back with the message, an htmx
request gets the message with the refusal's own 4xx status, swapped into the page's flash area.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import push_url, reswap, retarget

from hotline.access import cases_visible_to
from hotline.errors import CaseNotFound, DomainError


def form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


def refuse(request: HttpRequest, text: str, status: int, back: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = render(request, "hotline/_flash.html", {"flash_error": text}, status=status)
        return push_url(reswap(retarget(response, "#flash"), "innerHTML"), False)
    messages.error(request, text)
    return redirect(back)


def perform(
    request: HttpRequest, form: forms.Form, call: Callable[[dict[str, Any]], Any], *, back: str, done: str,
    then: Callable[[Any], str] | None = None, case_id: int | None = None,
) -> HttpResponse:
    """Validate `form`, run `call(cleaned_data)` (one service), and answer as described above.

    A case the actor may not see is a 404 whatever the request, like the case page itself:
    checked before the form (`case_id`), so even a malformed post learns nothing else.
    """
    if case_id is not None and not cases_visible_to(request.user).filter(pk=case_id).exists():
        raise Http404
    if not form.is_valid():
        return refuse(request, form_errors(form), 400, back)
    try:
        result = call(form.cleaned_data)
    except CaseNotFound:
        raise Http404 from None
    except DomainError as error:
        return refuse(request, str(error), error.status_code, back)
    if done:
        messages.success(request, done)
    return redirect(then(result) if then else back)
