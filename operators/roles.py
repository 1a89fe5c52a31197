"""Roles are Django groups holding named permissions; code asks for permissions, not groups."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

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
