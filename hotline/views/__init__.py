"""Pages: parse the request, call one selector or service, render. No rule lives here."""

from .canned import canned_list, canned_save
from .case import (
    case_advance,
    case_assign,
    case_call,
    case_close,
    case_declare,
    case_detail,
    case_note,
    case_reopen,
    case_reply,
    case_reward_paid,
    case_surrender,
    case_take,
    case_unassign,
)
from .queue_page import call_log, queue, take_next

__all__ = [
    "call_log", "canned_list", "canned_save", "case_advance", "case_assign", "case_call", "case_close",
    "case_declare", "case_detail", "case_note", "case_reopen", "case_reply", "case_reward_paid", "case_surrender",
    "case_take", "case_unassign", "queue", "take_next",
]
