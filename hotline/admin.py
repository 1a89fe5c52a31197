"""Admin: configuration (equipment, operators, groups) and read-only views of cases and events."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hotline.desk.sla import SLA_STATE_LABELS, sla_state
from hotline.models import CannedReply, Case, CaseEvent, EquipmentType, Notification


@admin.register(EquipmentType)
class EquipmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "name_uk", "reward_amount", "currency", "active", "position"]
    list_editable = ["name_uk", "reward_amount", "active", "position"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases change only through the service layer; the admin only shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    # Personal data is left out on purpose (the contact, where they crossed, their answers):
    # reading it is for the case page, which checks access and records the read.
    list_display = ["id", "stage", "channel", "language", "owner", "received_at", "awaiting_since", "sla"]
    list_filter = ["stage", "channel", "language", "reward_state"]
    exclude = ["contact", "triage", "surrender_place"]
    list_select_related = ["owner"]
    show_full_result_count = False

    @admin.display(description=_("SLA"))
    def sla(self, case: Case) -> str:
        state = sla_state(case.awaiting_since if case.closed_at is None else None)
        return str(SLA_STATE_LABELS[state]) if state else ""


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "case_id", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["actor"]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "count", "text"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "active", "updated_at"]
    list_filter = ["active", "language"]
    search_fields = ["title"]


from hotline.intake import admin as _api_admin  # noqa: E402, F401 - registers ApiToken (issue 3)
