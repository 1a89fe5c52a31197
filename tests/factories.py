"""Test data built through the service layer, so tests see what real use writes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User

from hotline.desk import ownership, services
from hotline.models import Case, Stage
from operators.models import OperatorProfile
from operators.services import operator_create

_identifiers = itertools.count(100_000)


def make_operator(
    username: str, *, supervisor: bool = False, languages: Iterable[str] = ("ru", "uk"), capacity: int = 10,
    on_shift: bool = True,
) -> User:
    return operator_create(
        username=username, password="correct horse battery", supervisor=supervisor, languages=languages,
        capacity=capacity, on_shift=on_shift,
    )


def profile(user: User) -> OperatorProfile:
    """The operator's profile, read again from the database."""
    return OperatorProfile.objects.get(user=user)


def receive(
    *, identifier: str | None = None, text: str = "Хочу сдаться", channel: str = "telegram",
    language: str = "ru", at: datetime | None = None, intake_key: str | None = None,
) -> services.Received:
    return services.request_receive(
        actor=None, channel=channel, identifier=identifier or str(next(_identifiers)), text=text,
        language=language, received_at=at, intake_key=intake_key,
    )


def make_case(stage: str, *, owner: User, supervisor: User | None = None, channel: str = "telegram") -> Case:
    """A case walked to `stage` through the services, as an operator would."""
    case = receive(channel=channel).case
    if stage == Stage.NEW:
        return case
    ownership.case_take(actor=owner, case_id=case.pk)
    if stage == Stage.ASSIGNED:
        return Case.objects.get(pk=case.pk)
    if channel == "telegram":
        services.case_reply(actor=owner, case_id=case.pk, text="Здравствуйте, мы на связи.")
    else:
        services.case_log_call(actor=owner, case_id=case.pk, summary="Called back")
    for step in (Stage.VERIFIED, Stage.PLANNING):
        if Case.objects.get(pk=case.pk).stage == stage:
            break
        services.case_advance(actor=owner, case_id=case.pk, to_stage=step)
    if stage == Stage.SURRENDERED:
        from django.utils import timezone

        services.case_record_surrender(
            actor=owner, case_id=case.pk, surrendered_at=timezone.now(), place="Sector 4", equipment={},
        )
    elif stage == Stage.CLOSED:
        services.case_close(actor=owner, case_id=case.pk, reason="withdrew")
    return Case.objects.get(pk=case.pk)


def login(client, user: User) -> None:
    """Sign in as staff do: a session past both steps, the second factor from a real TOTP device.

    OTP is enforced in the test settings; this is the one way tests sign in.
    """
    from django.http import HttpRequest
    from django_otp import login as otp_login

    from operators.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorDevice.objects.create(user=user, name="Test phone", confirmed=True)
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, device)
    request.session.save()


def seed_data_migration_rows() -> None:
    """Write again what the data migrations seed (roles, languages, equipment types): a
    transactional test's flush removes it. Idempotent."""
    import importlib

    from django.apps import apps as django_apps

    importlib.import_module("operators.migrations.0002_roles_and_languages").seed(django_apps, None)
    importlib.import_module("hotline.migrations.0002_seed_equipment").seed(django_apps, None)
    importlib.import_module("hotline.migrations.0005_equipment_name_uk").seed(django_apps, None)



def current_flags(case: Case) -> tuple[datetime | None, datetime | None]:
    """When the sweep flagged the case's current wait at risk, and overdue (None: not flagged).

    The flags are timeline events of the wait (hotline.desk.sla), not columns of the case."""
    flagged = dict(
        case.events.filter(kind__in=["at_risk", "overdue"], sla_wait=case.awaiting_since)
        .values_list("kind", "created_at")
    ) if case.awaiting_since else {}
    return flagged.get("at_risk"), flagged.get("overdue")
