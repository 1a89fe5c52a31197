"""Finding a person: one box takes a case number, a Telegram @username, a phone number in any
common format, or a name, and finds cases through blind indexes, never by decrypting a table.

A contact's searchable values are normalised and kept only as keyed hashes (HMAC-SHA256 with
CONTACT_LOOKUP_KEY) in ContactSearchKey: each whole word of the name (case-folded, yo as ye,
apostrophes dropped), the username (without @, case-folded: Telegram's are case-insensitive)
and a phone's last PHONE_DIGITS digits (so +7 912 345-67-89, 8 (912) 345 67 89 and
79123456789 meet, as do +380 67 123 4567 and 067 123 4567). A search hashes the query the same
way and looks the digests up by index: the words typed never reach the database or a log.

Results obey access (desk/access.py): supervisors find every case; operators their own and
the open unassigned ones, those without the person's name (the queue's rule). Each search is
audited (CaseSearch: who, what kind of value, which cases were shown; never the words).
Constant queries: one read, one audit row.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from hotline.desk.access import cases_visible_to
from hotline.errors import InvalidInput
from hotline.models import CASE_PERSONAL_FIELDS, Case, CaseSearch, Channel, Contact, ContactSearchKey, SearchKeyKind
from operators.roles import is_supervisor, require_worker

Actor = AbstractBaseUser | AnonymousUser

PHONE_DIGITS = 9  # a Ukrainian number's national part; a Russian one's last nine
RESULTS = 50
# A value shared by thousands (a common first name) is looked for among the newest this many
# contacts that bear it: the key index (digest, contact) gives them in order, so the search
# reads at most this many cases whatever the size of the desk and whoever searches. Two words
# (a first name and a surname) are matched together, without the window.
NAME_WINDOW = 1000
MAX_WORDS = 4

_APOSTROPHES = re.compile(r"['’ʼ`]")
_WORD = re.compile(r"\w+")
_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{2,31})")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-().]+")
_NUMBER = re.compile(r"#\s*(\d{1,12})|(\d{1,8})")


# --- normalising and hashing --------------------------------------------------------------------


def name_words(text: str) -> list[str]:
    """The whole words of a name, normalised: NFKC, case-folded, yo as ye, apostrophes dropped."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")
    words = _WORD.findall(_APOSTROPHES.sub("", text))
    return list(dict.fromkeys(word for word in words if word))


def normal_username(text: str) -> str:
    match = _USERNAME.fullmatch((text or "").strip())
    return match[1].casefold() if match else ""


def phone_tail(text: str) -> str:
    """The last PHONE_DIGITS digits of something that looks like a phone number, else ""."""
    text = (text or "").strip()
    if not _PHONE_LIKE.fullmatch(text):
        return ""
    digits = re.sub(r"\D", "", text)
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else ""


def digest(kind: str, value: str) -> str:
    key = settings.CONTACT_LOOKUP_KEY.encode()
    if not key:
        raise RuntimeError("CONTACT_LOOKUP_KEY is not set")
    return hmac.new(key, f"search:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def contact_digests(contact: Contact) -> set[tuple[str, str]]:
    """(kind, digest) for every value the contact can be found by."""
    keys = {(SearchKeyKind.NAME.value, digest(SearchKeyKind.NAME, word)) for word in name_words(contact.display_name)}
    username = normal_username(contact.username)
    if username:
        keys.add((SearchKeyKind.USERNAME.value, digest(SearchKeyKind.USERNAME, username)))
    if contact.channel == Channel.PHONE:
        tail = phone_tail(contact.identifier)
        if tail:
            keys.add((SearchKeyKind.PHONE.value, digest(SearchKeyKind.PHONE, tail)))
    return keys


def index_contacts(contacts: Iterable[Contact]) -> int:
    """Replace the keys of many contacts with those of their current values (intake, for new
    and renamed contacts; search_index_build): two statements. Inside the caller's
    transaction: the keys change with the values they stand for."""
    contacts = list(contacts)
    ContactSearchKey.objects.filter(contact__in=contacts).delete()
    rows = [
        ContactSearchKey(contact=contact, kind=kind, digest=value)
        for contact in contacts if contact.erased_at is None
        for kind, value in sorted(contact_digests(contact))
    ]
    ContactSearchKey.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- reading a query ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str  # "number", "username", "phone", "name"
    number: int | None = None
    # Every group must match (a name's words); within a group any digest may (a single word
    # is also tried as a username).
    groups: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


def parse(text: str) -> Query:
    """What the box was given. Raises InvalidInput for something that is none of them."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text:
        raise InvalidInput(gettext("Type a case number, @username, phone number or name."), field="q")
    number = _NUMBER.fullmatch(text)
    if number:
        return Query(kind="number", number=int(number[1] or number[2]))
    if text.startswith("@"):
        username = normal_username(text)
        if not username:
            raise InvalidInput(gettext("A Telegram username has 3 to 32 letters, digits or underscores."), field="q")
        return Query(kind="username", groups=((digest(SearchKeyKind.USERNAME, username),),))
    if _PHONE_LIKE.fullmatch(text):
        tail = phone_tail(text)
        if not tail:
            raise InvalidInput(
                gettext("A phone number needs at least %(n)s digits; a case number at most 8.") % {"n": PHONE_DIGITS},
                field="q",
            )
        return Query(kind="phone", groups=((digest(SearchKeyKind.PHONE, tail),),))
    words = name_words(text)
    if not words:
        raise InvalidInput(gettext("Type a case number, @username, phone number or name."), field="q")
    groups = [(digest(SearchKeyKind.NAME, word),) for word in words[:MAX_WORDS]]
    username = normal_username(text) if len(words) == 1 else ""
    if username:  # "ivan_petrov" typed without its @: a name word or a username
        groups[0] = (*groups[0], digest(SearchKeyKind.USERNAME, username))
    return Query(kind="name", groups=tuple(groups))


# --- searching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRow:
    case: Case
    # The person's name, only where the searcher may see identifiers (their case; supervisors).
    name: str = ""
    identified: bool = False  # the searcher may see who it is (the name may still be empty)


@dataclass(frozen=True)
class SearchResult:
    kind: str
    rows: list[SearchRow]


def _matching(cases: QuerySet[Case], query: Query) -> QuerySet[Case]:
    for group in query.groups:
        contacts = ContactSearchKey.objects.filter(digest__in=group).order_by("-contact_id").values("contact_id")
        if len(query.groups) == 1:
            contacts = contacts[:NAME_WINDOW]
        cases = cases.filter(contact_id__in=contacts)
    return cases


def search_cases(*, actor: User, text: str) -> SearchResult:
    """The cases the actor may see whose number or person matches `text`, latest activity
    first (at most RESULTS), and the audit row of this search: two queries."""
    require_worker(actor)
    query = parse(text)
    supervisor = is_supervisor(actor)
    visible = cases_visible_to(actor)
    cases = visible.filter(pk=query.number) if query.kind == "number" else _matching(visible, query)
    found = list(
        cases.select_related("contact", "owner").defer(*CASE_PERSONAL_FIELDS)
        .order_by(F("last_request_at").desc(), "-pk")[:RESULTS]
    )
    shown = [supervisor or case.owner_id == actor.pk for case in found]
    rows = [
        SearchRow(case=case, name=case.contact.display_name if identified else "", identified=identified)
        for case, identified in zip(found, shown, strict=True)
    ]
    CaseSearch.objects.create(
        actor=actor, kind=query.kind, results=len(rows), case_ids=[case.pk for case in found],
        created_at=timezone.now(),
    )
    return SearchResult(kind=query.kind, rows=rows)


def recent_searches(limit: int = 50) -> QuerySet[CaseSearch]:
    """The latest searches, for the audit page."""
    return CaseSearch.objects.select_related("actor").order_by("-created_at", "-pk")[:limit]
