"""Shape of the intake API: checked here once; the rules live in hotline.services."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from hotline.models import Channel
from hotline.services import MAX_TEXT

_SURROGATES = re.compile("[\ud800-\udfff]")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# Clocks of integrations drift; a request "from the future" beyond this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


def _storable(value: str) -> str:
    """Lone surrogates cannot be stored; NUL is dropped by the service. All else is kept."""
    return _SURROGATES.sub("\ufffd", value)


class RequestIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, help_text="Where the request came from.")
    contact_identifier = serializers.CharField(
        max_length=200, trim_whitespace=True,
        help_text="The contact's id on that channel (phone number, Telegram chat id, form sender).",
    )
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    language = serializers.CharField(
        max_length=8, required=False, allow_blank=True, default="", help_text="ISO 639 code, e.g. ru, uk.",
    )
    text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=False, help_text="What the person said.")
    received_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the person reached out (ISO 8601 with offset); defaults to now.",
    )

    def to_internal_value(self, data: Any) -> Any:
        # The raw value, to refuse a time without offset (DRF would silently assume ours).
        self._raw_received_at = data.get("received_at") if isinstance(data, dict) else None
        if isinstance(data, dict):
            # NUL cannot be stored (DRF would refuse the whole field): drop it, keep the rest.
            data = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in data.items()}
        return super().to_internal_value(data)

    def validate_text(self, value: str) -> str:
        value = _storable(value)
        if not value.strip():
            raise serializers.ValidationError("The text cannot be empty.")
        return value

    def validate_contact_identifier(self, value: str) -> str:
        return _storable(value)

    def validate_contact_name(self, value: str) -> str:
        return _storable(value)

    def validate_language(self, value: str) -> str:
        value = value.strip().lower()
        if value and not _LANGUAGE.match(value):
            raise serializers.ValidationError("Use a two- or three-letter ISO 639 code, e.g. ru.")
        return value

    def validate_received_at(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        raw = self._raw_received_at
        if isinstance(raw, str) and not re.search(r"(Z|[+-]\d\d:?\d\d)$", raw.strip()):
            raise serializers.ValidationError("Give the time zone offset, e.g. 2025-01-31T10:00:00+02:00.")
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("received_at cannot be in the future.")
        return value


class RequestOut(serializers.Serializer):
    case = serializers.CharField(help_text="The case's number, e.g. #42.")
    case_id = serializers.IntegerField()
    request_id = serializers.IntegerField(help_text="The stored request (message) id.")
    duplicate = serializers.BooleanField(help_text="True when this answers a replay of an Idempotency-Key.")


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
