"""The case page and every action on it, each tried by who may and who may not."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hotline.desk import ownership, services
from hotline.desk.canned import canned_reply_save
from hotline.models import (
    Case,
    CaseEquipment,
    CaseEvent,
    EquipmentType,
    EventKind,
    Message,
    RewardState,
    Stage,
)
from tests.factories import make_case, receive
from tests.pages import HTMX, flash, login

pytestmark = pytest.mark.django_db


def _url(name: str, case: Case) -> str:
    return reverse(name, args=[case.pk])


def _posts(case: Case, operator) -> list[tuple[str, dict]]:
    tank = EquipmentType.objects.get(name="Tank")
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return [
        ("case_take", {}), ("case_unassign", {}), ("case_assign", {"operator": operator.pk}),
        ("case_reply", {"text": "hi"}), ("case_call", {"direction": "outbound", "summary": "called"}),
        ("case_note", {"text": "note"}), ("case_advance", {"to_stage": "verified"}),
        ("case_declare", {f"eq_{tank.pk}": "1"}),
        ("case_surrender", {"surrendered_at": when, "place": "x"}),
        ("case_close", {"reason": "withdrew"}), ("case_reopen", {}), ("case_reward_paid", {}),
    ]


def test_anonymous_is_sent_to_login_from_every_case_url(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    assert client.get(_url("case", case))["Location"].startswith(reverse("login"))
    for name, data in _posts(case, operator):
        response = client.post(_url(name, case), data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name


def test_another_operator_gets_404_on_every_case_url_and_nothing_changes(client, operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    events = CaseEvent.objects.filter(case=case).count()
    login(client, operator2)
    assert client.get(_url("case", case)).status_code == 404
    for name, data in _posts(case, operator2):
        assert client.post(_url(name, case), data).status_code == 404, name
        assert client.post(_url(name, case), data, **HTMX).status_code == 404, name
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.get(pk=case.pk).owner_id == operator.pk


def test_missing_case_is_the_same_404(client, operator):
    login(client, operator)
    assert client.get(reverse("case", args=[987654])).status_code == 404
    assert client.post(reverse("case_note", args=[987654]), {"text": "x"}).status_code == 404


def test_owner_and_supervisor_see_the_case_and_the_contact(client, operator, supervisor):
    received = services.request_receive(
        actor=None, channel="telegram", identifier="55501", display_name="Oleg", text="hi", language="ru",
    )
    ownership.case_take(actor=operator, case_id=received.case.pk)
    for user in (operator, supervisor):
        login(client, user)
        html = client.get(_url("case", received.case)).content.decode()
        assert "55501" in html and "Oleg" in html


def test_an_unassigned_case_hides_the_contact_until_taken(client, operator):
    received = services.request_receive(
        actor=None, channel="telegram", identifier="55502", display_name="Pavel", text="hello there", language="ru",
    )
    login(client, operator)
    html = client.get(_url("case", received.case)).content.decode()
    assert "hello there" in html  # what they need to choose
    assert "55502" not in html and "Pavel" not in html
    client.post(_url("case_take", received.case))
    html = client.get(_url("case", received.case)).content.decode()
    assert "55502" in html and "Pavel" in html


def test_conversation_shows_inbound_outbound_with_delivery_and_notes_apart(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    services.case_add_note(actor=operator, case_id=case.pk, text="Internal only")
    login(client, operator)
    html = client.get(_url("case", case)).content.decode()
    assert 'class="msg msg-inbound' in html
    assert 'class="msg msg-outbound' in html and "delivery-queued" in html
    assert 'class="msg msg-note' in html and "Internal only" in html


def test_timeline_lists_events_and_viewing_is_recorded_for_supervisors(client, operator, supervisor):
    case = make_case(Stage.VERIFIED, owner=operator)
    login(client, operator)
    html = client.get(_url("case", case)).content.decode()
    assert "Stage changed: Verified" in html
    assert CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED, actor=operator).count() == 1
    assert "Seen by" not in html
    login(client, supervisor)
    html = client.get(_url("case", case)).content.decode()
    assert "Seen by" in html and "olena" in html


def test_only_actions_allowed_from_the_current_stage_are_offered(client, operator):
    login(client, operator)
    expectations = {
        Stage.NEW: ({"case_take", "case_close", "case_reply"}, {"case_advance", "case_surrender", "case_reopen"}),
        Stage.IN_CONTACT: ({"case_advance", "case_declare", "case_close"}, {"case_take", "case_surrender"}),
        Stage.PLANNING: ({"case_surrender", "case_declare", "case_close"}, {"case_take", "case_reopen"}),
        Stage.CLOSED: ({"case_reopen"}, {"case_close", "case_reply", "case_advance", "case_call", "case_surrender"}),
        Stage.SURRENDERED: (set(), {"case_reopen", "case_close", "case_reply", "case_advance", "case_call"}),
    }
    for stage, (offered, hidden) in expectations.items():
        case = make_case(stage, owner=operator)
        html = client.get(_url("case", case)).content.decode()
        for name in offered:
            assert f'action="{_url(name, case)}"' in html, (stage, name)
        for name in hidden:
            assert f'action="{_url(name, case)}"' not in html, (stage, name)


def test_phone_case_hides_the_reply_box_and_offers_a_call(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator, channel="phone")
    login(client, operator)
    html = client.get(_url("case", case)).content.decode()
    assert f'action="{_url("case_reply", case)}"' not in html
    assert f'action="{_url("case_call", case)}"' in html
    assert "cannot be written to" in html


def test_reply_note_and_call_through_the_page(client, operator):
    case = make_case(Stage.ASSIGNED, owner=operator)
    login(client, operator)
    response = client.post(_url("case_reply", case), {"text": "We are here."})
    assert response.status_code == 302 and response["Location"] == _url("case", case)
    assert "Reply queued for delivery." in flash(response)
    client.post(_url("case_note", case), {"text": "Check unit"})
    client.post(_url("case_call", case), {"direction": "outbound", "summary": "Talked", "duration_minutes": "3"})
    kinds = list(Message.objects.filter(case=case).order_by("pk").values_list("direction", "is_call"))
    assert kinds == [("inbound", False), ("outbound", False), ("note", False), ("outbound", True)]
    assert Case.objects.get(pk=case.pk).stage == Stage.IN_CONTACT
    call = CaseEvent.objects.get(case=case, kind=EventKind.CALL_LOGGED)
    assert call.data["duration_seconds"] == 180


def test_path_to_surrender_through_the_page(client, operator):
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=False):
        case = make_case(Stage.IN_CONTACT, owner=operator)
    tank = EquipmentType.objects.get(name="Tank")
    login(client, operator)
    client.post(_url("case_advance", case), {"to_stage": "verified"})
    client.post(_url("case_advance", case), {"to_stage": "planning"})
    client.post(_url("case_declare", case), {f"eq_{tank.pk}": "1"})
    assert CaseEquipment.objects.get(case=case, role="declared").equipment_type_id == tank.pk
    html = client.get(_url("case", case)).content.decode()
    assert "50,000" in html  # the reward is shown next to the equipment
    when = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(_url("case_surrender", case), {"surrendered_at": when, "place": "Sector 9",
                                                          f"eq_{tank.pk}": "1"})
    assert "Surrender recorded." in flash(response)
    case.refresh_from_db()
    assert (case.stage, case.surrender_place, case.reward_state) == (Stage.SURRENDERED, "Sector 9", RewardState.DUE)
    # Entered in the operator's zone (Kyiv), stored as that moment.
    assert abs((timezone.now() - timedelta(hours=1) - case.surrendered_at).total_seconds()) < 120


def test_close_and_reopen_through_the_page(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    client.post(_url("case_close", case), {"reason": "duplicate", "comment": "same as before"})
    assert Case.objects.get(pk=case.pk).close_reason == "duplicate"
    client.post(_url("case_reopen", case))
    assert Case.objects.get(pk=case.pk).stage == Stage.IN_CONTACT


def test_refusal_writes_nothing_rerenders_the_page_and_gives_htmx_its_status(client, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    before = CaseEvent.objects.filter(case=case).exclude(kind=EventKind.VIEWED).count()
    plain = client.post(_url("case_advance", case), {"to_stage": "planning"})
    assert plain.status_code == 409 and "cannot move to planning" in plain.content.decode()
    htmx = client.post(_url("case_advance", case), {"to_stage": "planning"}, **HTMX)
    assert htmx.status_code == 409 and "cannot move" in htmx.content.decode()
    assert htmx["HX-Retarget"] == "body"
    bad_shape = client.post(_url("case_close", case), {"reason": "bored"}, **HTMX)
    assert bad_shape.status_code == 400
    empty = client.post(_url("case_reply", case), {"text": ""}, **HTMX)
    assert empty.status_code == 400
    assert CaseEvent.objects.filter(case=case).exclude(kind=EventKind.VIEWED).count() == before
    assert Case.objects.get(pk=case.pk).stage == Stage.IN_CONTACT


def test_operator_cannot_reassign_or_mark_reward_paid_supervisor_can(client, operator, operator2, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    assert client.post(_url("case_assign", case), {"operator": operator2.pk}, **HTMX).status_code == 403
    assert f'action="{_url("case_assign", case)}"' not in client.get(_url("case", case)).content.decode()
    login(client, supervisor)
    assert f'action="{_url("case_assign", case)}"' in client.get(_url("case", case)).content.decode()
    client.post(_url("case_assign", case), {"operator": operator2.pk})
    assert Case.objects.get(pk=case.pk).owner_id == operator2.pk

    planning = make_case(Stage.PLANNING, owner=operator)
    tank = EquipmentType.objects.get(name="Tank")
    services.case_record_surrender(
        actor=operator, case_id=planning.pk, surrendered_at=timezone.now(), place="x", equipment={tank.pk: 1},
    )
    login(client, operator)
    assert client.post(_url("case_reward_paid", planning), **HTMX).status_code == 403
    login(client, supervisor)
    client.post(_url("case_reward_paid", planning))
    assert Case.objects.get(pk=planning.pk).reward_state == RewardState.PAID


def test_unassign_returns_to_the_queue(client, operator, operator2):
    case = make_case(Stage.ASSIGNED, owner=operator)
    login(client, operator)
    response = client.post(_url("case_unassign", case))
    assert response["Location"] == reverse("queue")
    assert Case.objects.get(pk=case.pk).owner_id is None
    login(client, operator2)
    assert client.get(_url("case", case)).status_code == 200  # unassigned: anyone may look


def test_canned_replies_in_the_case_language_are_offered(client, operator, supervisor):
    canned_reply_save(actor=supervisor, title="Greeting RU", body="Здравствуйте", language="ru")
    canned_reply_save(actor=supervisor, title="Any language", body="Hello", language="")
    canned_reply_save(actor=supervisor, title="Greeting UK", body="Добрий день", language="uk")
    canned_reply_save(actor=supervisor, title="Retired", body="Old", language="ru", active=False)
    case = make_case(Stage.ASSIGNED, owner=operator)  # language ru
    login(client, operator)
    html = client.get(_url("case", case)).content.decode()
    assert "Greeting RU" in html and "Any language" in html
    assert "Greeting UK" not in html and "Retired" not in html
    assert 'data-body="Здравствуйте"' in html and "data-canned-insert" in html


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# session, user, the second factor's device, profile, case (+owner, contact), permissions (user, group),
# view event, conversation, its media (issue 15), timeline, equipment, equipment types, canned replies,
# reassign choices, viewers, header counts (+1 for earlier texts when a message was edited)
# Each load a new visit (CASE_VIEW_VISIT_MINUTES=0), so each records its read: the most a load costs.
SUPERVISOR_CASE_QUERIES = 18
# The owner's load also marks the requests seen (Case.owner_seen_at, the queue's unread marker)
# when one came since their last look, as here each time.
OPERATOR_CASE_QUERIES = 17


def test_case_page_queries_are_exact_and_constant(client, operator, supervisor, settings):
    settings.CASE_VIEW_VISIT_MINUTES = 0
    case = make_case(Stage.PLANNING, owner=operator)
    canned_reply_save(actor=supervisor, title="A", body="a", language="ru")
    login(client, operator)
    assert _count(client, _url("case", case)) == OPERATOR_CASE_QUERIES
    login(client, supervisor)
    assert _count(client, _url("case", case)) == SUPERVISOR_CASE_QUERIES
    tank = EquipmentType.objects.get(name="Tank")
    for index in range(6):
        receive(identifier=case.contact.identifier, text=f"more {index}")
        services.case_reply(actor=operator, case_id=case.pk, text=f"answer {index}")
        services.case_add_note(actor=operator, case_id=case.pk, text=f"note {index}")
        canned_reply_save(actor=supervisor, title=f"C{index}", body="c", language="ru")
    services.case_declare_equipment(actor=operator, case_id=case.pk, equipment={tank.pk: 2})
    assert _count(client, _url("case", case)) == SUPERVISOR_CASE_QUERIES
    login(client, operator)
    assert _count(client, _url("case", case)) == OPERATOR_CASE_QUERIES
