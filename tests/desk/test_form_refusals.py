"""Issue 16, point 1: a refused form re-renders its page, with the error beside the form (or the
field) and what was typed kept, with the refusal's 4xx; a plain post and an htmx (boosted) post
get the same whole page, which for htmx replaces the body and keeps the address. Every form of
the case page, the queue, the Team page and the canned replies. Nothing is written.

(Before: a plain post was redirected with a flash message, the typed values lost; an htmx post
got a lone flash fragment, which django-htmx's DEBUG script put in place of the whole document.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from hotline.models import CannedReply, Case, CaseEvent, EquipmentType, EventKind, Stage
from operators.models import OperatorProfile, StaffEvent
from tests.factories import make_case, make_operator, receive
from tests.pages import HTMX, login

pytestmark = pytest.mark.django_db


@dataclass
class Refusal:
    """Who posts what where, and what the re-rendered page must say and keep."""

    who: str  # "operator" or "supervisor"
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    status: int
    error: str
    kept: tuple[str, ...] = ()  # what was typed, as the page shows it again
    page: str = ""  # a text only the form's own page has


def _case(stage: str) -> Callable[[dict[str, Any]], Case]:
    return lambda world: world.setdefault(stage, make_case(stage, owner=world["operator"]))


def _url(name: str, stage: str) -> Callable[[dict[str, Any]], str]:
    return lambda world: reverse(name, args=[_case(stage)(world).pk])


def _full(world: dict[str, Any]) -> Case:
    """An unassigned case, and the operator at their limit (capacity 1, one case owned)."""
    OperatorProfile.objects.filter(user=world["operator"]).update(capacity=1)
    _case(Stage.IN_CONTACT)(world)
    return world.setdefault("waiting", receive().case)


def _full_colleague(world: dict[str, Any]) -> User:
    colleague = world.setdefault("taras", make_operator("taras", capacity=1))
    if not Case.objects.filter(owner=colleague).exists():
        make_case(Stage.ASSIGNED, owner=colleague)
    return colleague


def _tank(_world: dict[str, Any]) -> str:
    return f"eq_{EquipmentType.objects.get(name='Tank').pk}"


REFUSALS: dict[str, Refusal] = {
    "reply too long": Refusal(
        "operator", _url("case_reply", Stage.IN_CONTACT), lambda w: {"text": "Слава " * 900}, 400,
        "Ensure this value has at most 4096 characters", ("Слава Слава",), "Send reply",
    ),
    "note empty": Refusal("operator", _url("case_note", Stage.IN_CONTACT), lambda w: {"text": "  "}, 400,
                          "This field is required.", (), "Add note"),
    "call with a negative duration": Refusal(
        "operator", _url("case_call", Stage.IN_CONTACT),
        lambda w: {"direction": "outbound", "duration_minutes": "-5", "summary": "Talked about the route"}, 400,
        "Ensure this value is greater than or equal to 0.", ("Talked about the route",), "Log call",
    ),
    "close for no known reason": Refusal(
        "operator", _url("case_close", Stage.IN_CONTACT), lambda w: {"reason": "bored", "comment": "a duplicate"},
        400, "Select a valid choice.", ('value="a duplicate"',), "Close case",
    ),
    "declare a negative quantity": Refusal(
        "operator", _url("case_declare", Stage.PLANNING), lambda w: {_tank(w): "-1"}, 400,
        "Ensure this value is greater than or equal to 0.", ('value="-1"',), "Save declaration",
    ),
    "surrender before the first request": Refusal(
        "operator", _url("case_surrender", Stage.PLANNING),
        lambda w: {"surrendered_at": "2020-01-01T10:00", "place": "Kharkiv direction", _tank(w): "1"}, 400,
        "The surrender time must be between the first request and now.",
        ('value="2020-01-01T10:00"', 'value="Kharkiv direction"', 'id="sur_surrendered_at_error"'),
        "Record surrender",
    ),
    "advance past a stage": Refusal(
        "operator", _url("case_advance", Stage.IN_CONTACT), lambda w: {"to_stage": "planning"}, 409,
        "A case in stage in contact cannot move to planning.", (), "Mark verified",
    ),
    "take at the limit": Refusal(
        "operator", lambda w: reverse("case_take", args=[_full(w).pk]), lambda w: {}, 409,
        "You are at your limit of 1 active case.", (), "Take this case",
    ),
    "return a closed case": Refusal(
        "supervisor", _url("case_unassign", Stage.CLOSED), lambda w: {}, 409, "reopen it first", (), "Reopen case",
    ),
    "reopen a surrender": Refusal(
        "supervisor", _url("case_reopen", Stage.SURRENDERED), lambda w: {}, 409,
        "A completed surrender cannot be reopened.", (), "Path to surrender",
    ),
    "mark paid a reward never due": Refusal(
        "supervisor", _url("case_reward_paid", Stage.SURRENDERED), lambda w: {}, 409, "has no reward due", (),
        "Path to surrender",
    ),
    "assign to someone at their limit": Refusal(
        "supervisor", _url("case_assign", Stage.IN_CONTACT), lambda w: {"operator": _full_colleague(w).pk}, 409,
        "taras has 1 of 1 active cases: this would take them past their limit.",
        ("Assign over their limit",),
        "Reassign",
    ),
    # The queue.
    "take next with nothing waiting": Refusal(
        "operator", lambda w: reverse("take_next"), lambda w: {"query": "scope=unassigned"}, 409,
        "Nothing waits: the unassigned queue is empty.", ('aria-current="page">Unassigned',), "Take next case",
    ),
    "take from the queue at the limit": Refusal(
        "operator", lambda w: reverse("case_take", args=[_full(w).pk]),
        lambda w: {"from": "queue", "query": "scope=unassigned"}, 409, "You are at your limit of 1 active case.",
        ('aria-current="page">Unassigned',), "Take next case",
    ),
    "an inbound call with neither number nor name": Refusal(
        "operator", lambda w: reverse("call_log"), lambda w: {"summary": "Wants to surrender near Vovchansk"}, 400,
        "Give the caller&#x27;s number or name.", ("Wants to surrender near Vovchansk",), "Take next case",
    ),
    # The Team page.
    "a negative capacity": Refusal(
        "supervisor", lambda w: reverse("operator_settings", args=[w["operator"].pk]),
        lambda w: {"capacity": "-3", "languages": ["uk"], "role": "operator"}, 400,
        "Ensure this value is greater than or equal to 0.", ('value="-3"',), "Move open cases",
    ),
    "cases moved to someone at their limit": Refusal(
        "supervisor", lambda w: reverse("operator_release", args=[_case(Stage.IN_CONTACT)(w).owner_id]),
        lambda w: {"to": _full_colleague(w).pk}, 409, "this would take them past their limit",
        ("Move them over the limit",), "Move open cases",
    ),
    "one's own second factor": Refusal(
        "supervisor", lambda w: reverse("operator_2fa_reset", args=[w["supervisor"].pk]), lambda w: {}, 400,
        "Ask another supervisor to do this for your own account.", (), "Move open cases",
    ),
    "a deactivation not confirmed": Refusal(
        "supervisor", lambda w: reverse("operator_deactivate", args=[w["operator"].pk]), lambda w: {}, 400,
        "Tick the box to confirm.", (), "Deactivate olena?",
    ),
    # Canned replies.
    "a canned reply without a title": Refusal(
        "supervisor", lambda w: reverse("canned_create"), lambda w: {"title": "", "body": "Де ви зараз?",
                                                                    "language": "uk", "active": "on"},
        400, "This field is required.", ("Де ви зараз?",), "All canned replies",
    ),
    "a canned reply too long for Telegram": Refusal(
        "supervisor", lambda w: reverse("canned_create"), lambda w: {"title": "Long", "body": "Так. " * 900,
                                                                    "language": "uk", "active": "on"},
        400, "at most 4096 characters", ('value="Long"',), "All canned replies",
    ),
}


def _written() -> tuple[int, int, int, int]:
    return (
        CaseEvent.objects.exclude(kind=EventKind.VIEWED).count(), StaffEvent.objects.count(),
        CannedReply.objects.count(), Case.objects.filter(owner__isnull=False).count(),
    )


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_refused_form_comes_back_with_its_page_its_error_and_what_was_typed(client, operator, supervisor, name, htmx):
    refusal = REFUSALS[name]
    world: dict[str, Any] = {"operator": operator, "supervisor": supervisor}
    url, data = refusal.url(world), refusal.data(world)
    before = _written()
    login(client, world[refusal.who])
    response = client.post(url, data, **(HTMX if htmx else {}))
    html = response.content.decode()
    assert response.status_code == refusal.status, (name, response.status_code, html[:300])
    assert refusal.error in html, (name, "error missing")
    for text in refusal.kept:
        assert text in html, (name, "not kept", text)
    assert refusal.page in html and '<header class="topbar">' in html  # the whole page, header and all
    if htmx:
        headers = (response["HX-Retarget"], response["HX-Reswap"], response["HX-Push-Url"])
        assert headers == ("body", "innerHTML", "false")
    assert _written() == before, (name, "something was written")


def test_the_error_stands_beside_the_form_that_caused_it(client, operator):
    """Two forms on one page: the refused one is open with its error, the other is as it was."""
    case = make_case(Stage.PLANNING, owner=operator)
    login(client, operator)
    html = client.post(reverse("case_surrender", args=[case.pk]), {"surrendered_at": "2020-01-01T10:00",
                                                                    "place": "x"}).content.decode()
    surrender = html[html.index('action="' + reverse("case_surrender", args=[case.pk])):]
    declare = html[html.index('action="' + reverse("case_declare", args=[case.pk])):html.index(
        'action="' + reverse("case_surrender", args=[case.pk]))]
    assert "must be between the first request and now" in surrender[:3000]
    assert "errorlist" not in declare and "data-form-error" not in declare
    assert '<details class="panel" open>' in html.replace("  ", " ")  # the surrender panel is open


def test_the_surrender_time_defaults_to_now_in_the_operators_time_zone(client, operator):
    """Point 11: the surrender time has a default (now), in the operator's zone; it can be kept."""
    case = make_case(Stage.PLANNING, owner=operator)
    login(client, operator, time_zone="America/New_York")
    html = client.get(reverse("case", args=[case.pk])).content.decode()
    with timezone.override("America/New_York"):
        now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'name="surrendered_at" value="{now}' in html
    value = html.split('name="surrendered_at" value="')[1].split('"')[0]
    response = client.post(reverse("case_surrender", args=[case.pk]), {"surrendered_at": value, "place": "Sector 4"})
    assert response.status_code == 302 and Case.objects.get(pk=case.pk).stage == Stage.SURRENDERED
