"""Issue 16, point 11: the login page says what comes next (a code, or not, as the settings say),
has a language switch whose choice the operator keeps once signed in, and "Preferences saved" is
said in the language just chosen.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from operators.models import OperatorProfile
from tests.factories import make_operator
from tests.pages import login

pytestmark = pytest.mark.django_db


def test_the_login_page_says_a_code_comes_next_only_when_one_does(client, settings):
    settings.OTP_REQUIRED = True
    html = client.get(reverse("login")).content.decode()
    assert "Next you will be asked for a code from your authenticator app." in html
    settings.OTP_REQUIRED = False
    html = client.get(reverse("login")).content.decode()
    assert "Next you will be asked" not in html
    assert "If you have set up an authenticator app, you will be asked for its code next" in html


def test_the_language_chosen_on_the_login_page_is_kept_after_signing_in(settings):
    settings.OTP_REQUIRED = False  # the demo's password-only sign-in, as make run has it
    olena = make_operator("olena")
    assert OperatorProfile.objects.get(user=olena).ui_language == "uk"
    browser = Client()
    page = browser.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert 'name="language" value="en"' in page and 'name="language" value="uk"' in page
    switched = browser.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert switched.status_code == 302 and browser.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log in" in browser.get(reverse("login")).content.decode()
    browser.post(reverse("login"), {"username": "olena", "password": "correct horse battery"})
    assert OperatorProfile.objects.get(user=olena).ui_language == "en"
    assert "Take next case" in browser.get(reverse("queue")).content.decode()


def test_signing_in_without_touching_the_switch_keeps_the_profiles_language(settings):
    settings.OTP_REQUIRED = False
    olena = make_operator("olena")
    browser = Client()
    browser.post(reverse("login"), {"username": "olena", "password": "correct horse battery"})
    assert OperatorProfile.objects.get(user=olena).ui_language == "uk"
    assert "Взяти наступну справу" in browser.get(reverse("queue")).content.decode()


def test_preferences_saved_is_said_in_the_new_language_and_remembered_by_the_browser(client, operator):
    login(client, operator, language="en")
    response = client.post(reverse("preferences"), {"ui_language": "uk", "time_zone": "Europe/Kyiv"}, follow=True)
    html = response.content.decode()
    assert "Налаштування збережено." in html and "Preferences saved." not in html
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "uk"
