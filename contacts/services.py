"""Writes on contacts shared by the pages, the admin and commands."""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, Note, Stage, Tag

# SQLite allows ~32k variables a statement; chunks keep bulk writes well inside that on every
# database while staying few enough to be fast.
CHUNK = 2000


def _ids(contacts: QuerySet) -> list[int]:
    return list(contacts.order_by().values_list("pk", flat=True))


def contacts_add_tag(*, contacts: QuerySet, tag: Tag) -> int:
    """Tag every contact in the queryset; returns how many gained the tag."""
    through = Contact.tags.through
    ids = _ids(contacts)
    already = set(
        through.objects.filter(tag=tag, contact_id__in=contacts.order_by().values("pk"))
        .values_list("contact_id", flat=True)
    )
    new_ids = [pk for pk in ids if pk not in already]
    with transaction.atomic():
        for start in range(0, len(new_ids), CHUNK):
            through.objects.bulk_create(
                [through(contact_id=pk, tag=tag) for pk in new_ids[start : start + CHUNK]],
                ignore_conflicts=True,
            )
        _touch(new_ids)
    return len(new_ids)


def contacts_remove_tag(*, contacts: QuerySet, tag: Tag) -> int:
    through = Contact.tags.through
    with transaction.atomic():
        links = through.objects.filter(tag=tag, contact_id__in=contacts.order_by().values("pk"))
        ids = list(links.values_list("contact_id", flat=True))
        links.delete()
        _touch(ids)
    return len(ids)


def contacts_set_stage(*, contacts: QuerySet, stage: str) -> int:
    if stage not in Stage.values:
        raise ValueError(f"Unknown stage {stage!r}")
    return contacts.exclude(stage=stage).update(stage=stage, updated_at=timezone.now())


def contacts_mark_do_not_contact(*, contacts: QuerySet, reason: str, now=None) -> int:
    now = now or timezone.now()
    return contacts.filter(do_not_contact=False).update(
        do_not_contact=True, dnc_reason=reason, dnc_at=now, updated_at=now
    )


def contacts_delete(*, contacts: QuerySet) -> int:
    """Delete the contacts with their connections, notes and tag links; returns the count."""
    ids = _ids(contacts)
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            Contact.objects.filter(pk__in=ids[start : start + CHUNK]).delete()
    return len(ids)


def note_add(*, contact: Contact, author, body: str) -> Note:
    return Note.objects.create(contact=contact, author=author, body=body.strip())


def _touch(ids: list[int]) -> None:
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        Contact.objects.filter(pk__in=ids[start : start + CHUNK]).update(updated_at=now)
