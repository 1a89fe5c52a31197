"""The queue page: scopes, order, filters, search, pagination, polling fragment, privacy,
take next, and logging an inbound call."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hotline.models import Case, CaseEvent, EventKind, Message, Stage
from tests.factories import make_case, make_operator, receive
from tests.pages import HTMX, flash, login

pytestmark = pytest.mark.django_db
QUEUE = reverse("queue")


def _rows(response) -> list[int]:
    return [case.pk for case in response.context["page"]]


def test_anonymous_is_sent_to_login_from_every_queue_url(client):
    for method, url in [("get", QUEUE), ("post", reverse("take_next")), ("post", reverse("call_log")),
                        ("get", reverse("canned_replies")), ("get", reverse("team")),
                        ("get", reverse("preferences")), ("post", reverse("shift"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_scopes_mine_unassigned_and_all_for_supervisors_only(client, operator, operator2, supervisor):
    mine = make_case(Stage.IN_CONTACT, owner=operator)
    theirs = make_case(Stage.IN_CONTACT, owner=operator2)
    waiting = make_case(Stage.NEW, owner=operator)
    login(client, operator)
    assert _rows(client.get(QUEUE)) == [mine.pk]
    assert _rows(client.get(QUEUE + "?scope=unassigned")) == [waiting.pk]
    # "all" is not an operator's: it falls back to their own cases, never someone else's.
    assert _rows(client.get(QUEUE + "?scope=all")) == [mine.pk]
    login(client, supervisor)
    assert set(_rows(client.get(QUEUE + "?scope=all"))) == {mine.pk, theirs.pk, waiting.pk}


def test_overdue_first_then_longest_wait_then_answered(client, operator):
    now = timezone.now()
    answered = make_case(Stage.IN_CONTACT, owner=operator)
    fresh = receive(at=now - timedelta(hours=1)).case
    overdue = receive(at=now - timedelta(hours=30)).case
    at_risk = receive(at=now - timedelta(hours=21)).case
    for case in (fresh, overdue, at_risk):
        from hotline.desk import ownership

        ownership.case_take(actor=operator, case_id=case.pk)
    login(client, operator)
    response = client.get(QUEUE)
    assert _rows(response) == [overdue.pk, at_risk.pk, fresh.pk, answered.pk]
    html = response.content.decode()
    assert html.index('class="sla-overdue"') < html.index('class="sla-risk"') < html.index('class="sla-ok"')
    assert "badge-overdue" in html and "badge-risk" in html
    assert "Answered" in html


def test_each_row_shows_stage_channel_language_waiting_and_time_left(client, operator):
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        case = receive(channel="phone", language="uk").case
    login(client, operator)
    html = client.get(QUEUE + "?scope=unassigned").content.decode()
    row = html[html.index(f">#{case.pk}<"):]
    row = row[:row.index("</tr>")]
    assert "New" in row and "Phone" in row and ">uk<" in row
    assert "2\xa0hours" in row  # waiting
    assert "21\xa0hours" in row  # left of the 24 hours


def test_unassigned_queue_shows_no_identifier_or_name(client, operator):
    from hotline.desk import services

    services.request_receive(
        actor=None, channel="telegram", identifier="987654321", display_name="Sergei Secret", text="help",
        language="ru",
    )
    services.request_receive(
        actor=None, channel="phone", identifier="+7 999 123 45 67", display_name="Ivan Hidden", text="x",
    )
    login(client, operator)
    html = client.get(QUEUE + "?scope=unassigned").content.decode()
    for secret in ("987654321", "Sergei", "+79991234567", "999 123", "Ivan Hidden"):
        assert secret not in html


def test_filters_stage_channel_language_overdue_and_case_number(client, supervisor, operator):
    now = timezone.now()
    phone_uk = receive(channel="phone", language="uk").case
    telegram_ru_old = receive(language="ru", at=now - timedelta(hours=25)).case
    in_contact = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, supervisor)
    assert _rows(client.get(QUEUE + "?scope=all&channel=phone")) == [phone_uk.pk]
    assert _rows(client.get(QUEUE + "?scope=all&language=uk")) == [phone_uk.pk]
    assert _rows(client.get(QUEUE + "?scope=all&stage=in_contact")) == [in_contact.pk]
    assert _rows(client.get(QUEUE + "?scope=all&overdue=on")) == [telegram_ru_old.pk]
    assert _rows(client.get(QUEUE + f"?scope=all&q=%23{phone_uk.pk}")) == [phone_uk.pk]
    assert _rows(client.get(QUEUE + f"?scope=all&q={in_contact.pk}")) == [in_contact.pk]
    response = client.get(QUEUE + "?scope=all&q=abc")
    assert response.status_code == 200
    assert "A case number is digits" in response.content.decode()


def test_search_by_number_never_finds_another_operators_case(client, operator, operator2):
    theirs = make_case(Stage.IN_CONTACT, owner=operator2)
    login(client, operator)
    for scope in ("mine", "unassigned", "all"):
        assert _rows(client.get(QUEUE + f"?scope={scope}&q={theirs.pk}")) == []


def test_pagination_keeps_filters(client, operator, settings):
    from hotline.desk.views import queue as queue_views

    for _ in range(queue_views.QUEUE_PAGE_SIZE + 3):
        receive(language="uk")
    login(client, operator)
    first = client.get(QUEUE + "?scope=unassigned&language=uk")
    assert len(_rows(first)) == queue_views.QUEUE_PAGE_SIZE
    assert "?scope=unassigned&amp;language=uk&amp;page=2" in first.content.decode()
    second = client.get(QUEUE + "?scope=unassigned&language=uk&page=2")
    assert len(_rows(second)) == 3


def test_htmx_poll_returns_only_the_table_and_shows_a_new_request(client, operator):
    login(client, operator)
    full = client.get(QUEUE + "?scope=unassigned").content.decode()
    assert 'hx-trigger="desk-changed from:body, every 60s' in full and "<html" in full
    case = receive().case
    fragment = client.get(QUEUE + "?scope=unassigned", **HTMX)
    html = fragment.content.decode()
    assert "<html" not in html and html.strip().startswith('<div id="queue-table"')
    assert f">#{case.pk}<" in html


def _count(client, url: str, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **extra).status_code == 200
    return len(ctx.captured_queries)


# session, user, the second factor's device, operator profile, filter form's languages, permissions
# (user, group), page count, call form's languages, header counts, page rows, the shown rows' last
# messages and people's names (selectors.queue_rows: two for the page, whatever its rows); the
# polled fragment has no call form.
QUEUE_QUERIES = 13
FRAGMENT_QUERIES = 12


@pytest.mark.parametrize("scope", ["mine", "unassigned", "all"])
def test_queue_queries_are_exact_and_constant(client, supervisor, operator, scope):
    login(client, supervisor)
    make_case(Stage.IN_CONTACT, owner=supervisor)
    make_case(Stage.IN_CONTACT, owner=operator)
    receive()
    assert _count(client, QUEUE + f"?scope={scope}") == QUEUE_QUERIES
    for _ in range(8):
        make_case(Stage.IN_CONTACT, owner=supervisor)
        make_case(Stage.ASSIGNED, owner=operator)
        receive()
    assert _count(client, QUEUE + f"?scope={scope}&page=1") == QUEUE_QUERIES
    assert _count(client, QUEUE + f"?scope={scope}", **HTMX) == FRAGMENT_QUERIES


def test_take_next_gives_the_longest_waiting_case_in_my_language(client, operator):
    now = timezone.now()
    receive(language="en", at=now - timedelta(hours=10))  # not a language olena serves
    older = receive(language="uk", at=now - timedelta(hours=5)).case
    receive(language="ru", at=now - timedelta(hours=1))
    login(client, operator)
    response = client.post(reverse("take_next"))
    assert response.status_code == 302
    assert response["Location"] == reverse("case", args=[older.pk])
    assert Case.objects.get(pk=older.pk).owner_id == operator.pk
    assert f"Case #{older.pk} is yours." in flash(response)


def test_take_next_with_nothing_fitting_says_so(client, operator):
    receive(language="en")
    login(client, operator)
    response = client.post(reverse("take_next"))
    assert response.status_code == 409
    assert "No waiting case is in your languages (ru, uk)" in response.content.decode()
    assert not Case.objects.filter(owner=operator).exists()


def test_take_next_is_post_only(client, operator):
    login(client, operator)
    assert client.get(reverse("take_next")).status_code == 405


def test_take_from_the_queue_row(client, operator, operator2):
    case = receive().case
    login(client, operator)
    response = client.post(reverse("case_take", args=[case.pk]))
    assert response["Location"] == reverse("case", args=[case.pk])
    login(client, operator2)
    # Taken: no longer visible to another operator.
    assert client.post(reverse("case_take", args=[case.pk])).status_code == 404
    assert Case.objects.get(pk=case.pk).owner_id == operator.pk


def test_take_over_capacity_is_refused_with_a_message_and_409_for_htmx(client, operator):
    operator.operator.capacity = 1
    operator.operator.save()
    make_case(Stage.ASSIGNED, owner=operator)
    case = receive().case
    login(client, operator)
    plain = client.post(reverse("case_take", args=[case.pk]))
    assert plain.status_code == 409 and "at your limit of 1 active case" in plain.content.decode()
    htmx = client.post(reverse("case_take", args=[case.pk]), **HTMX)
    assert htmx.status_code == 409
    assert htmx["HX-Retarget"] == "body" and "at your limit" in htmx.content.decode()
    assert Case.objects.get(pk=case.pk).owner_id is None


def test_log_an_inbound_call_from_the_queue(client, operator):
    login(client, operator)
    response = client.post(reverse("call_log"), {
        "number": "+380 67 123 45 67", "caller_name": "Andrii", "language": "uk", "summary": "Wants to surrender",
    })
    case = Case.objects.get()
    assert response["Location"] == reverse("case", args=[case.pk])
    assert (case.owner_id, case.stage, case.channel, case.language) == (operator.pk, Stage.IN_CONTACT, "phone", "uk")
    assert case.first_response_at is not None and case.awaiting_since is None
    message = Message.objects.get(case=case)
    assert (message.direction, message.is_call, message.author_id, message.body) == (
        "inbound", True, operator.pk, "Wants to surrender")
    assert case.contact.identifier == "+380671234567" and case.contact.display_name == "Andrii"


def test_log_a_call_needs_a_number_or_a_name_and_a_summary(client, operator):
    login(client, operator)
    response = client.post(reverse("call_log"), {"summary": "hello", "language": ""})
    assert response.status_code == 400 and "number or name" in response.content.decode()
    htmx = client.post(reverse("call_log"), {"number": "123", "summary": ""}, **HTMX)
    assert htmx.status_code == 400
    assert not Case.objects.exists()


def test_log_a_call_from_a_contact_another_operator_owns(client, operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator2, channel="phone")
    login(client, operator)
    response = client.post(reverse("call_log"), {
        "number": case.contact.identifier, "summary": "Called again", "language": "ru",
    })
    assert response["Location"] == QUEUE
    assert flash(response) == ["Call logged. The caller already has a case with a colleague, who has been told."]
    case.refresh_from_db()
    assert case.owner_id == operator2.pk
    assert CaseEvent.objects.filter(case=case, kind=EventKind.CALL_LOGGED, actor=operator).count() == 1


def test_queue_is_translated_for_a_ukrainian_operator(client, operator):
    login(client, operator, language="uk")
    html = client.get(QUEUE).content.decode()
    assert "Черга" in html and 'lang="uk"' in html


def test_a_user_without_a_role_sees_an_empty_queue(client, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", password="x" * 12)
    receive()
    login(client, stranger)
    assert _rows(client.get(QUEUE + "?scope=unassigned")) == []
    assert client.post(reverse("take_next")).status_code == 403
    assert not Case.objects.filter(owner=stranger).exists()


def test_make_operator_default_capacity_is_respected_by_take_next_view(client):
    worker = make_operator("capped", capacity=0)
    receive()
    login(client, worker)
    response = client.post(reverse("take_next"))
    assert response.status_code == 409 and "at your limit of 0 active cases" in response.content.decode()


def test_header_counts_waits_by_the_clock_among_the_cases_each_one_sees(client, operator, operator2, supervisor):
    """Overdue and at risk count how long a case has waited, whether the sweep has flagged it yet
    or not: a sweep that runs late (or not at all) never hides a wait from the header."""
    from hotline.desk import ownership
    from hotline.desk.selectors import HeaderCounts, header_counts
    from hotline.desk.sla import sla_sweep

    now = timezone.now().replace(microsecond=0)

    def waiting_since(hours: float, owner=None) -> Case:
        with time_machine.travel(now - timedelta(hours=hours), tick=False):
            case = receive(at=now - timedelta(hours=hours)).case
            if owner is not None:
                ownership.case_take(actor=owner, case_id=case.pk)
        return case

    waiting_since(30)  # unassigned, overdue
    waiting_since(21, owner=operator)  # at risk (20 h), olena's
    waiting_since(25, owner=operator2)  # overdue, taras's: olena does not see it
    waiting_since(0.5)  # unassigned, in time
    with time_machine.travel(now, tick=False):
        make_case(Stage.IN_CONTACT, owner=operator)  # answered: not waiting
        expected = {
            # Operators: their own overdue and at risk; the overdue unassigned apart (tests/desk).
            operator: HeaderCounts(overdue=0, at_risk=1, unassigned=2, unassigned_overdue=1),
            operator2: HeaderCounts(overdue=1, at_risk=0, unassigned=2, unassigned_overdue=1),
            supervisor: HeaderCounts(overdue=2, at_risk=1, unassigned=2),
        }
        for user, counts in expected.items():  # no sweep has run: nothing is flagged yet
            assert header_counts(user) == counts, user.username
        assert not CaseEvent.objects.filter(kind__in=["at_risk", "overdue"]).exists()
        sla_sweep()
        for user, counts in expected.items():  # flagged now: the same counts
            assert header_counts(user) == counts, user.username
        login(client, operator)
        html = client.get(QUEUE).content.decode()
    assert "0 of mine overdue" in html and "1 at risk" in html and "2 unassigned" in html
    assert "1 unassigned overdue" in html
