"""Who may see which case, and who may act on it: one policy for pages, API, exports and tasks.

Seeing: supervisors see every case; operators the open unassigned ones and their own. A case
someone may not see is a 404, the same as a missing one (`case_for`), so its existence does
not leak. Acting on a case one can see is one of two rights, each a 403 when refused:
- manage (`may_manage`): its owner or a supervisor moves it through its stages, declares
  equipment, records the surrender, reopens or returns it;
- answer (`may_answer`): managing, or anyone who works cases while it has no owner, may write
  to the person, log a call, add a note or close it (duplicates and provocations are spotted
  in the queue). Answering an unassigned case makes the one who answers its owner.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from hotline.errors import CaseNotFound, NotAllowed
from hotline.models import Case
from operators.roles import can_work, is_supervisor, require_worker

Actor = AbstractBaseUser | AnonymousUser


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Supervisors see every case; operators the open unassigned ones and their own."""
    if is_supervisor(actor):
        return Case.objects.all()
    if can_work(actor):
        return Case.objects.filter(Q(owner=actor) | Q(owner__isnull=True, closed_at__isnull=True))
    return Case.objects.none()


QUEUE_SCOPES = ("mine", "unassigned", "all")


def open_cases_in_scope(actor: Actor, scope: str) -> QuerySet[Case]:
    """The open cases of one queue: "mine" (the actor's own), "unassigned", or "all"
    (supervisors; anyone else gets their own). Each is a subset of `cases_visible_to`, written
    without its OR: ANDed with a scope, the OR made PostgreSQL read the table (a BitmapOr and a
    heap scan) where the scope alone is one range of a partial index, counted index-only."""
    if not can_work(actor):
        return Case.objects.none()
    open_cases = Case.objects.filter(closed_at__isnull=True)
    if scope == "unassigned":
        return open_cases.filter(owner__isnull=True)
    if scope == "all" and is_supervisor(actor):
        return open_cases
    return open_cases.filter(owner=actor)


def case_for(actor: Actor, case_id: int, *, lock: bool = False, related: Sequence[str] = ()) -> Case:
    """Fetch a case the actor may see, optionally locking its row (inside a transaction) or
    joining `related` (the case page's owner and contact) in the same query.

    Raises CaseNotFound both for a missing case and for one the actor may not see.
    """
    queryset = cases_visible_to(actor)
    if related:
        queryset = queryset.select_related(*related)
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise CaseNotFound(gettext("Case %(id)s not found.") % {"id": case_id}) from None


def may_manage(actor: Actor, case: Case) -> bool:
    """The case's owner or a supervisor (see the module)."""
    if not can_work(actor):
        return False
    return (case.owner_id is not None and case.owner_id == actor.pk) or is_supervisor(actor)


def may_answer(actor: Actor, case: Case) -> bool:
    """Managing it, or anyone who works cases while it has no owner (see the module)."""
    return can_work(actor) and (case.owner_id is None or may_manage(actor, case))


def require_manage(actor: Actor, case: Case) -> None:
    require_worker(actor)
    if not may_manage(actor, case):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))


def require_answer(actor: Actor, case: Case) -> None:
    require_worker(actor)
    if not may_answer(actor, case):
        raise NotAllowed(gettext("Only the case's owner or a supervisor can do this."))
