"""The interface in Ukrainian (issue 4: every UI string translatable, English and Ukrainian).

Three layers, each able to fail on its own:
- the committed catalogue (locale/uk/LC_MESSAGES/django.po) is complete: no empty, fuzzy or
  obsolete entry, placeholders kept, and the committed .mo holds exactly what the .po says
  (pure Python: a fresh machine needs no gettext to run the product);
- the catalogue is up to date with the code: `makemessages` run on a copy of the sources
  yields exactly the committed entries, so a new `{% translate %}`, `gettext(...)` or a changed
  text without its Ukrainian translation fails (needs GNU gettext: skipped locally without it,
  a failure under CI=true, like the PostgreSQL and Redis markers);
- whole pages rendered for a Ukrainian operator carry no English words (beyond names and a
  short allowlist), which also catches text that was never marked for translation.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from hotline.desk import ownership, services
from hotline.models import EquipmentType, Stage
from operators.models import AuthenticatorDevice as TOTPDevice
from operators.models import Language, OperatorProfile
from tests.conftest import missing
from tests.factories import make_case, make_operator, receive
from tests.pages import login

ROOT = Path(settings.BASE_DIR)
FOLDER = ROOT / "locale" / "uk" / "LC_MESSAGES"
# The documented command (docs/notes/desk.md, README): the same scope here.
IGNORED = (".venv", "var", "docs", "bench", "tests")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


# --- a small .po reader (no polib: the standard library is enough) ----------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def parse_po(text: str) -> list[Entry]:
    entries: list[Entry] = []
    entry, target = Entry(), None
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            if entry.msgstr or entry.msgid:
                entries.append(entry)
            entry, target = Entry(), None
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        entry.obsolete = entry.obsolete or obsolete
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            value, rest = ast.literal_eval(line), None
        else:
            value = ast.literal_eval(rest)
            target = keyword
        if target == "msgid":
            entry.msgid = entry.msgid + value if rest is None else value
        elif target == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        elif target == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        else:
            index = int(target[7:-1]) if target.startswith("msgstr[") else 0
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
    return entries


def catalogue(entries: list[Entry]) -> dict[object, str]:
    """What msgfmt compiles, in the shape of gettext.GNUTranslations' catalogue."""
    result: dict[object, str] = {}
    for e in entries:
        if not e.msgid or e.obsolete or "fuzzy" in e.flags:
            continue
        if e.msgid_plural is None:
            result[e.key] = e.msgstr[0]
        else:
            result.update({(e.key, i): text for i, text in e.msgstr.items()})
    return result


def mo_catalogue(path: Path) -> dict[object, str]:
    with path.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    # GNUTranslations keeps no public mapping; _catalog is the parsed file (header under "").
    return {k: v for k, v in compiled._catalog.items() if k != ""}


def committed() -> list[Entry]:
    return parse_po((FOLDER / "django.po").read_text(encoding="utf-8"))


def nplurals(entries: list[Entry]) -> int:
    header = next(e for e in entries if e.msgid == "").msgstr[0]
    return int(re.search(r"nplurals=(\d+)", header).group(1))


# --- 1. the committed catalogue -----------------------------------------------------------------------


def test_the_reader_understands_the_po_format():
    """The checks below are only as good as the parser: wrapped lines, plurals, flags, obsolete."""
    entries = parse_po(
        '#, fuzzy, python-format\nmsgid ""\n"Long %(n)s "\n"text"\nmsgstr "Довгий %(n)s \\"текст\\""\n\n'
        'msgid "%(n)s case"\nmsgid_plural "%(n)s cases"\nmsgstr[0] "a"\nmsgstr[1] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr "Немає"\n'
    )
    assert [(e.msgid, e.msgid_plural, e.msgstr, e.obsolete) for e in entries] == [
        ("Long %(n)s text", None, {0: 'Довгий %(n)s "текст"'}, False),
        ("%(n)s case", "%(n)s cases", {0: "a", 1: ""}, False),
        ("Gone", None, {0: "Немає"}, True),
    ]
    assert entries[0].flags == {"fuzzy", "python-format"}


def test_the_ukrainian_catalogue_is_complete():
    entries = committed()
    forms = nplurals(entries)
    assert forms == 4  # the formula of Django's own uk catalogue, so Django merges the two
    real = [e for e in entries if e.msgid]
    assert len(real) > 450
    assert [e.msgid for e in real if e.obsolete] == [], "remove the obsolete #~ entries"
    assert [e.msgid for e in real if "fuzzy" in e.flags] == [], "check and un-fuzzy these"
    empty = [e.msgid for e in real if not all(e.msgstr.get(i) for i in range(forms if e.msgid_plural else 1))]
    assert empty == [], "translate these"
    for e in real:
        if "python-format" not in e.flags:
            continue
        expected = set(PLACEHOLDER.findall(e.msgid_plural or e.msgid))
        for text in e.msgstr.values():
            assert set(PLACEHOLDER.findall(text)) == expected, (e.msgid, text)


def test_the_committed_mo_is_the_compiled_po():
    """The product runs from the .mo: a .po edited without compilemessages would not show."""
    assert mo_catalogue(FOLDER / "django.mo") == catalogue(committed())


# --- 2. the catalogue is up to date with the code -------------------------------------------------------


def _gettext_tools() -> None:
    absent = [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib", "msgfmt") if not shutil.which(tool)]
    if absent:
        missing(f"GNU gettext is not installed ({', '.join(absent)}): apt-get install gettext")


def test_every_ui_string_in_the_code_has_its_ukrainian_translation(tmp_path):
    """makemessages on a copy of the sources finds nothing new, nothing changed, nothing gone."""
    _gettext_tools()
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT, copy,
        ignore=lambda folder, names: [
            n for n in names
            if (Path(folder) == ROOT and n in (*IGNORED, ".git", "static", "node_modules"))
            or n in ("__pycache__", ".pytest_cache", ".ruff_cache")
        ],
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hotline.settings.test", "PYTHONPATH": str(copy)}
    subprocess.run(  # noqa: S603 - our own manage.py on our own sources
        [sys.executable, "manage.py", "makemessages", "-l", "uk", "--no-location",
         *(f"--ignore={name}" for name in IGNORED)],
        cwd=copy, env=env, check=True, capture_output=True, timeout=300,
    )
    fresh = parse_po((copy / "locale" / "uk" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))
    fresh_real = [e for e in fresh if e.msgid]
    untranslated = [e.msgid for e in fresh_real if not e.obsolete and not all(e.msgstr.values())]
    fuzzy = [e.msgid for e in fresh_real if "fuzzy" in e.flags]
    gone = [e.msgid for e in fresh_real if e.obsolete]
    hint = "run makemessages (docs/notes/i18n.md), translate, compilemessages, commit .po and .mo"
    assert untranslated == [], f"UI strings without a Ukrainian translation: {hint}"
    assert fuzzy == [], f"UI strings changed since they were translated: {hint}"
    assert gone == [], f"translations of strings the code no longer has: {hint}"
    assert catalogue(fresh) == catalogue(committed()), hint


def test_msgfmt_accepts_the_catalogue_and_compiles_the_committed_mo(tmp_path):
    """msgfmt --check: the header, plural forms and python-format placeholders are valid."""
    _gettext_tools()
    out = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603 - our own catalogue
        [shutil.which("msgfmt"), "--check", "-o", str(out), str(FOLDER / "django.po")],
        check=True, capture_output=True, timeout=60,
    )
    assert mo_catalogue(out) == mo_catalogue(FOLDER / "django.mo")


# --- 3. pages rendered in Ukrainian ----------------------------------------------------------------------


class _Visible(HTMLParser):
    """The text a person reads or hears: text nodes and labelling attributes, not code."""

    SKIP = {"script", "style", "code"}
    SPOKEN = {"aria-label", "title", "placeholder", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)
        if tag == "input" and dict(attrs).get("type") == "submit":
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# Names, not words: the product, channels, apps, currencies, and what the tests' data is called.
ALLOWED = {
    "Hotline", "Desk", "Telegram", "API", "CSV", "USD", "QR", "Aegis", "FreeOTP", "Google", "Authenticator",
    "English", "olena", "taras", "sofia", "Sector",
    "Enter", "Esc",  # keys, as printed on them
    "Called", "back",  # tests/factories.py's call summary: data, shown in the queue's last-message preview
}


LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


def english_words(html: str) -> list[str]:
    """Latin-script words a Ukrainian operator would read, less names and data (equipment, codes)."""
    data = [*EquipmentType.objects.values_list("name", flat=True), *Language.objects.values_list("code", flat=True)]
    names = {word for value in data for word in LATIN_WORD.findall(value)}
    return sorted({w for w in LATIN_WORD.findall(visible_text(html)) if w not in ALLOWED and w not in names})


def assert_ukrainian(response, *phrases: str) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert '<html lang="uk">' in html
    text = visible_text(html)
    assert [p for p in phrases if p in text] == []
    assert english_words(html) == []
    return text


@pytest.fixture
def ukrainian_desk(client, operator, supervisor):
    """A desk with something in every state: overdue, at risk, answered, surrendered, closed."""
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=30), tick=False):
        overdue = receive(language="uk").case
    with time_machine.travel(now - timedelta(hours=21), tick=False):
        receive()
    with time_machine.travel(now - timedelta(days=2), tick=False):
        answered = receive().case
    with time_machine.travel(now - timedelta(days=2, hours=-3), tick=False):
        ownership.case_take(actor=operator, case_id=answered.pk)
        services.case_reply(actor=operator, case_id=answered.pk, text="Здравствуйте, мы на связи.")
    services.case_add_note(actor=operator, case_id=answered.pk, text="Перевірити позивний")
    services.case_log_call(actor=operator, case_id=answered.pk, summary="Поговорили", direction="outbound")
    services.case_advance(actor=operator, case_id=answered.pk, to_stage=Stage.VERIFIED)
    services.case_advance(actor=operator, case_id=answered.pk, to_stage=Stage.PLANNING)
    tank = EquipmentType.objects.order_by("position").first()
    services.case_declare_equipment(actor=operator, case_id=answered.pk, equipment={tank.pk: 1})
    surrendered = make_case(Stage.SURRENDERED, owner=operator)
    make_case(Stage.CLOSED, owner=operator)
    make_case(Stage.IN_CONTACT, owner=operator, channel="phone")
    return {"overdue": overdue, "answered": answered, "surrendered": surrendered}


def test_queue_pages_in_ukrainian(client, operator, supervisor, ukrainian_desk):
    login(client, operator, language="uk")
    text = assert_ukrainian(client.get(reverse("queue") + "?scope=unassigned"), "Take next", "Overdue", "Unassigned")
    assert "Взяти наступну справу" in text and "Прострочено" in text and "Під загрозою" in text
    assert_ukrainian(client.get(reverse("queue") + "?scope=mine"), "My cases", "Log an inbound phone call")
    login(client, supervisor, language="uk")
    assert_ukrainian(client.get(reverse("queue") + "?scope=all&q=abc"), "All open", "Owner", "Time left")


def test_case_pages_in_ukrainian(client, operator, supervisor, ukrainian_desk):
    answered = ukrainian_desk["answered"]
    login(client, operator, language="uk")
    text = assert_ukrainian(
        client.get(reverse("case", args=[answered.pk])), "Conversation", "Timeline", "Record the surrender", "Reply",
    )
    assert "Листування" in text and "Хронологія" in text
    login(client, supervisor, language="uk")
    for case in ukrainian_desk.values():
        assert_ukrainian(client.get(reverse("case", args=[case.pk])), "Seen by", "Reassign", "Mark reward paid")
    assert_ukrainian(client.get(reverse("case_reads", args=[answered.pk])), "Who read", "Case page")


def test_dashboard_in_ukrainian(client, supervisor, ukrainian_desk):
    login(client, supervisor, language="uk")
    response = client.get(reverse("dashboard"))
    text = assert_ukrainian(response, "Dashboard", "Median", "Overdue", "SLA", "No answered requests")
    assert "Медіана" in text and "Норматив 24 год" in text and "год" in text
    assert_ukrainian(client.get(reverse("dashboard") + "?period=today"))
    refused = client.get(reverse("dashboard") + "?period=custom")
    assert refused.status_code == 400 and "Для іншого періоду потрібні" in refused.content.decode()


def test_supervisor_pages_in_ukrainian(client, operator, supervisor, ukrainian_desk):
    login(client, supervisor, language="uk")
    assert_ukrainian(client.get(reverse("team")), "Team", "End shift", "Move open cases", "Reset second factor")
    assert_ukrainian(client.get(reverse("canned_replies")), "Canned replies", "New canned reply")
    assert_ukrainian(client.get(reverse("audit")), "Audit of reads", "Person")
    assert_ukrainian(client.get(reverse("operator_reads", args=[operator.pk])), "Cases read by", "Stage now")
    preferences = client.get(reverse("preferences"))
    zones = re.sub(r'<select name="time_zone".*?</select>', "", preferences.content.decode(), flags=re.S)
    assert zones != preferences.content.decode()  # the IANA zone names are data, not words
    preferences.content = zones.encode()
    assert_ukrainian(preferences, "Preferences", "Time zone")
    assert_ukrainian(client.get(reverse("security")), "Security", "backup code")
    not_found = client.get("/cases/999999/")
    assert not_found.status_code == 404 and english_words(not_found.content.decode()) == []


def test_sign_in_pages_in_ukrainian(client, operator):
    OperatorProfile.objects.filter(user=operator).update(ui_language="uk")
    assert_ukrainian(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="uk"), "Log in", "Username", "Password")
    client.post(reverse("login"), {"username": operator.username, "password": "correct horse battery"})
    assert_ukrainian(client.get(reverse("otp_enrol")), "Set up your authenticator", "Confirm")
    wrong = client.post(reverse("otp_enrol"), {"code": "000000"})
    assert "Код неправильний" in assert_ukrainian(wrong, "not right")
    client.logout()
    TOTPDevice.objects.filter(user=operator).update(confirmed=True)
    client.post(reverse("login"), {"username": operator.username, "password": "correct horse battery"})
    assert_ukrainian(client.get(reverse("otp_verify")), "Enter your code", "Continue")


def test_refusals_from_the_services_reach_the_operator_in_ukrainian(client, db):
    """Domain errors are worded when raised, in the language the middleware activated."""
    busy = make_operator("olena", capacity=1)
    make_case(Stage.ASSIGNED, owner=busy)
    waiting = receive().case
    login(client, busy, language="uk")
    response = client.post(reverse("case_take", args=[waiting.pk]))
    assert response.status_code == 409 and "Ви досягли свого ліміту: 1 активна справа." in response.content.decode()
    login(client, busy, language="en")
    response = client.post(reverse("case_take", args=[waiting.pk]))
    assert "You are at your limit of 1 active case." in response.content.decode()
