"""Roles, and the one vocabulary of who may do what, for pages, API, services and tasks alike.

Roles are Django groups holding named permissions; code asks for permissions, not groups.
Two answers, one per situation:
- a role that may not use a page or an action: 403, saying which role may
  (`require_supervisor`, `require_worker`, the `supervisor_required` view decorator and the
  API's `IsSupervisor`);
- an object that is not yours: 404, the same as a missing one (`hotline.desk.access.case_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from rest_framework.permissions import BasePermission

from hotline.errors import NotAllowed

OPERATORS_GROUP = "Operators"
SUPERVISORS_GROUP = "Supervisors"

PERM_WORK = "operators.work_cases"
PERM_SUPERVISE = "operators.supervise_cases"

ROLE_PERMISSIONS = {
    OPERATORS_GROUP: ["work_cases"],
    SUPERVISORS_GROUP: ["work_cases", "supervise_cases"],
}

UserLike = AbstractBaseUser | AnonymousUser


def can_work(user: UserLike) -> bool:
    return bool(user.is_active and user.has_perm(PERM_WORK))


def is_supervisor(user: UserLike) -> bool:
    return bool(user.is_active and user.has_perm(PERM_SUPERVISE))


def require_worker(user: UserLike) -> None:
    """Services: refuse anyone who cannot work cases (403)."""
    if not can_work(user):
        raise NotAllowed(gettext("Only operators can work cases."))


def require_supervisor(user: UserLike, refusal: str | None = None) -> None:
    """Services: refuse anyone but a supervisor (403), with what they tried in `refusal`."""
    if not is_supervisor(user):
        raise NotAllowed(refusal or gettext("Only supervisors can do this."))


def supervisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages for supervisors only: anyone else gets the 403 page, which says so."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_supervisor(request.user):
            raise PermissionDenied(gettext("This page is for supervisors."))
        return view(request, *args, **kwargs)

    return guarded


class IsSupervisor(BasePermission):
    """The API's `supervisor_required`: 403 with the same words."""

    @property
    def message(self) -> str:  # type: ignore[override]
        return gettext("This page is for supervisors.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_supervisor(request.user)
