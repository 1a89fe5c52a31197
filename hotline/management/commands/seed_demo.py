"""Demo data for a local machine: staff with printed passwords and cases in every stage.

Built through the service layer at believable moments in the past (time-machine moves the
clock), so the demo has the same events and timestamps real use would write. The demo is made
to demonstrate: operators start off shift and below their capacity, with waiting cases in their
languages, so *Take next* gives each of them a case (and *Start shift* lets auto-assignment fill
the rest); canned replies exist in Russian and Ukrainian; the demo's answers were never sent to
anyone, so they are recorded as delivered instead of failing for want of a bot. The passwords are
kept in var/demo-logins.json (DEBUG machines only) and printed on every `make run` start.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.utils import timezone

from hotline.desk import ownership, services
from hotline.desk.canned import canned_reply_save
from hotline.desk.sla import sla_sweep
from hotline.models import Case, CloseReason, Delivery, Direction, EquipmentType, Message, Stage
from operators.models import OperatorProfile
from operators.services import operator_create

RU = [
    "Здравствуйте. Я мобилизованный, нахожусь под Покровском. Хочу сдаться, как это сделать?",
    "Добрый вечер, меня отправляют на передовую через неделю. Что мне делать, чтобы выжить?",
    "Нас трое в подразделении, все хотим сдаться. Можно ли вместе?",
    "Я механик-водитель танка. Если приеду на танке — что мне будет?",
    "Пишу за брата, он под Бахмутом, телефон у него забирают. Как ему с вами связаться?",
    "Это правда, что пленных меняют? Я не хочу обратно в Россию.",
    "Нахожусь в Курской области, нас готовят к штурму. Помогите.",
]
UK = [
    "Добрий день. Я з Донецька, мене примусово мобілізували. Хочу перейти на бік України.",
    "Я з Криму, служу в ЗС РФ. Як безпечно здатися?",
    "Маю інформацію про свій підрозділ і хочу здатися. Що робити далі?",
]
ANSWERS = [
    "Здравствуйте. Вы обратились в проект «Хочу жить». Ваше обращение принято. Где вы сейчас находитесь?",
    "Спасибо, что написали. Сохраняйте спокойствие, мы поможем. Напишите, пожалуйста, ваше подразделение.",
]


# (username, supervisor, languages, interface language): both interface languages are shown.
STAFF = [
    ("supervisor", True, ("ru", "uk", "en"), "en"), ("olena", False, ("uk", "ru"), "uk"),
    ("taras", False, ("ru",), "en"), ("iryna", False, ("uk", "ru", "en"), "uk"),
]
CAPACITY = 12
# The most open cases the demo gives one operator: the rest of their capacity is for Take next.
DEMO_LOAD = 7
CANNED = [
    ("Приветствие", "Здравствуйте. Вы обратились в проект «Хочу жить». Ваше обращение принято. "
     "Где вы сейчас находитесь?", "ru"),
    ("Безопасность", "Не пишите нам с телефона, который могут проверить командиры. Удаляйте переписку "
     "после каждого сообщения.", "ru"),
    ("Привітання", "Добрий день. Ви звернулися до проєкту «Хочу жити». Ваше звернення прийнято. "
     "Де ви зараз перебуваєте?", "uk"),
    ("Безпека", "Не пишіть нам з телефону, який можуть перевірити командири. Видаляйте листування "
     "після кожного повідомлення.", "uk"),
]


def logins_path() -> Any:
    return settings.VAR_DIR / "demo-logins.json"


class Command(BaseCommand):
    help = "Create demo staff and cases (local machines only); --show-logins prints the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cases", type=int, default=60)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any case exists.")
        parser.add_argument("--show-logins", action="store_true", help="Print the demo logins at the end.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo is for local machines (DEBUG=true) only.")
        if options["if_empty"] and Case.objects.exists():
            self.stdout.write("Demo data already present.")
        else:
            self._seed(options["cases"])
        if options["show_logins"]:
            self._show_logins()

    def _seed(self, cases: int) -> None:
        self.travel = time_machine.travel
        self.rng = random.Random(7)
        self.now = timezone.now()
        staff = self._staff()
        for reply in CANNED:
            canned_reply_save(actor=staff[0], title=reply[0], body=reply[1], language=reply[2])
        for index in range(cases):
            self._case(index, staff)
        # Never sent to anyone (there is no bot here): recorded as delivered, not as failures.
        Message.objects.filter(direction=Direction.OUTBOUND, delivery=Delivery.QUEUED).update(
            delivery=Delivery.SENT, delivered_at=F("created_at"),
        )
        flagged = sla_sweep()
        self.stdout.write(f"Seeded {cases} cases; {flagged.overdue} overdue, {flagged.at_risk} at risk.")

    def _staff(self) -> list[User]:
        users, logins = [], {}
        for username, supervisor, languages, ui_language in STAFF:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(9)
                # Off shift: auto-assignment leaves them alone until they press Start shift, so
                # the waiting cases are theirs to take (Take next).
                user = operator_create(
                    username=username, password=password, supervisor=supervisor, languages=languages,
                    capacity=CAPACITY, on_shift=False,
                )
                OperatorProfile.objects.filter(user=user).update(ui_language=ui_language)
                logins[username] = {
                    "password": password, "role": "supervisor" if supervisor else "operator",
                    "language": ui_language,
                }
            users.append(user)
        if logins:
            self._remember(logins)
        return users

    def _remember(self, logins: dict[str, dict[str, str]]) -> None:
        """Keep the demo passwords where only this machine's user reads them (var/, mode 0600)."""
        path = logins_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(path.read_text()) if path.exists() else {}
        known.update(logins)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(known, file, indent=1)

    def _show_logins(self) -> None:
        path = logins_path()
        known = json.loads(path.read_text()) if path.exists() else {}
        self.stdout.write(self.style.SUCCESS("Demo logins (local only; change or delete before any real use):"))
        for username, _supervisor, _languages, _ui in STAFF:
            entry = known.get(username)
            if entry is None:
                if User.objects.filter(username=username).exists():
                    self.stdout.write(f"  {username:<11} (password not kept here: manage.py changepassword {username})")
                continue
            self.stdout.write(f"  {username:<11} {entry['password']:<14} {entry['role']:<11} {entry['language']}")
        if settings.OTP_REQUIRED:
            self.stdout.write(
                "Second factor: ON. After the password, each user sets up an authenticator app "
                "(QR code) and gives its code at every login."
            )
        else:
            self.stdout.write(self.style.WARNING(
                "Second factor: OFF for this local demo (OTP_REQUIRED=false in hotline/settings/local.py): "
                "the password alone signs in. Production always requires it; set OTP_REQUIRED=true to try it here."
            ))
        self.stdout.write(
            "Operators start off shift and below their capacity: Take next gives each a case; "
            "Start shift lets auto-assignment fill the rest."
        )

    def _at(self, moment: datetime) -> Any:
        return self.travel(moment, tick=False)

    def _owner_for(self, language: str, operators: list[User]) -> User | None:
        """An operator who speaks the case's language and has room under the demo's load."""
        fitting = [
            op for op in operators
            if language in op.operator.languages.values_list("code", flat=True)
            and ownership.active_case_count(op) < DEMO_LOAD
        ]
        return self.rng.choice(fitting) if fitting else None

    def _case(self, index: int, staff: list[User]) -> None:
        rng = self.rng
        operators = staff[1:]
        language = "uk" if index % 4 == 0 else "ru"
        text = rng.choice(UK if language == "uk" else RU)
        # Spread first contact over the last 30 days; the newest ones still waiting.
        age = timedelta(hours=rng.uniform(0.2, 30 * 24))
        opened = self.now - age
        channel = "telegram" if index % 5 else "phone"
        identifier = f"{700000000 + index}" if channel == "telegram" else f"+7 9{index:02d} 555 01 {index % 100:02d}"
        with self._at(opened):
            received = services.request_receive(
                actor=None, channel=channel, identifier=identifier, text=text, language=language,
                display_name=rng.choice(["Иван", "Алексей", "Сергей", "Дмитрий", "Андрій", ""]),
            )
        case_id = received.case.pk
        target = rng.choice(
            [Stage.NEW] * 3 + [Stage.ASSIGNED] * 2 + [Stage.IN_CONTACT] * 3 + [Stage.VERIFIED] * 2
            + [Stage.PLANNING] * 2 + [Stage.SURRENDERED] * 2 + [Stage.CLOSED] * 2
        )
        if target == Stage.NEW:
            return
        owner = self._owner_for(language, operators)
        moment = opened + timedelta(minutes=rng.uniform(3, 300))
        if owner is None or moment > self.now:
            return  # it waits in the unassigned queue
        with self._at(moment):
            ownership.case_take(actor=owner, case_id=case_id)
        if target == Stage.ASSIGNED:
            return
        moment += timedelta(minutes=rng.uniform(2, 60 * 20))
        if moment > self.now:
            return
        with self._at(moment):
            if channel == "telegram":
                services.case_reply(actor=owner, case_id=case_id, text=rng.choice(ANSWERS))
            else:
                services.case_log_call(actor=owner, case_id=case_id, summary="Перезвонил, объяснил порядок.")
        if target == Stage.CLOSED:
            with self._at(moment + timedelta(hours=2)):
                services.case_close(actor=owner, case_id=case_id, reason=rng.choice(CloseReason.values))
            return
        steps = [Stage.VERIFIED, Stage.PLANNING]
        for step in steps:
            if target == Stage.IN_CONTACT or moment + timedelta(days=1) > self.now:
                return
            moment += timedelta(hours=rng.uniform(4, 24))
            with self._at(moment):
                services.case_advance(actor=owner, case_id=case_id, to_stage=step)
            if step == target:
                return
        if moment + timedelta(days=1) > self.now:
            return
        moment += timedelta(hours=rng.uniform(12, 72))
        moment = min(moment, self.now - timedelta(minutes=5))
        equipment = {}
        if rng.random() < 0.4:
            kind = EquipmentType.objects.order_by("?").first()
            if kind:
                equipment[kind.pk] = 1
        with self._at(moment):
            services.case_record_surrender(
                actor=owner, case_id=case_id, surrendered_at=moment - timedelta(hours=3),
                place=rng.choice(["Запорожское направление", "Харьковская область", "Покровское направление"]),
                equipment=equipment,
            )
