"""Who may see which case: one policy for pages, API, exports and tasks alike."""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from operators.roles import can_work, is_supervisor

from .errors import CaseNotFound
from .models import Case


def cases_visible_to(actor: AbstractBaseUser | AnonymousUser) -> QuerySet[Case]:
    """Supervisors see every case; operators the open unassigned ones and their own."""
    if is_supervisor(actor):
        return Case.objects.all()
    if can_work(actor):
        return Case.objects.filter(Q(owner=actor) | Q(owner__isnull=True, closed_at__isnull=True))
    return Case.objects.none()


def case_for(
    actor: AbstractBaseUser | AnonymousUser, case_id: int, *, lock: bool = False, related: Sequence[str] = (),
) -> Case:
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
