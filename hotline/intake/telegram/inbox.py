"""The Telegram inbox: store every update the moment it arrives, handle it in a worker.

Why two steps: Telegram must hear 200 only once an update is durable, and quickly, because
it holds every later update back while one is unanswered. So the webhook does one INSERT
(the raw update, encrypted, deduplicated by the unique update_id) and answers; a Celery
worker then turns the stored update into requests, edits, triage answers
(hotline/intake/telegram/apply.py), up to BATCH updates per transaction (docs/notes/perf-intake.md),
and clears the raw payloads.

Waking the worker: time is cut into windows (TELEGRAM_INBOX_WINDOW_SECONDS, counted from
the epoch). The first update stored in a window publishes one drain, chosen by a cache `add`
of that window's key, and the drain keeps looking for new rows until half a second after its
window has ended, so every update stored in the window is seen by it. A web process that has
once seen a window's key (added or found) needs no cache call for the rest of that window: at
most one cache round trip per process and window, instead of one per update, which was a
tenth of the webhook's time (docs/notes/perf-intake.md). If the publish is lost (Redis down,
a worker killed), the periodic drain (TELEGRAM_INBOX_SWEEP_SECONDS) handles what is left: a
stored update is never lost, only late, and `backlog()` shows supervisors how late.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, F, Min, Value, When
from django.utils import timezone

from hotline import queueing
from hotline.intake.telegram import flood
from hotline.intake.telegram.apply import (
    Outcome,
    Parsed,
    apply_parsed,
    apply_update,
    lock_contacts,
    parse,
    store_unreadable,
)
from hotline.models import TelegramUpdate
from hotline.privacy import crypto

logger = logging.getLogger(__name__)
WAKE_KEY = "telegram:inbox:wake"
BATCH = 200  # pending updates claimed and applied together, in one transaction
POLL_INTERVAL_SECONDS = 0.05
# A waiting drain that claimed a partial batch lets the next one fill this long: under a steady
# stream, claiming at once would pay a batch's fixed statements (about 25) for a few updates
# each time, taking the cores the webhook needs (docs/notes/perf-intake.md).
FILL_SECONDS = 0.05
DRAIN_LIMIT_SECONDS = 30.0  # a drain hands over to a fresh task after this long
MAX_ATTEMPTS = 5  # database errors applying one update before it is given up (see process_one)


class RetryLater(Exception):
    """Applying one update met a database error while the database answers: a later drain
    tries it again; this drain goes on with the others."""


def accept(update_id: int, kind: str, body: str) -> bool:
    """Store one update unless its update_id is already stored; True when it is new.

    One statement; the worker is woken once the row is committed."""
    table = connection.ops.quote_name(TelegramUpdate._meta.db_table)
    received_at = TelegramUpdate._meta.get_field("received_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (update_id, kind, received_at, payload, result, attempts) "  # noqa: S608 - ours
            "VALUES (%s, %s, %s, %s, '', 0) ON CONFLICT (update_id) DO NOTHING RETURNING id",
            [update_id, kind, received_at, crypto.encrypt(body)],
        )
        stored = cursor.fetchone() is not None
    if stored:
        transaction.on_commit(wake, robust=True)
    return stored


# The last window this process knows a drain was published for (see the module).
_covered_window: int | None = None


def wake() -> None:
    """Publish a drain unless one was published for the current window (see the module).

    The drain polls from its start (after its window began) for a window and a half second,
    so it looks again after the window has ended: an update committed in the window, before
    this call, is claimed by it."""
    global _covered_window
    window = settings.TELEGRAM_INBOX_WINDOW_SECONDS
    current = int(time.time() // window)
    if current == _covered_window:
        return
    try:
        first = cache.add(f"{WAKE_KEY}:{current}", 1, timeout=2 * window + 1)
    except Exception as exc:  # the cache is down: publish anyway (the broker may still answer)
        logger.warning("telegram inbox wake-up not debounced, cache unavailable (%s)", type(exc).__name__)
        first = True
    if first:
        queueing.publish_safely(queueing.PROCESS_UPDATES, (), {"poll_seconds": window + 0.5})
    _covered_window = current


def process_pending(*, poll_seconds: float = 0.0) -> list[Outcome]:
    """Handle stored updates, oldest first, a batch at a time, until none is left and
    `poll_seconds` have passed.

    Several drains may run at once (two workers): each claims its batch with SKIP LOCKED, so an
    update is handled exactly once, and a chat's updates in order (see _claim). Returns what
    each update this drain handled became."""
    started = time.monotonic()
    outcomes: list[Outcome] = []
    later: set[int] = set()  # met a database error in this drain: left to the next one
    while True:
        handled, claimed = _process_batch(later)
        outcomes.extend(handled)
        if claimed and time.monotonic() - started > DRAIN_LIMIT_SECONDS:
            wake_now()
            return outcomes
        if not claimed:  # nothing pending, or all of it taken by another drain
            if time.monotonic() - started >= poll_seconds:
                return outcomes
            time.sleep(POLL_INTERVAL_SECONDS)
        elif poll_seconds and claimed < BATCH:
            time.sleep(FILL_SECONDS)


# Serialises the claiming of batches (a PostgreSQL advisory lock held only while a batch is
# claimed and its contacts locked, not while it is applied).
CLAIM_LOCK = 0x686F746C696E65  # "hotline"


@contextmanager
def _claiming(held: list[bool]) -> Iterator[None]:
    """While held, no other drain claims a batch. Held from the claim until the batch's contacts
    are locked: a later batch with a chat of this one then waits for this one's commit on the
    contact's lock, so a chat's updates are applied in the order they were stored, whichever
    drain has them. On an error it stays held (`held` says so) until `_unclaim`, once the
    transaction has been rolled back."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [CLAIM_LOCK])
    held.append(True)
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [CLAIM_LOCK])
    held.clear()


def _unclaim(held: list[bool]) -> None:
    """Release the claim lock an error left held (outside the rolled-back transaction)."""
    if not held:
        return
    held.clear()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [CLAIM_LOCK])
    except (OperationalError, InterfaceError):
        pass  # the session is gone, and its lock with it


def _claim(later: set[int]) -> list[TelegramUpdate]:
    return list(
        TelegramUpdate.objects.select_for_update(skip_locked=True).filter(processed_at__isnull=True)
        .exclude(pk__in=later).order_by("id").only("id", "update_id", "kind", "payload")[:BATCH]
    )


def _parsed(row: TelegramUpdate) -> Parsed | None:
    """The stored update read, or None when it cannot be (it is then handled alone)."""
    try:
        update = json.loads(row.payload or "")
        return parse(update) if isinstance(update, dict) else None
    except Exception:
        return None


def _process_batch(later: set[int]) -> tuple[list[Outcome], int]:
    """Claim up to BATCH pending updates and handle them in one transaction; (what they became,
    how many were claimed). The set-based path first (apply.apply_parsed); when it fails,
    each update alone in the same transaction, its locks still held (_handle_alone); when even
    the claim meets a database error (a lock held elsewhere), each update in its own
    transaction, as a drain did before batches (process_one)."""
    ids: list[int] = []
    held: list[bool] = []
    try:
        with transaction.atomic():
            with _claiming(held):
                rows = _claim(later)
                ids = [row.pk for row in rows]
                items = [_parsed(row) for row in rows]
                lock_contacts([item for item in items if item is not None])
            if not rows:
                return [], 0
            quiet = flood.over_limit_many([item.update if item else {} for item in items])
            outcomes = _handle(rows, items, quiet)
            _mark(rows, outcomes)
    except Exception:
        _unclaim(held)
        if not ids:
            raise
        return _one_by_one(ids, later), len(ids)
    finally:
        _unclaim(held)
    for row in rows:
        if outcomes.get(row.pk) is None:
            later.add(row.pk)
    return [outcomes[row.pk] for row in rows if outcomes.get(row.pk) is not None], len(rows)


def _handle(rows: list[TelegramUpdate], items: list[Parsed | None], quiet: list[bool]) -> dict[int, Outcome | None]:
    readable = [i for i, item in enumerate(items) if item is not None]
    outcomes: dict[int, Outcome | None] = {}
    alone = [i for i, item in enumerate(items) if item is None]
    try:
        with transaction.atomic():
            applied = apply_parsed([items[i] for i in readable], [quiet[i] for i in readable])  # type: ignore[misc]
        for i, done in zip(readable, applied, strict=True):
            outcomes[rows[i].pk] = done.outcome
    except Exception as exc:
        if not connection.is_usable():
            raise
        logger.warning("telegram batch of %s updates applied one by one (%s)", len(rows), type(exc).__name__)
        alone = list(range(len(rows)))
    for i in alone:
        outcomes[rows[i].pk] = _handle_alone(rows[i], quiet[i])
    return outcomes


def _handle_alone(row: TelegramUpdate, quiet: bool) -> Outcome | None:
    """One update of a batch that failed, in its own savepoint; None: left to a later drain."""
    try:
        with transaction.atomic():
            return apply_update(json.loads(row.payload or ""), quiet=quiet)
    except (OperationalError, InterfaceError) as exc:
        return _database_error(row, exc)
    except Exception as exc:
        # Where it failed (code lines only; never the update, which quotes the person).
        logger.error(
            "telegram update=%s kind=%s failed: %s\n%s", row.update_id, row.kind, type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
    try:
        with transaction.atomic():
            return _fallback(row)
    except (OperationalError, InterfaceError) as exc:
        return _database_error(row, exc)


def _database_error(row: TelegramUpdate, exc: Exception) -> Outcome | None:
    """As process_one: counted on the row; left to a later drain, or given up at MAX_ATTEMPTS."""
    attempts = _count_attempt(row.pk)
    if attempts < MAX_ATTEMPTS:
        logger.warning(
            "telegram update row=%s not applied (%s), attempt %s of %s", row.pk, type(exc).__name__, attempts,
            MAX_ATTEMPTS,
        )
        return None
    logger.error("telegram update row=%s given up after %s database errors (%s)", row.pk, attempts, type(exc).__name__)
    try:
        with transaction.atomic():
            outcome = _fallback(row)
    except (OperationalError, InterfaceError):
        outcome = Outcome("failed")
    row.kept = outcome.message_id is None  # type: ignore[attr-defined]
    return Outcome("failed", outcome.case_id, outcome.message_id)


_MARK = """
UPDATE hotline_telegramupdate AS t SET processed_at = %s, payload = NULL, result = v.result
  FROM unnest(%s::bigint[], %s::varchar[]) AS v (id, result) WHERE t.id = v.id
"""


def _mark(rows: list[TelegramUpdate], outcomes: dict[int, Outcome | None]) -> None:
    """Every handled update of the batch marked, its payload cleared (kept only for an update
    given up without a placeholder request): one UPDATE, two with such an update."""
    now = timezone.now()
    done = {pk: outcome.result for pk, outcome in outcomes.items() if outcome is not None}
    kept = {row.pk for row in rows if getattr(row, "kept", False) and row.pk in done}
    cleared = [pk for pk in done if pk not in kept]
    if cleared and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the ORM's CASE WHEN per row costs more than the batch
            cursor.execute(_MARK, [now, cleared, [done[pk] for pk in cleared]])
    elif cleared:
        result = SqlCase(*(When(pk=pk, then=Value(done[pk])) for pk in cleared), default=Value("failed"))
        TelegramUpdate.objects.filter(pk__in=cleared).update(processed_at=now, payload=None, result=result)
    if kept:
        TelegramUpdate.objects.filter(pk__in=kept).update(processed_at=now, result="failed")


def _one_by_one(ids: list[int], later: set[int]) -> list[Outcome]:
    outcomes = []
    for pk in ids:
        try:
            outcome = process_one(pk)
        except RetryLater:
            later.add(pk)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def wake_now() -> None:
    """Hand the rest of a long backlog to a fresh drain, so no task runs for minutes."""
    queueing.publish_safely(queueing.PROCESS_UPDATES)


def process_one(pk: int) -> Outcome | None:
    """Handle one stored update in its own transaction; None if another drain has it or had it.

    A bug in handling an update must not block the ones behind it: the failure is logged (by
    update id only), a placeholder request keeps the person in the queue where possible, and
    the update is marked handled. A database error (a deadlock with an operator's action, a
    timeout) is counted on the row and the update left to a later drain (RetryLater); after
    MAX_ATTEMPTS it is given up like a bug. Only an unreachable database stops the drain: the
    error propagates and the update stays pending."""
    try:
        return _apply_stored(pk)
    except (OperationalError, InterfaceError) as exc:
        attempts = _count_attempt(pk)  # raises again when the database cannot be reached
        if attempts < MAX_ATTEMPTS:
            logger.warning(
                "telegram update row=%s not applied (%s), attempt %s of %s", pk, type(exc).__name__, attempts,
                MAX_ATTEMPTS,
            )
            raise RetryLater(pk) from exc
        logger.error("telegram update row=%s given up after %s database errors (%s)", pk, attempts, type(exc).__name__)
        return _give_up(pk)


def _count_attempt(pk: int) -> int:
    TelegramUpdate.objects.filter(pk=pk).update(attempts=F("attempts") + 1)
    return TelegramUpdate.objects.filter(pk=pk).values_list("attempts", flat=True).first() or 0


def _give_up(pk: int) -> Outcome | None:
    """Mark an update that keeps failing as failed, keeping a placeholder request if that can
    be stored; if not, its (encrypted) payload stays on the row, so its words are not lost."""
    with transaction.atomic():
        row = _locked(pk)
        if row is None:
            return None
        try:
            with transaction.atomic():
                outcome = _fallback(row)
        except (OperationalError, InterfaceError):
            outcome = Outcome("failed")
        kept = outcome.message_id is not None
        TelegramUpdate.objects.filter(pk=pk).update(
            processed_at=timezone.now(), result="failed", **({"payload": None} if kept else {}),
        )
    return outcome


def _locked(pk: int) -> TelegramUpdate | None:
    return (
        TelegramUpdate.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, processed_at__isnull=True).only("id", "update_id", "kind", "payload").first()
    )


def _apply_stored(pk: int) -> Outcome | None:
    with transaction.atomic():
        row = _locked(pk)
        if row is None:
            return None
        try:
            update = json.loads(row.payload or "")
            with transaction.atomic():
                outcome = apply_update(update)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            # Where it failed (code lines only; never the update, which quotes the person).
            logger.error(
                "telegram update=%s kind=%s failed: %s\n%s", row.update_id, row.kind, type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            outcome = _fallback(row)
        TelegramUpdate.objects.filter(pk=pk).update(processed_at=timezone.now(), payload=None, result=outcome.result)
    return outcome


def _fallback(row: TelegramUpdate) -> Outcome:
    """Keep at least a trace of the request (intake.store_unreadable); the update is `failed`
    either way, so the failure stays countable."""
    try:
        update = json.loads(row.payload or "")
        with transaction.atomic():
            kept = store_unreadable(update)
        return Outcome("failed", kept.case_id, kept.message_id)
    except (OperationalError, InterfaceError):
        raise
    except Exception as again:
        logger.error("telegram update=%s fallback failed: %s", row.update_id, type(again).__name__)
        return Outcome("failed")


@dataclass(frozen=True)
class Backlog:
    """Updates stored but not yet handled: a worker is down or behind if this grows."""

    count: int
    oldest: datetime | None

    def late(self, now: datetime | None = None) -> bool:
        """True when the oldest waits longer than TELEGRAM_INBOX_LATE_SECONDS."""
        if self.oldest is None:
            return False
        age = ((now or timezone.now()) - self.oldest).total_seconds()
        return age > settings.TELEGRAM_INBOX_LATE_SECONDS


def backlog() -> Backlog:
    """One indexed query over the pending rows only (the partial index holds nothing else)."""
    pending = TelegramUpdate.objects.filter(processed_at__isnull=True)
    figures = pending.aggregate(count=Count("id"), oldest=Min("received_at"))
    return Backlog(count=figures["count"], oldest=figures["oldest"])
