"""The search page: one box for a case number, an @username, a phone number or a name."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from hotline.desk.search import search_cases
from hotline.errors import DomainError

MAX_QUERY = 200


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """Results the viewer may see (desk/search.py); a case number found goes straight to it.
    A query that is none of the four kinds is a 400 with the reason beside the box."""
    text = request.GET.get("q", "")[:MAX_QUERY].strip()
    context: dict = {"q": text, "result": None, "error": ""}
    if not text:
        return render(request, "hotline/search.html", context)
    try:
        result = search_cases(actor=request.user, text=text)
    except DomainError as error:
        context["error"] = str(error)
        return render(request, "hotline/search.html", context, status=error.status_code)
    if result.kind == "number" and len(result.rows) == 1:
        return redirect("case", result.rows[0].case.pk)
    context["result"] = result
    return render(request, "hotline/search.html", context)
