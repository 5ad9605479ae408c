"""A contact's timeline: everything that happened with one person, newest first, a page at a
time (docs/features.md, "Contact timeline").

The items come from five sources: messages (and the Outbox), replies, campaign enrollments,
notes, and the audit log (stage and do-not-contact changes, merges, imports). Each source is one
query limited to a page plus one item, all continuing from the same cursor, and the page is the
newest of their union: a page costs the same whether the person has ten events or ten thousand.

The order, and the cursor, is (time, source, id), descending. Time alone is not enough: one
act can write several rows with the same time, in one source or in several (a clock frozen in
tests, a coarse clock elsewhere). The source names break ties between sources, the ids within
one, so no item is skipped or shown twice at a page boundary.

The project package holds it because it reads all three apps (contacts knows nothing of
messages, messaging nothing of campaigns).
"""

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, CharField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Cast

from campaigns.models import Campaign, Enrollment, Reply
from contacts.models import Connection, Contact, ImportChange, Note, Stage
from linkedin_crm.models import AuditEvent
from messaging.models import LinkedInAccount, Message

PAGE_SIZE = 25

# What a person can filter by, in the order the chips show them.
KINDS = [
    ("message", "Messages"),
    ("outbox", "Outbox"),
    ("reply", "Replies"),
    ("campaign", "Campaigns"),
    ("note", "Notes"),
    ("change", "Stage and do-not-contact"),
    ("import", "Imports and merges"),
]
KIND_VALUES = [value for value, _ in KINDS]
KIND_LABELS = dict(KINDS)

Action = AuditEvent.Action
CHANGE_ACTIONS = [Action.STAGE_CHANGE, Action.DO_NOT_CONTACT, Action.CONTACT_ALLOWED]
IMPORT_ACTIONS = [Action.IMPORT, Action.IMPORT_UNDO]

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
CURSOR = re.compile(r"(\d{1,20})\.([a-z]{1,12})\.(\d{1,19})")


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the timeline: the (time, source, id) of the last item shown."""

    at: datetime.datetime
    source: str
    id: int

    def __str__(self) -> str:
        # Microseconds since the epoch: exact, and nothing in it needs escaping in a URL.
        return f"{(self.at - EPOCH) // MICROSECOND}.{self.source}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """The cursor `str()` wrote; ValueError for anything else."""
        found = CURSOR.fullmatch(text)
        if found is None or found.group(2) not in SOURCES:
            raise ValueError(text)
        micros, source, pk = found.groups()
        try:
            at = EPOCH + int(micros) * MICROSECOND
        except OverflowError:
            raise ValueError(text) from None
        return cls(at, source, int(pk))


@dataclass
class Item:
    at: datetime.datetime
    source: str
    id: int
    kind: str
    obj: Any

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.source, self.id)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def summary(self) -> str:
        """What an audit event did to this person, in a sentence."""
        return audit_summary(self.obj) if self.source == "audit" else ""


@dataclass
class Page:
    items: list[Item]
    older: Cursor | None  # where the next page starts; None on the last page


def _after(cursor: Cursor | None, source: str, time_field: str) -> Q:
    """The rows of `source` that come after `cursor` in the descending (time, source, id).

    Written as a range on the time and an exclusion, never an OR: SQLite answers an OR on the
    time column by reading the time's own index across every contact (a second, on a large
    audit log) instead of the person's rows."""
    if cursor is None:
        return Q()
    if source > cursor.source:
        return Q(**{f"{time_field}__lt": cursor.at})
    if source < cursor.source:
        return Q(**{f"{time_field}__lte": cursor.at})
    return Q(**{f"{time_field}__lte": cursor.at}) & ~Q(
        **{time_field: cursor.at, "pk__gte": cursor.id}
    )


def _messages(contact: Contact, user, kinds: set[str]) -> QuerySet | None:
    wanted = kinds & {"message", "outbox"}
    if not wanted:
        return None
    messages = (
        Message.objects.filter(contact=contact)
        .with_manageable_by(user)
        .select_related(
            "account",
            "created_by",
            "campaign_link__step",
            "campaign_link__variant",
            "campaign_link__enrollment__campaign",
        )
        # Only what a page shows: building the rows' model instances, not the queries, is
        # where a page's time goes, and a sender's tokens would be decrypted on loading.
        .only(
            "status",
            "body",
            "channel",
            "released_at",
            "sent_at",
            "created_at",
            "account__display_name",
            "account__member_urn",
            "created_by__username",
            "campaign_link__step__order",
            "campaign_link__variant__label",
            "campaign_link__enrollment__campaign__name",
        )
    )
    if wanted == {"outbox"}:
        messages = messages.filter(status=Message.Status.RELEASED)
    elif wanted == {"message"}:
        messages = messages.exclude(status=Message.Status.RELEASED)
    return messages


def _replies(contact: Contact, user, kinds: set[str]) -> QuerySet | None:
    if "reply" not in kinds:
        return None
    # A reply's text is part of the conversation with the account it answered: shown to those
    # who may see that account's messages (the rule of the message page, where it also shows).
    accounts = LinkedInAccount.objects.manageable_by(user).values("pk")
    return (
        Reply.objects.filter(contact=contact)
        .select_related("message__account", "recorded_by")
        .only(
            "received_at",
            "text",
            "source",
            "opted_out",
            "message__account__display_name",
            "message__account__member_urn",
            "recorded_by__username",
        )
        .annotate(manageable=_boolean(Q(message__isnull=True) | Q(message__account__in=accounts)))
    )


def _enrollments(contact: Contact, user, kinds: set[str]) -> QuerySet | None:
    if "campaign" not in kinds:
        return None
    # Linked to the campaign's page only for those who may open it.
    campaigns = Campaign.objects.editable_by(user).values("pk")
    return (
        Enrollment.objects.filter(contact=contact)
        .select_related("campaign", "sender")
        .annotate(campaign_editable=_boolean(Q(campaign__in=campaigns)))
        .only(
            "state",
            "skip_reason",
            "last_step",
            "last_step_at",
            "replied_at",
            "created_at",
            "campaign__name",
            "sender__display_name",
            "sender__member_urn",
        )
    )


def _notes(contact: Contact, user, kinds: set[str]) -> QuerySet | None:
    if "note" not in kinds:
        return None
    return (
        Note.objects.filter(contact=contact)
        .select_related("author")
        .only("body", "created_at", "author__username")
    )


def _audit_events(contact: Contact, user, kinds: set[str]) -> QuerySet | None:
    on_contact = []
    if "change" in kinds:
        on_contact += CHANGE_ACTIONS
    if "import" in kinds:
        on_contact.append(Action.MERGE)
    condition = Q()
    if on_contact:
        condition |= Q(object_type="contact", object_id=str(contact.pk), action__in=on_contact)
    if "import" in kinds:
        # The imports that brought the person into a network, created them, or changed them;
        # audit events name an object by a text id.
        as_text = Cast("batch_id", output_field=CharField())
        brought = Connection.objects.filter(contact=contact, batch__isnull=False)
        changed = ImportChange.objects.filter(contact=contact)
        batches = Q(object_id__in=brought.values(text=as_text)) | Q(
            object_id__in=changed.values(text=as_text)
        )
        if contact.created_by_batch_id:
            batches |= Q(object_id=str(contact.created_by_batch_id))
        condition |= Q(object_type="importbatch", action__in=IMPORT_ACTIONS) & batches
    if not condition:
        return None
    return AuditEvent.objects.filter(condition).only(
        "at", "action", "via", "object_type", "object_id", "object_repr", "detail", "actor_name"
    )


def _boolean(condition: Q):
    return ExpressionWrapper(condition, output_field=BooleanField())


def _message_kind(message: Message) -> str:
    return "outbox" if message.status == Message.Status.RELEASED else "message"


def _audit_kind(event: AuditEvent) -> str:
    return "change" if event.action in CHANGE_ACTIONS else "import"


# source name: (query builder, time field, item kind)
SOURCES = {
    "audit": (_audit_events, "at", _audit_kind),
    "enrollment": (_enrollments, "created_at", lambda _: "campaign"),
    "message": (_messages, "created_at", _message_kind),
    "note": (_notes, "created_at", lambda _: "note"),
    "reply": (_replies, "received_at", lambda _: "reply"),
}


def contact_timeline(
    contact: Contact,
    *,
    user,
    kinds: set[str] | None = None,
    before: Cursor | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """One page of the contact's timeline as `user` may see it, newest first: the items of
    `kinds` (all when empty) that come after `before`. One query per source asked for."""
    kinds = set(kinds or KIND_VALUES)
    items = []
    for source, (build, time_field, kind_of) in SOURCES.items():
        rows = build(contact, user, kinds)
        if rows is None:
            continue
        rows = rows.filter(_after(before, source, time_field)).order_by(f"-{time_field}", "-pk")[
            : page_size + 1
        ]
        items += [Item(getattr(row, time_field), source, row.pk, kind_of(row), row) for row in rows]
    items.sort(key=lambda item: (item.at, item.source, item.id), reverse=True)
    more = len(items) > page_size
    items = items[:page_size]
    return Page(items=items, older=items[-1].cursor if more else None)


def _stage_label(value: str) -> str:
    return Stage(value).label if value in Stage.values else value


def audit_summary(event: AuditEvent) -> str:
    match event.action:
        case Action.STAGE_CHANGE:
            before, after = event.detail.get("from", ""), event.detail.get("to", "")
            return f"Stage changed from “{_stage_label(before)}” to “{_stage_label(after)}”"
        case Action.DO_NOT_CONTACT:
            return "Marked do-not-contact"
        case Action.CONTACT_ALLOWED:
            return "Allowed to be contacted again"
        case Action.MERGE:
            merged = event.detail.get("merged_contact")
            return f"Contact #{merged} merged into this one" if merged else "Merged"
        case Action.IMPORT:
            return f"Imported from {event.object_repr}"
        case Action.IMPORT_UNDO:
            return f"Import of {event.object_repr} undone"
    return event.get_action_display()
