"""Text messages: what we send (``OutboundMessage``, the outbox), what people send us
(``InboundMessage``), numbers that asked us to stop (``OptOut``), the wording staff can edit
(``MessageTemplate``) and the console backend's stand-in phone (``ConsoleMessage``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConsoleMessage(models.Model):
    """What the console SMS backend would have sent (development and demos): a stand-in phone."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The account the message was for, when known.",
    )
    to = models.CharField(max_length=20)
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Console message {self.pk}"

    @property
    def to_masked(self) -> str:
        """Enough for a person to tell two test phones apart; not the whole number."""
        return f"…{self.to[-3:]}" if self.to else ""


class OutboundMessage(models.Model):
    """One text we mean to send, and what became of it: the outbox.

    Exactly-once in effect: a reminder row is unique per (appointment, slot, appointment time),
    is claimed by one atomic conditional UPDATE before the provider is called, and a send whose
    outcome is unknown stays ``sending`` until the sweep has asked the provider what happened.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        REPLY = "reply", "Automatic reply"
        MANUAL = "manual", "Reply from a person"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Could not be sent"
        NOT_SENT = "not_sent", "Not sent"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Delivery(models.TextChoices):
        QUEUED = "queued", "Accepted by the provider"
        SENT = "sent", "Sent to the phone network"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Not delivered"
        FAILED = "failed", "Failed"

    PENDING = (Status.SCHEDULED, Status.QUEUED)

    kind = models.CharField(max_length=10, choices=Kind.choices)
    service = models.ForeignKey(
        "portal.Service", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    service_user = models.ForeignKey(
        "peer_support.ServiceUserRecord",
        on_delete=models.PROTECT,
        related_name="text_messages",
        null=True,
        blank=True,
    )
    appointment = models.ForeignKey(
        "peer_support.Appointment",
        on_delete=models.PROTECT,
        related_name="reminders",
        null=True,
        blank=True,
    )
    slot = models.CharField(max_length=10, blank=True, default="")
    appointment_starts_at = models.DateTimeField(
        null=True, blank=True, help_text="The appointment time this reminder is for."
    )
    inbound = models.ForeignKey(
        "InboundMessage",
        on_delete=models.PROTECT,
        related_name="replies",
        null=True,
        blank=True,
        db_index=False,  # indexed where set (Meta.indexes)
    )
    purpose = models.CharField(
        max_length=20, blank=True, default="", help_text="The template used (automatic replies)."
    )
    send_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(
        max_length=200, blank=True, default="", help_text="Why it was not sent, in plain words."
    )
    reason_code = models.CharField(max_length=30, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    to = models.CharField(max_length=20, blank=True, default="")
    body = models.TextField(blank=True, default="")
    segments = models.PositiveSmallIntegerField(default=0)
    provider = models.CharField(max_length=20, blank=True, default="")
    provider_sid = models.CharField(max_length=64, blank=True, default="")
    delivery_status = models.CharField(
        max_length=12, choices=Delivery.choices, blank=True, default=""
    )
    error_code = models.CharField(max_length=10, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were alerted that it is stuck or failed."
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # indexed where set (Meta.indexes)
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-send_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "slot", "appointment_starts_at"],
                condition=Q(kind="reminder"),
                name="one_reminder_per_appointment_slot",
            ),
            models.UniqueConstraint(
                fields=["inbound", "purpose"],
                condition=Q(kind="reply"),
                name="one_automatic_reply_per_inbound",
            ),
            models.UniqueConstraint(
                fields=["provider_sid"],
                condition=~Q(provider_sid=""),
                name="outbound_provider_sid_unique",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reminder") | Q(appointment__isnull=False),
                name="reminder_has_appointment",
            ),
        ]
        # Most rows are reminders, never replies and never written by hand, and most are
        # not sent yet: indexes that only matter for those rows leave the others out, so that
        # planning and every change of status write fewer index entries.
        indexes = [
            models.Index(fields=["status", "send_at"], name="outbound_due"),
            models.Index(
                fields=["to", "sent_at"],
                condition=Q(sent_at__isnull=False),
                name="outbound_to_sent",
            ),
            models.Index(
                fields=["inbound"], condition=Q(inbound__isnull=False), name="outbound_inbound"
            ),
            models.Index(
                fields=["written_by"],
                condition=Q(written_by__isnull=False),
                name="outbound_written_by",
            ),
        ]

    def __str__(self) -> str:
        return f"Text message {self.pk}"

    @property
    def to_masked(self) -> str:
        return f"…{self.to[-3:]}" if self.to else ""


class InboundMessage(models.Model):
    """A text someone sent us. ``message_sid`` is unique, so a webhook replayed by the provider
    is stored once and handled once."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        HANDLING = "handling", "Being handled"
        HANDLED = "handled", "Answered automatically"
        NEEDS_ANSWER = "needs_answer", "Needs an answer"
        ANSWERED = "answered", "Answered"

    message_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20)
    body = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RECEIVED)
    intent = models.CharField(max_length=10, blank=True, default="")
    outcome = models.CharField(
        max_length=200, blank=True, default="", help_text="What the portal did, in plain words."
    )
    service = models.ForeignKey(
        "portal.Service", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    service_user = models.ForeignKey(
        "peer_support.ServiceUserRecord",
        on_delete=models.PROTECT,
        related_name="text_replies",
        null=True,
        blank=True,
    )
    appointment = models.ForeignKey(
        "peer_support.Appointment",
        on_delete=models.PROTECT,
        related_name="text_replies",
        null=True,
        blank=True,
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"Text received {self.pk}"

    @property
    def from_masked(self) -> str:
        return f"…{self.from_number[-3:]}" if self.from_number else ""


class DeliveryReport(models.Model):
    """A delivery callback as the provider sent it, kept once per (message, state). It lets a
    callback that arrives before we have stored the message's id still count, and makes
    replays change nothing."""

    provider_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=12)
    error_code = models.CharField(max_length=10, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider_sid", "status"], name="one_report_each")
        ]

    def __str__(self) -> str:
        return f"Delivery report {self.pk}"


class OptOut(models.Model):
    """A number that asked us to stop (or that the provider says has unsubscribed). Checked
    just before every send; START ends it."""

    number = models.CharField(max_length=20, unique=True)
    active = models.BooleanField(default=True)
    opted_out_at = models.DateTimeField()
    opted_in_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, help_text="reply, provider or staff")

    class Meta:
        ordering = ["-opted_out_at"]

    def __str__(self) -> str:
        return f"Opt-out {self.pk}"


class MessageTemplate(models.Model):
    """Wording staff can change. Without a saved row the default in ``wording.py`` is used;
    every save goes through the template linter (no sensitive words, one text message)."""

    class Purpose(models.TextChoices):
        REMINDER = "reminder", "Appointment reminder"
        CONFIRMED = "confirmed", "Reply to YES"
        CHANGE = "change", "Reply to CHANGE"
        HELP = "help", "Reply to HELP"
        UNKNOWN_CONFIRM = "nothing_to_confirm", "Reply to YES when nothing is due"

    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    easy_read = models.BooleanField(default=False)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["purpose", "easy_read"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "easy_read"], name="one_template_each")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}{' (easy read)' if self.easy_read else ''}"
