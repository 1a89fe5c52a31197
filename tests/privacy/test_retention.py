"""Retention: personal data leaves a case RETENTION_DAYS after it closed; figures stay exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine

from hotline.dashboard import metrics
from hotline.desk import ownership, services
from hotline.models import Case, CaseEvent, Contact, EquipmentType, EventKind, Message, RewardState, Stage
from hotline.privacy.retention import anonymise_expired
from tests.factories import make_operator, receive
from tests.threads import run_together

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def _closed_case(days_ago: float, operator, *, identifier: str, surrender: bool = False) -> Case:
    """A case that got an answer, a note and triage answers, and closed (or surrendered) then."""
    closed = NOW - timedelta(days=days_ago)
    start = closed - timedelta(days=2)
    with _at(start):
        case = receive(identifier=identifier, at=start, text=f"words of {identifier}").case
        services.case_record_triage_answer(case_id=case.pk, question="where", answer="front", label="На фронте")
        ownership.case_take(actor=operator, case_id=case.pk)
    with _at(start + timedelta(hours=3)):
        services.case_reply(actor=operator, case_id=case.pk, text="we hear you")
        services.case_add_note(actor=operator, case_id=case.pk, text="note about the person")
    with _at(closed):
        if surrender:
            services.case_advance(actor=operator, case_id=case.pk, to_stage=Stage.VERIFIED)
            services.case_advance(actor=operator, case_id=case.pk, to_stage=Stage.PLANNING)
            services.case_record_surrender(
                actor=operator, case_id=case.pk, surrendered_at=closed, place="Sector 7",
                equipment={EquipmentType.objects.get(name="Tank").pk: 1},
            )
        else:
            services.case_close(actor=operator, case_id=case.pk, reason="withdrew", comment="moved away")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def olena(db):
    return make_operator("olena")


def _erased(case: Case) -> bool:
    case = Case.objects.get(pk=case.pk)
    bodies = set(Message.objects.filter(case=case).values_list("body", flat=True))
    return (
        case.anonymised_at is not None and bodies == {""} and case.surrender_place == "" and case.triage == {}
        and not Message.objects.filter(case=case, erased_at__isnull=True).exists()
    )


def test_a_case_closed_91_days_ago_is_anonymised_and_one_closed_89_days_ago_is_not(olena):
    old = _closed_case(91, olena, identifier="111")
    recent = _closed_case(89, olena, identifier="222")
    with _at(NOW):
        result = anonymise_expired()
    assert (result.cases, result.contacts) == (1, 1)
    assert _erased(old)
    contact = Contact.objects.get(pk=old.contact_id)
    assert (contact.identifier, contact.display_name, contact.lookup_hash) == ("", "", f"erased:{contact.pk}")
    assert contact.erased_at == NOW
    recent = Case.objects.select_related("contact").get(pk=recent.pk)
    assert recent.anonymised_at is None and recent.contact.identifier == "222"
    assert recent.triage["where"]["answer"] == "front"
    assert {m.body for m in recent.messages.all()} == {"words of 222", "we hear you", "note about the person",
                                                       "moved away"}


def test_what_stays_is_every_timestamp_stage_owner_equipment_and_reward(olena):
    case = _closed_case(100, olena, identifier="333", surrender=True)
    fields = [
        "stage", "owner_id", "received_at", "last_request_at", "assigned_at", "first_response_at",
        "first_responder_id", "closed_at", "surrendered_at", "reward_state", "reward_paid_at", "close_reason",
        "updated_at",
    ]
    before = Case.objects.filter(pk=case.pk).values(*fields).get()
    equipment = list(case.equipment.values_list("equipment_type_id", "role", "quantity", "unit_reward"))
    messages = list(Message.objects.filter(case=case).values_list("pk", "direction", "created_at", "author_id"))
    events = CaseEvent.objects.filter(case=case).count()
    with _at(NOW):
        anonymise_expired()
    assert Case.objects.filter(pk=case.pk).values(*fields).get() == before
    assert before["reward_state"] == RewardState.DUE
    assert list(case.equipment.values_list("equipment_type_id", "role", "quantity", "unit_reward")) == equipment
    assert list(Message.objects.filter(case=case).values_list("pk", "direction", "created_at", "author_id")) == messages
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert _erased(case)


def test_an_open_case_of_the_same_contact_protects_the_contact(olena, settings):
    settings.CASE_NEW_REQUEST_ON_CLOSED = "new"
    old = _closed_case(120, olena, identifier="555")
    with _at(NOW - timedelta(days=1)):
        opened = receive(identifier="555", at=NOW - timedelta(days=1), text="I am back").case
    assert opened.pk != old.pk and opened.contact_id == old.contact_id
    with _at(NOW):
        result = anonymise_expired()
    assert result.cases == 1 and result.contacts == 0
    assert _erased(old)
    contact = Contact.objects.get(pk=old.contact_id)
    assert contact.identifier == "555" and contact.erased_at is None
    opened = Case.objects.get(pk=opened.pk)
    assert opened.anonymised_at is None and {m.body for m in opened.messages.all()} >= {"I am back"}


def test_a_contact_with_a_case_closed_within_the_period_is_kept(olena, settings):
    settings.CASE_NEW_REQUEST_ON_CLOSED = "new"
    old = _closed_case(120, olena, identifier="666")
    with _at(NOW - timedelta(days=20)):
        newer = receive(identifier="666", at=NOW - timedelta(days=20)).case
        ownership.case_take(actor=olena, case_id=newer.pk)
    with _at(NOW - timedelta(days=10)):
        services.case_close(actor=olena, case_id=newer.pk, reason="withdrew")
    with _at(NOW):
        result = anonymise_expired()
    assert result.cases == 1 and result.contacts == 0
    assert Contact.objects.get(pk=old.contact_id).identifier == "666"
    # 81 days later the newer case expires too, and the contact goes with it.
    assert anonymise_expired(now=NOW + timedelta(days=81)).contacts == 1


def test_the_dashboard_figures_are_identical_before_and_after(olena, supervisor):
    _closed_case(91, olena, identifier="7001", surrender=True)
    _closed_case(95, olena, identifier="7002")
    _closed_case(30, olena, identifier="7003")
    with _at(NOW - timedelta(days=100)):
        receive(identifier="7004", at=NOW - timedelta(days=100))  # never answered, still open
    period = metrics.period_for("custom", start=(NOW - timedelta(days=110)).date(), end=NOW.date(), now=NOW)
    before = metrics.dashboard(period, now=NOW)
    with _at(NOW):
        assert anonymise_expired().cases == 2
    after = metrics.dashboard(period, now=NOW)
    assert after == before
    assert before.flow.surrendered == 1 and before.overall.answered == 3


def test_running_it_twice_writes_one_event_per_case(olena):
    cases = [_closed_case(91 + n, olena, identifier=f"80{n}") for n in range(3)]
    with _at(NOW):
        assert anonymise_expired(batch_size=2).cases == 3
        assert anonymise_expired().cases == 0
    for case in cases:
        assert CaseEvent.objects.filter(case=case, kind=EventKind.ANONYMISED).count() == 1
        event = CaseEvent.objects.get(case=case, kind=EventKind.ANONYMISED)
        assert event.actor is None and event.data == {"messages": 4, "contact_erased": True}


def test_the_next_request_of_an_erased_contact_starts_a_new_contact_and_case(olena):
    old = _closed_case(91, olena, identifier="900")
    with _at(NOW):
        anonymise_expired()
        received = receive(identifier="900", at=NOW, text="hello again")
    assert received.case.pk != old.pk and received.case.contact_id != old.contact_id
    assert received.opened and received.case.stage == Stage.NEW


def test_an_anonymised_case_cannot_be_reopened(olena):
    from hotline.errors import InvalidTransition

    old = _closed_case(91, olena, identifier="901")
    with _at(NOW):
        anonymise_expired()
        with pytest.raises(InvalidTransition, match="erased"):
            services.case_reopen(actor=olena, case_id=old.pk)


def test_the_daily_task_is_scheduled_and_registered(settings):
    from hotline.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["schedule"] == timedelta(days=1)
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_anonymise_each_case_once():
    olena = make_operator("olena")
    cases = [_closed_case(91 + n, olena, identifier=f"95{n}") for n in range(12)]
    results = run_together(*[partial(anonymise_expired, now=NOW, batch_size=5)] * 2)
    assert sum(r.cases for r in results) == 12 and sum(r.contacts for r in results) == 12
    assert CaseEvent.objects.filter(kind=EventKind.ANONYMISED).count() == 12
    assert all(_erased(case) for case in cases)


def test_the_command_runs_the_same_retention(olena):
    from io import StringIO

    from django.core.management import call_command

    _closed_case(91, olena, identifier="990")
    out = StringIO()
    with _at(NOW):
        call_command("retention_run", stdout=out)
    assert "cases 1\nmessages 4\ncontacts 1" in out.getvalue()
