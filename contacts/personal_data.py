"""A person's rights over what the team stores about them: everything as JSON (access), and
erasure that keeps only a suppression entry so that no later import brings them back.

Both find what belongs to a contact generically, from every relation that points at Contact
(hidden ones too), so a model added later in messaging or campaigns is exported and erased
without anyone remembering to add it here. Imports flow contacts ← messaging ← campaigns:
this module never imports the later apps.
"""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact, ContactAlias, ImportBatch, MergeLog, Suppression
from contacts.services import require_permission
from linkedin_crm import audit, roles


class ErasureBlocked(Exception):
    """The person cannot be erased right now; the message says why and when they can."""


def person_export(*, contact: Contact, actor, via: str = audit.Via.PAGE) -> dict:
    """Everything stored about `contact`, as plain data for JSON (dates and times left to
    DjangoJSONEncoder). Needs contacts.erase_contact; recorded in the audit log."""
    require_permission(actor, roles.ERASE_CONTACTS)
    with transaction.atomic():
        data = {
            "exported_at": timezone.now(),
            "contact": _row(contact),
            "tags": sorted(contact.tags.values_list("name", flat=True)),
        }
        for name, rows, nested in _sections(contact):
            data[name] = [
                {
                    **_row(row),
                    **{child: _rows(_children(row, relation)) for child, relation in nested},
                }
                for row in rows
            ]
        audit.record(
            audit.Action.PERSON_EXPORT,
            actor=actor,
            obj=contact,
            via=via,
            counts=person_data_counts(contact),
        )
    return data


def person_data_counts(contact: Contact) -> dict[str, int]:
    """How many rows of each kind belong to `contact` (what an erasure deletes), by section
    ("messages", "notes", …) and, for the rows hanging off them, by their kind ("message
    events")."""
    counts = {"tags": contact.tags.count()}
    hanging: dict[str, set] = {}
    for name, rows, nested in _sections(contact):
        counts[name.replace("_", " ")] = rows.count()
        for _, relation in nested:
            model = relation.related_model
            # One kind of row can hang off two sections (a campaign's message belongs to a
            # message and to an enrollment): counted once.
            hanging.setdefault(str(model._meta.verbose_name_plural), set()).update(
                model._default_manager.filter(**{f"{relation.field.name}__in": rows}).values_list(
                    "pk", flat=True
                )
            )
    counts.update({kind: len(pks) for kind, pks in hanging.items()})
    return counts


def person_erase(*, contact: Contact, actor, via: str = audit.Via.PAGE) -> dict[str, int]:
    """Delete `contact` with everything that belongs to them: messages and their history,
    replies, enrollments, notes, connections, aliases, import records, merge records holding
    their earlier data, the admin's history of them, and their rows in imports that are still
    waiting to be applied. What remains is a Suppression entry per identifier (a keyed hash)
    and an audit event naming the contact by id. Needs contacts.erase_contact.

    Returns what was deleted, by kind. Raises ErasureBlocked while an import is being applied,
    since it could bring the person back after the erasure.
    """
    require_permission(actor, roles.ERASE_CONTACTS)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).exists():
            raise ErasureBlocked(
                "An import is being applied right now and could bring this person back: erase "
                "them when it has finished."
            )
        identifiers = _identifiers(contact)
        for kind, value in identifiers:
            Suppression.add(kind, value)
        counts = person_data_counts(contact)
        counts["waiting import rows"] = _scrub_waiting_imports(contact, identifiers)
        counts["import problems"] = _scrub_import_problems(identifiers)
        _delete_admin_history(contact)
        audit.record(audit.Action.ERASE, actor=actor, obj=contact, via=via, counts=counts)
        # The merge records have no cascade (they outlive the contact they were merged into);
        # everything else that points at a contact goes with it.
        _merge_logs(contact).delete()
        contact.delete()
    return counts


# --- what belongs to a contact ---------------------------------------------------------------


def _relations_to_contact():
    """The one-to-many (and one-to-one) relations pointing at Contact, hidden ones too, except
    the tag links (exported as names)."""
    for field in Contact._meta.get_fields(include_hidden=True):
        if not (field.auto_created and not field.concrete):
            continue
        if not (field.one_to_many or field.one_to_one):
            continue
        if field.related_model is Contact.tags.through:
            continue
        yield field


def _points_at_contact(model) -> bool:
    return any(
        field.is_relation and field.many_to_one and field.related_model is Contact
        for field in model._meta.concrete_fields
    )


def _sections(contact: Contact):
    """(name, rows, nested relations) for each kind of row that belongs to the contact. Nested:
    the rows that hang off those rows without pointing at a contact themselves (a message's
    status history); rows that point at a contact are a section of their own."""
    for relation in _relations_to_contact():
        model = relation.related_model
        if model is MergeLog:
            rows = _merge_logs(contact)
        else:
            rows = model._default_manager.filter(**{relation.field.name: contact})
        name = (
            str(model._meta.verbose_name_plural).replace(" ", "_")
            if relation.hidden
            else relation.get_accessor_name()
        )
        nested = [
            (child.get_accessor_name(), child)
            for child in model._meta.get_fields(include_hidden=True)
            if child.auto_created
            and not child.concrete
            and (child.one_to_many or child.one_to_one)
            and not child.hidden
            and not _points_at_contact(child.related_model)
        ]
        yield name, rows.order_by("pk"), nested


def _merge_logs(contact: Contact):
    """Merge records of this person: those naming the contact as survivor, and those whose
    survivor was itself merged into this contact later (the record then lost its survivor but
    still holds the person's earlier identifiers)."""
    urls = [value for kind, value in _identifiers(contact) if kind == Suppression.Kind.URL]
    emails = [value for kind, value in _identifiers(contact) if kind == Suppression.Kind.EMAIL]
    earlier = Q(merged_snapshot__profile_url__in=urls) | Q(merged_snapshot__email__in=emails)
    return MergeLog.objects.filter(Q(survivor=contact) | (Q(survivor=None) & earlier))


def _children(row: models.Model, relation) -> list[models.Model]:
    if relation.one_to_one:
        child = getattr(row, relation.get_accessor_name(), None)
        return [child] if child is not None else []
    return list(getattr(row, relation.get_accessor_name()).order_by("pk"))


def _rows(rows) -> list[dict]:
    return [_row(row) for row in rows]


def _row(obj: models.Model) -> dict:
    """Every stored column; a foreign key as its id and, except to the contact, as its name."""
    data = {}
    for field in obj._meta.concrete_fields:
        value = field.value_from_object(obj)
        data[field.attname] = value
        if field.is_relation and value is not None and field.related_model is not Contact:
            data[field.name] = str(getattr(obj, field.name))
    return data


def _identifiers(contact: Contact) -> list[tuple[str, str]]:
    """The person's profile URLs and e-mails: their own and those of contacts merged into them."""
    found = []
    if contact.profile_url:
        found.append((Suppression.Kind.URL, contact.profile_url))
    if contact.email:
        found.append((Suppression.Kind.EMAIL, contact.email.lower()))
    for kind, value in contact.aliases.values_list("kind", "value"):
        if kind == ContactAlias.Kind.URL:
            found.append((Suppression.Kind.URL, value))
        else:
            found.append((Suppression.Kind.EMAIL, value.lower()))
    return sorted(set(found))


# --- erasing what is not a row of its own ----------------------------------------------------


def _scrub_waiting_imports(contact: Contact, identifiers: list[tuple[str, str]]) -> int:
    """Take the person's rows out of the plans of imports not applied yet (previewed or
    queued): confirming one must not bring them back, and the plan holds their data. Returns
    how many rows were taken out; each batch counts them as suppressed."""
    urls = {value for kind, value in identifiers if kind == Suppression.Kind.URL}
    emails = {value for kind, value in identifiers if kind == Suppression.Kind.EMAIL}
    waiting = ImportBatch.objects.select_for_update().filter(
        status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.QUEUED], plan__isnull=False
    )
    removed = 0
    for batch in waiting:
        plan = batch.plan
        if plan is None:  # not with plan__isnull=False above
            continue
        creates = [
            entry
            for entry in plan["creates"]
            if entry["values"].get("profile_url") not in urls
            and (entry["values"].get("email") or "").lower() not in emails
        ]
        gone_lines = {entry["line"] for entry in plan["creates"]} - {e["line"] for e in creates}
        updates = [entry for entry in plan["updates"] if entry["contact"] != contact.pk]
        unchanged = [entry for entry in plan["unchanged"] if entry["contact"] != contact.pk]
        taken = {
            "created": len(plan["creates"]) - len(creates),
            "updated": len(plan["updates"]) - len(updates),
            "unchanged": len(plan["unchanged"]) - len(unchanged),
        }
        if not any(taken.values()):
            continue
        plan.update(
            creates=creates,
            updates=updates,
            unchanged=unchanged,
            connected=[pk for pk in plan["connected"] if pk != contact.pk],
            possible_duplicates=[
                entry for entry in plan["possible_duplicates"] if entry["line"] not in gone_lines
            ],
            suppressed=plan.get("suppressed", 0) + sum(taken.values()),
        )
        for field, count in taken.items():
            setattr(batch, field, getattr(batch, field) - count)
        batch.suppressed += sum(taken.values())
        batch.save(update_fields=["plan", "suppressed", *taken])
        removed += sum(taken.values())
    return removed


def _scrub_import_problems(identifiers: list[tuple[str, str]]) -> int:
    """Drop the import problems (a value the reader refused, quoted) that mention one of the
    person's identifiers. A problem does not say whose row it was, so a malformed value that
    is not one of their identifiers cannot be told apart from anyone else's."""
    needles = set()
    for kind, value in identifiers:
        needles.add(value.lower())
        if kind == Suppression.Kind.URL:
            needles.add(value.rsplit("/in/", 1)[-1].lower())
    needles = {needle for needle in needles if len(needle) >= 3}
    removed = 0
    for batch in ImportBatch.objects.exclude(errors=[]).only("pk", "errors"):
        kept = [
            error
            for error in batch.errors
            if not any(needle in str(error.get("message", "")).lower() for needle in needles)
        ]
        if len(kept) != len(batch.errors):
            removed += len(batch.errors) - len(kept)
            ImportBatch.objects.filter(pk=batch.pk).update(errors=kept)
    return removed


def _delete_admin_history(contact: Contact) -> None:
    """The admin's change history names objects by their str(): a contact's name, a note's
    first words, "<name> in <network>" for a connection."""
    history = Q(content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk))
    for _, rows, _ in _sections(contact):
        kind = ContentType.objects.get_for_model(rows.model)
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if ids:
            history |= Q(content_type=kind, object_id__in=ids)
    LogEntry.objects.filter(history).delete()
