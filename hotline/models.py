"""The case desk's data: contacts, cases, their conversation, their timeline, equipment.

Rules about how these change live in hotline/services.py; nothing else writes a stage.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from hotline.privacy.fields import EncryptedJSONField, EncryptedTextField


class Channel(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web form")
    API = "api", _("API")


# Channels the desk can write back through; on the others an operator logs a call instead.
REPLYABLE_CHANNELS = frozenset({Channel.TELEGRAM})


class Stage(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_CONTACT = "in_contact", _("In contact")
    VERIFIED = "verified", _("Verified")
    PLANNING = "planning", _("Planning")
    SURRENDERED = "surrendered", _("Surrendered")
    CLOSED = "closed", _("Closed")


OPEN_STAGES = (Stage.NEW, Stage.ASSIGNED, Stage.IN_CONTACT, Stage.VERIFIED, Stage.PLANNING)


class CloseReason(models.TextChoices):
    WITHDREW = "withdrew", _("Withdrew")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    PROVOCATION = "provocation", _("Provocation (hostile or fake)")
    DUPLICATE = "duplicate", _("Duplicate")
    INFO_ONLY = "info_only", _("Information only")
    REFERRED = "referred", _("Referred elsewhere")


class RewardState(models.TextChoices):
    NONE = "none", _("No reward")
    DUE = "due", _("Due")
    PAID = "paid", _("Paid")


class Contact(models.Model):
    """The person on the other end of one channel.

    `identifier` and `display_name` are personal data, encrypted at rest: lookups go through
    `lookup_hash` (a keyed hash, hotline.identity), never the identifier itself. Retention
    (hotline.privacy.retention) empties both and sets `lookup_hash` to "erased:<pk>", so the person's
    next request starts a new contact.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    lookup_hash = models.CharField(max_length=64)
    identifier = EncryptedTextField()
    display_name = EncryptedTextField(blank=True)
    # The Telegram @username (without the @), personal data like the name: found through
    # ContactSearchKey, never by decrypting this column.
    username = EncryptedTextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    erased_at = models.DateTimeField(null=True, blank=True, help_text=_("Identifier and name erased (retention)."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "lookup_hash"], name="contact_unique_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} contact {self.pk}"


class Case(models.Model):
    """One contact's path from first request to an outcome: the unit of the queue."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="cases", verbose_name=_("contact"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    language = models.CharField(max_length=8, blank=True, verbose_name=_("language"))
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW, verbose_name=_("stage"))
    close_reason = models.CharField(
        max_length=16, choices=CloseReason.choices, blank=True, verbose_name=_("close reason"),
    )
    # Where a reopened case goes back to.
    stage_before_close = models.CharField(
        max_length=16, choices=Stage.choices, blank=True, verbose_name=_("stage before closing"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="cases",
        verbose_name=_("owner"),
    )

    received_at = models.DateTimeField(help_text=_("The first request of this case."), verbose_name=_("received at"))
    last_request_at = models.DateTimeField(verbose_name=_("last request at"))
    assigned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("assigned at"))
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first response at"))
    # Who gave the first human answer: response times are reported per operator by this.
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("first responder"),
    )
    # The SLA clock: set by the first unanswered request, cleared by a human answer. Whether a
    # case is at risk or overdue is read from it and the time (hotline.desk.sla.sla_state); the
    # sweep records each crossing as a timeline event, never on this row (see hotline/sla.py).
    awaiting_since = models.DateTimeField(null=True, blank=True, verbose_name=_("awaiting since"))
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Closed or surrendered."), verbose_name=_("closed at"),
    )

    surrendered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("surrendered at"))
    # Where a person crossed: personal data, encrypted (and erased by retention).
    surrender_place = EncryptedTextField(blank=True, verbose_name=_("surrender place"))
    reward_state = models.CharField(
        max_length=8, choices=RewardState.choices, default=RewardState.NONE, verbose_name=_("reward"),
    )
    reward_paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reward paid at"))
    # The contact's answers to the bot's questions: encrypted as one JSON value.
    triage = EncryptedJSONField(default=dict, blank=True, verbose_name=_("triage answers"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # Personal data removed after RETENTION_DAYS (hotline.privacy.retention); figures are kept.
    anonymised_at = models.DateTimeField(null=True, blank=True, verbose_name=_("anonymised at"))
    # When the owner last had the case page in front of them: the queue marks a case unread
    # when a request came after it (last_request_at > owner_seen_at).
    owner_seen_at = models.DateTimeField(null=True, blank=True, verbose_name=_("seen by the owner at"))

    class Meta:
        indexes = [
            # The unassigned queue, longest wait first.
            models.Index(
                fields=["awaiting_since", "received_at"], name="case_unassigned_queue_idx",
                condition=Q(owner__isnull=True, closed_at__isnull=True),
            ),
            # An operator's open cases.
            models.Index(
                fields=["owner", "awaiting_since", "received_at"], name="case_owner_open_idx",
                condition=Q(closed_at__isnull=True),
            ),
            # Open cases, longest wait first and then those not waiting (NULLs last), in the
            # queue's order: the SLA sweep (waits older than a threshold), the overdue list and
            # the supervisors' queue of all open cases.
            models.Index(
                fields=["awaiting_since", "received_at"], name="case_open_wait_idx",
                condition=Q(closed_at__isnull=True),
            ),
            # Cases received in a period; the dashboard's figures read only these columns, so
            # PostgreSQL answers them with an index-only scan.
            models.Index(
                fields=["received_at"], name="case_received_idx",
                include=["first_response_at", "first_responder", "channel", "language", "stage", "stage_before_close"],
            ),
            # The dashboard: outcomes in a period, index-only (the stage, the reason, the time to
            # surrender are read from the index).
            models.Index(
                fields=["closed_at"], name="case_closed_idx", condition=Q(closed_at__isnull=False),
                include=["stage", "close_reason"],
            ),
            models.Index(
                fields=["surrendered_at"], name="case_surrendered_idx", condition=Q(surrendered_at__isnull=False),
                include=["stage", "received_at"],
            ),
            models.Index(fields=["stage"], name="case_stage_idx"),
            # Retention: closed cases whose personal data is still there, oldest first.
            models.Index(
                fields=["closed_at"], name="case_retention_idx",
                condition=Q(closed_at__isnull=False, anonymised_at__isnull=True),
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


# Encrypted columns of a case that lists never show: not loaded, so not decrypted per row.
CASE_PERSONAL_FIELDS = ("triage", "surrender_place")


class CaseCount(models.Model):
    """How many cases there are per (stage, owner, open), as a ledger of changes: a count is
    the sum of its rows.

    Written by PostgreSQL triggers on `hotline_case` (migration 0015_dashboard_case_counts), so
    every writer is counted, the services, bulk updates and raw SQL alike. Every change only
    INSERTs rows: writers never wait on each other or deadlock over a shared counter row.
    `case_counts.compact()` (periodic) folds the rows into one per key. The dashboard reads
    these few rows for "all cases by stage now", each operator's open cases and the unassigned,
    instead of counting a million index entries. `owner_id` is a plain number, not a foreign
    key: a ledger row must never stand in the way of deleting a user.
    Not used on SQLite (no triggers there): the embedded database counts the cases.
    """

    stage = models.CharField(max_length=16, choices=Stage.choices)
    owner_id = models.IntegerField(null=True)
    open = models.BooleanField()  # closed_at IS NULL, the meaning of "open" everywhere else
    n = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.stage} owner={self.owner_id} open={self.open} {self.n:+d}"


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    NOTE = "note", _("Internal note")


class Delivery(models.TextChoices):
    NOT_APPLICABLE = "", _("Not applicable")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    """One entry of a case's conversation. An inbound message is a request."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The person's (or operator's) words: encrypted at rest, never searched.
    body = EncryptedTextField(blank=True)
    # A logged phone call rather than a written message.
    is_call = models.BooleanField(default=False)
    # Sent by the bot, not a person: never a human answer.
    is_automatic = models.BooleanField(default=False)
    delivery = models.CharField(max_length=8, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The channel's own id for this message (a Telegram message_id), to apply edits.
    external_id = models.CharField(max_length=64, blank=True)
    # Makes intake idempotent: a retried delivery carries the same key and is stored once.
    intake_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    # The body was erased by retention (the row, its direction and times are kept for metrics).
    erased_at = models.DateTimeField(null=True, blank=True)

    # Delivery bookkeeping (hotline/delivery.py): attempts so far, whose claim is being sent
    # right now (a lease: a crashed sender's claim expires), and when the next try is due.
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_claimed_at = models.DateTimeField(null=True, blank=True)
    delivery_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "created_at"], name="message_case_time_idx"),
            # The delivery recovery sweep reads only queued messages (a handful of a large table).
            models.Index(fields=["created_at"], condition=Q(delivery="queued"), name="message_queued_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message {self.pk} on case {self.case_id}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    REQUEST = "request", _("Request received")
    REOPENED = "reopened", _("Reopened")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Returned to queue")
    REPLIED = "replied", _("Replied")
    CALL_LOGGED = "call_logged", _("Call logged")
    NOTE_ADDED = "note_added", _("Note added")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    CLOSED = "closed", _("Closed")
    EQUIPMENT_DECLARED = "equipment_declared", _("Equipment declared")
    SURRENDERED = "surrendered", _("Surrender recorded")
    REWARD_PAID = "reward_paid", _("Reward paid")
    AT_RISK = "at_risk", _("Flagged at risk")
    OVERDUE = "overdue", _("Flagged overdue")
    MESSAGE_EDITED = "message_edited", _("Message edited")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    CONTACT_UPDATED = "contact_updated", _("Contact updated")
    TRIAGE_ANSWERED = "triage_answered", _("Triage question answered")
    VIEWED = "viewed", _("Viewed")
    ANONYMISED = "anonymised", _("Personal data erased")


SLA_FLAG_KINDS = (EventKind.AT_RISK, EventKind.OVERDUE)


class ImmutableError(Exception):
    """A timeline event cannot be changed or removed."""


class CaseEvent(models.Model):
    """An immutable timeline row: who did what to a case and when. `data` holds no personal data."""

    # No single-column FK indexes: event_case_time_idx and event_actor_time_idx lead with these
    # columns and serve the same lookups, and every index costs each event written (the sweep
    # writes one per flagged case).
    # The case is checked by the database without a foreign-key constraint (migration 0015):
    # a statement trigger checks every event's case exists, and cases can be neither deleted nor
    # renumbered. A constraint would lock every referenced case row, one by one: at a million
    # cases, the sweep's 130,000 events spent more time in those locks than in everything else.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"), db_index=False,
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Empty for the system (bot, sweep)."), db_index=False,
        verbose_name=_("actor"),
    )
    kind = models.CharField(max_length=24, choices=EventKind.choices, verbose_name=_("kind"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    # For SLA flags: which wait was flagged, so each wait is flagged once per threshold.
    sla_wait = models.DateTimeField(null=True, blank=True, verbose_name=_("flagged wait"))

    class Meta:
        indexes = [
            # A case's timeline. The SLA flags are left out: the sweep writes them by the hundred
            # thousand, and `event_one_flag_per_wait` (case, kind, wait) already serves them, so
            # selectors.case_timeline reads the two halves from the two indexes.
            models.Index(
                fields=["case", "created_at"], name="event_case_time_idx",
                condition=~Q(kind__in=["at_risk", "overdue"]),
            ),
            # Who did what: system events (no actor, e.g. the sweep's flags) stay out of it.
            models.Index(
                fields=["actor", "created_at"], name="event_actor_time_idx", condition=Q(actor__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "sla_wait"], name="event_one_flag_per_wait",
                condition=Q(kind__in=["at_risk", "overdue"]),
            ),
        ]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("Case events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Case events are immutable.")


class EquipmentType(models.Model):
    """Equipment a person may bring, with the reward it earns. Admins edit these rows."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    # The name in the Ukrainian interface; empty: the name above is shown.
    name_uk = models.CharField(
        max_length=100, blank=True, verbose_name=_("name in Ukrainian"),
        help_text=_("Shown to operators whose interface is in Ukrainian."),
    )
    reward_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("reward amount"),
    )
    currency = models.CharField(max_length=3, default="USD", verbose_name=_("currency"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("equipment type")
        verbose_name_plural = _("equipment types")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the interface language of the request being served."""
        return name_in_language(self.name, self.name_uk)


def name_in_language(name: str, name_uk: str) -> str:
    """An equipment type's name for the active interface language (English when none is given)."""
    language = (translation.get_language() or "").split("-")[0]
    return name_uk if language == "uk" and name_uk else name


class EquipmentRole(models.TextChoices):
    DECLARED = "declared", _("Declared")
    SURRENDERED = "surrendered", _("Came at surrender")


class CaseEquipment(models.Model):
    """Equipment on a case: declared while planning, or what actually came at surrender.

    Surrendered rows keep the unit reward in force at the time, so a later price change does
    not rewrite what is owed.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="equipment")
    equipment_type = models.ForeignKey(EquipmentType, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=12, choices=EquipmentRole.choices)
    quantity = models.PositiveSmallIntegerField(default=1)
    unit_reward = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "equipment_type", "role"], name="equipment_once_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.equipment_type_id} ({self.role})"


class NoticeKind(models.TextChoices):
    SLA = "sla", _("Cases overdue or at risk")
    CALL_ON_YOUR_CASE = "call_on_your_case", _("A colleague logged a call on your case")


class Notification(models.Model):
    """An in-app notice: for supervisors when `recipient` is empty (e.g. "3 cases became
    overdue"), else for one person, counted in their header until they read it (e.g. a
    colleague logged a call from the person of their case). `text` is an English summary for
    the admin; pages say it in the reader's language from `kind`, `actor` and `case`."""

    kind = models.CharField(max_length=24, choices=NoticeKind.choices, verbose_name=_("kind"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))
    text = models.CharField(max_length=200, verbose_name=_("text"))
    link = models.CharField(max_length=200, blank=True, verbose_name=_("link"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    # No single-column indexes: notification_recipient_idx leads with the recipient, and the
    # actor and case are only shown, never looked up by.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notices",
        verbose_name=_("recipient"), db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("by"), db_index=False,
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("case"),
        db_index=False,
    )
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"], name="notification_recent_idx"),
            # The header's count of one person's unread notices, read on every page.
            models.Index(
                fields=["recipient"], name="notification_unread_idx",
                condition=Q(recipient__isnull=False, read_at__isnull=True),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text


# --- intake: Telegram deduplication and API tokens (issue 3) ---------------------------------


class TelegramUpdate(models.Model):
    """One Bot API update, stored the moment it arrives and handled afterwards by a worker.

    The webhook only writes this row (the raw update, encrypted) and answers Telegram, so a
    request is durable before Telegram is told 200 and a burst costs one insert per update.
    A worker then applies it to cases (hotline/telegram/inbox.py) and clears the payload;
    the row stays as the record that this update_id was seen, so a redelivery is stored once.

    Telegram may restart update_id after a week without updates, so handled rows older than
    TELEGRAM_UPDATE_RETENTION_DAYS are pruned (Telegram itself keeps an undelivered update
    for at most 24 hours, so a pruned id can only come back as a new update).
    """

    update_id = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32)
    received_at = models.DateTimeField(db_index=True)
    # The update's JSON as received; cleared once handled (it holds names and words).
    payload = EncryptedTextField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What the update became: request, duplicate, edit, triage, reachability, ignored, failed.
    result = models.CharField(max_length=16, blank=True)
    # Drains that met a database error applying it (a deadlock, a timeout): given up at a limit.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            # The worker's inbox: updates not yet handled, oldest first (small: only the backlog).
            models.Index(fields=["id"], name="tgupdate_pending_idx", condition=Q(processed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Telegram update {self.update_id} ({self.kind})"


class ApiToken(models.Model):
    """A credential for one integration that may only create requests.

    The token is shown once at creation; only its SHA-256 is kept. `prefix` (public, unique)
    finds the row, the hash is compared in constant time.
    """

    name = models.CharField(max_length=100, verbose_name=_("name"))
    prefix = models.CharField(max_length=16, unique=True, verbose_name=_("prefix"))
    secret_hash = models.CharField(max_length=64, verbose_name=_("secret hash"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CannedReply(models.Model):
    """A prepared answer an operator inserts into the reply box and edits before sending.

    Supervisors manage them (admin or the canned replies page); `language` empty means any.
    """

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=8, blank=True, help_text=_("Empty: any language."))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


# --- media and edits (issue 15) -----------------------------------------------------------------


class MediaKind(models.TextChoices):
    VOICE = "voice", _("Voice message")
    AUDIO = "audio", _("Audio")
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    VIDEO_NOTE = "video_note", _("Video message")
    ANIMATION = "animation", _("Animation")
    DOCUMENT = "document", _("Document")
    STICKER = "sticker", _("Sticker")
    LOCATION = "location", _("Location")
    VENUE = "venue", _("Place")
    CONTACT = "contact", _("Contact card")


# Kinds that are a file to fetch (the others carry their details only).
FILE_KINDS = frozenset({
    MediaKind.VOICE, MediaKind.AUDIO, MediaKind.PHOTO, MediaKind.VIDEO, MediaKind.VIDEO_NOTE, MediaKind.ANIMATION,
    MediaKind.DOCUMENT, MediaKind.STICKER,
})


class MediaState(models.TextChoices):
    FETCHING = "fetching", _("Fetching")
    READY = "ready", _("Ready")
    TOO_LARGE = "too_large", _("Too large to fetch")
    FAILED = "failed", _("Could not be fetched")
    ERASED = "erased", _("Erased")


class MessageMedia(models.Model):
    """What came with a message besides its words: a file (voice, photo, document...), a place
    or a contact card; or, on an outbound message, the photo or document an operator sent.

    A file's bytes are encrypted before they reach storage (hotline/privacy/files.py):
    `storage_name` is where, `file_key` the file's own key (itself encrypted with the field
    key, so `rotate_encryption_key` rotates it). Places and contact cards keep their
    coordinates and phone in `details`, encrypted like every identifier. Retention empties
    all of it and deletes the file.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(max_length=16, choices=MediaKind.choices)
    state = models.CharField(max_length=12, choices=MediaState.choices, default=MediaState.FETCHING)
    # Why the file is not here (too large, Telegram refused, retries exhausted): shown to the operator.
    reason = models.CharField(max_length=200, blank=True)
    # What Telegram said it is (mime type), and what its bytes say (filetype's sniff).
    mime = models.CharField(max_length=100, blank=True)
    sniffed_mime = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    file_id = models.CharField(max_length=255, blank=True)
    file_unique_id = models.CharField(max_length=64, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # The sender's file name (a document's): personal data.
    filename = EncryptedTextField(blank=True)
    # Coordinates, a venue's title and address, a contact card: personal data.
    details = EncryptedJSONField(null=True, blank=True)
    storage_name = models.CharField(max_length=200, blank=True)
    file_key = EncryptedTextField(blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    # A fetcher's lease (as Message.delivery_claimed_at): one download at a time per file.
    fetch_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=Q(state="fetching"), name="media_fetching_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of message {self.message_id}"

    @property
    def is_file(self) -> bool:
        return self.kind in FILE_KINDS

    @property
    def inline(self) -> str:
        """How the page may show the file: "audio", "image", "video", or "" (a download only).

        Only when the bytes agree with the kind Telegram named: a "photo" whose bytes are a
        PDF (or anything else) is offered as a download, never rendered."""
        if self.state != MediaState.READY:
            return ""
        family = self.sniffed_mime.split("/", 1)[0]
        wanted = {
            MediaKind.VOICE: "audio", MediaKind.AUDIO: "audio", MediaKind.PHOTO: "image", MediaKind.STICKER: "image",
            MediaKind.VIDEO: "video", MediaKind.VIDEO_NOTE: "video", MediaKind.ANIMATION: "video",
            MediaKind.DOCUMENT: "",
        }.get(self.kind, "")
        if self.kind == MediaKind.STICKER and family == "video":
            return "video"  # a video sticker (WebM)
        if self.kind == MediaKind.DOCUMENT and family in ("image",) and self.sniffed_mime in SAFE_INLINE_IMAGES:
            return "image"
        if wanted == "image" and self.sniffed_mime not in SAFE_INLINE_IMAGES:
            return ""
        return wanted if wanted and family == wanted else ""


# Image types a browser renders without running anything (no SVG: it can carry script).
SAFE_INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class MessageRevision(models.Model):
    """An earlier text of an edited message: the timeline keeps what the person first wrote."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    body = EncryptedTextField(blank=True)
    # When this text was replaced.
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["replaced_at", "pk"]

    def __str__(self) -> str:
        return f"revision of message {self.message_id}"
# --- search: blind indexes of contacts, and the audit of searches (issue 15) ------------------


class SearchKeyKind(models.TextChoices):
    NAME = "name", _("Name")
    USERNAME = "username", _("Telegram username")
    PHONE = "phone", _("Phone number")


class ContactSearchKey(models.Model):
    """One keyed hash (HMAC) of one normalised value a contact can be found by: each whole
    word of the name, the @username, the phone number's last digits (hotline.desk.search).

    The digest names its kind inside the hashed message, so a name and a username that are
    spelt alike never meet. A dump of this table shows which contacts share a value, never
    the value. Written when intake stores a new name or username, by `search_index_build`
    for existing contacts; deleted with the contact's identifiers by retention.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="search_keys", db_index=False)
    kind = models.CharField(max_length=8, choices=SearchKeyKind.choices)
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [
            # A search: the contacts with this digest, newest first, LIMITed: a common first
            # name reads only the first rows of its range.
            models.Index(fields=["digest", "-contact"], name="contact_search_digest_idx"),
        ]
        constraints = [
            # Also the index that finds one contact's keys to replace them.
            models.UniqueConstraint(fields=["contact", "kind", "digest"], name="contact_search_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} key of contact {self.contact_id}"


class SearchKind(models.TextChoices):
    NUMBER = "number", _("Case number")
    USERNAME = "username", _("Telegram username")
    PHONE = "phone", _("Phone number")
    NAME = "name", _("Name")


class CaseSearch(models.Model):
    """One search an operator made, for the audit: what kind of value was looked for and which
    cases were shown. Never the words typed (they are a person's name, username or number)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"), db_index=False,
    )
    kind = models.CharField(max_length=8, choices=SearchKind.choices, verbose_name=_("looked for"))
    results = models.PositiveIntegerField(default=0, verbose_name=_("results"))
    case_ids = models.JSONField(default=list, blank=True, verbose_name=_("cases shown"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"], name="casesearch_recent_idx"),
            models.Index(fields=["actor", "-created_at"], name="casesearch_actor_idx"),
        ]
        verbose_name = _("case search")
        verbose_name_plural = _("case searches")

    def __str__(self) -> str:
        return f"search by {self.actor_id} ({self.kind})"
class ResponseRollup(models.Model):
    """The dashboard's response figures per hour, as a ledger of changes (like CaseCount): how
    many cases were received in an hour, per (first responder, channel, language, stage, stage
    before closing, response-time bucket, answered within the SLA); a count is the sum of its rows.

    Written by PostgreSQL triggers on `hotline_case` (migration 0008_dashboard_rollups): +1 for
    every case inserted, -1/+1 when one of those columns changes. `bucket` is the case's
    first-response time on a log scale (hotline/dashboard/rollups.py; NULL while unanswered), so
    a period's percentiles come from a few hundred rows instead of its cases, within the bound
    stated there. Folded by `case_counts.compact()`; rebuilt from the cases by
    `manage.py dashboard_rollups_rebuild`. Not used on SQLite: the embedded database computes
    the figures from the cases.
    """

    hour = models.DateTimeField()  # received_at, truncated to the hour (UTC)
    first_responder_id = models.IntegerField(null=True)  # a plain number, like CaseCount.owner_id
    channel = models.CharField(max_length=16)
    language = models.CharField(max_length=8, blank=True)
    stage = models.CharField(max_length=16)
    stage_before_close = models.CharField(max_length=16, blank=True)
    bucket = models.SmallIntegerField(null=True)
    within_sla = models.BooleanField()
    n = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="rollup_hour_idx")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h bucket={self.bucket} {self.n:+d}"
