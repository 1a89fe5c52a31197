"""Issue 16, points 2 and 3: one capacity rule in hotline/desk/ownership.py for every path that
gives a case an owner, and Take next that says why nothing fits.

- take and take next refuse at the limit;
- a reply or a call by someone at their limit is sent, but the case stays unassigned and is
  offered to auto-assignment (its wait ends, the first response is recorded);
- auto-assignment never goes past a capacity;
- a supervisor goes past someone's limit (assign, transfer) only by confirming it, which the
  event records;
- a reopened case goes back to its owner only within their capacity;
- lowering a capacity may leave someone over it: the Team page and the dashboard show it in red.

(Before: a reply, a logged call or a supervisor's assignment made a 12/12 operator 14/12; Take next
said "no case fits you (language or load)" without saying which.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from hotline import queueing
from hotline.desk import ownership, services
from hotline.errors import InvalidTransition, OverCapacity
from hotline.models import Case, CaseEvent, EventKind, Notification, Stage
from operators.models import OperatorProfile
from operators.services import operator_update
from tests.factories import make_case, make_operator, receive
from tests.pages import login

pytestmark = pytest.mark.django_db


def _capacity(user, n: int) -> None:
    OperatorProfile.objects.filter(user=user).update(capacity=n)


def _open(user) -> int:
    return Case.objects.filter(owner=user, closed_at__isnull=True).count()


def _queued(callbacks: list) -> list[tuple]:
    """The tasks queued after commit, by name and arguments (hotline/queueing.py's partials)."""
    return [(c.args[0], *c.args[1]) for c in callbacks if getattr(c, "func", None) is queueing.publish_safely]


def test_a_reply_at_the_limit_is_sent_but_the_case_stays_unassigned_and_is_offered(
    operator, django_capture_on_commit_callbacks, settings,
):
    settings.AUTO_ASSIGN = True
    _capacity(operator, 1)
    make_case(Stage.IN_CONTACT, owner=operator)
    waiting = receive().case
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.case_reply(actor=operator, case_id=waiting.pk, text="Здравствуйте, мы на связи.")
    case = Case.objects.get(pk=waiting.pk)
    assert message.delivery == "queued"  # the answer goes out
    assert case.owner_id is None and case.awaiting_since is None and case.first_response_at is not None
    assert case.first_responder_id == operator.pk and case.stage == Stage.IN_CONTACT
    assert _open(operator) == 1  # never 2 of 1
    replied = CaseEvent.objects.get(case=case, kind=EventKind.REPLIED)
    assert replied.data["at_limit"] is True
    assert (queueing.AUTO_ASSIGN_CASE, case.pk, operator.pk) in _queued(callbacks)  # offered to someone with room


def test_a_call_at_the_limit_leaves_the_case_unassigned_too(operator):
    _capacity(operator, 1)
    make_case(Stage.IN_CONTACT, owner=operator)
    waiting = receive(channel="phone").case
    services.case_log_call(actor=operator, case_id=waiting.pk, summary="Called back")
    assert Case.objects.get(pk=waiting.pk).owner_id is None and _open(operator) == 1
    received = services.call_log_inbound(actor=operator, identifier="+380 67 000 11 22", summary="Wants to surrender")
    assert Case.objects.get(pk=received.case.pk).owner_id is None and _open(operator) == 1


def test_below_the_limit_answering_still_makes_the_case_yours(operator):
    waiting = receive().case
    services.case_reply(actor=operator, case_id=waiting.pk, text="Здравствуйте")
    assert Case.objects.get(pk=waiting.pk).owner_id == operator.pk


def test_the_reply_page_says_the_case_stayed_in_the_queue(client, operator):
    _capacity(operator, 1)
    make_case(Stage.IN_CONTACT, owner=operator)
    waiting = receive().case
    login(client, operator)
    response = client.post(reverse("case_reply", args=[waiting.pk]), {"text": "Здравствуйте"}, follow=True)
    html = response.content.decode()
    assert "You are at your limit of active cases, so the case stays in the unassigned queue" in html


def test_auto_assignment_never_goes_past_a_capacity(operator, operator2):
    _capacity(operator, 2)
    _capacity(operator2, 1)
    cases = [receive().case for _ in range(5)]
    for case in cases:
        ownership.assign_case(case.pk)
    assert (_open(operator), _open(operator2)) == (2, 1)
    assert ownership.assign_waiting_to(operator.pk) == [] and ownership.assign_waiting() == 0


def test_a_supervisor_goes_past_a_limit_only_by_confirming_it(operator, operator2, supervisor):
    _capacity(operator2, 1)
    make_case(Stage.ASSIGNED, owner=operator2)
    case = make_case(Stage.IN_CONTACT, owner=operator)
    with pytest.raises(OverCapacity, match="taras has 1 of 1 active cases"):
        ownership.case_assign(actor=supervisor, case_id=case.pk, operator=operator2)
    assert Case.objects.get(pk=case.pk).owner_id == operator.pk
    ownership.case_assign(actor=supervisor, case_id=case.pk, operator=operator2, over_limit=True)
    assert _open(operator2) == 2
    event = CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED).latest("pk")
    assert event.data["over_limit"] is True and event.actor_id == supervisor.pk
    # Within the limit nothing needs confirming, and the event says nothing about it.
    roomy = make_operator("iryna", capacity=5)
    other = make_case(Stage.IN_CONTACT, owner=operator)
    ownership.case_assign(actor=supervisor, case_id=other.pk, operator=roomy)
    assert "over_limit" not in CaseEvent.objects.filter(case=other, kind=EventKind.ASSIGNED).latest("pk").data


def test_a_transfer_past_the_receivers_limit_needs_the_confirmation(operator, operator2, supervisor):
    _capacity(operator2, 2)
    make_case(Stage.ASSIGNED, owner=operator2)
    mine = [make_case(Stage.IN_CONTACT, owner=operator) for _ in range(2)]
    with pytest.raises(OverCapacity):
        ownership.operator_release_cases(actor=supervisor, operator=operator, to=operator2)
    assert _open(operator) == 2
    ownership.operator_release_cases(actor=supervisor, operator=operator, to=operator2, over_limit=True)
    assert _open(operator2) == 3
    assert all(CaseEvent.objects.filter(case=c, kind=EventKind.ASSIGNED).latest("pk").data["over_limit"] for c in mine)


def test_take_and_take_next_refuse_at_the_limit(operator):
    _capacity(operator, 1)
    make_case(Stage.ASSIGNED, owner=operator)
    waiting = receive().case
    with pytest.raises(InvalidTransition, match=r"You are at your limit of 1 active case\."):
        ownership.case_take(actor=operator, case_id=waiting.pk)
    assert ownership.case_take_next(actor=operator) is None
    assert _open(operator) == 1


def test_a_reopened_case_goes_back_to_its_owner_only_within_their_capacity(operator, supervisor):
    closed = make_case(Stage.CLOSED, owner=operator)
    services.case_reopen(actor=supervisor, case_id=closed.pk)
    assert Case.objects.get(pk=closed.pk).owner_id == operator.pk  # room: it is theirs again
    services.case_close(actor=operator, case_id=closed.pk, reason="withdrew")
    _capacity(operator, 1)
    make_case(Stage.IN_CONTACT, owner=operator)
    services.case_reopen(actor=supervisor, case_id=closed.pk)
    case = Case.objects.get(pk=closed.pk)
    assert case.owner_id is None and case.closed_at is None and _open(operator) == 1
    back = CaseEvent.objects.filter(case=case, kind=EventKind.UNASSIGNED).latest("pk")
    assert back.data["over_capacity"] is True
    # A new request from the person reopens it the same way.
    services.case_close(actor=supervisor, case_id=closed.pk, reason="withdrew")
    Case.objects.filter(pk=closed.pk).update(owner=operator)  # as if it had been theirs when closed
    receive(identifier=case.contact.identifier, text="Я снова здесь")
    assert Case.objects.get(pk=closed.pk).owner_id is None and _open(operator) == 1


@pytest.mark.parametrize(("setup", "reason"), [
    ("full", "You are at your limit of 1 active case. Close a case or hand one over to take another."),
    ("languages", "No waiting case is in your languages (ru); the waiting ones need another language."),
    ("nothing", "Nothing waits: the unassigned queue is empty."),
])
def test_take_next_says_why_nothing_fits(client, setup, reason):
    worker = make_operator("taras", languages=("ru",), capacity=1)
    if setup == "full":
        make_case(Stage.ASSIGNED, owner=worker)
        receive(language="ru")
    elif setup == "languages":
        receive(language="uk")
    login(client, worker)
    response = client.post(reverse("take_next"))
    assert response.status_code == 409 and reason in response.content.decode()


def test_take_next_works_when_something_fits(client):
    worker = make_operator("taras", languages=("ru",), capacity=1)
    case = receive(language="ru").case
    login(client, worker)
    response = client.post(reverse("take_next"))
    assert response["Location"] == reverse("case", args=[case.pk])


def test_lowering_a_capacity_may_leave_someone_over_it_shown_in_red(client, operator, supervisor):
    for _ in range(3):
        make_case(Stage.IN_CONTACT, owner=operator)
    operator_update(actor=supervisor, operator=operator, capacity=2)
    assert _open(operator) == 3
    login(client, supervisor)
    team = client.get(reverse("team")).content.decode()
    row = team[team.index(f'id="operator-{operator.pk}"') - 40:]
    assert 'class="over-capacity"' in row[:200] and "3 / 2, over the limit" in row
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert '<tr class="over-capacity"><td>olena</td><td>3 <span class="sr-only">(over the limit)</span>' in dashboard
    full = make_operator("iryna", capacity=1)
    make_case(Stage.IN_CONTACT, owner=full)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert '<tr class="sla-risk"><td>iryna</td><td>1</td>' in dashboard  # at the limit: amber, not red


def test_an_inbound_call_at_the_limit_says_the_case_waits_and_notifies_nobody(client, operator):
    _capacity(operator, 1)
    make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    response = client.post(reverse("call_log"), {"number": "+380 67 000 11 22", "summary": "Wants to surrender"},
                           follow=True)
    assert "so the caller&#x27;s case waits in the unassigned queue" in response.content.decode()
    case = Case.objects.get(channel="phone", owner__isnull=True)
    assert case.first_response_at is not None and not Notification.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED, data__via="call").exists()
