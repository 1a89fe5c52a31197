"""Header data for every page: who is on shift, and what is overdue."""

from typing import Any

from django.http import HttpRequest

from hotline.desk import live
from hotline.desk.selectors import header_counts
from operators.roles import can_work, is_supervisor


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated or not can_work(user):
        return {}
    poller = live.desk_poller()  # before the counts it stands for
    return {
        **poller,
        # A view that has just counted the same figures leaves them on the request.
        "header_counts": getattr(request, "header_counts", None) or header_counts(user),
        "is_supervisor": is_supervisor(user),
        "on_shift": getattr(getattr(user, "operator", None), "on_shift", False),
    }
