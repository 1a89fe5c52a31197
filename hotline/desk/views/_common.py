"""The one way a page performs an action: validate the form, call one service, answer.

Post/Redirect/Get: success redirects with a message. A refusal (an invalid form, or a
DomainError from the service) writes nothing and re-renders the page the form lives on
(`page(form, status)`): the error stands beside the form that caused it, what was typed is
kept, and the status is the refusal's own 4xx (400 for a malformed form). Plain posts and
htmx (boosted) posts get the same page; for htmx it replaces the body (base.html's
`responseHandling` swaps 4xx answers) and the address stays the page's. A form without a page
of its own (the header's shift toggle) falls back to a message on the page it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import push_url, reswap, retarget

from hotline.desk.access import cases_visible_to
from hotline.errors import CaseNotFound, DomainError

# Re-renders the page a refused form lives on, the bound form in place, with this status.
Page = Callable[[forms.Form, int], HttpResponse]


def form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


def as_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A whole page answering an htmx request: it replaces the body, the address stays."""
    if getattr(request, "htmx", False):
        return push_url(reswap(retarget(response, "body"), "innerHTML"), False)
    return response


def refuse(request: HttpRequest, text: str, status: int, back: str) -> HttpResponse:
    """A refusal with no page to re-render: the message, on the page the form came from."""
    if getattr(request, "htmx", False):
        response = render(request, "hotline/_flash.html", {"flash_error": text}, status=status)
        return push_url(reswap(retarget(response, "#flash"), "innerHTML"), False)
    messages.error(request, text)
    return redirect(back)


def refuse_with_page(request: HttpRequest, form: forms.Form, status: int, page: Page) -> HttpResponse:
    return as_page(request, page(form, status))


def perform(
    request: HttpRequest, form: forms.Form, call: Callable[[dict[str, Any]], Any], *, back: str, done: str,
    then: Callable[[Any], str | HttpResponse] | None = None, case_id: int | None = None, page: Page | None = None,
) -> HttpResponse:
    """Validate `form`, run `call(cleaned_data)` (one service), and answer as described above.

    A case the actor may not see is a 404 whatever the request, like the case page itself:
    checked before the form (`case_id`), so even a malformed post learns nothing else.
    `then(result)` gives where to go after success (or a whole response, e.g. a refusal the
    service expressed by its result).
    """
    if case_id is not None and not cases_visible_to(request.user).filter(pk=case_id).exists():
        raise Http404
    if not form.is_valid():
        if page is not None:
            return refuse_with_page(request, form, 400, page)
        return refuse(request, form_errors(form), 400, back)
    try:
        result = call(form.cleaned_data)
    except CaseNotFound:
        raise Http404 from None
    except DomainError as error:
        if page is None:
            return refuse(request, str(error), error.status_code, back)
        field = error.field if error.field in form.fields else None
        form.add_error(field, ValidationError(str(error), code=error.code))
        return refuse_with_page(request, form, error.status_code, page)
    if done:
        messages.success(request, done)
    target = then(result) if then else back
    return target if isinstance(target, HttpResponse) else redirect(target)
