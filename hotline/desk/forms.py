"""Forms check the shape of what a page sends; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.desk.selectors import QueueFilters, TeamRow
from hotline.models import OPEN_STAGES, CannedReply, Channel, CloseReason, Direction, EquipmentType, Stage
from operators.models import Language
from operators.selectors import language_choices as language_choices_of
from operators.selectors import workers
from operators.services import MAX_CAPACITY

SCOPES = ("mine", "unassigned", "all")
# What an <input type="datetime-local"> sends and shows.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DeskForm(forms.Form):
    """Labels without Django's trailing colon: the layout sets them apart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @property
    def over_limit_asked(self) -> bool:
        """The service refused because an operator is at their limit: offer the confirmation."""
        return any(error.code == "over_capacity" for error in self.non_field_errors().as_data())


class ActionForm(DeskForm):
    """A button with no fields (take, return, reopen...): its refusal is shown beside it."""


def _language_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((lang.code, f"{lang.name} ({lang.code})") for lang in Language.objects.all())]


class QueueFilterForm(DeskForm):
    """The queue page's query string."""

    scope = forms.ChoiceField(choices=[(s, s) for s in SCOPES], required=False)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any stage")), *((s.value, s.label) for s in OPEN_STAGES)],
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("Any channel")), *Channel.choices])
    language = forms.ChoiceField(label=_("Language"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Case number"), required=False, max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _language_choices(str(_("Any language")))

    def clean_q(self) -> int | None:
        raw = self.cleaned_data["q"].strip().lstrip("#").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise forms.ValidationError(_("A case number is digits, like #123."))
        return int(raw)

    def chosen_scope(self) -> str:
        return (self.cleaned_data.get("scope") if self.is_bound and self.is_valid() else "") or "mine"

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            stage=data["stage"], channel=data["channel"], language=data["language"], overdue=data["overdue"],
            number=data["q"],
        )


class CallLogForm(DeskForm):
    """An inbound call answered by the operator: who called, in which language, what was said."""

    number = forms.CharField(label=_("Phone number"), required=False, max_length=40)
    caller_name = forms.CharField(label=_("Caller's name"), required=False, max_length=200)
    language = forms.ChoiceField(label=_("Language"), required=False)
    summary = forms.CharField(
        label=_("Summary of the call"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _language_choices(str(_("Unknown")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("number", "").strip() or data.get("caller_name", "").strip()):
            raise forms.ValidationError(_("Give the caller's number or name."))
        return data


class ReplyForm(DeskForm):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4096)


class NoteForm(DeskForm):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000)


class CallForm(DeskForm):
    """A call on an existing case, either side calling."""

    direction = forms.ChoiceField(
        label=_("Who called"),
        choices=[(Direction.OUTBOUND.value, _("We called them")), (Direction.INBOUND.value, _("They called us"))],
    )
    duration_minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=0, max_value=600)
    summary = forms.CharField(
        label=_("Summary of the call"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000,
    )


class AdvanceForm(DeskForm):
    to_stage = forms.ChoiceField(choices=[(Stage.VERIFIED.value, Stage.VERIFIED.label),
                                          (Stage.PLANNING.value, Stage.PLANNING.label)])


class CloseForm(DeskForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=CloseReason.choices)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)


class EquipmentForm(DeskForm):
    """One quantity field per active equipment type; empty or 0 means none."""

    def __init__(self, *args: Any, equipment_types: list[EquipmentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for equipment_type in equipment_types:
            self.fields[f"eq_{equipment_type.pk}"] = forms.IntegerField(
                label=equipment_type.display_name, required=False, min_value=0, max_value=1000,
            )

    def equipment(self) -> dict[int, int]:
        return {
            int(name[3:]): value for name, value in self.cleaned_data.items()
            if name.startswith("eq_") and value
        }


class SurrenderForm(EquipmentForm):
    surrendered_at = forms.DateTimeField(
        label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
    )
    place = forms.CharField(label=_("Where"), max_length=200)

    field_order = ["surrendered_at", "place"]

    @staticmethod
    def now_value() -> str:
        """Now, in the operator's time zone, as the datetime-local input writes it."""
        return timezone.localtime().strftime(DATETIME_LOCAL)


class AssignForm(DeskForm):
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=User.objects.none())
    # Shown once the service said the operator is at their limit (over_limit_asked).
    over_limit = forms.BooleanField(label=_("Assign over their limit"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = workers()


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "body", "language", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), required=False, choices=_language_choices(str(_("Any language"))),
        )


class ShiftForm(forms.Form):
    on_shift = forms.BooleanField(required=False)


class ReleaseForm(DeskForm):
    to = forms.ModelChoiceField(
        label=_("Give the cases to"), queryset=User.objects.none(), required=False,
        empty_label=_("the unassigned queue"),
    )
    over_limit = forms.BooleanField(label=_("Move them over the limit"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = workers()


class DeactivateForm(DeskForm):
    """The confirmation step of deactivating someone: nothing happens without it."""

    confirm = forms.BooleanField(
        label=_("Yes, take away their access and return their open cases to the queue"),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class OperatorSettingsForm(DeskForm):
    """A supervisor's edit of one operator on the Team page."""

    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=MAX_CAPACITY)
    languages = forms.MultipleChoiceField(label=_("Languages"), required=False, widget=forms.CheckboxSelectMultiple)
    on_shift = forms.BooleanField(label=_("On shift"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[("operator", _("Operator")), ("supervisor", _("Supervisor"))])

    def __init__(self, *args: Any, language_choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices if language_choices is not None else language_choices_of()

    @classmethod
    def for_row(cls, row: TeamRow, language_choices: list[tuple[str, str]]) -> OperatorSettingsForm:
        """The form shown in one row of the Team page (the languages read once for the page)."""
        return cls(
            auto_id=f"op{row.user.pk}_%s", language_choices=language_choices,
            initial={
                "capacity": row.profile.capacity, "languages": row.languages, "role": row.role,
                "on_shift": row.profile.on_shift,
            },
        )


class SendFileForm(DeskForm):
    """A photo or a document for the contact (sendPhoto / sendDocument), with a caption."""

    file = forms.FileField(label=_("File"))
    send_as = forms.ChoiceField(
        label=_("Send as"), choices=[("photo", _("Photo")), ("document", _("Document"))], initial="photo",
        widget=forms.RadioSelect,
    )
    caption = forms.CharField(
        label=_("Caption"), required=False, max_length=1024, widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # For the page's script: a file too large is refused before it is uploaded (the service checks again).
        self.fields["file"].widget.attrs.update({
            "data-max-photo": settings.MEDIA_SEND_PHOTO_MAX_BYTES,
            "data-max-document": settings.MEDIA_SEND_DOCUMENT_MAX_BYTES,
            "data-too-large": _("This file is too large to send this way."),
        })
