"""The one place that handles a contact's identifier: normalising it and hashing it for lookup.

The keyed hash (HMAC-SHA256 with CONTACT_LOOKUP_KEY) finds a contact without scanning and
without the identifier being searchable in a dump of the lookup column.
"""

import hashlib
import hmac
import re

from django.conf import settings

_PHONE_NOISE = re.compile(r"[\s\-().]")


def normalise_identifier(channel: str, identifier: str) -> str:
    identifier = identifier.strip()
    if channel == "phone":
        identifier = _PHONE_NOISE.sub("", identifier)
        if identifier.startswith("00"):
            identifier = "+" + identifier[2:]
    return identifier


def lookup_hash(channel: str, identifier: str) -> str:
    key = settings.CONTACT_LOOKUP_KEY.encode()
    if not key:
        raise RuntimeError("CONTACT_LOOKUP_KEY is not set")
    message = f"{channel}:{normalise_identifier(channel, identifier)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
