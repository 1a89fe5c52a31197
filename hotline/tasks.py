"""Celery tasks: each loads by id and calls the service layer; nothing here holds a rule."""

from celery import shared_task

from . import delivery, sla


@shared_task(ignore_result=True)
def sla_sweep_task() -> dict[str, int]:
    result = sla.sla_sweep()
    return {"at_risk": result.at_risk, "overdue": result.overdue}


@shared_task(
    bind=True, ignore_result=True, acks_late=True, max_retries=None,
)
def deliver_message_task(self, message_id: int) -> None:  # type: ignore[no-untyped-def]
    """Send one outbound message; the delivery module decides retry or final failure."""
    retry_in = delivery.deliver_message(message_id, attempt=self.request.retries)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(ignore_result=True)
def notify_supervisors_task(overdue: int, at_risk: int) -> None:
    delivery.notify_supervisors(overdue=overdue, at_risk=at_risk)


@shared_task(ignore_result=True)
def telegram_answer_callback_task(callback_query_id: str, text: str) -> None:
    delivery.answer_button(callback_query_id, text)


@shared_task(ignore_result=True)
def telegram_prune_updates_task() -> int:
    """Forget old Telegram update ids (Telegram may reuse them after a week without updates)."""
    from .telegram.intake import prune_updates

    return prune_updates()
