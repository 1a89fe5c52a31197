"""The ledger of case counts (hotline/dashboard/case_counts.py, migration hotline 0003_database_rules):
always the live count, whoever writes a case, and no writer ever waits on another for it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from hotline.dashboard import case_counts
from hotline.desk import ownership, services
from hotline.models import Case, CaseCount, Stage
from tests.factories import make_case, make_operator
from tests.sessions import another_connection

pytestmark = [pytest.mark.postgres]


def live() -> case_counts.CaseCounts:
    by_stage = dict(Case.objects.values_list("stage").annotate(n=Count("*")).order_by())
    open_by_owner = dict(Case.objects.filter(closed_at__isnull=True).values_list("owner_id").annotate(n=Count("*"))
                         .order_by())
    return case_counts.CaseCounts(by_stage={stage: by_stage.get(stage, 0) for stage in Stage.values},
                                  open_by_owner=open_by_owner)


@pytest.mark.django_db
def test_every_writer_is_counted_and_compaction_keeps_the_sums():
    olena, taras = make_operator("olena"), make_operator("taras")
    boss = make_operator("boss", supervisor=True)
    for stage in [*Stage.values, Stage.PLANNING, Stage.ASSIGNED, Stage.ASSIGNED]:
        make_case(stage, owner=olena)  # the services: create, take, reply, advance, surrender, close
    assert case_counts.current() == live()
    assert case_counts.current().by_stage == {
        "new": 1, "assigned": 3, "in_contact": 1, "verified": 1, "planning": 2, "surrendered": 1, "closed": 1,
    }
    assert case_counts.current().open_by_owner == {None: 1, olena.pk: 7}

    closed = Case.objects.get(stage=Stage.CLOSED)
    services.case_reopen(actor=olena, case_id=closed.pk)  # closed -> open again, same owner
    ownership.operator_release_cases(actor=boss, operator=olena, to=taras)  # a bulk UPDATE of owners
    Case.objects.filter(stage=Stage.VERIFIED).update(stage=Stage.PLANNING)  # SQL that bypasses the services
    Case.objects.filter(stage=Stage.NEW).update(stage=Stage.NEW)  # not a change: nothing written
    assert case_counts.current() == live()
    assert case_counts.current().open_by_owner == {None: 1, taras.pk: 8}

    rows = CaseCount.objects.count()
    assert case_counts.compact() == rows
    assert CaseCount.objects.count() == len(CaseCount.objects.values_list("stage", "owner_id", "open").distinct())
    assert case_counts.current() == live()

    some = Case.objects.first()
    added = Case.objects.bulk_create([  # one INSERT of three rows
        Case(contact=some.contact, channel=some.channel, stage=stage, received_at=some.received_at,
             last_request_at=some.received_at) for stage in (Stage.NEW, Stage.NEW, Stage.CLOSED)
    ])
    assert case_counts.current() == live() and live().by_stage["new"] == 3
    # Cases are never deleted (migration 0003_database_rules): a refused DELETE counts nothing.
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM hotline_case WHERE id = ANY(%s)", [[case.pk for case in added]])
    assert case_counts.current() == live() and live().by_stage["new"] == 3

    with connection.cursor() as cursor:  # the benchmark's reset
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE hotline_case CASCADE")
    assert case_counts.current() == case_counts.CaseCounts(by_stage=dict.fromkeys(Stage.values, 0), open_by_owner={})


@pytest.mark.django_db(transaction=True)  # two sessions, each committing its own changes
def test_two_writers_and_a_compaction_never_wait_on_each_other():
    olena = make_operator("olena")
    first, second = make_case(Stage.IN_CONTACT, owner=olena), make_case(Stage.IN_CONTACT, owner=olena)
    with another_connection() as holder, another_connection() as other:
        holder.execute("UPDATE hotline_case SET stage = 'verified' WHERE id = %s", [first.pk])  # open, uncommitted
        other.execute("SET lock_timeout = '2s'")
        other.execute("UPDATE hotline_case SET stage = 'verified' WHERE id = %s", [second.pk])
        other.commit()  # it did not wait for the first writer's counter
        case_counts.compact()  # nor does the compaction; the open change is not in its snapshot
        assert case_counts.current().by_stage["verified"] == 1
        holder.commit()
    assert case_counts.current() == live()
    assert case_counts.current().by_stage == {**dict.fromkeys(Stage.values, 0), "verified": 2}
    case_counts.compact()
    assert case_counts.current() == live()
    assert list(CaseCount.objects.values_list("stage", "owner_id", "open", "n")) == [("verified", olena.pk, True, 2)]


@pytest.mark.django_db
def test_an_update_of_other_columns_writes_no_ledger_row():
    """The trigger's column list keeps it off every other UPDATE, the SLA sweep's above all."""
    from hotline.desk.sla import sla_sweep

    make_case(Stage.NEW, owner=make_operator("olena"))
    rows = CaseCount.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE hotline_case SET awaiting_since = now() - interval '2 days'")
    assert sla_sweep().overdue == 1
    assert CaseCount.objects.count() == rows
