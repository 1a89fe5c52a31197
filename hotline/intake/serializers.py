"""Shape of the intake API: checked here once; the rules live in hotline.desk.services."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from hotline.desk.services import MAX_TEXT
from hotline.models import Channel

_SURROGATES = re.compile("[\ud800-\udfff]")
# What the schema says, and what is checked (the same pattern, so they cannot disagree):
# - a field that cannot be blank holds one character that is neither whitespace (Python's
#   str.strip() also strips \x1c-\x1f, which JSON Schema's \s does not) nor NUL (dropped);
# - a language is empty or two or three ASCII letters (lowercased when stored).
NOT_BLANK = r"[^\s\x00\x1c-\x1f]"
LANGUAGE = r"^([A-Za-z]{2,3})?$"


def _storable(value: str) -> str:
    """Lone surrogates cannot be stored; NUL is dropped by the service. All else is kept."""
    return _SURROGATES.sub("\ufffd", value)


class StringField(serializers.CharField):
    """A JSON string, checked as sent, as the schema describes it; then made storable.

    - only a string: DRF's CharField would turn 0 or true into "0"/"True";
    - lengths and patterns hold for the value as sent (whitespace is trimmed, if at all, after);
    - then NUL is dropped and a lone surrogate becomes U+FFFD: neither can be stored, and DRF
      would refuse the whole field for either, where the schema promises to keep the rest.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [
            v for v in self.validators
            if not isinstance(v, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator)
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def run_validation(self, data: Any = empty) -> Any:
        value = super().run_validation(data)
        return _storable(value.replace("\x00", "")) if isinstance(value, str) else value


class RequestIn(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, help_text="Where the request came from.")
    contact_identifier = StringField(
        max_length=200,
        validators=[RegexValidator(NOT_BLANK, "The contact's identifier cannot be empty.")],
        help_text="The contact's id on that channel (phone number, Telegram chat id, form sender).",
    )
    contact_name = StringField(max_length=200, required=False, allow_blank=True, default="")
    language = StringField(
        max_length=3, required=False, allow_blank=True, default="",
        validators=[RegexValidator(LANGUAGE, "Use a two- or three-letter ISO 639 code, e.g. ru.")],
        help_text="ISO 639 code, e.g. ru, uk (stored in lower case).",
    )
    text = StringField(
        max_length=MAX_TEXT,
        validators=[RegexValidator(NOT_BLANK, "The text cannot be empty.")],
        help_text="What the person said. NUL characters are dropped and lone surrogates replaced by U+FFFD.",
    )
    received_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text=(
            "When the person reached out (RFC 3339, with offset); defaults to now. A time in the future "
            "(a clock running ahead) is taken as now: the request is stored, not refused."
        ),
    )

    def to_internal_value(self, data: Any) -> Any:
        # The raw value, to refuse a time without offset (DRF would silently assume ours).
        self._raw_received_at = data.get("received_at") if isinstance(data, dict) else None
        return super().to_internal_value(data)

    def validate_contact_identifier(self, value: str) -> str:
        return value.strip()

    def validate_contact_name(self, value: str) -> str:
        return value.strip()

    def validate_language(self, value: str) -> str:
        return value.lower()

    def validate_received_at(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        raw = self._raw_received_at
        if isinstance(raw, str) and not re.search(r"(Z|[+-]\d\d:?\d\d)$", raw.strip()):
            raise serializers.ValidationError("Give the time zone offset, e.g. 2025-01-31T10:00:00+02:00.")
        # Well-formed but from a clock running ahead: stored as received now, never refused (the
        # schema cannot say "not in the future", and a refused request would be a lost one).
        return min(value, timezone.now())


class RequestOut(serializers.Serializer):
    case = serializers.CharField(help_text="The case's number, e.g. #42.")
    case_id = serializers.IntegerField()
    request_id = serializers.IntegerField(help_text="The stored request (message) id.")
    duplicate = serializers.BooleanField(help_text="True when this answers a replay of an Idempotency-Key.")


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
