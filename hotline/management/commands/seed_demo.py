"""Demo data for a local machine: staff with printed passwords and cases in every stage.

Built through the service layer at believable moments in the past (time-machine moves the
clock), so the demo has the same events and timestamps real use would write.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hotline import services
from hotline.models import Case, CloseReason, EquipmentType, Stage
from hotline.sla import sla_sweep
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


class Command(BaseCommand):
    help = "Create demo staff and cases (local machines only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cases", type=int, default=60)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any case exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo is for local machines (DEBUG=true) only.")
        if options["if_empty"] and Case.objects.exists():
            self.stdout.write("Demo data already present.")
            return
        import time_machine

        self.travel = time_machine.travel
        self.rng = random.Random(7)
        self.now = timezone.now()
        staff = self._staff()
        for index in range(options["cases"]):
            self._case(index, staff)
        flagged = sla_sweep()
        self.stdout.write(
            f"Seeded {options['cases']} cases; {flagged.overdue} overdue, {flagged.at_risk} at risk."
        )

    def _staff(self) -> list[User]:
        plan = [
            ("supervisor", True, ("ru", "uk", "en")), ("olena", False, ("uk", "ru")),
            ("taras", False, ("ru",)), ("iryna", False, ("uk", "ru", "en")),
        ]
        users = []
        self.stdout.write("Demo staff (local only; change or delete before any real use):")
        for username, supervisor, languages in plan:
            user = User.objects.filter(username=username).first()
            password = "(unchanged)"  # noqa: S105 - shown, not a credential
            if user is None:
                password = secrets.token_urlsafe(9)
                user = operator_create(
                    username=username, password=password, supervisor=supervisor, languages=languages,
                    # The supervisor watches rather than takes cases, so the demo keeps some
                    # cases in the unassigned queue once the operators are at capacity.
                    capacity=12, on_shift=not supervisor,
                )
            role = "supervisor" if supervisor else "operator"
            self.stdout.write(f"  {username:<11} {password:<14} {role}")
            users.append(user)
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
        return users

    def _at(self, moment: datetime) -> Any:
        return self.travel(moment, tick=False)

    def _case(self, index: int, staff: list[User]) -> None:
        rng = self.rng
        operators = staff[1:]
        supervisor = staff[0]
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
        owner = rng.choice(operators)
        moment = opened + timedelta(minutes=rng.uniform(3, 300))
        if moment > self.now:
            return
        with self._at(moment):
            services.case_assign(actor=supervisor, case_id=case_id, operator=owner)
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
