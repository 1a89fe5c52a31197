"""The bot's triage questions (settings.TELEGRAM_TRIAGE_QUESTIONS), their inline keyboards
and the callback data that comes back when a button is pressed: "t:<question>:<answer>"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

CALLBACK_PREFIX = "t"


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    answers: tuple[tuple[str, str], ...]  # (code, label)

    def label(self, code: str) -> str | None:
        return dict(self.answers).get(code)

    def keyboard(self) -> dict[str, Any]:
        return {
            "inline_keyboard": [
                [{"text": label, "callback_data": f"{CALLBACK_PREFIX}:{self.key}:{code}"}]
                for code, label in self.answers
            ]
        }


def questions() -> list[Question]:
    if not settings.TELEGRAM_TRIAGE_ENABLED:
        return []
    return [
        Question(key=q["key"], text=q["text"], answers=tuple((str(c), str(label)) for c, label in q["answers"]))
        for q in settings.TELEGRAM_TRIAGE_QUESTIONS
    ]


def next_question(answered: dict[str, Any]) -> Question | None:
    """The first question the case has no answer for yet."""
    return next((q for q in questions() if q.key not in answered), None)


def parse_callback(data: str) -> tuple[Question, str, str] | None:
    """(question, answer code, answer label) for our own button, else None."""
    prefix, _, rest = data.partition(":")
    key, _, code = rest.partition(":")
    if prefix != CALLBACK_PREFIX:
        return None
    for question in questions():
        if question.key == key:
            label = question.label(code)
            return (question, code, label) if label is not None else None
    return None


def keyboard_for(body: str) -> dict[str, Any] | None:
    """The buttons for an automatic message that ends with a triage question.

    An automatic message is stored as text only; the buttons are derived from it when it is
    sent, so a question asked (text) and its buttons never disagree.
    """
    for question in questions():
        if body.endswith(question.text):
            return question.keyboard()
    return None
