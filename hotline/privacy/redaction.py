"""Defence in depth for logs: mask what looks like a phone number or a Telegram chat id.

The code logs ids only (case=, message=, update=); this filter is for what slips through
anyway: an exception text quoting a value, a URL in an access log, a library's message. It
masks digit runs that could identify a person and keeps `key=<number>` ids readable.
"""

from __future__ import annotations

import logging
import re

# A run of digits with the separators phone numbers are written with, optionally after + or (.
_CANDIDATE = re.compile(r"[+(]?\d[\d \t\-().]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_DIGITS = 7  # Telegram ids and phone numbers are longer; years, counts and ports are shorter
MASK = "[redacted]"
# The keys our log lines use for database and Telegram update ids (never a contact's id).
_OWN_ID_KEY = re.compile(r"\b(?:update|case|message|request|event|task)=$")


def _mask(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_DIGITS or _ISO_DATE.match(text.lstrip("(")):
        return text
    if text.isdigit() and _OWN_ID_KEY.search(match.string, 0, match.start()):
        return text  # our own ids (update=123456789) stay readable; a query string's do not
    return MASK


def redact(text: str) -> str:
    return _CANDIDATE.sub(_mask, text)


class RedactPersonalData(logging.Filter):
    """Rewrites the record's message (and exception text) with identifiers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template, masked
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
