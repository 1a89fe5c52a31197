"""Operators: who works cases, in which languages, how many at once, and whether on shift;
their second factor (an authenticator app and backup codes) and the audit of staff actions."""

import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from hotline.privacy.fields import EncryptedTextField


class Language(models.Model):
    """A language a contact writes in and an operator can serve (ISO 639-1 code)."""

    code = models.CharField(max_length=8, primary_key=True, verbose_name=_("code"))
    name = models.CharField(max_length=64, verbose_name=_("name"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class OperatorProfile(models.Model):
    """The staff side of a user. Role is the user's group (see operators.roles)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator", verbose_name=_("user"),
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="operators", verbose_name=_("languages"))
    capacity = models.PositiveSmallIntegerField(
        default=10, help_text=_("Most active cases at once."), verbose_name=_("capacity"),
    )
    on_shift = models.BooleanField(default=False, verbose_name=_("on shift"))
    shift_changed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("shift changed at"))
    last_assigned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last assigned at"))
    time_zone = models.CharField(max_length=64, default="Europe/Kyiv", verbose_name=_("time zone"))
    ui_language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="uk", verbose_name=_("interface language"),
    )

    class Meta:
        permissions = [
            ("work_cases", "Can work cases: take, answer, move through stages"),
            ("supervise_cases", "Can see every case, reassign, mark rewards paid"),
        ]
        indexes = [models.Index(fields=["on_shift", "last_assigned_at"], name="operator_shift_idx")]
        verbose_name = _("operator profile")
        verbose_name_plural = _("operator profiles")

    def __str__(self) -> str:
        return self.user.get_username()


class UserSession(models.Model):
    """One signed-in browser of a staff user, so a supervisor can end them all.

    The session itself lives in the session store; this row only names it. No address or
    browser string is kept: the list says how many sessions and since when, nothing more.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField()
    last_activity = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "last_activity"], name="usersession_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class StaffEventKind(models.TextChoices):
    DEACTIVATED = "deactivated", _("Deactivated")
    REACTIVATED = "reactivated", _("Reactivated")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")
    SESSIONS_ENDED = "sessions_ended", _("Sessions ended")
    CAPACITY_CHANGED = "capacity_changed", _("Capacity changed")
    LANGUAGES_CHANGED = "languages_changed", _("Languages changed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    SHIFT_CHANGED = "shift_changed", _("Shift changed by a supervisor")
    AUTHENTICATOR_REPLACED = "authenticator_replaced", _("Authenticator replaced")


class StaffEvent(models.Model):
    """An immutable row per action on a staff account: who did what to whom, and when.

    Supervisors see them in the audit (/audit/) beside the reads of cases. `data` holds the
    values before and after (numbers, language codes, role names), never a secret. Like the
    case timeline, rows cannot be changed or removed (a trigger refuses it on PostgreSQL).
    """

    kind = models.CharField(max_length=24, choices=StaffEventKind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member"),
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(verbose_name=_("when"))

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"], name="staffevent_recent_idx"),
            models.Index(fields=["subject", "-created_at"], name="staffevent_subject_idx"),
        ]
        verbose_name = _("staff event")
        verbose_name_plural = _("staff events")

    def __str__(self) -> str:
        return f"{self.kind} of {self.subject_id} by {self.actor_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Staff events are immutable.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Staff events are immutable.")


# --- the second factor -----------------------------------------------------------------------------
# django-otp's own TOTPDevice keeps its secret in clear and StaticToken its backup codes: with a
# database dump and a password, someone could sign in. These two devices are django-otp devices
# (its middleware, login and verify_token use them as they are) that keep neither in clear.


def _new_totp_key() -> str:
    return random_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238): django-otp's TOTPDevice with its secret encrypted
    at rest under FIELD_ENCRYPTION_KEY, rotated with the contact data by
    `manage.py rotate_encryption_key`."""

    key = EncryptedTextField(default=_new_totp_key, help_text="The hex-encoded secret (20 bytes), encrypted.")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last code accepted: a code is accepted once.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token: object) -> bool:
        """django-otp's TOTP check: a code of the current step (or `tolerance` steps around it),
        newer than the last one accepted."""
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            code = int(str(token))
        except ValueError:
            code = None
        if code is not None:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            if totp.verify(code, self.tolerance, self.last_t + 1):
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
                return True
        self.throttle_increment(commit=True)
        return False

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an app scans (Key Uri Format), labelled with OTP_TOTP_ISSUER."""
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        params = urlencode({
            "secret": b32encode(self.bin_key).decode().rstrip("="), "algorithm": "SHA1", "digits": self.digits,
            "period": self.step,
        })
        if issuer:
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"


def backup_code_hashes(code: str) -> list[str]:
    """The keyed hashes a backup code may be stored under: by SECRET_KEY first, then by each of
    SECRET_KEY_FALLBACKS (so codes survive a rotation of the secret key until they are used)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [salted_hmac("operators.backup-code", code, secret=secret, algorithm="sha256").hexdigest()
            for secret in secrets]


class BackupCodeDevice(ThrottlingMixin, TimestampMixin, Device):
    """Single-use backup codes, kept as keyed hashes (HMAC-SHA256 under SECRET_KEY): shown once
    when made, never readable again, useless in a dump without the key."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token: object) -> bool:
        """A code not used before: it is used up now."""
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        hashes = backup_code_hashes("".join(str(token).split()).lower())
        match = next(
            (row for row in self.codes.filter(code_hash__in=hashes)
             if any(constant_time_compare(row.code_hash, h) for h in hashes)),
            None,
        )
        if match is None:
            self.throttle_increment(commit=True)
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"backup code {self.pk} of device {self.device_id}"
