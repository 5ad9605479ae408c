"""Writing the audit log (linkedin_crm.models.AuditEvent): one function every interface calls."""

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.utils import timezone

from linkedin_crm.db import insert_rows
from linkedin_crm.models import AuditEvent

Action = AuditEvent.Action
Via = AuditEvent.Via

# The log is kept for ever and cannot be edited, so it must not hold personal data that an
# erasure request would have to remove: contacts are named by their id only.
_NAMED_BY_ID_ONLY = {"contact"}

# Who acted: a person, or nobody (the worker, a command without a user).
Actor = User | AnonymousUser | None


def record(
    action: str,
    *,
    actor: Actor = None,
    obj: models.Model | None = None,
    via: str = Via.PAGE,
    counts: dict[str, int] | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the act it records, so that an act
    rolled back leaves no event and an event never describes an act that did not happen."""
    event = _event(action, actor=actor, obj=obj, via=via, counts=counts, detail=detail, at=at)
    event.save()
    return event


def record_each(
    action: str,
    *,
    model: type[models.Model],
    objects: Iterable[tuple[int, dict[str, Any]]],
    actor: Actor = None,
    via: str = Via.PAGE,
    at: datetime.datetime | None = None,
) -> int:
    """Append one event per (primary key, detail) pair of `model`, a model named by its id only
    (a contact), in as few INSERTs as the database allows: for an act on many objects (a bulk
    stage change over 100,000 contacts) that each object's own history must show. Like
    record(), call it inside the act's transaction. Returns how many it appended."""
    object_type = model._meta.model_name or ""
    if object_type not in _NAMED_BY_ID_ONLY:
        raise ValueError(f"record_each() names objects by id; {object_type} needs record()")
    person = actor if actor is not None and actor.pk else None
    shared: dict[str, object] = {
        "at": at or timezone.now(),
        "actor_id": person.pk if person else None,
        "actor_name": person.get_username() if person else "",
        "action": action,
        "via": via,
        "object_type": object_type,
        "counts": {},
    }
    # A bulk act has a few distinct details (a stage change's "from" stages): each goes to the
    # database once, as a shared value, rather than serialised again for every object.
    by_detail: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
    for pk, detail in objects:
        row = (str(pk), f"{model._meta.verbose_name} #{pk}")
        key = repr(sorted((detail or {}).items()))
        by_detail.setdefault(key, (detail or {}, []))[1].append(row)
    for detail, rows in by_detail.values():
        insert_rows(
            AuditEvent, ["object_id", "object_repr"], rows, shared={**shared, "detail": detail}
        )
    return sum(len(rows) for _, rows in by_detail.values())


def _event(
    action: str,
    *,
    actor: Actor,
    obj: models.Model | None,
    via: str,
    counts: dict[str, int] | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None and actor.pk else "",
        via=via,
        counts=counts or {},
        detail=detail or {},
    )
    if at is not None:
        event.at = at
    if obj is not None:
        event.object_type = obj._meta.model_name or ""  # None only for a model never set up
        event.object_id = str(obj.pk)
        if event.object_type in _NAMED_BY_ID_ONLY:
            event.object_repr = f"{obj._meta.verbose_name} #{obj.pk}"
        else:
            event.object_repr = str(obj)[:200]
    return event
