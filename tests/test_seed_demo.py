"""`manage.py seed_demo`: a believable demo through the real services, local machines only."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hotline.models import Case, CaseEvent, Stage
from operators.roles import can_work, is_supervisor

pytestmark = pytest.mark.django_db


def test_demo_has_staff_with_roles_and_cases_in_every_stage(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path  # the demo logins file
    out = StringIO()
    call_command("seed_demo", "--cases", "60", "--show-logins", stdout=out)
    text = out.getvalue()
    assert "supervisor" in text and "olena" in text and "Seeded 60 cases" in text

    from django.contrib.auth.models import User

    supervisor, olena = User.objects.get(username="supervisor"), User.objects.get(username="olena")
    assert is_supervisor(supervisor) and can_work(olena) and not is_supervisor(olena)
    assert not supervisor.operator.on_shift and not olena.operator.on_shift  # Take next is theirs to try
    stages = set(Case.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert CaseEvent.objects.filter(kind="overdue").exists()  # the demo's sweep ran
    assert set(Case.objects.values_list("language", flat=True)) == {"ru", "uk"}
    # Built through the services: every case has its timeline.
    assert CaseEvent.objects.filter(kind="created").count() == Case.objects.count()

    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert "already present" in again.getvalue()
    assert Case.objects.count() == 60


def test_demo_refuses_to_run_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local"):
        call_command("seed_demo")
    assert not Case.objects.exists()
