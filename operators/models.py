"""Operators: who works cases, in which languages, how many at once, and whether on shift."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
