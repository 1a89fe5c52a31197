"""GET /api/v1/cases/ and /api/v1/cases/<id>/: the desk's cases, read-only, for staff.

Session authentication only (the browser's login; an intake API token does not count), and
the pages' rules exactly: the list is cases_visible_to(actor), the detail is the case page's
content (the contact only for the owner or a supervisor) and records a VIEWED event, and a
case the caller may not see is a 404 like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.desk import services
from hotline.desk.access import case_for
from hotline.desk.selectors import QueueFilters, case_actions, case_conversation, case_list, case_timeline
from hotline.desk.sla import sla_crossings
from hotline.errors import CaseNotFound
from hotline.models import Case, Channel, CloseReason, Stage
from operators.api_auth import VerifiedSessionAuthentication

LANGUAGE_PATTERN = r"^[a-z]{0,8}$"


class CaseFiltersIn(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, allow_blank=True, default="")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    language = serializers.RegexField(LANGUAGE_PATTERN, required=False, allow_blank=True, default="")
    overdue = serializers.BooleanField(required=False, default=False)


class CasePages(PageNumberPagination):
    """DRF's pages, with what the schema did not say: pages count from 1, and a page past the
    last (or below 1) answers 404."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters


class CaseOut(serializers.ModelSerializer):
    """What a list shows of a case: never the contact."""

    number = serializers.CharField(read_only=True)
    # Empty while the case is open: the schema says so (a read-only model field loses allow_blank).
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, allow_blank=True, read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # When the current wait passed each threshold (null: not yet, or not waiting): by the clock,
    # as everywhere else (hotline.desk.sla), so a client sees it whether the sweep ran or not.
    at_risk_since = serializers.SerializerMethodField()
    overdue_since = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "number", "stage", "close_reason", "channel", "language", "owner", "received_at",
            "last_request_at", "assigned_at", "first_response_at", "awaiting_since", "at_risk_since",
            "overdue_since", "closed_at", "surrendered_at", "reward_state", "anonymised_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_at_risk_since(self, case: Case) -> str | None:
        return _moment(sla_crossings(case.awaiting_since)["at_risk_since"])

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_overdue_since(self, case: Case) -> str | None:
        return _moment(sla_crossings(case.awaiting_since)["overdue_since"])


def _moment(value: datetime | None) -> str | None:
    """Formatted as the model's datetimes are (time zone, ISO 8601)."""
    return None if value is None else serializers.DateTimeField().to_representation(value)


class ContactOut(serializers.Serializer):
    channel = serializers.CharField()
    identifier = serializers.CharField()
    display_name = serializers.CharField()
    erased = serializers.BooleanField()


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.CharField()
    channel = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    body = serializers.CharField(allow_blank=True)
    is_call = serializers.BooleanField()
    is_automatic = serializers.BooleanField()
    delivery = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    erased = serializers.BooleanField(help_text="The body was erased by retention.")


class EventOut(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.CharField(allow_null=True, help_text="Empty for the system (bot, sweep).")
    created_at = serializers.DateTimeField()
    data = serializers.DictField(help_text="Ids and codes only; never personal data.")


class CaseDetailOut(CaseOut):
    contact = serializers.SerializerMethodField()
    surrender_place = serializers.SerializerMethodField()
    triage = serializers.SerializerMethodField()
    conversation = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta(CaseOut.Meta):
        fields = [*CaseOut.Meta.fields, "contact", "surrender_place", "triage", "conversation", "timeline"]
        read_only_fields = fields

    def _sees_contact(self, case: Case) -> bool:
        return case_actions(self.context["request"].user, case).see_contact

    @extend_schema_field(ContactOut(allow_null=True))
    def get_contact(self, case: Case) -> dict[str, Any] | None:
        if not self._sees_contact(case):
            return None
        contact = case.contact
        return {
            "channel": contact.channel, "identifier": contact.identifier, "display_name": contact.display_name,
            "erased": contact.erased_at is not None,
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_surrender_place(self, case: Case) -> str | None:
        return case.surrender_place if self._sees_contact(case) else None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_triage(self, case: Case) -> dict[str, Any] | None:
        return case.triage if self._sees_contact(case) else None

    @extend_schema_field(MessageOut(many=True))
    def get_conversation(self, case: Case) -> list[dict[str, Any]]:
        return [
            {
                "id": m.pk, "direction": m.direction, "channel": m.channel,
                "author": m.author.get_username() if m.author else None, "body": m.body, "is_call": m.is_call,
                "is_automatic": m.is_automatic, "delivery": m.delivery, "created_at": m.created_at,
                "edited_at": m.edited_at, "erased": m.erased_at is not None,
            }
            for m in case_conversation(case)
        ]

    @extend_schema_field(EventOut(many=True))
    def get_timeline(self, case: Case) -> list[dict[str, Any]]:
        return [
            {"kind": e.kind, "actor": e.actor.get_username() if e.actor else None, "created_at": e.created_at,
             "data": e.data}
            for e in case_timeline(case)
        ]


class StaffApiView(APIView):
    """Staff reads: a logged-in session, and the case policy behind every query."""

    authentication_classes = [VerifiedSessionAuthentication]
    permission_classes = [IsAuthenticated]


class CaseListView(StaffApiView, ListAPIView):
    serializer_class = CaseOut
    pagination_class = CasePages
    filter_backends: list[Any] = []  # filters are the queue's, validated below

    def get_queryset(self) -> Any:
        params = CaseFiltersIn(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return case_list(self.request.user, QueueFilters(**params.validated_data))

    @extend_schema(
        operation_id="case_list",
        summary="List the cases you may see",
        description=(
            "Supervisors see every case; operators the open unassigned cases and their own. No contact "
            "identifier or name is ever listed. Latest request first, 50 per page."
        ),
        parameters=[
            OpenApiParameter("stage", str, enum=["", *Stage.values], description="Only this stage (empty: any)."),
            OpenApiParameter(
                "channel", str, enum=["", *Channel.values], description="Only this channel (empty: any).",
            ),
            OpenApiParameter(
                "language", {"type": "string", "pattern": LANGUAGE_PATTERN},
                description="Only this language code, e.g. ru (empty: any).",
            ),
            OpenApiParameter("overdue", bool, description="Only cases overdue (flagged or past the SLA)."),
        ],
        responses={
            200: CaseOut(many=True),
            400: OpenApiResponse(description="An unknown stage or channel, or a malformed filter."),
            403: OpenApiResponse(description="Not logged in."),
            404: OpenApiResponse(description="No such page: below 1, or past the last."),
        },
        tags=["cases"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class CaseDetailView(StaffApiView):
    @extend_schema(
        operation_id="case_detail",
        summary="One case: conversation and timeline",
        description=(
            "The case page's content. The contact, surrender place and triage answers are given to the "
            "case's owner and supervisors only (null otherwise). Every call is recorded as a VIEWED event "
            "(via api). A case you may not see answers 404, exactly like a case that does not exist."
        ),
        responses={
            200: CaseDetailOut,
            403: OpenApiResponse(description="Not logged in."),
            404: OpenApiResponse(description="No such case, or not one you may see."),
        },
        tags=["cases"],
    )
    def get(self, request: Request, case_id: int) -> Response:
        try:
            case = case_for(request.user, case_id, related=("owner", "contact"))
        except CaseNotFound:
            raise Http404 from None
        services.case_record_view(actor=request.user, case=case, via="api")
        return Response(CaseDetailOut(case, context={"request": request}).data)
