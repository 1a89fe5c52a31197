"""Live pages (hotline/desk/live.py, views/live.py): versions bumped after commit by every
writer, polls that answer 204 from the cache alone, re-render what changed, never count as a
read of the case nor as activity of the session, and tell an operator about a case given to them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.delivery import outbound
from hotline.desk import live, ownership, services, sla
from hotline.models import CaseEvent, EventKind, Stage
from operators import security
from tests.factories import make_case, receive
from tests.pages import login

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
BACKGROUND = {"HTTP_X_BACKGROUND_REFRESH": "1", "HTTP_HX_REQUEST": "true"}
# session, user, the second factor's device, operator profile: the middleware's; nothing of the case.
UNCHANGED_POLL_QUERIES = 4


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Writes run their after-commit hooks (the bumps) as a committed transaction would."""
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return run


def _poll_url(html: str, element: str) -> str:
    match = re.search(rf'id="{element}"[^>]*hx-get="([^"]+)"', html) or re.search(
        rf'hx-get="([^"]+)"[^>]*id="{element}"', html)
    assert match, f"no poller #{element}"
    return match[1].replace("&amp;", "&")


def test_a_write_bumps_the_case_and_the_desk_after_commit_and_a_read_does_not(commits, operator):
    case = commits(receive).case
    before, desk_before = live.case_version(case.pk), live.desk_version()
    assert before != live.NO_VERSION
    services.case_record_view(actor=operator, case=case, via="page")  # a read: nothing shown changes
    assert live.case_version(case.pk) == before
    commits(services.case_add_note, actor=operator, case_id=case.pk, text="seen")
    assert live.case_version(case.pk) != before and live.desk_version() != desk_before


def test_nothing_is_bumped_by_a_transaction_that_rolls_back(django_capture_on_commit_callbacks, operator):
    case = receive().case
    before = live.case_version(case.pk)
    with django_capture_on_commit_callbacks(execute=False):  # the test's transaction never commits
        services.case_add_note(actor=operator, case_id=case.pk, text="x")
    assert live.case_version(case.pk) == before


def test_the_case_poll_is_204_without_reading_the_case_then_shows_a_new_message(client, commits, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    url = _poll_url(page, "case-live")
    views = CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED).count()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **BACKGROUND)
    assert response.status_code == 204
    assert len(queries.captured_queries) == UNCHANGED_POLL_QUERIES, [q["sql"] for q in queries.captured_queries]
    assert not any("hotline_case" in q["sql"] for q in queries.captured_queries)

    commits(receive, identifier=case.contact.identifier, text="Я на месте, жду")
    response = client.get(url, **BACKGROUND)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Я на месте, жду" in html and 'id="case-messages"' in html and 'hx-swap-oob="true"' in html
    again = _poll_url(html, "case-live")
    assert again != url and client.get(again, **BACKGROUND).status_code == 204
    # Polls are no reads: the visit was recorded once, by the page.
    assert CaseEvent.objects.filter(case=case, kind=EventKind.VIEWED).count() == views


def test_a_stage_or_owner_change_by_someone_else_reaches_the_open_page(client, commits, operator, supervisor):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    url = _poll_url(client.get(reverse("case", args=[case.pk])).content.decode(), "case-live")
    commits(services.case_advance, actor=supervisor, case_id=case.pk, to_stage=Stage.VERIFIED)
    html = client.get(url, **BACKGROUND).content.decode()
    assert 'id="case-head"' in html and 'aria-current="step" class="current">Verified' in html
    url = _poll_url(html, "case-live")
    commits(ownership.case_assign, actor=supervisor, case_id=case.pk, operator=supervisor)
    response = client.get(url, **BACKGROUND)
    assert response.status_code == 404  # as the page would be now
    html = response.content.decode()
    # No longer theirs: the poll stops and says so, as the page would be a 404 now.
    assert "no longer in your view" in html and "hx-get" not in html


def test_a_delivery_state_change_reaches_the_open_page(client, commits, operator, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    url = _poll_url(client.get(reverse("case", args=[case.pk])).content.decode(), "case-live")
    message = case.messages.filter(delivery="queued").get()
    commits(outbound.deliver_message, message.pk)
    html = client.get(url, **BACKGROUND).content.decode()
    assert "delivery-failed" in html and "Telegram is not configured" in html


def test_the_poll_needs_the_ticket_of_this_viewer_and_case(client, operator, operator2):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    url = _poll_url(client.get(reverse("case", args=[case.pk])).content.decode(), "case-live")
    other = make_case(Stage.IN_CONTACT, owner=operator2)
    assert client.get(url.replace(f"/cases/{case.pk}/", f"/cases/{other.pk}/"), **BACKGROUND).status_code == 404
    login(client, operator2)
    assert client.get(url, **BACKGROUND).status_code == 404
    assert client.get(reverse("case_live", args=[case.pk]), **BACKGROUND).status_code == 404


def test_polls_do_not_extend_the_idle_session(client, commits, operator):
    case = make_case(Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    html = client.get(reverse("case", args=[case.pk])).content.decode()
    session = client.session
    session[security.SESSION_SEEN] = session[security.SESSION_SEEN] - 600
    session.save()
    seen = client.session[security.SESSION_SEEN]
    commits(receive, identifier=case.contact.identifier, text="again")
    assert client.get(_poll_url(html, "case-live"), **BACKGROUND).status_code == 200
    assert client.get(_poll_url(html, "desk-live"), **BACKGROUND).status_code in (200, 204)
    assert client.session[security.SESSION_SEEN] == seen


def test_the_desk_poll_refreshes_the_counts_and_the_queue(client, commits, operator):
    login(client, operator)
    url = _poll_url(client.get(reverse("queue")).content.decode(), "desk-live")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **BACKGROUND).status_code == 204
    assert len(queries.captured_queries) == UNCHANGED_POLL_QUERIES
    commits(receive)
    response = client.get(url, **BACKGROUND)
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "desk-changed"
    assert 'id="header-counts" hx-swap-oob="true"' in html and "1 unassigned" in html


def test_an_operator_is_told_when_a_case_is_given_to_them(client, commits, operator):
    login(client, operator)
    url = _poll_url(client.get(reverse("queue")).content.decode(), "desk-live")
    case = commits(receive).case
    assert commits(ownership.assign_case, case.pk) == operator
    html = client.get(url, **BACKGROUND).content.decode()
    assert f"Case #{case.pk} is now yours." in html and 'hx-swap-oob="innerHTML:#live-notice"' in html
    # Told once: the next change does not repeat it.
    commits(receive)
    assert "is now yours" not in client.get(_poll_url(html, "desk-live"), **BACKGROUND).content.decode()


@pytest.mark.postgres
def test_the_sweep_bumps_the_desk_when_it_flags(commits, operator):
    from datetime import timedelta

    from django.utils import timezone

    commits(receive, at=timezone.now() - timedelta(hours=30))
    before = live.desk_version()
    result = commits(sla.sla_sweep)
    assert result.overdue == 1 and live.desk_version() != before


def test_a_lost_cache_means_one_more_render_never_one_less(client, commits, operator):
    case = commits(make_case, Stage.IN_CONTACT, owner=operator)
    login(client, operator)
    url = _poll_url(client.get(reverse("case", args=[case.pk])).content.decode(), "case-live")
    live._cache().delete(live.case_key(case.pk))
    assert client.get(url, **BACKGROUND).status_code == 200


def test_cached_header_counts_never_outlive_the_first_poll_after_a_change(client, commits, operator, settings):
    """With HEADER_COUNTS_CACHE_SECONDS on, a page may show counts from the cache, but its desk
    poller starts from the version they were counted at: after a change, the first poll brings
    the fresh counts (within DESK_POLL_SECONDS), however long the cache still holds."""
    settings.HEADER_COUNTS_CACHE_SECONDS = 600
    login(client, operator)
    client.get(reverse("queue"))  # counts cached at the current version
    commits(receive)  # one more unassigned case: the desk version moves on
    page = client.get(reverse("queue"))
    assert page.context["header_counts"].unassigned == 0  # from the cache
    response = client.get(_poll_url(page.content.decode(), "desk-live"), **BACKGROUND)
    assert response.status_code == 200 and "1 unassigned" in response.content.decode()
    # The poll's fresh counts are what the next page shows, and its poller is then up to date.
    page = client.get(reverse("queue"))
    assert page.context["header_counts"].unassigned == 1
    assert client.get(_poll_url(page.content.decode(), "desk-live"), **BACKGROUND).status_code == 204
