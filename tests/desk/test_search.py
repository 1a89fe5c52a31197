"""Search (hotline/desk/search.py): a case number, an @username, a phone number in any common
format or a name, found through keyed hashes only, within access, audited, in constant queries."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.desk import ownership, search, services
from hotline.models import CaseSearch, Contact, ContactSearchKey, Stage
from hotline.privacy import retention
from tests.factories import make_case
from tests.pages import login

pytestmark = pytest.mark.django_db
SEARCH = reverse("search")


def _person(identifier: str, *, name: str = "", username: str = "", channel: str = "telegram", owner=None):
    received = services.request_receive(
        actor=None, channel=channel, identifier=identifier, text="Хочу сдаться", display_name=name,
        username=username, language="ru",
    )
    if owner is not None:
        ownership.case_take(actor=owner, case_id=received.case.pk)
    return received.case


def _found(client, text: str) -> list[int]:
    response = client.get(SEARCH, {"q": text})
    assert response.status_code == 200, response.content.decode()[-500:]
    return [row.case.pk for row in response.context["result"].rows]


@pytest.mark.parametrize(("text", "expected"), [
    ("Иван Петров", ["иван", "петров"]),
    ("  ИВАН   петров ", ["иван", "петров"]),
    ("Артём", ["артем"]),
    ("Мар'яна О’Коннор", ["маряна", "оконнор"]),
    ("José", ["josé"]),
])
def test_names_are_whole_case_folded_words(text, expected):
    assert search.name_words(text) == expected


@pytest.mark.parametrize("text", ["+7 912 345-67-89", "8 (912) 345 67 89", "79123456789", "+7(912)3456789"])
def test_a_russian_number_in_any_format_has_one_key(text):
    assert search.phone_tail(text) == "123456789"


@pytest.mark.parametrize("text", ["+380 67 123 4567", "067 123 4567", "0671234567", "00380671234567"])
def test_a_ukrainian_number_in_any_format_has_one_key(text):
    assert search.phone_tail(text) == "671234567"


def test_the_kind_of_a_query():
    assert search.parse("123").kind == "number" and search.parse("#1234567").number == 1234567
    assert search.parse("@Ivan_P").kind == "username"
    assert search.parse("+7 912 345-67-89").kind == "phone"
    assert search.parse("Иван").kind == "name"
    assert len(search.parse("ivan_petrov").groups[0]) == 2  # a name word, or a username without its @


def test_each_kind_finds_the_person_for_a_supervisor(client, supervisor):
    ivan = _person("1001", name="Иван Петров", username="Ivan_P")
    other = _person("1002", name="Пётр Иванов")
    phone = _person("+7 912 345-67-89", name="Caller", channel="phone")
    login(client, supervisor)
    assert _found(client, "иван") == [ivan.pk]
    assert _found(client, "ИВАН петров") == [ivan.pk]
    assert _found(client, "Петр") == [other.pk]  # ё typed as е
    assert _found(client, "@ivan_p") == [ivan.pk]
    assert _found(client, "ivan_p") == [ivan.pk]
    assert _found(client, "8 (912) 345 67 89") == [phone.pk]
    assert _found(client, "Ива") == []  # whole words only
    response = client.get(SEARCH, {"q": str(other.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("case", args=[other.pk])


def test_nothing_is_found_by_decrypting_and_nothing_typed_is_stored(client, supervisor):
    _person("1003", name="Оксана Шевченко", username="oksana")
    login(client, supervisor)
    with CaptureQueriesContext(connection) as queries:
        client.get(SEARCH, {"q": "Шевченко"})
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "шевченко" not in sql.lower() and "hotline_contactsearchkey" in sql
    stored = " ".join(str(row) for row in ContactSearchKey.objects.values_list("digest", flat=True))
    assert "oksana" not in stored and "шевченко" not in stored
    audit = CaseSearch.objects.get()
    assert audit.kind == "name" and audit.actor == supervisor and "Шевченко" not in str(audit.case_ids)


def test_an_operator_finds_their_own_and_unassigned_cases_without_a_stranger_s_name(client, operator, operator2):
    mine = _person("2001", name="Олег Мельник", owner=operator)
    waiting = _person("2002", name="Олег Коваль")
    theirs = _person("2003", name="Олег Бондар", owner=operator2)
    login(client, operator)
    response = client.get(SEARCH, {"q": "олег"})
    rows = {row.case.pk: row for row in response.context["result"].rows}
    assert set(rows) == {mine.pk, waiting.pk} and theirs.pk not in rows
    html = response.content.decode()
    assert "Олег Мельник" in html and "Коваль" not in html and "Бондар" not in html
    assert client.get(SEARCH, {"q": str(theirs.pk)}).context["result"].rows == []


def test_a_search_is_in_the_audit(client, operator, supervisor):
    case = _person("3001", name="Денис")
    login(client, operator)
    client.get(SEARCH, {"q": "денис"})
    login(client, supervisor)
    html = client.get(reverse("audit")).content.decode()
    assert 'id="searches"' in html and "Name" in html and f"#{case.pk}" in html and operator.username in html
    assert "денис" not in html.lower()


def test_what_is_none_of_the_kinds_is_a_400(client, operator):
    login(client, operator)
    for text in ("@x", "+7 12", "!!!"):
        response = client.get(SEARCH, {"q": text})
        assert response.status_code == 400, text
        assert 'aria-invalid="true"' in response.content.decode()
    assert CaseSearch.objects.count() == 0


# session, user, the second factor's device, profile, permissions (user, group) for the role,
# then the cases found (with their people and owners) and the audit row; the page's header counts.
SEARCH_QUERIES = 9


@pytest.mark.parametrize("text", ["олег", "@oleg_m", "+7 912 000 11 22"])
def test_search_queries_are_exact_and_constant(client, supervisor, text):
    login(client, supervisor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(SEARCH, {"q": text}).status_code == 200
        return len(queries.captured_queries)

    _person("+7 912 000 11 22", name="Олег", username="oleg_m", channel="phone")
    first = count()
    for index in range(6):
        _person(f"+7 912 000 11 22{index}", name=f"Олег Сидоров{index}", username="oleg_m", channel="phone")
    assert first == count() == SEARCH_QUERIES


def test_intake_keeps_the_keys_current_and_retention_erases_them(operator, settings):
    case = _person("4001", name="Тарас", username="taras")
    contact = Contact.objects.get(pk=case.contact_id)
    assert contact.username == "taras"
    assert ContactSearchKey.objects.filter(contact=contact).count() == 2
    _person("4001", name="Тарас Бульба")
    assert ContactSearchKey.objects.filter(contact=contact, kind="name").count() == 2
    services.case_close(actor=operator, case_id=case.pk, reason="withdrew")
    settings.RETENTION_DAYS = 0
    retention.anonymise_expired()
    contact.refresh_from_db()
    assert contact.username == "" and not ContactSearchKey.objects.filter(contact=contact).exists()


def test_search_index_build_writes_the_keys_of_existing_contacts(client, supervisor):
    case = make_case(Stage.NEW, owner=supervisor)
    Contact.objects.filter(pk=case.contact_id).update(display_name="Григорий", username="grisha")
    ContactSearchKey.objects.all().delete()
    call_command("search_index_build", "--batch", "2")
    login(client, supervisor)
    assert _found(client, "григорий") == [case.pk] == _found(client, "@grisha")


def test_a_telegram_username_is_captured_at_intake_and_found(client, supervisor, telegram_settings):
    from hotline.intake.telegram import inbox
    from tests import telegram

    sender = {**telegram.person(777001, first_name="Богдан", last_name="Ткаченко"), "username": "Bohdan_T"}
    response = telegram.post(client, telegram.message_update(777001, sender=sender, text="Хочу сдаться"))
    assert response.status_code == 200
    inbox.process_pending()
    contact = Contact.objects.get()
    assert contact.username == "Bohdan_T"
    login(client, supervisor)
    case_id = contact.cases.get().pk
    assert _found(client, "@bohdan_t") == [case_id] == _found(client, "ткаченко богдан")


def test_a_telegram_person_without_a_username_is_found_by_name(client, supervisor, telegram_settings):
    """The inbox creates the contact while it claims the batch, before the request is stored:
    its name is indexed then, not only when a later request renames it."""
    from hotline.intake.telegram import inbox
    from tests import telegram

    sender = telegram.person(777002, first_name="Остап", last_name="Гнатюк")
    assert telegram.post(client, telegram.message_update(777002, sender=sender, text="Хочу")).status_code == 200
    inbox.process_pending()
    contact = Contact.objects.get()
    assert contact.username == ""
    login(client, supervisor)
    assert _found(client, "гнатюк") == [contact.cases.get().pk]
