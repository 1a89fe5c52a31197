"""Issue 16, point 4: each badge in the header counts exactly the rows of the list it links to,
for an operator (their own overdue; the unassigned overdue apart) and for a supervisor (all).

(Before: an operator's "14 overdue" counted their own and the unassigned overdue cases but linked
to their own overdue list of 7.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hotline.desk import ownership
from tests.factories import make_operator, receive
from tests.pages import login

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<a class="count[^"]*" href="(?P<href>[^"]+)">(?P<n>\d+) (?P<label>[^<]+)</a>')


def _waiting(hours: float, owner=None) -> None:
    at = timezone.now() - timedelta(hours=hours)
    with time_machine.travel(at, tick=False):
        case = receive(at=at).case
        if owner is not None:
            ownership.case_take(actor=owner, case_id=case.pk)


def _rows(html: str) -> int:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return body.count('<tr class="sla-')


@pytest.fixture
def desk(operator, operator2, supervisor):
    for hours in (30, 26, 40):
        _waiting(hours)  # unassigned, overdue
    _waiting(1)  # unassigned, in time
    _waiting(25, owner=operator)  # olena's, overdue
    _waiting(28, owner=operator2)  # taras's, overdue: not olena's to see
    return {"operator": operator, "supervisor": supervisor}


@pytest.mark.parametrize("who", ["operator", "supervisor"])
def test_every_header_badge_counts_the_rows_of_its_list(client, desk, who):
    login(client, desk[who])
    badges = BADGE.findall(client.get("/").content.decode().replace("&amp;", "&"))
    assert len(badges) == (3 if who == "operator" else 2), badges
    for href, n, label in badges:
        assert _rows(client.get(href).content.decode()) == int(n), (who, href, n, label)
    labels = {label for _href, _n, label in badges}
    if who == "operator":
        assert labels == {"of mine overdue", "unassigned", "unassigned overdue"}
    else:
        assert labels == {"overdue", "unassigned"}


def test_an_operator_sees_their_own_overdue_apart_from_the_unassigned(client, desk):
    make_operator("iryna")
    login(client, desk["operator"])
    html = client.get("/").content.decode()
    assert "1 of mine overdue" in html and "4 unassigned" in html and "3 unassigned overdue" in html
