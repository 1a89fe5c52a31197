"""Writes about staff: creating them with a role, shifts, preferences, and the supervisors'
actions on an account. Each supervisor's action on someone is a StaffEvent row (the audit).

Cases are not this module's business: moving an operator's cases is desk/ownership.py, and
deactivating someone (which also returns their cases to the queue) is hotline/desk/team.py.
A shift start asks for waiting cases by queueing the auto-assignment task by name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import import_module
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from hotline import queueing
from hotline.errors import InvalidInput, NotAllowed

from . import security
from .models import (
    AuthenticatorDevice,
    BackupCodeDevice,
    Language,
    OperatorProfile,
    StaffEvent,
    StaffEventKind,
    UserSession,
)
from .roles import OPERATORS_GROUP, SUPERVISORS_GROUP, is_supervisor, require_supervisor

logger = logging.getLogger(__name__)
ROLES = {"operator": OPERATORS_GROUP, "supervisor": SUPERVISORS_GROUP}
MAX_CAPACITY = 200


def record_staff_event(kind: str, *, actor: User | None, subject: User, **data: Any) -> StaffEvent:
    return StaffEvent.objects.create(kind=kind, actor=actor, subject=subject, data=data, created_at=timezone.now())


@transaction.atomic
def operator_create(
    *, username: str, password: str | None, supervisor: bool = False, languages: Iterable[str] = ("ru", "uk"),
    capacity: int = 10, on_shift: bool = False, first_name: str = "",
) -> User:
    """A staff user in the Operators or Supervisors group, with a profile."""
    user = User.objects.create_user(username=username, password=password, first_name=first_name)
    user.groups.add(Group.objects.get(name=SUPERVISORS_GROUP if supervisor else OPERATORS_GROUP))
    profile = OperatorProfile.objects.create(
        user=user, capacity=capacity, on_shift=on_shift, shift_changed_at=timezone.now() if on_shift else None,
    )
    profile.languages.set(Language.objects.filter(code__in=list(languages)))
    return user


def _locked_profile(user: User) -> OperatorProfile:
    OperatorProfile.objects.get_or_create(user=user)
    return OperatorProfile.objects.select_for_update().get(user=user)


@transaction.atomic
def operator_set_shift(*, actor: User, operator: User, on_shift: bool) -> OperatorProfile:
    """Start or end a shift: operators for themselves, supervisors for anyone."""
    if actor.pk != operator.pk and not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors change another operator's shift."))
    profile = _locked_profile(operator)
    _set_shift(actor, operator, profile, on_shift)
    return profile


def _set_shift(actor: User, operator: User, profile: OperatorProfile, on_shift: bool) -> None:
    """`profile` is locked. Someone else's shift change is a staff event; a shift start asks for
    waiting cases (auto-assignment, after commit)."""
    if profile.on_shift == on_shift:
        return
    profile.on_shift = on_shift
    profile.shift_changed_at = timezone.now()
    profile.save(update_fields=["on_shift", "shift_changed_at"])
    if actor.pk != operator.pk:
        record_staff_event(StaffEventKind.SHIFT_CHANGED, actor=actor, subject=operator, on_shift=on_shift)
    if on_shift and settings.AUTO_ASSIGN:  # waiting cases come to them after commit
        queueing.enqueue_on_commit(queueing.AUTO_ASSIGN_OPERATOR, operator.pk, [])


@transaction.atomic
def operator_update_preferences(*, actor: User, ui_language: str, time_zone: str) -> OperatorProfile:
    """An operator's own interface language and time zone."""
    if ui_language not in dict(settings.LANGUAGES):
        raise InvalidInput(gettext("Unknown interface language %(code)r.") % {"code": ui_language})
    if time_zone not in available_timezones():
        raise InvalidInput(gettext("Unknown time zone %(zone)r.") % {"zone": time_zone})
    profile = _locked_profile(actor)
    profile.ui_language = ui_language
    profile.time_zone = time_zone
    profile.save(update_fields=["ui_language", "time_zone"])
    return profile


@transaction.atomic
def operator_set_language(*, actor: User, ui_language: str) -> OperatorProfile:
    """An operator's own interface language, chosen on the login page's switch."""
    profile = _locked_profile(actor)
    return operator_update_preferences(actor=actor, ui_language=ui_language, time_zone=profile.time_zone)


def role_of(user: User) -> str:
    """"supervisor" or "operator": the group that gives the user their rights."""
    return "supervisor" if is_supervisor(user) else "operator"


@transaction.atomic
def operator_update(
    *, actor: User, operator: User, capacity: int | None = None, languages: Iterable[str] | None = None,
    role: str | None = None, on_shift: bool | None = None,
) -> OperatorProfile:
    """A supervisor changes someone's capacity, languages, shift or role; each change is audited.

    Lowering a capacity below someone's open cases is allowed (they keep them; they take no
    more until under it again): the Team page and the dashboard show such a load in red. A
    supervisor cannot change their own role (another supervisor must), so the desk never loses
    its last supervisor by a slip."""
    require_supervisor(actor, gettext("Only supervisors change an operator's settings."))
    profile = _locked_profile(operator)
    if capacity is not None and capacity != profile.capacity:
        if not 0 <= capacity <= MAX_CAPACITY:
            raise InvalidInput(gettext("Capacity must be between 0 and %(max)s.") % {"max": MAX_CAPACITY})
        record_staff_event(
            StaffEventKind.CAPACITY_CHANGED, actor=actor, subject=operator, before=profile.capacity, after=capacity,
        )
        profile.capacity = capacity
        profile.save(update_fields=["capacity"])
    if languages is not None:
        wanted = sorted(set(languages))
        known = sorted(Language.objects.filter(code__in=wanted).values_list("code", flat=True))
        if known != wanted:
            raise InvalidInput(gettext("Unknown language %(codes)s.") % {"codes": ", ".join(set(wanted) - set(known))})
        current = sorted(profile.languages.values_list("code", flat=True))
        if current != wanted:
            profile.languages.set(known)
            record_staff_event(
                StaffEventKind.LANGUAGES_CHANGED, actor=actor, subject=operator, before=current, after=wanted,
            )
    if role is not None and role != role_of(operator):
        if role not in ROLES:
            raise InvalidInput(gettext("Unknown role %(role)r.") % {"role": role})
        if operator.pk == actor.pk:
            raise InvalidInput(gettext("Ask another supervisor to change your own role."))
        before = role_of(operator)
        operator.groups.remove(*Group.objects.filter(name__in=ROLES.values()))
        operator.groups.add(Group.objects.get(name=ROLES[role]))
        for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):  # ModelBackend's, now stale
            operator.__dict__.pop(cache, None)
        record_staff_event(StaffEventKind.ROLE_CHANGED, actor=actor, subject=operator, before=before, after=role)
    if on_shift is not None:
        _set_shift(actor, operator, profile, on_shift)
    return profile


# --- sessions and access (SECURITY.md): a supervisor ends someone's sessions, or their access --


def end_all_sessions(operator: User, *, keep: str | None = None) -> int:
    """Delete every tracked session of `operator` but `keep` (a session key) from the session
    store and forget them. Returns how many ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = UserSession.objects.filter(user=operator).exclude(session_key=keep or "")
    keys = list(sessions.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=operator, session_key__in=keys).delete()
    return len(keys)


def _require_supervisor_of(actor: User, operator: User, refusal: str) -> None:
    require_supervisor(actor, refusal)
    if actor.pk == operator.pk:
        raise InvalidInput(gettext("Ask another supervisor to do this for your own account."))


@transaction.atomic
def operator_end_sessions(*, actor: User, operator: User) -> int:
    """Sign `operator` out everywhere (a lost laptop, a suspicion). Returns how many ended."""
    if actor.pk != operator.pk and not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors end another operator's sessions."))
    ended = end_all_sessions(operator)
    if actor.pk != operator.pk:
        record_staff_event(StaffEventKind.SESSIONS_ENDED, actor=actor, subject=operator, sessions=ended)
    logger.info("sessions ended user=%s by=%s count=%s", operator.pk, actor.pk, ended)
    return ended


@transaction.atomic
def operator_revoke_access(*, actor: User, operator: User) -> None:
    """No login, sessions ended, off shift. Their open cases are hotline/desk/team.py's part of
    deactivating someone, which calls this in the same transaction."""
    _require_supervisor_of(actor, operator, gettext("Only supervisors deactivate an operator."))
    user = User.objects.select_for_update().get(pk=operator.pk)
    OperatorProfile.objects.filter(user=user).update(on_shift=False, shift_changed_at=timezone.now())
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        operator.is_active = False
    ended = end_all_sessions(user)
    record_staff_event(StaffEventKind.DEACTIVATED, actor=actor, subject=user, sessions=ended)
    logger.info("operator deactivated user=%s by=%s sessions=%s", user.pk, actor.pk, ended)


@transaction.atomic
def operator_reactivate(*, actor: User, operator: User) -> None:
    """Give a deactivated account its access back (off shift; the second factor is kept)."""
    _require_supervisor_of(actor, operator, gettext("Only supervisors reactivate an operator."))
    user = User.objects.select_for_update().get(pk=operator.pk)
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    operator.is_active = True
    record_staff_event(StaffEventKind.REACTIVATED, actor=actor, subject=user)
    logger.info("operator reactivated user=%s by=%s", user.pk, actor.pk)


@transaction.atomic
def operator_reset_second_factor(*, actor: User, operator: User) -> None:
    """A lost phone: remove the operator's authenticator and backup codes and sign them out.

    Their next login enrols a new device, so do this only when you know who will log in next.
    """
    _require_supervisor_of(actor, operator, gettext("Only supervisors reset another operator's second factor."))
    AuthenticatorDevice.objects.filter(user=operator).delete()
    BackupCodeDevice.objects.filter(user=operator).delete()
    ended = end_all_sessions(operator)
    record_staff_event(StaffEventKind.SECOND_FACTOR_RESET, actor=actor, subject=operator, sessions=ended)
    logger.info("second factor reset user=%s by=%s", operator.pk, actor.pk)


# --- one's own second factor ----------------------------------------------------------------------


@transaction.atomic
def authenticator_replace(
    *, actor: User, password: str, current_code: str, new_device: AuthenticatorDevice, new_code: str,
    keep_session: str | None,
) -> list[str]:
    """Replace one's authenticator app (a new phone): the password AND a code of the current
    app or a backup code, besides a code of the new app. So a stolen session cookie alone
    cannot swap in the thief's own second factor. Every other session of the actor ends (the
    one with key `keep_session` goes on), and a StaffEvent records it. Returns the new backup
    codes (the old ones stop working).

    One refusal for any wrong factor, so a guess learns nothing about which one was right.
    Nothing is kept of a refused attempt: a backup code it checked is not used up.
    """
    accepted = (
        new_device.user_id == actor.pk and not new_device.confirmed
        and actor.check_password(password)
        and new_device.verify_token(new_code)
        and security.verify_current_code(actor, current_code) is not None
    )
    if not accepted:
        raise NotAllowed(gettext("The password or one of the codes is not right."))
    codes = security.confirm_totp(new_device)
    ended = end_all_sessions(actor, keep=keep_session)
    record_staff_event(StaffEventKind.AUTHENTICATOR_REPLACED, actor=actor, subject=actor, sessions=ended)
    logger.info("authenticator replaced user=%s other_sessions_ended=%s", actor.pk, ended)
    return codes
