"""POST /api/v1/requests/: an integration submits one request (docs/telegram.md, README)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline import identity
from hotline.desk import services
from hotline.errors import DomainError
from hotline.intake import schema  # noqa: F401 - registers the token's security scheme
from hotline.intake.authentication import ApiTokenAuthentication, HasApiToken
from hotline.intake.bodies import JSONRefused, parse_json
from hotline.intake.serializers import ErrorOut, RequestIn, RequestOut
from hotline.intake.throttling import ApiTokenRateThrottle
from hotline.models import ApiToken

logger = logging.getLogger(__name__)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "payload_too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_conflict"


class LimitedJSONParser(JSONParser):
    """JSON, read no further than API_INTAKE_MAX_BYTES (also when no Content-Length is sent),
    nested no deeper than hotline.intake.bodies.MAX_JSON_DEPTH, without NaN or Infinity."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.API_INTAKE_MAX_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The body can be at most {limit} bytes.")
        if not body:
            raise exceptions.ParseError("The body is empty; send a JSON object.")
        try:
            return parse_json(body)
        except JSONRefused as exc:
            raise exceptions.ParseError(str(exc)) from None


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOut, description=description)


class RequestCreateView(APIView):
    """DRF views are exempt from LoginRequiredMiddleware: these classes are the only gate."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasApiToken]
    throttle_classes = [ApiTokenRateThrottle]
    parser_classes = [LimitedJSONParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permission, throttle first
        limit = settings.API_INTAKE_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise PayloadTooLarge(f"The body can be at most {limit} bytes.")

    @extend_schema(
        operation_id="request_create",
        summary="Submit one request",
        description=(
            "Stores one inbound request: it joins the contact's open case, reopens its closed case or "
            "opens a new one. Authenticate with `Authorization: Bearer <API token>`. Send an "
            "`Idempotency-Key` to make a retry safe: a replay answers 200 with the stored request."
        ),
        request=RequestIn,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
                OpenApiParameter.HEADER, required=False,
                description=f"1 to {MAX_IDEMPOTENCY_KEY} characters, unique per request, scoped to the token.",
            ),
        ],
        responses={
            201: OpenApiResponse(RequestOut, description="Stored; a case was joined, reopened or opened."),
            200: OpenApiResponse(RequestOut, description="Replay of an Idempotency-Key: the stored request."),
            400: OpenApiResponse(
                description="Malformed JSON, or field errors as {field: [messages]}.",
            ),
            401: _error("No token, an unknown token or a revoked token."),
            403: _error("Authenticated, but not by an API token."),
            406: _error("The Accept header asks for something other than JSON."),
            413: _error(f"The body is larger than API_INTAKE_MAX_BYTES (default {64 * 1024} bytes)."),
            415: _error("The body is not application/json."),
            422: _error("The Idempotency-Key was used before with a different request."),
            429: _error("Too many requests from this token (API_INTAKE_RATE); see Retry-After."),
        },
        examples=[
            OpenApiExample(
                "A web form", request_only=True,
                value={"channel": "web", "contact_identifier": "form-7f3a", "contact_name": "Иван",
                       "language": "ru", "text": "Хочу узнать, как сдаться."},
            ),
        ],
        tags=["intake"],
    )
    def post(self, request: Request) -> Response:
        token = cast(ApiToken, request.auth)
        key = self._idempotency_key(request, token)
        data = RequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            received = services.request_receive(
                actor=None, channel=fields["channel"], identifier=fields["contact_identifier"], text=fields["text"],
                display_name=fields["contact_name"], language=fields["language"],
                received_at=fields["received_at"], intake_key=key,
            )
        except DomainError as exc:
            raise exceptions.ValidationError({"detail": str(exc)}) from exc
        if received.duplicate:
            self._check_replay(received, fields)
        logger.info(
            "api request token=%s case=%s message=%s duplicate=%s",
            token.prefix, received.case.pk, received.message.pk, received.duplicate,
        )
        body = RequestOut({
            "case": received.case.number, "case_id": received.case.pk, "request_id": received.message.pk,
            "duplicate": received.duplicate,
        }).data
        return Response(body, status=status.HTTP_200_OK if received.duplicate else status.HTTP_201_CREATED)

    def _idempotency_key(self, request: Request, token: ApiToken) -> str | None:
        raw = request.headers.get(IDEMPOTENCY_HEADER)
        if raw is None:
            return None
        # The value as received (HTTP servers already trim the spaces around it): 1 to 200 characters.
        if not 1 <= len(raw) <= MAX_IDEMPOTENCY_KEY:
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [f"Use 1 to {MAX_IDEMPOTENCY_KEY} characters."]}
            )
        # Scoped to the token, hashed to a fixed length (Message.intake_key is 128 characters).
        return f"api:{token.pk}:{hashlib.sha256(raw.encode()).hexdigest()}"

    @staticmethod
    def _check_replay(received: services.Received, fields: dict[str, Any]) -> None:
        """A key reused for another contact or other words would silently drop that request."""
        contact = received.case.contact
        same_contact = contact.channel == fields["channel"] and contact.lookup_hash == identity.lookup_hash(
            fields["channel"], fields["contact_identifier"]
        )
        same_text = received.message.body == fields["text"].replace("\x00", "")[: services.MAX_TEXT]
        if not (same_contact and same_text):
            raise IdempotencyConflict()
