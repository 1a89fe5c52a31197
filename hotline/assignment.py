"""Auto-assignment: who gets a waiting case, and releasing an operator's cases.

A new or reopened unassigned case goes to the on-shift operator who can serve its language,
is under capacity and has the fewest active cases (ties: the longest since their last
assignment). When an operator comes on shift or frees capacity, waiting cases go to them in
waiting order. With no one fitting, a case waits in the unassigned queue, seen by everyone.

Locks: operator profile first, then the case (the order of case_take and case_take_next).
The case is locked with SKIP LOCKED: a case another transaction holds is being acted on
right now (taken, answered, closed), and waiting for it could deadlock with the actions that
lock the case before the profile (answering an unassigned case). Capacity and ownership are
re-checked under the locks, so two assigners at once never exceed a capacity and never give
a case two owners. Celery tasks call these functions; tests call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from operators.models import OperatorProfile
from operators.roles import can_work, is_supervisor

from .errors import InvalidInput, NotAllowed
from .models import Case, CaseEvent, EventKind, Stage
from .queueing import enqueue_on_commit
from .selectors import queue_order

logger = logging.getLogger(__name__)

# How many candidates assign_case tries when the best ones filled up meanwhile.
MAX_CANDIDATES = 20


class CaseBusy(Exception):
    """Another transaction holds the case's row; try again in a moment."""


def _active_cases_of(user_ref: OuterRef) -> Subquery:
    counts = (
        Case.objects.filter(owner_id=user_ref, closed_at__isnull=True)
        .order_by().values("owner_id").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts), Value(0))


def _works_cases(user_ref: OuterRef) -> Q:
    """The SQL side of operators.roles.can_work: a group or a user permission, or superuser."""
    work = Permission.objects.filter(content_type__app_label="operators", codename="work_cases")
    by_group = Exists(work.filter(group__user=user_ref))
    by_user = Exists(work.filter(user=user_ref))
    return Q(user__is_superuser=True) | by_group | by_user


def serves_language(language: str) -> Q:
    """Operators who speak `language`; one with no languages set serves any (as in case_take_next)."""
    if not language:
        return Q()
    speaks = OperatorProfile.languages.through.objects.filter(operatorprofile_id=OuterRef("pk"))
    return Exists(speaks.filter(language_id=language)) | ~Exists(speaks)


def candidates(language: str, *, exclude_user_id: int | None = None) -> QuerySet[OperatorProfile]:
    """On-shift operators who can take a case in `language` now, the best fit first."""
    profiles = (
        OperatorProfile.objects.filter(on_shift=True, user__is_active=True)
        .filter(_works_cases(OuterRef("user_id")))
        .filter(serves_language(language))
        .annotate(active=_active_cases_of(OuterRef("user_id")))
        .filter(active__lt=F("capacity"))
    )
    if exclude_user_id is not None:
        profiles = profiles.exclude(user_id=exclude_user_id)
    return profiles.order_by("active", F("last_assigned_at").asc(nulls_first=True), "pk")


def _active_count(user: User) -> int:
    return Case.objects.filter(owner=user, closed_at__isnull=True).count()


def assign_case(case_id: int, *, exclude_user_id: int | None = None) -> User | None:
    """Give one waiting case to the best-fitting operator. Returns the new owner, or None
    when the case no longer waits or nobody fits (it stays in the unassigned queue).

    Raises CaseBusy when another transaction holds the case: the caller retries.
    """
    from .services import _assign

    case = Case.objects.filter(pk=case_id, owner__isnull=True, closed_at__isnull=True).first()
    if case is None:
        return None
    best = candidates(case.language, exclude_user_id=exclude_user_id)
    tried = list(best.values_list("pk", flat=True)[:MAX_CANDIDATES])
    for profile_id in tried:
        with transaction.atomic():
            profile = OperatorProfile.objects.select_for_update().select_related("user").get(pk=profile_id)
            if not profile.on_shift or _active_count(profile.user) >= profile.capacity:
                continue  # filled up or left since the candidates were read
            locked = Case.objects.select_for_update(skip_locked=True).filter(pk=case_id).first()
            if locked is None:
                if Case.objects.filter(pk=case_id).exists():
                    raise CaseBusy(case_id)
                return None
            if locked.owner_id is not None or locked.closed_at is not None:
                return None
            _assign(locked, profile.user, None, timezone.now(), profile)
            logger.info("auto-assigned case=%s operator=%s", case_id, profile.user_id)
            return profile.user
    return None


def assign_waiting_to(operator_id: int, *, exclude_case_ids: Iterable[int] = ()) -> list[int]:
    """Fill an operator's free capacity with waiting cases in waiting order (they came on
    shift or closed a case). Cases another transaction holds are skipped, not waited for."""
    from .services import _assign

    with transaction.atomic():
        profile = OperatorProfile.objects.select_for_update().select_related("user").filter(user_id=operator_id).first()
        if profile is None or not profile.on_shift or not can_work(profile.user):
            return []
        free = profile.capacity - _active_count(profile.user)
        if free <= 0:
            return []
        waiting = Case.objects.filter(owner__isnull=True, closed_at__isnull=True).exclude(pk__in=list(exclude_case_ids))
        languages = list(profile.languages.values_list("code", flat=True))
        if languages:
            waiting = waiting.filter(language__in=[*languages, ""])
        cases = list(queue_order(waiting).select_for_update(skip_locked=True)[:free])
        now = timezone.now()
        for case in cases:
            _assign(case, profile.user, None, now, profile)
    if cases:
        logger.info("auto-assigned cases=%s operator=%s", len(cases), operator_id)
    return [case.pk for case in cases]


def assign_waiting(*, limit: int = 200) -> int:
    """The periodic safety net: offer every waiting case (oldest wait first) to the best
    fitting operator. Returns how many found an owner."""
    waiting = list(queue_order(Case.objects.filter(owner__isnull=True, closed_at__isnull=True)).values_list(
        "pk", flat=True)[:limit])
    assigned = 0
    for case_id in waiting:
        try:
            assigned += assign_case(case_id) is not None
        except CaseBusy:
            continue  # someone is acting on it; the next sweep looks again
    return assigned


# --- after-commit hooks the service layer calls ------------------------------------------------


def on_commit_assign_case(case_id: int, *, exclude_user_id: int | None = None) -> None:
    """Queue auto-assignment of a waiting case once the current transaction commits."""
    if not settings.AUTO_ASSIGN:
        return
    from .tasks import auto_assign_case_task

    enqueue_on_commit(auto_assign_case_task, case_id, exclude_user_id)


def on_commit_fill(operator_id: int, *, exclude_case_ids: Iterable[int] = ()) -> None:
    """Queue filling an operator's freed capacity once the current transaction commits."""
    if not settings.AUTO_ASSIGN:
        return
    from .tasks import auto_assign_operator_task

    enqueue_on_commit(auto_assign_operator_task, operator_id, list(exclude_case_ids))


# --- releasing an operator's cases ---------------------------------------------------------------


@transaction.atomic
def operator_release_cases(*, actor: User, operator: User, to: User | None = None) -> list[int]:
    """Move all of an operator's open cases back to the queue (to=None) or to another
    operator, e.g. when they go off shift. One transaction, one event per case.

    Going to another operator may exceed their capacity: a supervisor's deliberate choice,
    as with case_assign. Returned to the queue, the cases are offered to others after commit.
    """
    if not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors move an operator's cases."))
    if to is not None:
        if to.pk == operator.pk:
            raise InvalidInput(gettext("Choose another operator to receive the cases."))
        if not can_work(to):
            raise InvalidInput(gettext("%(name)s cannot work cases.") % {"name": to.get_username()})
    # Profiles in a fixed order (by user id), then the cases.
    users = sorted([operator, *([to] if to else [])], key=lambda u: u.pk)
    profiles = {}
    for user in users:
        OperatorProfile.objects.get_or_create(user=user)
        profiles[user.pk] = OperatorProfile.objects.select_for_update().get(user=user)
    cases = list(Case.objects.select_for_update().filter(owner=operator, closed_at__isnull=True).order_by("pk"))
    if not cases:
        return []
    ids = [case.pk for case in cases]
    now = timezone.now()
    if to is None:
        Case.objects.filter(pk__in=ids, stage=Stage.ASSIGNED).update(stage=Stage.NEW)
        Case.objects.filter(pk__in=ids).update(owner=None, assigned_at=None, updated_at=now)
        events = [
            CaseEvent(case_id=pk, kind=EventKind.UNASSIGNED, actor=actor, created_at=now,
                      data={"previous_owner_id": operator.pk, "released": True})
            for pk in ids
        ]
    else:
        Case.objects.filter(pk__in=ids).update(owner=to, assigned_at=now, updated_at=now)
        profile = profiles[to.pk]
        profile.last_assigned_at = now
        profile.save(update_fields=["last_assigned_at"])
        events = [
            CaseEvent(case_id=pk, kind=EventKind.ASSIGNED, actor=actor, created_at=now,
                      data={"operator_id": to.pk, "previous_owner_id": operator.pk, "released": True})
            for pk in ids
        ]
    CaseEvent.objects.bulk_create(events)
    if to is None:
        for pk in ids:
            on_commit_assign_case(pk, exclude_user_id=operator.pk)
    logger.info("released cases=%s operator=%s to=%s", len(ids), operator.pk, to.pk if to else None)
    return ids
