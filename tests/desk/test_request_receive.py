"""Requests join the contact's open case; closed cases reopen or a new one opens by setting."""

from functools import partial

import pytest

from hotline.desk import services
from hotline.models import Case, Contact, Message, Stage
from tests.factories import make_case, receive
from tests.threads import run_together

pytestmark = pytest.mark.django_db


def test_requests_from_one_contact_join_its_open_case():
    first = receive(identifier="555")
    second = receive(identifier="555", text="ещё одно")
    assert first.case.pk == second.case.pk
    assert Case.objects.count() == 1
    assert first.case.events.filter(kind="request").count() == 2
    assert first.case.events.filter(kind="created").count() == 1


def test_same_number_on_another_channel_is_another_contact():
    receive(identifier="+380501234567", channel="phone")
    receive(identifier="380501234567", channel="telegram")
    assert Contact.objects.count() == 2


def test_phone_numbers_are_normalised_before_lookup():
    a = receive(identifier="+380 50 123-45-67", channel="phone")
    b = receive(identifier="00380501234567", channel="phone")
    assert a.case.pk == b.case.pk


def test_contact_identifier_is_found_by_keyed_hash_not_stored_in_the_lookup_column():
    receive(identifier="987654321")
    contact = Contact.objects.get()
    assert "987654321" not in contact.lookup_hash
    assert len(contact.lookup_hash) == 64


def test_closed_case_is_reopened_by_a_new_request(operator, settings):
    settings.CASE_NEW_REQUEST_ON_CLOSED = "reopen"
    case = make_case(Stage.CLOSED, owner=operator)
    again = receive(identifier=case.contact.identifier)
    assert again.case.pk == case.pk
    case.refresh_from_db()
    assert case.stage == Stage.PLANNING
    assert case.awaiting_since is not None
    assert case.events.filter(kind="reopened").count() == 1


def test_closed_case_stays_closed_when_the_setting_says_new(operator, settings):
    settings.CASE_NEW_REQUEST_ON_CLOSED = "new"
    case = make_case(Stage.CLOSED, owner=operator)
    again = receive(identifier=case.contact.identifier)
    assert again.case.pk != case.pk
    assert again.case.stage == Stage.NEW


def test_surrendered_case_is_never_reopened_by_a_request(operator):
    case = make_case(Stage.SURRENDERED, owner=operator)
    again = receive(identifier=case.contact.identifier)
    assert again.case.pk != case.pk


def test_same_intake_key_stores_one_request():
    first = receive(identifier="1", intake_key="telegram:update:42")
    second = receive(identifier="1", intake_key="telegram:update:42")
    assert second.duplicate and not first.duplicate
    assert second.message.pk == first.message.pk
    assert Message.objects.count() == 1


def test_nul_characters_are_dropped_and_the_rest_kept():
    stored = receive(text="до\x00бро \u202eעברית\u202c 🙏")
    assert stored.message.body == "добро \u202eעברית\u202c 🙏"


def test_bad_input_is_refused_before_anything_is_written():
    from hotline.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.request_receive(actor=None, channel="pigeon", identifier="1", text="x")
    with pytest.raises(InvalidInput):
        services.request_receive(actor=None, channel="telegram", identifier="  ", text="x")
    assert not Contact.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_requests_from_one_contact_open_one_case():
    """Eight threads deliver a new contact's first messages at once (half of them duplicates)."""
    run_together(*[partial(receive, identifier="424242", intake_key=f"k{n % 4}", text=f"message {n % 4}")
                   for n in range(8)])
    assert Contact.objects.count() == 1
    assert Case.objects.count() == 1
    assert Message.objects.count() == 4
