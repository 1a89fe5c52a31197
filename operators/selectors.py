"""Reads about staff: who can work cases."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from .models import Language, OperatorProfile, UserSession
from .roles import PERM_WORK


def workers() -> QuerySet[User]:
    """Active staff who can work cases, for the reassign and release choices and the audit."""
    app_label, codename = PERM_WORK.split(".")
    perm = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    return (
        User.objects.filter(is_active=True).filter(perm | Q(is_superuser=True))
        .distinct().order_by("username")
    )


def sessions_per_user() -> dict[int, int]:
    """How many signed-in browsers each staff member has (the Team page's "n sessions")."""
    return dict(UserSession.objects.values_list("user_id").annotate(n=Count("pk")).order_by())


def language_choices() -> list[tuple[str, str]]:
    """(code, name) of every language operators can serve, for choice fields."""
    return [(language.code, language.name) for language in Language.objects.all()]


def profile_of(user: User) -> OperatorProfile:
    """The user's profile, or an unsaved one with the defaults (a read never creates it)."""
    return OperatorProfile.objects.filter(user=user).first() or OperatorProfile(user=user)
