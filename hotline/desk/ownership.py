"""Who owns a case: take, take next, assign, unassign, release and transfer, auto-assignment,
and the capacity rule. The one writer of `Case.owner` (`_set_owner`), and so of the stage
that only mirrors it: `new` (no owner, no answer yet) and `assigned` (an owner, no answer yet).
Every other stage is written by desk/services.py.

Auto-assignment: a new or reopened unassigned case goes to the on-shift operator who can
serve its language, is under capacity and has the fewest active cases (ties: the longest
since their last assignment). When an operator comes on shift or frees capacity, waiting
cases go to them in waiting order. With no one fitting, a case waits in the unassigned queue,
seen by everyone.

Locks (desk/guards.py): operator profiles first, then the case(s). Auto-assignment locks the
case with SKIP LOCKED: a case another transaction holds is being acted on right now (taken,
answered, closed), and waiting for it could deadlock with the actions that lock the case
before the profile (answering an unassigned case). Capacity and ownership are re-checked
under the locks, so two assigners at once never exceed a capacity and never give a case two
owners. Celery tasks call these functions by name (hotline/queueing.py); tests call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from hotline import queueing
from hotline.desk.access import case_for, open_cases_in_scope, require_manage
from hotline.desk.guards import lock_profile, lock_profiles, record_events, require_open
from hotline.desk.selectors import queue_order
from hotline.errors import InvalidInput, InvalidTransition, OverCapacity
from hotline.models import Case, EventKind, Stage
from operators.models import OperatorProfile
from operators.roles import can_work, require_supervisor, require_worker

logger = logging.getLogger(__name__)

# How many candidates assign_case tries when the best ones filled up meanwhile.
MAX_CANDIDATES = 20


class CaseBusy(Exception):
    """Another transaction holds the case's row; try again in a moment."""


# --- the one writer of the owner ----------------------------------------------------------------


def _set_owner(
    cases: list[Case], owner: User | None, *, actor: User | None, at: datetime,
    profile: OperatorProfile | None = None, **event_data: Any,
) -> None:
    """Give locked `cases` to `owner` (None: back to the queue), with one event per case.

    `profile` is the new owner's, locked: it records when they were last given a case (the
    auto-assignment's tie-break)."""
    events = []
    for case in cases:
        previous = case.owner_id
        case.owner = owner
        case.assigned_at = at if owner is not None else None
        if owner is not None and case.stage == Stage.NEW:
            case.stage = Stage.ASSIGNED
        elif owner is None and case.stage == Stage.ASSIGNED:
            case.stage = Stage.NEW
        case.updated_at = at
        data = {"operator_id": owner.pk} if owner is not None else {}
        events.append((case.pk, {**data, "previous_owner_id": previous, **event_data}))
    fields = ["owner", "assigned_at", "stage", "updated_at"]
    if len(cases) == 1:
        cases[0].save(update_fields=fields)
    else:
        Case.objects.bulk_update(cases, fields)
    record_events(events, EventKind.ASSIGNED if owner is not None else EventKind.UNASSIGNED, actor, at)
    if owner is not None and profile is not None:
        profile.last_assigned_at = at
        profile.save(update_fields=["last_assigned_at"])


# --- the capacity rule ----------------------------------------------------------------------------
#
# One rule for every path that gives a case an owner: an operator never goes past their
# capacity (open cases they own) by their own doing or the system's. Take and take next refuse
# at the limit; an answer (reply, call) by someone at the limit is sent, but the case stays
# unassigned and is offered to auto-assignment (a waiting person is never refused an answer);
# auto-assignment gives only within capacity; a reopened case goes back to its owner only
# within their capacity. Only a supervisor may go past someone's limit (assign, transfer), and
# only by confirming it (`over_limit`), which the event records. Lowering a capacity may leave
# someone over it: the Team page and the dashboard show such loads in red.


def active_case_count(operator: User) -> int:
    """Open cases the operator owns: what their capacity limits."""
    return Case.objects.filter(owner=operator, closed_at__isnull=True).count()


def _at_capacity(profile: OperatorProfile, user: User) -> bool:
    return active_case_count(user) >= profile.capacity


def _limit_reached(profile: OperatorProfile) -> str:
    return ngettext(
        "You are at your limit of %(n)s active case.", "You are at your limit of %(n)s active cases.",
        profile.capacity,
    ) % {"n": profile.capacity}


def _require_room(profile: OperatorProfile, operator: User, adding: int, *, over_limit: bool) -> dict[str, Any]:
    """A supervisor giving `adding` cases to `operator`: past their capacity only when confirmed.

    Returns what the events record (`over_limit` when the limit is passed)."""
    active = active_case_count(operator)
    if active + adding <= profile.capacity:
        return {}
    if not over_limit:
        raise OverCapacity(
            gettext(
                "%(name)s has %(active)s of %(capacity)s active cases: this would take them past their limit. "
                "Confirm to go over the limit."
            ) % {"name": operator.get_username(), "active": active, "capacity": profile.capacity}
        )
    return {"over_limit": True}


# --- an operator's own actions -------------------------------------------------------------------


@transaction.atomic
def case_take(*, actor: User, case_id: int) -> Case:
    """An operator takes an unassigned case for themself, within their capacity."""
    require_worker(actor)
    profile = lock_profile(actor)
    case = case_for(actor, case_id, lock=True)
    require_open(case)
    if case.owner_id == actor.pk:
        return case
    if case.owner_id is not None:
        raise InvalidTransition(gettext("Case %(number)s already has an owner.") % {"number": case.number})
    if _at_capacity(profile, actor):
        raise InvalidTransition(_limit_reached(profile))
    _set_owner([case], actor, actor=actor, at=timezone.now(), profile=profile)
    return case


def _waiting_for(actor: User, profile: OperatorProfile) -> tuple[QuerySet[Case], QuerySet[Case]]:
    """The unassigned open cases the actor sees, and those of them in a language they speak."""
    waiting = open_cases_in_scope(actor, "unassigned")  # without the visibility rule's OR (issue 18)
    languages = list(profile.languages.values_list("code", flat=True))
    return waiting, waiting.filter(language__in=[*languages, ""]) if languages else waiting


@transaction.atomic
def case_take_next(*, actor: User) -> Case | None:
    """Give the actor the longest-waiting unassigned case in a language they speak.

    SKIP LOCKED lets operators pressing at the same moment each get a different case.
    Returns None when nothing fits or the actor is at capacity (`why_nothing_to_take` says which).
    """
    require_worker(actor)
    profile = lock_profile(actor)
    if _at_capacity(profile, actor):
        return None
    _waiting, queue = _waiting_for(actor, profile)
    case = (
        queue.order_by(F("awaiting_since").asc(nulls_last=True), "received_at")
        .select_for_update(skip_locked=True)
        .first()
    )
    if case is None:
        return None
    _set_owner([case], actor, actor=actor, at=timezone.now(), profile=profile)
    return case


def why_nothing_to_take(actor: User) -> str:
    """Why take next gave the actor nothing, in their words: at their limit, no waiting case in
    their languages, or nothing waits at all (or colleagues are taking the last ones right now)."""
    profile = OperatorProfile.objects.get_or_create(user=actor)[0]
    if _at_capacity(profile, actor):
        return _limit_reached(profile) + " " + gettext("Close a case or hand one over to take another.")
    waiting, yours = _waiting_for(actor, profile)
    if yours.exists():
        return gettext("Colleagues are taking the last waiting cases right now; try again.")
    if waiting.exists():
        languages = ", ".join(profile.languages.values_list("code", flat=True))
        return gettext(
            "No waiting case is in your languages (%(languages)s); the waiting ones need another language."
        ) % {"languages": languages}
    return gettext("Nothing waits: the unassigned queue is empty.")


def take_for_answer(case: Case, actor: User, at: datetime, *, profile: OperatorProfile | None = None) -> bool:
    """Answering an unassigned case (a reply, a call) makes the one who answers its owner,
    within their capacity. At their limit the answer still goes out, but the case stays
    unassigned and is offered to auto-assignment after commit. Returns False in that case only.

    `case` is locked by the caller. The actor's profile, unless the caller locked it first
    (`profile`), is locked after the case, which is safe because auto-assignment skips a
    locked case instead of waiting for it."""
    if case.owner_id is not None:
        return True
    profile = profile or lock_profile(actor)
    if _at_capacity(profile, actor):
        on_commit_assign_case(case.pk, exclude_user_id=actor.pk)
        return False
    _set_owner([case], actor, actor=actor, at=at, profile=profile)
    return True


def release_if_over_capacity(case: Case, actor: User | None, at: datetime) -> bool:
    """A reopened case goes back to its owner only within their capacity; past it, the case
    returns to the queue and is offered to others. Returns True when it was returned.

    `case` is locked by the caller; the owner's profile is locked after it (as in
    `take_for_answer`)."""
    if case.owner_id is None:
        return False
    owner = User(pk=case.owner_id)
    profile = lock_profile(owner)
    if active_case_count(owner) <= profile.capacity:
        return False
    previous = case.owner_id
    _set_owner([case], None, actor=actor, at=at, over_capacity=True)
    on_commit_assign_case(case.pk, exclude_user_id=previous)
    return True


@transaction.atomic
def case_unassign(*, actor: User, case_id: int) -> Case:
    """Return a case to the unassigned queue."""
    case = case_for(actor, case_id, lock=True)
    require_manage(actor, case)
    require_open(case)
    if case.owner_id is None:
        return case
    previous = case.owner_id
    _set_owner([case], None, actor=actor, at=timezone.now())
    # Someone else may take it; the one who returned it gets other work, not this case back.
    on_commit_assign_case(case.pk, exclude_user_id=previous)
    on_commit_fill(previous, exclude_case_ids=[case.pk])
    return case


# --- supervisors: assign one case, move an operator's cases ----------------------------------------


@transaction.atomic
def case_assign(*, actor: User, case_id: int, operator: User, over_limit: bool = False) -> Case:
    """A supervisor gives a case to an operator; past their capacity only when the supervisor
    confirms it (`over_limit`, recorded in the event)."""
    require_supervisor(actor, gettext("Only supervisors assign cases to others."))
    if not can_work(operator):
        raise InvalidInput(gettext("%(name)s cannot work cases.") % {"name": operator.get_username()})
    profile = lock_profile(operator)
    case = case_for(actor, case_id, lock=True)
    require_open(case)
    if case.owner_id == operator.pk:
        return case
    previous = case.owner_id
    confirmed = _require_room(profile, operator, 1, over_limit=over_limit)
    _set_owner([case], operator, actor=actor, at=timezone.now(), profile=profile, **confirmed)
    if previous is not None:
        on_commit_fill(previous)
    return case


@transaction.atomic
def operator_release_cases(
    *, actor: User, operator: User, to: User | None = None, over_limit: bool = False,
) -> list[int]:
    """Move all of an operator's open cases back to the queue (to=None) or to another
    operator (a transfer), e.g. when they go off shift. One transaction, one event per case.

    Going past the receiver's capacity needs the supervisor's confirmation (`over_limit`), as
    with case_assign. Returned to the queue, the cases are offered to others after commit.
    """
    require_supervisor(actor, gettext("Only supervisors move an operator's cases."))
    if to is not None:
        if to.pk == operator.pk:
            raise InvalidInput(gettext("Choose another operator to receive the cases."))
        if not can_work(to):
            raise InvalidInput(gettext("%(name)s cannot work cases.") % {"name": to.get_username()})
    profiles = lock_profiles(operator, *([to] if to else []))
    cases = list(Case.objects.select_for_update().filter(owner=operator, closed_at__isnull=True).order_by("pk"))
    if not cases:
        return []
    confirmed = _require_room(profiles[to.pk], to, len(cases), over_limit=over_limit) if to else {}
    _set_owner(
        cases, to, actor=actor, at=timezone.now(), profile=profiles[to.pk] if to else None, released=True, **confirmed,
    )
    ids = [case.pk for case in cases]
    if to is None:
        for pk in ids:
            on_commit_assign_case(pk, exclude_user_id=operator.pk)
    logger.info("released cases=%s operator=%s to=%s", len(ids), operator.pk, to.pk if to else None)
    return ids


# --- auto-assignment ------------------------------------------------------------------------------


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


def assign_case(case_id: int, *, exclude_user_id: int | None = None) -> User | None:
    """Give one waiting case to the best-fitting operator. Returns the new owner, or None
    when the case no longer waits or nobody fits (it stays in the unassigned queue).

    Raises CaseBusy when another transaction holds the case: the caller retries.
    """
    case = Case.objects.filter(pk=case_id, owner__isnull=True, closed_at__isnull=True).first()
    if case is None:
        return None
    best = candidates(case.language, exclude_user_id=exclude_user_id)
    tried = list(best.values_list("pk", flat=True)[:MAX_CANDIDATES])
    for profile_id in tried:
        with transaction.atomic():
            profile = OperatorProfile.objects.select_for_update().select_related("user").get(pk=profile_id)
            if not profile.on_shift or _at_capacity(profile, profile.user):
                continue  # filled up or left since the candidates were read
            locked = Case.objects.select_for_update(skip_locked=True).filter(pk=case_id).first()
            if locked is None:
                if Case.objects.filter(pk=case_id).exists():
                    raise CaseBusy(case_id)
                return None
            if locked.owner_id is not None or locked.closed_at is not None:
                return None
            _set_owner([locked], profile.user, actor=None, at=timezone.now(), profile=profile)
            logger.info("auto-assigned case=%s operator=%s", case_id, profile.user_id)
            return profile.user
    return None


def assign_waiting_to(operator_id: int, *, exclude_case_ids: Iterable[int] = ()) -> list[int]:
    """Fill an operator's free capacity with waiting cases in waiting order (they came on
    shift or closed a case). Cases another transaction holds are skipped, not waited for."""
    with transaction.atomic():
        profile = OperatorProfile.objects.select_for_update().select_related("user").filter(user_id=operator_id).first()
        if profile is None or not profile.on_shift or not can_work(profile.user):
            return []
        free = profile.capacity - active_case_count(profile.user)
        if free <= 0:
            return []
        waiting = Case.objects.filter(owner__isnull=True, closed_at__isnull=True).exclude(pk__in=list(exclude_case_ids))
        languages = list(profile.languages.values_list("code", flat=True))
        if languages:
            waiting = waiting.filter(language__in=[*languages, ""])
        cases = list(queue_order(waiting).select_for_update(skip_locked=True)[:free])
        if cases:
            _set_owner(cases, profile.user, actor=None, at=timezone.now(), profile=profile)
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


# --- after-commit hooks ----------------------------------------------------------------------------


def on_commit_assign_case(case_id: int, *, exclude_user_id: int | None = None) -> None:
    """Queue auto-assignment of a waiting case once the current transaction commits."""
    if settings.AUTO_ASSIGN:
        queueing.enqueue_on_commit(queueing.AUTO_ASSIGN_CASE, case_id, exclude_user_id)


def on_commit_fill(operator_id: int, *, exclude_case_ids: Iterable[int] = ()) -> None:
    """Queue filling an operator's freed capacity once the current transaction commits."""
    if settings.AUTO_ASSIGN:
        queueing.enqueue_on_commit(queueing.AUTO_ASSIGN_OPERATOR, operator_id, list(exclude_case_ids))
