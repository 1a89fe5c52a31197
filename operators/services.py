"""Writes about operators: creating staff with a role, and shifts."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

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
        raise NotAllowed("Only supervisors change another operator's shift.")
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
        raise InvalidInput(f"Unknown interface language {ui_language!r}.")
    if time_zone not in available_timezones():
        raise InvalidInput(f"Unknown time zone {time_zone!r}.")
    profile, _ = OperatorProfile.objects.select_for_update().get_or_create(user=actor)
    profile.ui_language = ui_language
    profile.time_zone = time_zone
    profile.save(update_fields=["ui_language", "time_zone"])
    return profile
