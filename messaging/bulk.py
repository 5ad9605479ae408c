"""Inserting many messages at once: a bulk send or a campaign step queues tens of thousands.

Message.objects.bulk_create() builds a model instance per row first and prepares every value
of every row through its field (30,000 messages x 21 fields): that took longer than rendering
the messages. messages_insert() fills in the defaults once and writes through
linkedin_crm.db.insert_rows(), which prepares only the values that need it.
"""

import uuid
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from linkedin_crm import webhooks
from linkedin_crm.db import insert_rows
from messaging.models import Message


def messages_insert(rows: Iterable[Mapping], **shared) -> list[int]:
    """Insert one queued message per row; returns their ids, in the rows' order.

    Each row maps field attnames (`contact_id`, not `contact`) to what differs per message,
    every row the same names, none of them None; `shared` gives what all of them have in
    common. A field given neither way gets its default, computed once for all rows, except
    the idempotency key (a new UUID per message); auto_now fields get the current time. As
    bulk_create(): no validation and no signals. Works on SQLite and PostgreSQL.
    """
    rows = list(rows)
    if not rows:
        return []
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    varying = list(rows[0])
    unknown = (set(varying) | set(shared)) - {f.attname for f in fields}
    if unknown:
        raise TypeError(f"messages_insert() got unknown fields: {', '.join(sorted(unknown))}")
    if both := set(varying) & set(shared):
        raise TypeError(f"messages_insert() got fields both per row and shared: {both}")
    if "idempotency_key" in varying or "idempotency_key" in shared:
        raise TypeError("messages_insert() makes the idempotency keys itself")
    if shared.get("status", Message.Status.QUEUED) != Message.Status.QUEUED:
        # A message starts queued; every later status is a transition (messaging/transitions.py).
        raise TypeError("messages_insert() inserts queued messages only")

    now = timezone.now()
    common = {}
    for f in fields:
        if f.attname in varying or f.attname == "idempotency_key":
            continue
        if f.attname in shared:
            common[f.attname] = shared[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            common[f.attname] = now
        else:
            common[f.attname] = f.get_default()
    keys = [uuid.uuid4() for _ in rows]
    columns = [*varying, "idempotency_key"]
    values = [[row[name] for name in varying] + [key] for row, key in zip(rows, keys, strict=True)]
    with transaction.atomic():
        inserted = insert_rows(
            Message, columns, values, shared=common, returning=("idempotency_key", "id")
        )
        # The key as this database returns it (SQLite: 32 hex digits, PostgreSQL: a UUID) tells
        # which id belongs to which row, whatever order the rows come back in.
        id_by_key = {_uuid(key): pk for key, pk in inserted}
        ids = [id_by_key[key] for key in keys]
        webhooks.emit_messages(webhooks.EventType.MESSAGE_QUEUED, ids)
    return ids


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
