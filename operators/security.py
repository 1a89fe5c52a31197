"""The mechanics of staff sign-in: client address, rate counters, session bookkeeping, 2FA devices.

Views (operators/auth_views.py) and middleware (operators/middleware.py) call these; the
supervisors' actions on other people's sessions are services (operators/services.py).
Counters live in the Django cache (Redis when REDIS_URL is set), keyed by a keyed hash so
neither an address nor a Telegram id is stored in clear there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from base64 import b32encode
from datetime import UTC, datetime

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django_otp import verify_token

from .models import AuthenticatorDevice, BackupCode, BackupCodeDevice, UserSession, backup_code_hashes

# Keys of our session data: when the sign-in began and when the person last did something.
SESSION_STARTED = "desk_started"
SESSION_SEEN = "desk_seen"
BACKGROUND_HEADER = "X-Background-Refresh"
# last_activity is written at most this often: a page view does not cost a write each time.
ACTIVITY_GRANULARITY_SECONDS = 60


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the entry our own TRUSTED_PROXY_COUNT proxies added."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def keyed(value: str) -> str:
    """A short keyed hash: a counter's name without the address or id in clear."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def count_hit(name: str, ident: str, window_seconds: int) -> int:
    """Add one to a fixed-window counter and return the count in this window."""
    key = f"rate:{name}:{keyed(ident)}"
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return 1


# --- password step: a budget of login posts per address ------------------------------------
def login_budget_spent(request: HttpRequest) -> bool:
    """Count this login post; True once the address used LOGIN_RATE_PER_IP in the window."""
    window = settings.LOGIN_RATE_WINDOW_MINUTES * 60
    return count_hit("login-ip", client_ip(request), window) > settings.LOGIN_RATE_PER_IP


# --- second-factor step: wrong codes lock it --------------------------------------------------
def _otp_key(user: User) -> str:
    return f"otp-fail:{user.pk}"


def otp_locked(user: User) -> bool:
    return int(cache.get(_otp_key(user), 0)) >= settings.OTP_MAX_FAILURES


def otp_failed(user: User) -> bool:
    """Count a wrong code for this user (whatever the browser); True when that locks the step.

    The lock lasts OTP_LOCKOUT_MINUTES from the last wrong code.
    """
    key = _otp_key(user)
    count = int(cache.get(key, 0)) + 1
    cache.set(key, count, timeout=settings.OTP_LOCKOUT_MINUTES * 60)
    return count >= settings.OTP_MAX_FAILURES


def otp_succeeded(user: User) -> None:
    cache.delete(_otp_key(user))


# --- devices (operators.models: the secret encrypted, the backup codes hashed) -------------------
def confirmed_totp(user: User) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(user: User) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user: User) -> AuthenticatorDevice:
    """The unconfirmed device shown at enrolment; the same one on reload, so the QR stays valid."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = AuthenticatorDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def backup_device(user: User) -> BackupCodeDevice | None:
    return BackupCodeDevice.objects.filter(user=user, confirmed=True).first()


def backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()


def verify_current_code(user: User, code: str) -> AuthenticatorDevice | BackupCodeDevice | None:
    """The device that accepts `code`: the confirmed authenticator app (digits), else a backup
    code (which is used up). None when neither does."""
    device = confirmed_totp(user)
    verified = verify_token(user, device.persistent_id, code) if device is not None and code.isdigit() else None
    if verified is None:
        backup = backup_device(user)
        verified = verify_token(user, backup.persistent_id, code) if backup is not None else None
    return verified


@transaction.atomic
def confirm_totp(device: AuthenticatorDevice) -> list[str]:
    """Make the enrolled device the user's only one and issue fresh backup codes."""
    AuthenticatorDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return regenerate_backup_codes(device.user)


def new_backup_code() -> str:
    """Eight characters of base32 (40 random bits), as django-otp's backup codes."""
    return b32encode(secrets.token_bytes(5)).decode().lower()


@transaction.atomic
def regenerate_backup_codes(user: User) -> list[str]:
    """New single-use codes; the old ones stop working. Shown once, never again: only their
    keyed hashes are stored."""
    device, _ = BackupCodeDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    device.codes.all().delete()
    codes = [new_backup_code() for _ in range(settings.OTP_BACKUP_CODES)]
    BackupCode.objects.bulk_create([BackupCode(device=device, code_hash=backup_code_hashes(code)[0]) for code in codes])
    return codes


def qr_svg(device: AuthenticatorDevice) -> SafeString:
    """The otpauth:// URL as an inline SVG drawn here: the secret never leaves the server."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", format_html('<svg class="qr" role="img" aria-label="{}" ', gettext("QR code")), 1)
    return mark_safe(svg)  # noqa: S308 - drawn by qrcode from our own URL, no user text


def secret_for_typing(device: AuthenticatorDevice) -> SafeString:
    """The base32 secret in groups of four, for apps that cannot scan."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return format_html("{}", " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))


# --- sessions ----------------------------------------------------------------------------------
def now_ts() -> float:
    return time.time()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def session_begin(request: HttpRequest, user: User) -> None:
    """Called at every login (signal): start both clocks and name the session for its user."""
    session: SessionBase = request.session
    now = now_ts()
    session[SESSION_STARTED] = now
    session[SESSION_SEEN] = now
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(
        session_key=session.session_key, defaults={"user": user, "created_at": _dt(now), "last_activity": _dt(now)},
    )


def session_rekey(request: HttpRequest, old_key: str | None) -> None:
    """After the second factor the session gets a new key; the bookkeeping row follows it."""
    request.session.cycle_key()
    if old_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def session_touch(request: HttpRequest, now: float) -> None:
    """Record activity; the row is written at most once per ACTIVITY_GRANULARITY_SECONDS."""
    request.session[SESSION_SEEN] = now
    UserSession.objects.filter(session_key=request.session.session_key).update(last_activity=_dt(now))


def session_forget(session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def second_factor_done(user: User) -> bool:
    """True when this signed-in user may use the desk: verified by OTP, or OTP not required
    (local demo) and no device set up. Works on users not wrapped by django-otp (False)."""
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    return not settings.OTP_REQUIRED and not has_second_factor(user)
