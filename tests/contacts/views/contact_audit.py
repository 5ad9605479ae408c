"""A contact's audit trail, as the tests of the pages that change a contact read it."""

from linkedin_crm.models import AuditEvent


def events(contact) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk))
        .order_by("id")
        .values_list("action", "actor_name", "detail")
    )
