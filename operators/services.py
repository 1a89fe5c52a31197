"""Writes about operators: creating staff with a role, and shifts."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .models import Language, OperatorProfile
from .roles import OPERATORS_GROUP, SUPERVISORS_GROUP, is_supervisor


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


@transaction.atomic
def operator_set_shift(*, actor: User, operator: User, on_shift: bool) -> OperatorProfile:
    """Start or end a shift: operators for themselves, supervisors for anyone."""
    from hotline.errors import NotAllowed

    if actor.pk != operator.pk and not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors change another operator's shift."))
    profile, _ = OperatorProfile.objects.select_for_update().get_or_create(user=operator)
    if profile.on_shift != on_shift:
        profile.on_shift = on_shift
        profile.shift_changed_at = timezone.now()
        profile.save(update_fields=["on_shift", "shift_changed_at"])
        if on_shift:
            from hotline.assignment import on_commit_fill

            on_commit_fill(operator.pk)  # waiting cases come to them after commit
    return profile


@transaction.atomic
def operator_update_preferences(*, actor: User, ui_language: str, time_zone: str) -> OperatorProfile:
    """An operator's own interface language and time zone."""
    from zoneinfo import available_timezones

    from django.conf import settings

    from hotline.errors import InvalidInput

    if ui_language not in dict(settings.LANGUAGES):
        raise InvalidInput(gettext("Unknown interface language %(code)r.") % {"code": ui_language})
    if time_zone not in available_timezones():
        raise InvalidInput(gettext("Unknown time zone %(zone)r.") % {"zone": time_zone})
    profile, _ = OperatorProfile.objects.select_for_update().get_or_create(user=actor)
    profile.ui_language = ui_language
    profile.time_zone = time_zone
    profile.save(update_fields=["ui_language", "time_zone"])
    return profile


# --- sessions and access (SECURITY.md): a supervisor ends someone's sessions, or their access --
def _end_sessions(operator: User) -> int:
    """Delete every tracked session of `operator` from the session store and forget them."""
    from importlib import import_module

    from django.conf import settings

    from .models import UserSession

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=operator).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=operator).delete()
    return len(keys)


def _require_supervisor_of(actor: User, operator: User, refusal: str) -> None:
    from hotline.errors import InvalidInput, NotAllowed

    if not is_supervisor(actor):
        raise NotAllowed(refusal)
    if actor.pk == operator.pk:
        raise InvalidInput(gettext("Ask another supervisor to do this for your own account."))


@transaction.atomic
def operator_end_sessions(*, actor: User, operator: User) -> int:
    """Sign `operator` out everywhere (a lost laptop, a suspicion). Returns how many ended."""
    import logging

    from hotline.errors import NotAllowed

    if actor.pk != operator.pk and not is_supervisor(actor):
        raise NotAllowed(gettext("Only supervisors end another operator's sessions."))
    ended = _end_sessions(operator)
    logging.getLogger(__name__).info("sessions ended user=%s by=%s count=%s", operator.pk, actor.pk, ended)
    return ended


@transaction.atomic
def operator_deactivate(*, actor: User, operator: User) -> list[int]:
    """Take away someone's access: no login, sessions ended, off shift, open cases to the queue.

    Returns the ids of the cases returned to the queue.
    """
    import logging

    from hotline.assignment import operator_release_cases

    _require_supervisor_of(actor, operator, gettext("Only supervisors deactivate an operator."))
    user = User.objects.select_for_update().get(pk=operator.pk)
    released = operator_release_cases(actor=actor, operator=user, to=None)
    OperatorProfile.objects.filter(user=user).update(on_shift=False, shift_changed_at=timezone.now())
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    ended = _end_sessions(user)
    logging.getLogger(__name__).info(
        "operator deactivated user=%s by=%s sessions=%s cases=%s", user.pk, actor.pk, ended, len(released),
    )
    return released


@transaction.atomic
def operator_reset_second_factor(*, actor: User, operator: User) -> None:
    """A lost phone: remove the operator's authenticator and backup codes and sign them out.

    Their next login enrols a new device, so do this only when you know who will log in next.
    """
    import logging

    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_supervisor_of(actor, operator, gettext("Only supervisors reset another operator's second factor."))
    TOTPDevice.objects.filter(user=operator).delete()
    StaticDevice.objects.filter(user=operator).delete()
    _end_sessions(operator)
    logging.getLogger(__name__).info("second factor reset user=%s by=%s", operator.pk, actor.pk)
