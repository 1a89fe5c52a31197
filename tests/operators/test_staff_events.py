"""Every supervisor's action on a staff account is an immutable row, shown in the audit."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hotline.desk.team import operator_deactivate
from hotline.errors import DomainError
from hotline.models import Case, Stage
from operators import services as staff
from operators.models import OperatorProfile, StaffEvent, StaffEventKind
from tests.factories import make_case, make_operator
from tests.pages import assert_supervisors_only, login

pytestmark = pytest.mark.django_db


def _events(subject) -> list[tuple[str, str | None, dict]]:
    return [
        (e.kind, e.actor.username if e.actor else None, e.data)
        for e in StaffEvent.objects.filter(subject=subject).order_by("pk")
    ]


def test_each_action_on_an_account_is_recorded_with_actor_subject_and_values(operator, supervisor):
    make_case(Stage.IN_CONTACT, owner=operator)
    staff.operator_update(actor=supervisor, operator=operator, capacity=4, languages=["uk"], role="supervisor")
    staff.operator_update(actor=supervisor, operator=operator, capacity=4, languages=["uk"], role="supervisor")
    staff.operator_set_shift(actor=supervisor, operator=operator, on_shift=False)
    staff.operator_end_sessions(actor=supervisor, operator=operator)
    staff.operator_reset_second_factor(actor=supervisor, operator=operator)
    released = operator_deactivate(actor=supervisor, operator=operator)
    staff.operator_reactivate(actor=supervisor, operator=operator)
    assert _events(operator) == [
        ("capacity_changed", "sofia", {"before": 10, "after": 4}),
        ("languages_changed", "sofia", {"before": ["ru", "uk"], "after": ["uk"]}),
        ("role_changed", "sofia", {"before": "operator", "after": "supervisor"}),
        ("shift_changed", "sofia", {"on_shift": False}),
        ("sessions_ended", "sofia", {"sessions": 0}),
        ("second_factor_reset", "sofia", {"sessions": 0}),
        ("deactivated", "sofia", {"sessions": 0}),
        ("reactivated", "sofia", {}),
    ]
    assert len(released) == 1 and Case.objects.get(pk=released[0]).owner_id is None
    operator.refresh_from_db()
    assert operator.is_active and OperatorProfile.objects.get(user=operator).capacity == 4


def test_an_operators_own_shift_is_not_a_staff_event(operator):
    staff.operator_set_shift(actor=operator, operator=operator, on_shift=False)
    staff.operator_end_sessions(actor=operator, operator=operator)
    assert _events(operator) == []


def test_a_refused_change_writes_nothing(operator, operator2, supervisor):
    for call in (
        lambda: staff.operator_update(actor=operator2, operator=operator, capacity=1),
        lambda: staff.operator_update(actor=supervisor, operator=operator, capacity=3, languages=["xx"]),
        lambda: staff.operator_update(actor=supervisor, operator=supervisor, role="operator"),
        lambda: staff.operator_update(actor=supervisor, operator=operator, capacity=-1),
    ):
        with pytest.raises(DomainError):  # NotAllowed (403) or InvalidInput (400)
            call()
    assert StaffEvent.objects.count() == 0
    profile = OperatorProfile.objects.get(user=operator)
    assert profile.capacity == 10 and sorted(profile.languages.values_list("code", flat=True)) == ["ru", "uk"]


def test_staff_events_cannot_be_changed_or_deleted(operator, supervisor):
    staff.operator_update(actor=supervisor, operator=operator, capacity=5)
    event = StaffEvent.objects.get()
    with pytest.raises(ValueError, match="immutable"):
        event.save()
    with pytest.raises(ValueError, match="immutable"):
        event.delete()


@pytest.mark.postgres
def test_postgresql_refuses_changing_a_staff_event_even_by_sql(operator, supervisor):
    staff.operator_update(actor=supervisor, operator=operator, capacity=5)
    for statement in ("UPDATE operators_staffevent SET data = '{}'", "DELETE FROM operators_staffevent"):
        with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert StaffEvent.objects.get().data == {"before": 10, "after": 5}


def test_the_audit_lists_staff_actions_with_constant_queries(client, supervisor):
    login(client, supervisor)

    def queries(n: int) -> int:
        for i in range(n):
            person = make_operator(f"person{StaffEvent.objects.count()}-{i}")
            staff.operator_update(actor=supervisor, operator=person, capacity=3)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("audit"))
        assert response.status_code == 200
        return len(ctx)

    few = queries(2)
    assert queries(12) == few
    html = client.get(reverse("audit")).content.decode()
    assert "Capacity changed" in html and "10 → 3" in html


def test_a_persons_audit_page_shows_what_was_done_to_their_account(client, operator, supervisor):
    staff.operator_reset_second_factor(actor=supervisor, operator=operator)
    login(client, supervisor)
    html = client.get(reverse("operator_reads", args=[operator.pk])).content.decode()
    assert "Second factor reset" in html and "sofia" in html
    login(client, operator)
    assert_supervisors_only(client.get(reverse("operator_reads", args=[operator.pk])))


def test_the_team_page_edits_capacity_languages_and_role(client, operator, supervisor):
    login(client, supervisor)
    page = client.get(reverse("team")).content.decode()
    assert f'action="{reverse("operator_settings", args=[operator.pk])}"' in page
    url = reverse("operator_settings", args=[operator.pk])
    response = client.post(url, {"capacity": "7", "languages": ["ru", "en"], "role": "operator", "on_shift": "on"})
    assert response.status_code == 302
    profile = OperatorProfile.objects.get(user=operator)
    assert profile.capacity == 7 and sorted(profile.languages.values_list("code", flat=True)) == ["en", "ru"]
    changed = [StaffEventKind.CAPACITY_CHANGED, StaffEventKind.LANGUAGES_CHANGED]
    assert [kind for kind, _, _ in _events(operator)] == changed
    bad = client.post(url, {"capacity": "-3", "role": "operator"})
    assert bad.status_code == 400 and 'value="-3"' in bad.content.decode()  # the form again, as typed
    assert OperatorProfile.objects.get(user=operator).capacity == 7 and len(_events(operator)) == 2


def test_the_team_page_lists_deactivated_staff_to_reactivate(client, operator, supervisor):
    operator_deactivate(actor=supervisor, operator=operator)
    login(client, supervisor)
    page = client.get(reverse("team")).content.decode()
    assert f'action="{reverse("operator_reactivate", args=[operator.pk])}"' in page
    client.post(reverse("operator_reactivate", args=[operator.pk]))
    operator.refresh_from_db()
    assert operator.is_active
