"""Celery tasks: each loads by id and calls one function of a room; nothing here holds a rule.

Names come from `hotline.queueing`, where every caller queues them from: a room never imports
this module, so this is the only place that imports them all.
"""

from celery import shared_task
from django.conf import settings

from hotline import queueing
from hotline.dashboard import case_counts
from hotline.delivery import outbound
from hotline.desk import ownership, sla
from hotline.intake.telegram import apply, inbox, media
from hotline.privacy import retention


@shared_task(name=queueing.SLA_SWEEP, ignore_result=True)
def sla_sweep_task() -> dict[str, int]:
    result = sla.sla_sweep()
    return {"at_risk": result.at_risk, "overdue": result.overdue}


@shared_task(name=queueing.DELIVER_MESSAGE, bind=True, ignore_result=True, acks_late=True, max_retries=None)
def deliver_message_task(self, message_id: int) -> None:  # type: ignore[no-untyped-def]
    """Send one outbound message; the delivery module decides retry or final failure.

    Attempts are counted on the message, not the task (a re-queued task starts afresh)."""
    retry_in = outbound.deliver_message(message_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=queueing.DELIVERY_RECOVER, ignore_result=True)
def delivery_recover_task() -> int:
    """Periodic: queue again outbound messages whose task was lost (Redis data, a dead worker)."""
    return len(outbound.requeue_stranded())


@shared_task(name=queueing.NOTIFY_SUPERVISORS, ignore_result=True)
def notify_supervisors_task(overdue: int, at_risk: int) -> None:
    outbound.notify_supervisors(overdue=overdue, at_risk=at_risk)


@shared_task(name=queueing.ANSWER_BUTTON, ignore_result=True)
def telegram_answer_callback_task(callback_query_id: str, text: str) -> None:
    outbound.answer_button(callback_query_id, text)


@shared_task(name=queueing.PROCESS_UPDATES, ignore_result=True, acks_late=True)
def telegram_process_updates_task(poll_seconds: float = 0.0) -> int:
    """Apply stored Telegram updates to the cases: woken by the webhook, and periodically
    for whatever a lost wake-up left behind."""
    return len(inbox.process_pending(poll_seconds=poll_seconds))


@shared_task(name=queueing.PRUNE_UPDATES, ignore_result=True)
def telegram_prune_updates_task() -> int:
    """Forget old Telegram update ids (Telegram may reuse them after a week without updates)."""
    return apply.prune_updates()


@shared_task(name=queueing.AUTO_ASSIGN_CASE, bind=True, ignore_result=True, acks_late=True, max_retries=20)
def auto_assign_case_task(self, case_id: int, exclude_user_id: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """Give a new or returned case to an operator; retry while another transaction holds it."""
    try:
        ownership.assign_case(case_id, exclude_user_id=exclude_user_id)
    except ownership.CaseBusy as busy:
        raise self.retry(countdown=2, exc=busy) from busy


@shared_task(name=queueing.AUTO_ASSIGN_CASES, bind=True, ignore_result=True, acks_late=True, max_retries=20)
def auto_assign_cases_task(self, case_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Offer a batch's new or waiting cases to operators, one after another (intake queues one
    task per batch); the cases another transaction holds are tried again by a retry."""
    busy = []
    for case_id in case_ids:
        try:
            ownership.assign_case(case_id)
        except ownership.CaseBusy:
            busy.append(case_id)
    if busy:
        raise self.retry(args=(busy,), countdown=2)


@shared_task(name=queueing.AUTO_ASSIGN_OPERATOR, ignore_result=True, acks_late=True)
def auto_assign_operator_task(operator_id: int, exclude_case_ids: list[int] | None = None) -> None:
    """Fill an operator's free capacity (they came on shift or finished a case)."""
    ownership.assign_waiting_to(operator_id, exclude_case_ids=exclude_case_ids or ())


@shared_task(name=queueing.AUTO_ASSIGN_SWEEP, ignore_result=True)
def auto_assign_sweep_task() -> int:
    """Periodic: waiting cases a lost or skipped assignment left behind."""
    return ownership.assign_waiting() if settings.AUTO_ASSIGN else 0


@shared_task(name=queueing.CASE_COUNTS_COMPACT, ignore_result=True)
def case_counts_compact_task() -> int:
    """Periodic: fold the ledger of case counts (hotline/dashboard/case_counts.py) into a row per key."""
    return case_counts.compact()


@shared_task(name=queueing.RETENTION, ignore_result=True)
def retention_task() -> int:
    """Daily: erase personal data past RETENTION_DAYS (hotline/privacy/retention.py)."""
    return retention.anonymise_expired().cases


@shared_task(name=queueing.FETCH_MEDIA, bind=True, ignore_result=True, acks_late=True, max_retries=None)
def telegram_fetch_media_task(self, media_id: int) -> None:  # type: ignore[no-untyped-def]
    """Download one file a contact sent; the media module decides retry or final failure."""
    retry_in = media.fetch(media_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=queueing.MEDIA_RECOVER, ignore_result=True)
def media_recover_task() -> int:
    """Periodic: queue again files whose fetch task was lost."""
    return len(media.requeue_stranded())
