"""A benchmark dataset on PostgreSQL, written by the database itself (INSERT ... SELECT
generate_series), so a million cases load in minutes instead of hours.

Every benchmark shares it: `setup_django()` points Django at the benchmark database
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/hotline_bench) and migrates it;
`load(n)` replaces the cases with n new ones; `ensure(n)` loads only when the database does
not already hold n cases. The data is synthetic: no real identifier, name or text.

Shape of the n cases (by id modulo 100, so every kind is spread over the whole table, the
worst case for a sweep that must touch its rows):

    0-9    waiting more than SLA_HOURS and not flagged yet      (the sweep flags these overdue;
           load(at_risk_flagged=True): flagged at risk by earlier sweeps)
    10-11  waiting more than SLA_HOURS, flagged by earlier sweeps
    12-14  waiting between SLA_WARNING_HOURS and SLA_HOURS, not flagged yet
    15-29  waiting less than SLA_WARNING_HOURS
    30-69  answered, open (in contact, verified, planning)
    70-99  closed (withdrew, lost contact, ...) or surrendered

Desk-shaped: OPERATORS operators with capacity CAPACITY each hold about OWNED_OPEN open cases
(the open cases with id <= OWNED_LIMIT: half the waiting ones, all the answered ones), as a
desk that works within its limits does. Beyond that id a waiting case is unassigned (stage
new: the surge in the unassigned queue) and an answered one is closed (history). Each case
has one contact, two messages and two events; closed cases keep who answered them.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench"
# Celery tasks the benchmarks cause (the sweep's notice, intake's deliveries) are published here
# and never consumed; bench/run_all.py flushes it at the end.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
OPERATORS = 50
CAPACITY = 25  # each operator's limit of open cases (operators.models.OperatorProfile.capacity)
OWNED_OPEN = 20  # about this many open cases each: within the limit, as the desk assigns them
# The open cases with an id up to this have owners: 0.55 of them are open and owned (15% waiting
# and assigned, 40% answered), OWNED_OPEN per operator.
OWNED_LIMIT = OPERATORS * OWNED_OPEN * 100 // 55
# Shares of the dataset, as ranges of (id % 100): see the module docstring.
OVERDUE_DUE, OVERDUE_FLAGGED, AT_RISK_DUE, WAITING, ANSWERED = 10, 12, 15, 30, 70


def setup_django() -> None:
    """Point Django at the benchmark database (created and migrated when missing)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("REDIS_URL", os.environ["BENCH_REDIS_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _create_database(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _create_database(url: str) -> None:
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("The benchmarks need PostgreSQL (DATABASE_URL=postgres://...).")
    params = {
        "host": config["HOST"], "port": config["PORT"] or 5432, "user": config["USER"],
        "password": config["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def case_count() -> int:
    from hotline.models import Case

    return Case.objects.count()


def ensure(n: int) -> None:
    """Load n cases unless the database holds exactly n already (benchmarks that only read)."""
    if case_count() != n:
        load(n)


def _operators() -> list[int]:
    from django.contrib.auth.models import User

    from operators.models import OperatorProfile
    from operators.services import operator_create

    have = list(User.objects.filter(username__startswith="bench-op-").order_by("pk").values_list("pk", flat=True))
    for i in range(len(have), OPERATORS):
        user = operator_create(
            username=f"bench-op-{i:03d}", password=None, supervisor=i == 0, capacity=CAPACITY, on_shift=True,
        )
        have.append(user.pk)
    OperatorProfile.objects.filter(user_id__in=have).update(capacity=CAPACITY)
    return have


# Every statement below receives %(now)s, %(n)s and %(first_owner)s / %(owners)s.
_CASES = f"""
INSERT INTO hotline_contact (id, channel, lookup_hash, identifier, display_name, username, language, created_at)
SELECT g, 'telegram', md5('bench-contact-' || g), %(tok_identifier)s, %(tok_empty)s, %(tok_empty)s, 'ru',
    %(now)s - interval '400 days'
FROM generate_series(1, %(n)s) AS g;

INSERT INTO hotline_case (
    id, contact_id, channel, language, stage, close_reason, stage_before_close, owner_id, received_at,
    last_request_at, assigned_at, first_response_at, first_responder_id, awaiting_since,
    closed_at, surrendered_at, surrender_place, reward_state, reward_paid_at, triage, updated_at
)
SELECT
    g, g, 'telegram', 'ru', stage,
    CASE WHEN stage = 'closed' THEN 'withdrew' ELSE '' END,
    CASE WHEN stage = 'closed' THEN 'in_contact' ELSE '' END,
    owner, received, received, CASE WHEN owner IS NULL THEN NULL ELSE received + interval '5 minutes' END,
    answered, CASE WHEN answered IS NOT NULL THEN owner END, waiting,
    CASE WHEN stage IN ('closed', 'surrendered') THEN received + interval '3 days' END,
    CASE WHEN stage = 'surrendered' THEN received + interval '3 days' END,
    CASE WHEN stage = 'surrendered' THEN %(tok_place)s ELSE %(tok_empty)s END,
    'none', NULL, %(tok_triage)s, %(now)s
FROM (
    SELECT g, k, waiting, received, stage,
        CASE WHEN stage = 'new' THEN NULL
             -- open cases dealt out in turn: OWNED_OPEN each (a function of the id alone would
             -- follow its shape by id modulo 100, giving some operators more than their capacity)
             WHEN stage IN ('assigned', 'in_contact', 'verified', 'planning')
                 THEN %(first_owner)s + (row_number() OVER (
                     PARTITION BY stage IN ('assigned', 'in_contact', 'verified', 'planning') ORDER BY g) - 1)
                     %% %(owners)s
             ELSE %(first_owner)s + g %% %(owners)s END AS owner,
        CASE WHEN k >= {WAITING} THEN received + interval '2 hours' END AS answered
    FROM (
        SELECT g, k, waiting,
            COALESCE(waiting, %(now)s - make_interval(secs => 86400 * (4 + (g::bigint * 7919) %% 361))) AS received,
            CASE
                WHEN k < {WAITING} AND (g %% 2 = 0 OR g > {OWNED_LIMIT}) THEN 'new'
                WHEN k < {WAITING} THEN 'assigned'
                WHEN k < {ANSWERED} AND g > {OWNED_LIMIT} THEN 'closed'
                WHEN k < 50 THEN 'in_contact'
                WHEN k < 60 THEN 'verified'
                WHEN k < {ANSWERED} THEN 'planning'
                WHEN k < 95 THEN 'closed'
                ELSE 'surrendered'
            END AS stage
        FROM (
            SELECT g, g %% 100 AS k,
                %(now)s - make_interval(secs => CASE
                    WHEN g %% 100 < {OVERDUE_FLAGGED}
                        THEN 3600 * %(sla_hours)s + 1 + (g::bigint * 7919) %% (2 * 86400)
                    WHEN g %% 100 < {AT_RISK_DUE}
                        THEN 3600 * %(warning_hours)s + 1 + (g::bigint * 7919) %% (3600 * 3)
                    WHEN g %% 100 < {WAITING}
                        THEN (g::bigint * 7919) %% (3600 * 19)
                END) AS waiting
            FROM generate_series(1, %(n)s) AS g
        ) AS base
    ) AS staged
) AS shaped;

-- Two messages per case: the request, then the answer (or a second request while waiting).
INSERT INTO hotline_message (
    case_id, direction, channel, author_id, body, is_call, is_automatic, delivery, delivery_error,
    delivered_at, external_id, intake_key, created_at, delivery_attempts
)
SELECT c.id, m.direction, 'telegram', CASE WHEN m.direction = 'outbound' THEN c.owner_id END, m.body,
    false, false, CASE WHEN m.direction = 'outbound' THEN 'sent' ELSE '' END, '',
    CASE WHEN m.direction = 'outbound' THEN m.at END, '', NULL, m.at, 0
FROM hotline_case AS c
CROSS JOIN LATERAL (VALUES
    ('inbound', %(tok_request)s, c.received_at),
    (CASE WHEN c.first_response_at IS NULL THEN 'inbound' ELSE 'outbound' END, %(tok_followup)s,
     COALESCE(c.first_response_at, c.received_at + interval '1 minute'))
) AS m(direction, body, at);

-- Two events per case: opened, then replied (answered) or request (still waiting).
INSERT INTO hotline_caseevent (case_id, actor_id, kind, data, created_at, sla_wait)
SELECT c.id, e.actor, e.kind, '{{}}'::jsonb, e.at, NULL
FROM hotline_case AS c
CROSS JOIN LATERAL (VALUES
    (NULL::integer, 'created', c.received_at),
    (CASE WHEN c.first_response_at IS NULL THEN NULL ELSE c.owner_id END,
     CASE WHEN c.first_response_at IS NULL THEN 'request' ELSE 'replied' END,
     COALESCE(c.first_response_at, c.received_at + interval '1 minute'))
) AS e(actor, kind, at);

-- The flags set by earlier sweeps: an event per wait and threshold (hotline.desk.sla).
INSERT INTO hotline_caseevent (case_id, actor_id, kind, data, created_at, sla_wait)
SELECT id, NULL, f.kind, '{{}}'::jsonb, f.at, awaiting_since
FROM hotline_case
CROSS JOIN LATERAL (VALUES
    ('at_risk', CASE WHEN id %% 100 >= %(first_at_risk_flagged)s AND id %% 100 < {OVERDUE_FLAGGED}
                     THEN awaiting_since + interval '1 hour' * %(warning_hours)s END),
    ('overdue', CASE WHEN id %% 100 >= {OVERDUE_DUE} AND id %% 100 < {OVERDUE_FLAGGED}
                     THEN awaiting_since + interval '1 hour' * %(sla_hours)s END)
) AS f(kind, at)
WHERE f.at IS NOT NULL;
"""

_TABLES = ["hotline_messagemedia", "hotline_messagerevision",  # issue 15: they refer to messages
           "hotline_caseevent", "hotline_message", "hotline_caseequipment", "hotline_case", "hotline_contact",
           "hotline_notification", "hotline_contactsearchkey", "hotline_casecount"]


def load(n: int, *, now: datetime | None = None, at_risk_flagged: bool = False, verbose: bool = True) -> datetime:
    """Replace every case with n generated ones, waits measured back from `now`; returns `now`.

    `at_risk_flagged`: the cases due for the overdue flag were flagged at risk by earlier
    sweeps (the steady state, sweeping every minute). By default they were not (the sweep was
    down for hours), so one sweep flags both thresholds at once: the worst case.
    """
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from hotline.privacy import crypto

    now = now or timezone.now()
    owners = _operators()
    started = time.perf_counter()
    params = {
        "now": now, "n": n, "first_owner": owners[0], "owners": len(owners),
        "sla_hours": settings.SLA_HOURS, "warning_hours": settings.SLA_WARNING_HOURS,
        "first_at_risk_flagged": 0 if at_risk_flagged else OVERDUE_DUE,
        # Personal columns are encrypted at rest (hotline.privacy.fields): write real tokens, one per
        # distinct text (equal texts may share a token; the benchmarks decrypt what they read).
        **{f"tok_{name}": crypto.encrypt(text) for name, text in (
            ("identifier", "bench contact"), ("empty", ""), ("place", "Sector 4"), ("triage", "{}"),
            ("request", "bench request"), ("followup", "bench follow-up"),
        )},
    }
    if owners != list(range(owners[0], owners[0] + len(owners))):
        raise RuntimeError("Benchmark operators must have consecutive ids; drop the benchmark database.")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY")
        for statement in filter(str.strip, _CASES.split(";\n")):
            cursor.execute(statement, params)
        for table in ("hotline_contact", "hotline_case"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [n])
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(_TABLES)}")
    if verbose:
        print(f"generate_seconds_{n} {time.perf_counter() - started:.1f} s", flush=True)
    return now


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", type=int, help="number of cases")
    args = parser.parse_args()
    setup_django()
    load(args.size)
