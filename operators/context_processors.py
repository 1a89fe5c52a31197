"""`signed_in` for templates: logged in AND past the second factor (the header shows the desk)."""

from typing import Any

from django.http import HttpRequest

from .security import second_factor_done


def signin(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"signed_in": bool(user is not None and user.is_authenticated and second_factor_done(user))}
