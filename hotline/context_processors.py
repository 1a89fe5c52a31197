"""Header data for every page: who is on shift, and what is overdue."""

from typing import Any

from django.http import HttpRequest

from operators.roles import can_work, is_supervisor

from .selectors import header_counts


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated or not can_work(user):
        return {}
    return {
        "header_counts": header_counts(user),
        "is_supervisor": is_supervisor(user),
        "on_shift": getattr(getattr(user, "operator", None), "on_shift", False),
    }
