from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from contacts import personal_data
from contacts.management.acting_user import acting_user, add_as_argument
from contacts.models import Contact
from linkedin_crm import audit


class Command(BaseCommand):
    help = (
        "Erase a person for a request to be forgotten: the contact and everything stored about "
        "them. Only a keyed hash of their identifiers is kept, so imports leave them out."
    )

    def add_arguments(self, parser):
        parser.add_argument("contact_id", type=int)
        add_as_argument(parser)

    def handle(self, *args, contact_id: int, as_user: str | None, **options):
        actor = acting_user(as_user)
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact {contact_id}.")
        try:
            counts = personal_data.person_erase(contact=contact, actor=actor, via=audit.Via.COMMAND)
        except PermissionDenied as exc:
            raise CommandError(f"{actor}: {exc}") from None
        except personal_data.ErasureBlocked as exc:
            raise CommandError(f"Nothing was erased. {exc}") from None
        deleted = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
        self.stdout.write(f"Erased contact {contact_id}" + (f": {deleted}." if deleted else "."))
