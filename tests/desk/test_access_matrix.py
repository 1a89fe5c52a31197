"""Every URL that takes a case id, found from the URL resolver, against every kind of caller.

A new case URL is covered automatically: the test fails until it is in EXPECTED, which says
how to call it. For each: another operator gets 404 (as for a case that does not exist), or,
on a page for supervisors only, 403 whichever case it names (so neither answer tells whether
the case exists); a supervisor gets through (2xx/3xx), an anonymous caller is refused (302 to
login, or 401/403).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from hotline.desk.views.case import live_ticket
from hotline.models import Case, MediaKind, MediaState, Message, MessageMedia, Stage
from hotline.privacy import files
from tests.factories import make_case
from tests.pages import HTMX, login

pytestmark = pytest.mark.django_db

MISSING_CASE_ID = 987_654_321


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Call:
    method: str = "post"
    data: Callable[[dict], dict] = field(default=lambda users: {})
    api: bool = False  # refused with 401/403 rather than a redirect to the login page
    stage: str = Stage.IN_CONTACT  # the case the supervisor acts on
    supervisors_only: bool = False  # a page for a role: 403 for operators, whatever the case
    # The URL's arguments after the case id (a file of that case, when the case exists).
    more_args: Callable[[int], list] = field(default=lambda case_id: [])
    # The query string, from (the signed-in caller's id, the case id): the live poll's ticket.
    query: Callable[[int, int], dict] | None = None


EXPECTED: dict[str, Call] = {
    "case": Call("get"),
    "case_next": Call("get"),
    # A valid ticket for the caller and a stale version: the poll re-renders, after the access check.
    "case_live": Call("get", query=lambda user_id, case_id: {"t": live_ticket(user_id, case_id), "v": "stale"}),
    "case_take": Call(stage=Stage.NEW),
    "case_unassign": Call(),
    "case_assign": Call(data=lambda users: {"operator": users["supervisor"].pk}),
    "case_reply": Call(data=lambda users: {"text": "we are here"}),
    "case_call": Call(data=lambda users: {"direction": "outbound", "summary": "called"}),
    "case_note": Call(data=lambda users: {"text": "a note"}),
    "case_advance": Call(data=lambda users: {"to_stage": "verified"}),
    "case_declare": Call(data=lambda users: {}),
    "case_surrender": Call(stage=Stage.PLANNING, data=lambda users: {"place": "x", "surrendered_at": _now_local()}),
    "case_close": Call(data=lambda users: {"reason": "withdrew"}),
    "case_reopen": Call(stage=Stage.CLOSED),
    "case_reward_paid": Call(stage=Stage.SURRENDERED),
    "case_reads": Call("get", supervisors_only=True),
    "api-case-detail": Call("get", api=True),
    "case_media": Call("get", more_args=lambda case_id: [_a_file_of(case_id)]),
    "case_send_file": Call(data=lambda users: {
        "file": SimpleUploadedFile("a.jpg", PHOTO), "send_as": "photo", "caption": "",
    }),
}
# Id parameters that are not cases (their own tests cover them); a new name must be added
# here or, if it names a case, the URL must use `case_id` and appear in EXPECTED.
NOT_CASE_PARAMETERS = {"user_id", "canned_id", "media_id"}
PHOTO = (Path(__file__).resolve().parent.parent / "fixtures" / "photo.jpg").read_bytes()


def _a_file_of(case_id: int) -> int:
    """A photo on the case (its latest message), or an id of no file when there is no such case."""
    message = Message.objects.filter(case_id=case_id).order_by("-pk").first()
    if message is None:
        return MISSING_CASE_ID
    stored = files.store([PHOTO])
    return MessageMedia.objects.create(
        message=message, kind=MediaKind.PHOTO, state=MediaState.READY, size=stored.size, sniffed_mime="image/jpeg",
        storage_name=stored.name, file_key=stored.key, created_at=timezone.now(),
    ).pk

_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        else:
            yield route, pattern


def case_routes() -> dict[str, str]:
    """name -> route of every URL taking a case id (the admin excepted: see test_admin_...)."""
    found = {}
    for route, pattern in _routes():
        if route.startswith("admin/"):
            continue
        parameters = set(_PARAMETER.findall(route))
        if "case_id" in parameters:
            assert pattern.name, f"{route} takes a case id but has no name"
            found[pattern.name] = route
        else:
            unknown = parameters - NOT_CASE_PARAMETERS
            assert not unknown, f"{route} takes {unknown}: a case URL must use case_id (and be in EXPECTED)"
    return found


def test_every_case_url_is_in_the_expectation_table():
    routes = case_routes()
    assert set(routes) - set(EXPECTED) == set(), "case URLs without expectations: add them to EXPECTED"
    assert set(EXPECTED) - set(routes) == set(), "expectations for URLs that no longer exist"
    assert len(routes) >= 15


def _call(client, name: str, case_id: int, users: dict, **extra):
    call = EXPECTED[name]
    url = reverse(name, args=[case_id, *call.more_args(case_id)])
    if call.method == "get":
        query = call.query(int(client.session.get("_auth_user_id", 0)), case_id) if call.query else {}
        return client.get(url, query, **extra)
    return client.post(url, call.data(users), **extra)


@pytest.fixture
def users(operator, operator2, supervisor):
    return {"operator": operator, "operator2": operator2, "supervisor": supervisor}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_another_operator_gets_404_exactly_as_for_a_missing_case(client, users, name):
    refused = 403 if EXPECTED[name].supervisors_only else 404
    owned = make_case(EXPECTED[name].stage, owner=users["operator"])
    if owned.owner_id is None:  # a new case is visible to all operators: give it an owner
        owned = make_case(Stage.ASSIGNED, owner=users["operator"])
    closed_unassigned = make_case(Stage.NEW, owner=users["operator"])
    Case.objects.filter(pk=closed_unassigned.pk).update(stage=Stage.CLOSED, closed_at=owned.received_at)
    login(client, users["operator2"])
    for case_id in (owned.pk, closed_unassigned.pk, MISSING_CASE_ID):
        assert _call(client, name, case_id, users).status_code == refused, (name, case_id)
        assert _call(client, name, case_id, users, **HTMX).status_code == refused, (name, case_id, "htmx")
    assert Case.objects.get(pk=owned.pk).owner_id == users["operator"].pk


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_supervisor_gets_through(client, users, name):
    case = make_case(EXPECTED[name].stage, owner=users["operator"])
    login(client, users["supervisor"])
    response = _call(client, name, case.pk, users)
    # Through the access check; 409 is the stage's own rule (no reward due on this case).
    assert 200 <= response.status_code < 400 or (name, response.status_code) == ("case_reward_paid", 409), (
        name, response.status_code,
    )
    if response.status_code in (301, 302):
        assert "/login/" not in response["Location"]
    assert _call(client, name, MISSING_CASE_ID, users).status_code == 404


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_anonymous_caller_is_refused(client, users, name):
    case = make_case(EXPECTED[name].stage, owner=users["operator"])
    before = list(Case.objects.filter(pk=case.pk).values())
    response = _call(client, name, case.pk, users)
    if EXPECTED[name].api:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert list(Case.objects.filter(pk=case.pk).values()) == before


def test_the_admin_shows_no_personal_data_of_a_case():
    from django.contrib import admin

    case_admin = admin.site._registry[Case]
    assert {"contact", "triage", "surrender_place"} <= set(case_admin.exclude)
