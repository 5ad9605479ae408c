"""The audit log: an append-only record of the acts a team needs to be able to answer for;
and webhooks: subscriptions, the events written with the changes they describe, deliveries."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone

from messaging.crypto import EncryptedTextField


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are never changed.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit events are never deleted.")


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEvent(models.Model):
    """Who did what to which object, when, and how much of it.

    Rows are only ever added (`linkedin_crm.audit.record`): saving an existing row, updating or
    deleting through the ORM raises, and the admin shows them read-only. The actor's name is
    kept beside the foreign key so the record still says who after a user is deleted.
    """

    class Action(models.TextChoices):
        EXPORT = "export", "Contacts exported"
        BULK_QUEUE = "bulk_queue", "Messages queued in bulk"
        CAMPAIGN_LAUNCH = "campaign_launch", "Campaign launched"
        CAMPAIGN_PAUSE = "campaign_pause", "Campaign paused"
        CAMPAIGN_RESUME = "campaign_resume", "Campaign resumed"
        CAMPAIGN_CANCEL = "campaign_cancel", "Campaign cancelled"
        CAMPAIGN_DELETE = "campaign_delete", "Campaign deleted"
        ACCOUNT_CONNECT = "account_connect", "LinkedIn account connected"
        ACCOUNT_DISCONNECT = "account_disconnect", "LinkedIn account disconnected"
        ACCOUNT_PAUSE = "account_pause", "LinkedIn account paused"
        ACCOUNT_RESUME = "account_resume", "LinkedIn account resumed"
        ACCOUNT_SETTINGS = "account_settings", "LinkedIn account mode or cap changed"
        ROLE_CHANGE = "role_change", "Role changed"
        IMPORT = "import", "Contacts imported"
        IMPORT_UNDO = "import_undo", "Import undone"
        MERGE = "merge", "Contacts merged"
        STAGE_CHANGE = "stage_change", "Stage changed"
        DO_NOT_CONTACT = "do_not_contact", "Marked do-not-contact"
        CONTACT_ALLOWED = "contact_allowed", "Allowed to be contacted again"
        CONTACTS_DELETE = "contacts_delete", "Contacts deleted"
        ERASE = "erase", "Person erased"
        PERSON_EXPORT = "person_export", "Person's data exported"
        API_TOKEN_CREATE = "api_token_create", "API token created"
        WEBHOOK_CREATE = "webhook_create", "Webhook created"
        WEBHOOK_UPDATE = "webhook_update", "Webhook changed"
        WEBHOOK_DELETE = "webhook_delete", "Webhook deleted"
        WEBHOOK_REDELIVER = "webhook_redeliver", "Webhook event redelivered"

    class Via(models.TextChoices):
        PAGE = "page", "Page"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"
        TASK = "task", "Worker"
        API = "api", "API"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PAGE)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # What the act touched, by kind: {"messages": 3000} or {"created": 12, "updated": 4}.
    counts = models.JSONField(default=dict, blank=True)
    # Anything else worth knowing later: a filter, a previous and new value, a reason.
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("manage_team", "Can assign roles to team members")]
        indexes = [
            # One object's history, newest first: a contact's timeline reads its stage,
            # do-not-contact and merge events, and the events of the imports that touched it.
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
        ]

    def __str__(self):
        who = self.actor_name or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who}: {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are never deleted.")

    def get_object_url(self) -> str | None:
        """A link to the object when it still has a page."""
        routes = {
            "contact": "contacts:detail",
            "campaign": "campaigns:detail",
            "linkedinaccount": "messaging:account_detail",
            "importbatch": "imports:detail",
            "webhooksubscription": "webhook_detail",
        }
        route = routes.get(self.object_type)
        if not route or not self.object_id.isdigit():
            return None
        return reverse(route, args=[int(self.object_id)])


# --- webhooks (linkedin_crm/webhooks.py, docs/api.md#webhooks) ---------------------------------


class WebhookEventType(models.TextChoices):
    CONTACT_CREATED = "contact.created", "A contact was added"
    CONTACT_UPDATED = "contact.updated", "A contact was edited"
    CONTACT_OPTED_OUT = "contact.opted_out", "A contact was marked do-not-contact"
    IMPORT_FINISHED = "import.finished", "An import finished"
    MESSAGE_QUEUED = "message.queued", "A message was queued"
    MESSAGE_SENT = "message.sent", "A message was sent"
    MESSAGE_FAILED = "message.failed", "A message failed"
    MESSAGE_UNCERTAIN = "message.uncertain", "A message may or may not have gone"
    REPLY_RECEIVED = "reply.received", "A reply was recorded"
    ACCOUNT_NEEDS_RECONNECT = "account.needs_reconnect", "A LinkedIn account needs reconnecting"
    CAMPAIGN_COMPLETED = "campaign.completed", "A campaign completed"


class WebhookSubscription(models.Model):
    """Where to POST which events. The secret signs every delivery (Standard Webhooks); it is
    stored encrypted, like the LinkedIn tokens, and shown to Admins only."""

    url = models.URLField("target URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    secret = EncryptedTextField(editable=False)
    active = models.BooleanField(default=True)
    # Why the app turned the subscription off (its target failed for a day); cleared when an
    # Admin turns it on again.
    disabled_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self):
        return self.description or self.url

    def get_absolute_url(self):
        return reverse("webhook_detail", args=[self.pk])

    def disable(self, reason: str) -> None:
        self.active = False
        self.disabled_reason = reason[:500]
        self.save(update_fields=["active", "disabled_reason", "updated_at"])


class WebhookEvent(models.Model):
    """One thing that happened, written in the transaction that made it happen (the outbox):
    it exists exactly when the change committed. Its id is the `webhook-id` every delivery and
    redelivery carries, so a receiver can drop duplicates."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)  # "msg_…"
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event for one subscription, and how its delivery goes."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When a pending delivery is due; a worker that takes it moves this ahead first (its lease),
    # so a worker killed mid-POST leaves it due again later rather than lost.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop here: a day after the event, or after a redelivery was asked for.
    retry_until = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The sweep's look-up: pending deliveries by when they are due.
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self):
        return f"{self.event_id} → {self.subscription_id} ({self.state})"
