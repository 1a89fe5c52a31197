"""Issue 18: the queue's counts without the access rule's OR. Each scope counts exactly the raw
filtered cases, for each role; its SQL has no OR (the OR ANDed with the scope made PostgreSQL
read the table); the unassigned and "all" totals come from the ledger of case counts where
exact; the header's counts are cached for HEADER_COUNTS_CACHE_SECONDS."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.desk import ownership, services
from hotline.desk.access import cases_visible_to, open_cases_in_scope
from hotline.desk.selectors import QueueFilters, queue_cases, queue_total
from hotline.models import Case, CloseReason, Stage
from tests.factories import make_case, receive
from tests.pages import login

pytestmark = pytest.mark.django_db
QUEUE = reverse("queue")
SCOPES = ["mine", "unassigned", "all"]


@pytest.fixture
def desk(operator, operator2, supervisor):
    """Open and closed cases of each owner, and unassigned ones open and closed."""
    for owner in (operator, operator2, supervisor):
        make_case(Stage.IN_CONTACT, owner=owner)
        make_case(Stage.ASSIGNED, owner=owner)
        closed = make_case(Stage.IN_CONTACT, owner=owner)
        services.case_close(actor=owner, case_id=closed.pk, reason=CloseReason.WITHDREW)
    for _ in range(3):
        receive()
    closed_unassigned = receive().case
    services.case_close(actor=supervisor, case_id=closed_unassigned.pk, reason=CloseReason.DUPLICATE)
    ownership.case_unassign(actor=supervisor, case_id=make_case(Stage.ASSIGNED, owner=operator2).pk)
    return {"operator": operator, "supervisor": supervisor}


def _raw(user: User, scope: str) -> set[int]:
    """What the queue lists, by the rule written out over every case, in Python."""
    supervisor = user.username == "sofia"
    rows = set()
    for case in Case.objects.all():
        if case.closed_at is not None:
            continue
        if scope == "unassigned":
            if case.owner_id is None:
                rows.add(case.pk)
        elif (scope == "all" and supervisor) or case.owner_id == user.pk:
            rows.add(case.pk)
    return rows


@pytest.mark.parametrize("who", ["operator", "supervisor"])
@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_counts_exactly_the_raw_filtered_cases(client, desk, who, scope):
    user = desk[who]
    expected = _raw(user, scope)
    assert expected  # every scope has cases here
    listed = queue_cases(user, scope=scope)
    assert listed.count() == len(expected)
    assert set(listed.values_list("pk", flat=True)) == expected
    assert set(open_cases_in_scope(user, scope).values_list("pk", flat=True)) <= set(
        cases_visible_to(user).values_list("pk", flat=True)
    )
    login(client, user)
    page = client.get(QUEUE, {"scope": scope}).context["page"]
    assert page.paginator.count == len(expected)
    assert {case.pk for case in page} == expected


@pytest.mark.parametrize("scope", SCOPES)
def test_no_scope_counts_through_the_access_rules_or(desk, scope):
    for user in desk.values():
        sql = str(queue_cases(user, scope=scope).order_by().query).upper()
        assert " OR " not in sql, sql


def test_someone_who_does_not_work_cases_sees_none(desk):
    nobody = User.objects.create_user("visitor", password="not used here 123")
    for scope in SCOPES:
        assert not open_cases_in_scope(nobody, scope).exists()
        assert queue_total(nobody, scope=scope) is None


@pytest.mark.postgres
@pytest.mark.parametrize("who", ["operator", "supervisor"])
def test_ledger_totals_equal_the_raw_counts_in_one_query(desk, who, django_assert_num_queries):
    user = desk[who]
    for scope in ("unassigned", "all"):
        if scope == "all" and who == "operator":
            assert queue_total(user, scope=scope) is None  # their own cases: counted from the index
            continue
        with django_assert_num_queries(1):
            total = queue_total(user, scope=scope)
        assert total == len(_raw(user, scope))
    assert queue_total(user, scope="mine") is None
    assert queue_total(user, scope="unassigned", filters=QueueFilters(language="ru")) is None


@pytest.mark.parametrize("scope", SCOPES)
def test_a_filtered_queue_is_counted_exactly(client, desk, scope):
    """With a filter the ledger cannot answer: the page counts the list."""
    user = desk["supervisor"]
    receive(language="en")
    login(client, user)
    page = client.get(QUEUE, {"scope": scope, "language": "en"}).context["page"]
    expected = {pk for pk in _raw(user, scope) if Case.objects.get(pk=pk).language == "en"}
    assert page.paginator.count == len(expected)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_header_counts_are_cached_for_the_stated_time(client, desk, settings):
    """One count per person per HEADER_COUNTS_CACHE_SECONDS: the second page leaves it out, and
    shows the cached figure (a badge may lag by that long); 0 counts on every page."""
    settings.HEADER_COUNTS_CACHE_SECONDS = 15
    login(client, desk["operator"])
    first = _queries(client, QUEUE + "?scope=mine")
    assert _queries(client, QUEUE + "?scope=mine") == first - 1
    before = client.get(QUEUE).context["header_counts"].unassigned
    receive()
    assert client.get(QUEUE).context["header_counts"].unassigned == before  # stale, as stated
    settings.HEADER_COUNTS_CACHE_SECONDS = 0
    assert client.get(QUEUE).context["header_counts"].unassigned == before + 1
    assert _queries(client, QUEUE + "?scope=mine") == first
