import datetime
import uuid
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.urls import reverse
from django.utils.timezone import now as timezone_now

from linkedin_crm.dates import window_label
from messaging.crypto import EncryptedTextField

if TYPE_CHECKING:  # for the hints only: a models module imports no other app's models
    from django.contrib.auth.models import User


def default_daily_limit() -> int:
    return settings.LINKEDIN_DAILY_MESSAGE_LIMIT


def default_window_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{value}” is not a time zone; use an IANA name such as Europe/Berlin."
        ) from None


class LinkedInAccountQuerySet(models.QuerySet["LinkedInAccount"]):
    def manageable_by(self, user: "User") -> "LinkedInAccountQuerySet":
        """The accounts a staff member may manage and send from: their own, or all with the
        messaging.manage_all_accounts permission."""
        if user.has_perm("messaging.manage_all_accounts"):
            return self
        return self.filter(owner=user)


# One message for each side of the rule: -5 and 0 are refused alike.
DAILY_LIMIT_BOUNDS = [
    MinValueValidator(1, "The daily limit is at least 1 message."),
    MaxValueValidator(500, "The daily limit is at most 500 messages."),
]


class LinkedInAccount(models.Model):
    """A team member's LinkedIn account, connected with OAuth; its tokens are encrypted."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        PAUSED = "paused", "Paused"
        DISCONNECTED = "disconnected", "Disconnected"

    class Mode(models.TextChoices):
        ASSISTED = "assisted", "Assisted (a person presses Send)"
        AUTOMATIC = "automatic", "Automatic (sent by the worker)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linkedin_accounts"
    )
    social_account = models.OneToOneField(
        "socialaccount.SocialAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="linkedin_account",
    )
    network = models.ForeignKey(
        "contacts.Network", on_delete=models.PROTECT, related_name="linkedin_accounts"
    )
    display_name = models.CharField(max_length=200)
    # urn:li:person:<sub>. LinkedIn's OpenID `sub` is app-specific, so it identifies the member
    # for this app only.
    member_urn = models.CharField("member URN", max_length=100, unique=True)
    email = models.EmailField(blank=True)
    access_token = EncryptedTextField(blank=True, editable=False)
    refresh_token = EncryptedTextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    scopes = models.JSONField(default=list, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ASSISTED)
    automatic_acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    daily_limit = models.PositiveIntegerField(
        default=default_daily_limit, validators=DAILY_LIMIT_BOUNDS
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    window_days = models.JSONField(default=default_window_days)
    window_start = models.TimeField(default=datetime.time(9, 0))
    window_end = models.TimeField(default=datetime.time(17, 0))
    min_interval_seconds = models.PositiveIntegerField(
        "minimum seconds between sends",
        default=120,
        validators=[MinValueValidator(0), MaxValueValidator(86_400)],
    )
    jitter_seconds = models.PositiveIntegerField(
        "random extra seconds", default=60, validators=[MaxValueValidator(3_600)]
    )
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_validated_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    # After a 429, LinkedIn's limit for this member is used up: hold sends until then.
    hold_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When the next send may be claimed: last claim + min interval + a random jitter.
    next_send_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the worker's schedule last gave the account a turn of its own (a django-q2 task,
    # messaging/fan_out.py) that has not ended yet: no second one is enqueued meanwhile.
    dispatch_enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone_now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # What paces the account's sending (the dispatcher, messaging.forecast): edited together on
    # the account's page and in the admin.
    SENDING_SETTINGS = (
        "daily_limit",
        "timezone",
        "window_days",
        "window_start",
        "window_end",
        "min_interval_seconds",
        "jitter_seconds",
    )

    objects = LinkedInAccountQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = "LinkedIn account"  # not "linked in account", as the class name reads
        permissions = [
            ("manage_all_accounts", "Can manage and send from every member's LinkedIn account")
        ]

    def __str__(self):
        return self.display_name or self.member_urn

    def __repr__(self):
        # Never the tokens.
        return f"<LinkedInAccount {self.pk} {self.member_urn} {self.status}>"

    def get_absolute_url(self):
        return reverse("messaging:account_detail", args=[self.pk])

    def clean(self):
        if self.window_start >= self.window_end:
            raise ValidationError({"window_end": "The send window must end after it starts."})
        days = self.window_days or []
        if not days or any(day not in range(7) for day in days):
            raise ValidationError({"window_days": "Choose at least one weekday."})

    @property
    def has_messaging_scope(self) -> bool:
        scope = settings.LINKEDIN_MESSAGING_SCOPE
        return bool(scope) and scope in self.scopes

    def days_until_expiry(self, now: datetime.datetime) -> int | None:
        if self.access_token_expires_at is None:
            return None
        return (self.access_token_expires_at - now).days

    def health(self, now: datetime.datetime) -> tuple[str, str]:
        """(code, label) for the account page: what a person needs to know at a glance."""
        if self.status == self.Status.DISCONNECTED:
            return "disconnected", "Disconnected"
        if self.status == self.Status.PAUSED:
            return "paused", "Paused"
        expired = self.access_token_expires_at is not None and self.access_token_expires_at <= now
        if self.status == self.Status.NEEDS_RECONNECT or expired or not self.access_token:
            return "needs_reconnect", "Needs reconnect"
        days = self.days_until_expiry(now)
        if days is not None and days < settings.LINKEDIN_RECONNECT_WARNING_DAYS:
            return "expiring", f"Expiring in {days} day{'s' if days != 1 else ''}"
        return "active", "Active"

    @property
    def window_label(self) -> str:
        """Mon, Tue, Wed, Thu, Fri 09:00–17:00 Europe/Berlin: every day named, as the account
        list has always shown it (the dashboard and the forecast shorten runs to Mon–Fri)."""
        return window_label(
            self.window_days, self.window_start, self.window_end, self.timezone, ranges=False
        )

    def set_tokens(
        self,
        *,
        access_token: str,
        expires_in: int | None,
        refresh_token=None,
        refresh_expires_in=None,
        scopes=None,
        now=None,
    ) -> None:
        now = now or timezone_now()
        self.access_token = access_token
        self.access_token_expires_at = (
            now + datetime.timedelta(seconds=expires_in) if expires_in else None
        )
        if refresh_token:
            self.refresh_token = refresh_token
            if refresh_expires_in:
                self.refresh_token_expires_at = now + datetime.timedelta(seconds=refresh_expires_in)
        if scopes is not None:
            self.scopes = sorted(set(scopes))


class MessageTemplate(models.Model):
    """A reusable message text with {{ variables }} (messaging.personalize)."""

    name = models.CharField(max_length=120, unique=True)
    body = models.TextField(max_length=8000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone_now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("messaging:template_edit", args=[self.pk])


class MessageQuerySet(models.QuerySet["Message"]):
    def manageable_by(self, user: "User") -> "MessageQuerySet":
        """The messages a staff member may see and act on: those of the accounts they manage."""
        return self.filter(account__in=LinkedInAccount.objects.manageable_by(user))

    def with_manageable_by(self, user: "User") -> "MessageQuerySet":
        """Every message, each annotated `manageable`: whether `user` may see its text and act
        on it (the rule of manageable_by), for lists that show others' messages without it."""
        accounts = LinkedInAccount.objects.manageable_by(user).values("pk")
        return self.annotate(
            manageable=models.ExpressionWrapper(
                models.Q(account__in=accounts), output_field=models.BooleanField()
            )
        )

    def due(self, now: datetime.datetime) -> "MessageQuerySet":
        """Queued messages whose time has come (first attempt or retry), unless held."""
        return self.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now, held=False)

    # --- the daily cap (docs/queue.md, "Cap, window and interval") ---------------------------
    # The rule is written twice, side by side: as these queryset methods for the app, and as
    # SQL (counting_against_cap_sql() below) for the dispatcher, which asks it for every
    # account on every tick. tests/messaging/test_cap.py holds the two to agree; change both
    # or neither. Everything else (the Outbox, the forecast, the dashboard) calls one of them.

    def counting_against_cap(self, start: datetime.datetime, end: datetime.datetime):
        """The slots of the day [start, end) that are taken: messages claimed in it and being
        sent, sent or possibly sent (uncertain), and every message waiting in the Outbox,
        whatever day it was released. A waiting message holds a slot until it is sent, and then
        takes one of the day it is sent: so yesterday's unsent Outbox leaves room for no more
        today, and its messages can still be sent today."""
        return self.filter(_sent_between(start, end) | _waiting_in_outbox())

    def counting_against_cap_parts(self, start: datetime.datetime, end: datetime.datetime):
        """counting_against_cap(start, end) as two disjoint querysets whose counts add up to
        its count: what went to LinkedIn in the day, and what waits in the Outbox. Each is one
        range of a partial index (message_cap_idx, message_outbox_idx), where their OR reads
        neither: for counting many accounts at once."""
        return self.filter(_sent_between(start, end)), self.filter(_waiting_in_outbox())

    def sent_between(self, start: datetime.datetime, end: datetime.datetime):
        """Messages that went (or may have gone) to LinkedIn in [start, end), by claim time:
        what an Outbox Send checks against the cap."""
        return self.filter(_sent_between(start, end))


def _sent_between(start: datetime.datetime, end: datetime.datetime) -> models.Q:
    return models.Q(status__in=Message.SENT_STATUSES, claimed_at__gte=start, claimed_at__lt=end)


def _waiting_in_outbox() -> models.Q:
    return models.Q(status=Message.Status.RELEASED)


def counting_against_cap_sql(
    account_id: int, start: datetime.datetime, end: datetime.datetime
) -> tuple[str, list]:
    """Message.objects.filter(account=account_id).counting_against_cap(start, end) in SQL
    (SQLite and PostgreSQL alike), as a statement and its parameters: a row per message, with
    its `stream`, to be wrapped (`SELECT … FROM (<statement>) used`). Two ranges in one UNION
    ALL, as counting_against_cap_parts(): of message_cap_idx (claimed in the day) and of
    message_outbox_idx (waiting in the Outbox)."""
    statuses = ", ".join(["%s"] * len(Message.SENT_STATUSES))
    statement = f"""
        SELECT stream FROM messaging_message
        WHERE account_id = %s AND status IN ({statuses}) AND claimed_at >= %s AND claimed_at < %s
        UNION ALL
        SELECT stream FROM messaging_message WHERE account_id = %s AND status = %s
    """  # noqa: S608 — only placeholders are formatted in
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM passes datetimes
    params = [
        account_id,
        *Message.SENT_STATUSES,
        adapt(start),
        adapt(end),
        account_id,
        Message.Status.RELEASED,
    ]
    return statement, params


class Message(models.Model):
    """One message to one contact from one account; rendered when queued (docs/queue.md)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        RELEASED = "released", "In Outbox"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNCERTAIN = "uncertain", "Uncertain"
        CANCELLED = "cancelled", "Cancelled"

    class Channel(models.TextChoices):
        API = "api", "LinkedIn API"
        MANUAL = "manual", "By hand on LinkedIn"

    # Went, or may have gone, to LinkedIn: each used a slot of its day's cap.
    SENT_STATUSES = [Status.SENDING, Status.SENT, Status.UNCERTAIN]
    OPEN_STATUSES = [Status.DRAFT, Status.QUEUED, Status.RELEASED]

    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="messages"
    )
    account = models.ForeignKey(LinkedInAccount, on_delete=models.PROTECT, related_name="messages")
    body = models.TextField(max_length=8000)
    # Which stream of work the message belongs to ("" for one-off messages, "campaign:<id>"):
    # the dispatcher serves an account's streams round-robin so that none starves.
    stream = models.CharField(max_length=40, blank=True, default="")
    # Held messages stay queued but are not claimed (a paused campaign's stream).
    held = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    channel = models.CharField(max_length=6, choices=Channel.choices, blank=True)
    scheduled_for = models.DateTimeField(default=timezone_now)
    next_attempt_at = models.DateTimeField(default=timezone_now)
    released_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which dispatcher tick claimed the message; lets one UPDATE claim many rows safely.
    claim_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    replied_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone_now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Partial indexes where a status decides membership: a message enters and leaves them
        # once, instead of moving inside an index at every status change; the dispatcher
        # changes thousands of statuses a tick, and every index it touches costs it time.
        indexes = [
            # The dispatcher (messaging/dispatch_sql.py): an account's queued messages per
            # stream, oldest first; whether an account has due messages at all; queue lengths.
            # `status` is the same in every entry, yet listed: so that SQLite reads a query on
            # (account, status) from the index alone, whether the status is a parameter or not.
            models.Index(
                fields=["account", "status", "held", "stream", "next_attempt_at"],
                name="message_due_idx",
                condition=models.Q(status="queued"),
            ),
            # The daily cap: an account's messages claimed today.
            models.Index(
                fields=["account", "claimed_at"],
                name="message_cap_idx",
                condition=models.Q(claimed_at__isnull=False),
            ),
            # The reaper: messages stuck in `sending` since before the timeout.
            models.Index(
                fields=["claimed_at"],
                name="message_reaper_idx",
                condition=models.Q(status="sending"),
            ),
            # The Outbox: the accounts' released messages, in the order they were released.
            models.Index(
                fields=["account", "released_at"],
                name="message_outbox_idx",
                condition=models.Q(status="released"),
            ),
            # "Already has an open message from this sender" and a contact's history.
            models.Index(fields=["contact", "account"], name="message_contact_idx"),
            # Uncertain messages wait for a person: the dashboard counts them per account, the
            # message list filters them. Few, and they rarely change.
            models.Index(
                fields=["account", "status"],
                name="message_uncertain_idx",
                condition=models.Q(status="uncertain"),
            ),
            # The dashboard: the team's messages by the day they took a slot, and their status
            # (messages per day, reply rates). Partial: messages never claimed are not in it.
            models.Index(
                fields=["claimed_at", "status"],
                name="message_claimed_day_idx",
                condition=models.Q(claimed_at__isnull=False),
            ),
            # The dashboard's reply rate: messages that got a reply, by status and claim time.
            # Partial (replied ones only), so it stays small.
            # (The condition holds no literal: SQLite cannot match `status = ?` to one.)
            models.Index(
                fields=["status", "claimed_at"],
                condition=models.Q(replied_at__isnull=False),
                name="message_replied_idx",
            ),
            # The dashboard's held messages (a paused campaign's), per account: partial, so
            # counting them does not read every queued message.
            models.Index(
                fields=["account", "status"],
                condition=models.Q(held=True),
                name="message_held_idx",
            ),
        ]

    def __str__(self):
        return f"Message {self.pk} to {self.contact_id} ({self.status})"

    def get_absolute_url(self):
        return reverse("messaging:message_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class MessageEvent(models.Model):
    """The status history of a message, shown on its page."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=Message.Status.choices)
    note = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone_now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.message_id} → {self.status}"
