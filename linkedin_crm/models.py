"""The audit log: an append-only record of the acts a team needs to be able to answer for."""

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


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

    def save(self, *args: Any, **kwargs: Any) -> None:
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
        }
        route = routes.get(self.object_type)
        if not route or not self.object_id.isdigit():
            return None
        return reverse(route, args=[int(self.object_id)])
