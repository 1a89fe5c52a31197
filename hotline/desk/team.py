"""The supervisors' actions on an operator that also move cases. (The others, which touch only
the account, are operators/services.py.)"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from hotline.desk import ownership
from operators import services as staff


@transaction.atomic
def operator_deactivate(*, actor: User, operator: User) -> list[int]:
    """Take away someone's access: no login, sessions ended, off shift, open cases to the queue.

    Returns the ids of the cases returned to the queue."""
    staff.operator_revoke_access(actor=actor, operator=operator)
    return ownership.operator_release_cases(actor=actor, operator=operator, to=None)
