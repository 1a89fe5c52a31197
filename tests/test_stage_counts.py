"""The ledger of cases per stage (hotline/stage_counts.py, migration 0015_dashboard_stage_counts):
always the live count, whoever writes the stage, and no writer ever waits on another for it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count

from hotline import assignment, stage_counts
from hotline.models import Case, CaseStageCount, Stage
from tests.factories import make_case, make_operator
from tests.test_telegram_inbox import another_connection

pytestmark = [pytest.mark.postgres]


def live() -> dict[str, int]:
    counts = dict(Case.objects.values_list("stage").annotate(n=Count("*")).order_by())
    return {stage: counts.get(stage, 0) for stage in Stage.values}


@pytest.mark.django_db
def test_every_writer_is_counted_and_compaction_keeps_the_sums():
    olena = make_operator("olena")
    boss = make_operator("boss", supervisor=True)
    for stage in [*Stage.values, Stage.PLANNING, Stage.ASSIGNED, Stage.ASSIGNED]:
        make_case(stage, owner=olena)  # the services: create, take, reply, advance, surrender, close
    assert stage_counts.current() == live() == {
        "new": 1, "assigned": 3, "in_contact": 1, "verified": 1, "planning": 2, "surrendered": 1, "closed": 1,
    }

    assignment.operator_release_cases(actor=boss, operator=olena)  # a bulk UPDATE: assigned -> new
    Case.objects.filter(stage=Stage.VERIFIED).update(stage=Stage.PLANNING)  # SQL that bypasses the services
    Case.objects.filter(stage=Stage.NEW).update(stage=Stage.NEW)  # not a change: nothing written
    assert stage_counts.current() == live()
    assert live()["new"] == 4 and live()["planning"] == 3

    rows = CaseStageCount.objects.count()
    assert stage_counts.compact() == rows
    assert CaseStageCount.objects.count() == 5  # one row per stage that has cases
    assert stage_counts.current() == live()

    some = Case.objects.first()
    added = Case.objects.bulk_create([  # one INSERT of three rows, then one DELETE of them
        Case(contact=some.contact, channel=some.channel, stage=stage, received_at=some.received_at,
             last_request_at=some.received_at) for stage in (Stage.NEW, Stage.NEW, Stage.CLOSED)
    ])
    assert stage_counts.current() == live() and live()["new"] == 6
    Case.objects.filter(pk__in=[case.pk for case in added]).delete()
    assert stage_counts.current() == live() and live()["new"] == 4

    with connection.cursor() as cursor:  # the benchmark's reset
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE hotline_case CASCADE")
    assert stage_counts.current() == dict.fromkeys(Stage.values, 0)


@pytest.mark.django_db(transaction=True)  # two sessions, each committing its own changes
def test_two_writers_and_a_compaction_never_wait_on_each_other():
    olena = make_operator("olena")
    first, second = make_case(Stage.IN_CONTACT, owner=olena), make_case(Stage.IN_CONTACT, owner=olena)
    with another_connection() as holder, another_connection() as other:
        holder.execute("UPDATE hotline_case SET stage = 'verified' WHERE id = %s", [first.pk])  # open, uncommitted
        other.execute("SET lock_timeout = '2s'")
        other.execute("UPDATE hotline_case SET stage = 'verified' WHERE id = %s", [second.pk])
        other.commit()  # it did not wait for the first writer's counter
        stage_counts.compact()  # nor does the compaction; the open change is not in its snapshot
        assert stage_counts.current()["verified"] == 1
        holder.commit()
    assert stage_counts.current() == live() == {**dict.fromkeys(Stage.values, 0), "verified": 2}
    stage_counts.compact()
    assert stage_counts.current() == live()
    assert list(CaseStageCount.objects.values_list("stage", "n")) == [("verified", 2)]
