"""Media in Chromium (issue 15): what a person sent over Telegram, as the operator meets it.

A voice note (a real Ogg/Opus file), a photo (a real JPEG) and a location arrive as Telegram
updates; the files are fetched over real HTTP from the fake Bot API, encrypted into storage,
and served back only through the case's access check. In the browser: the voice note plays
(the audio element knows its duration and its time advances), the photo renders (natural
width > 0) and opens larger on click, the location shows its coordinates with a copy button
and a link out to a map, no Content-Security-Policy rule is broken, the operator sends a photo
back (one too large is refused before it is uploaded), and another operator gets a 404 for the
file's URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from hotline.delivery import outbound
from hotline.desk import ownership
from hotline.intake.telegram import apply as intake
from hotline.intake.telegram import media
from hotline.models import MediaKind, MediaState, Message, MessageMedia
from tests.e2e.conftest import Evidence, sign_in, staff
from tests.fake_bot_api import FakeBotApi
from tests.telegram import message_update

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

LISTEN = """() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
}"""

PLAYS = """async () => {
  const audio = document.querySelector('.media-voice audio');
  if (!(audio.readyState >= 1)) await new Promise(r => audio.addEventListener('loadedmetadata', r, {once: true}));
  audio.muted = true;  // a muted element may play without a user's gesture
  await audio.play();
  const started = Date.now();
  while (audio.currentTime === 0 && Date.now() - started < 5000) await new Promise(r => setTimeout(r, 50));
  return {duration: audio.duration, currentTime: audio.currentTime, error: audio.error && audio.error.code};
}"""


@pytest.fixture
def media_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}},
    }
    return folder


def arrive(bot_api: FakeBotApi, chat_id: int) -> dict[str, MessageMedia]:
    """A voice note, a photo and a location from one person, applied as the inbox worker does,
    and the two files fetched as the fetch task does (over HTTP from the fake Bot API)."""
    voice = bot_api.add_file("voice-e2e", (FIXTURES / "voice.ogg").read_bytes(), path="voice/file_7.oga")
    photo = bot_api.add_file("photo-e2e", (FIXTURES / "photo.jpg").read_bytes(), path="photos/file_8.jpg")
    updates = [
        message_update(chat_id, voice={**voice, "duration": 1, "mime_type": "audio/ogg"}),
        message_update(chat_id, photo=[{**photo, "width": 64, "height": 48}], caption="my military ID"),
        message_update(chat_id, location={"latitude": 49.988358, "longitude": 36.232845}),
    ]
    found = {}
    for update in updates:
        outcome = intake.apply_update(update)
        attached = Message.objects.get(pk=outcome.message_id).media.get()
        if attached.state == MediaState.FETCHING:
            assert media.fetch(attached.pk) is None
            attached.refresh_from_db()
        assert attached.state == MediaState.READY, attached.reason
        found[attached.kind] = attached
    return found


def test_voice_plays_photo_renders_location_shows_and_others_get_404(
    live_server: Any, seeded: None, bot_api: FakeBotApi, media_dir: Path, page: Page, browser: Any,
    evidence: Evidence, settings: Any,
):
    base = live_server.url
    owner, other = staff("olena"), staff("petro")
    found = arrive(bot_api, 77001)
    case_id = found[MediaKind.VOICE].message.case_id
    ownership.case_take(actor=owner, case_id=case_id)
    voice_url = reverse("case_media", args=[case_id, found[MediaKind.VOICE].pk])
    photo_url = reverse("case_media", args=[case_id, found[MediaKind.PHOTO].pk])

    page.add_init_script(f"({LISTEN})()")
    evidence.watch("olena", page)
    sign_in(page, base, owner)
    page.goto(f"{base}/cases/{case_id}/")

    with evidence.step("the voice note plays"):
        audio = page.locator(".media-voice audio")
        expect(audio).to_have_attribute("src", voice_url)
        played = page.evaluate(PLAYS)
        assert played["error"] is None and played["duration"] > 0.9 and played["currentTime"] > 0, played

    with evidence.step("the photo renders and opens larger"):
        image = page.locator(f'.media-photo img[src="{photo_url}"]')
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") == 64
        image.click()
        dialog = page.locator("dialog.media-dialog")
        expect(dialog).to_be_visible()
        page.wait_for_function("() => document.querySelector('dialog.media-dialog img').naturalWidth > 0")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()

    with evidence.step("the location shows coordinates, a copy button and a map link"):
        place = page.locator(".media-location")
        expect(place).to_contain_text("49.988358, 36.232845")
        expect(place.get_by_role("button", name="Copy")).to_be_visible()
        link = place.get_by_role("link", name="Open in a map")
        assert "openstreetmap.org/?mlat=49.988358&mlon=36.232845" in (link.get_attribute("href") or "")

    with evidence.step("no rule of the CSP was broken and nothing came from elsewhere"):
        assert page.evaluate("window.__cspViolations") == []

    page.locator(".conversation").scroll_into_view_if_needed()
    evidence.document(page, "media", full_page=False)

    with evidence.step("a photo too large is refused before it is uploaded; one within the limit is sent"):
        settings.MEDIA_SEND_PHOTO_MAX_BYTES = 500  # the fixture is 946 bytes
        page.reload()
        page.get_by_text("Send a photo or a document").click()
        page.get_by_label("File").set_input_files(str(FIXTURES / "photo.jpg"))
        page.get_by_label("Caption").fill("the meeting point")
        assert page.get_by_label("File").evaluate("input => input.validity.valid") is False
        page.get_by_role("button", name="Send file").click()
        assert Message.objects.filter(case_id=case_id, direction="outbound", author=owner).count() == 0
        settings.MEDIA_SEND_PHOTO_MAX_BYTES = 10 * 1024 * 1024
        page.reload()
        page.get_by_text("Send a photo or a document").click()
        page.get_by_label("File").set_input_files(str(FIXTURES / "photo.jpg"))
        page.get_by_label("Caption").fill("the meeting point")
        page.get_by_role("button", name="Send file").click()
        expect(page.get_by_text("File queued for delivery.")).to_be_visible()
        sent = Message.objects.get(case_id=case_id, direction="outbound", author=owner)
        assert outbound.deliver_message(sent.pk) is None
        call = bot_api.calls_of("sendPhoto")[-1]
        assert call["photo"] == (FIXTURES / "photo.jpg").read_bytes() and call["caption"] == "the meeting point"
        page.reload()
        sent_image = page.locator(f'img[src="{reverse("case_media", args=[case_id, sent.media.get().pk])}"]')
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=sent_image.element_handle())

    with evidence.step("another operator gets 404 for the file's URL"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        other_page = evidence.watch("petro", context.new_page())
        sign_in(other_page, base, other)
        for url in (voice_url, photo_url):
            assert other_page.request.get(base + url).status == 404
        assert other_page.request.get(base + reverse("case_media", args=[case_id, 999999])).status == 404
        context.close()
        assert page.request.get(base + voice_url).status == 200
