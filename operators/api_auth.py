"""The API's session authentication, with the same second-factor rule as the pages.

A session that passed only the password step is not authenticated for the API (403), even
if a middleware in front were removed or reordered: the rule is held in two places on purpose.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from .security import second_factor_done


class VerifiedSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not second_factor_done(result[0]):
            return None
        return result
