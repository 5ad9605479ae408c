import json
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from contacts import personal_data
from contacts.management.acting_user import acting_user, add_as_argument
from contacts.models import Contact
from linkedin_crm import audit


class Command(BaseCommand):
    help = "Export everything stored about one person as JSON, for a request to see their data."

    def add_arguments(self, parser):
        parser.add_argument("contact_id", type=int)
        add_as_argument(parser)
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, contact_id: int, as_user: str | None, output: str | None, **options):
        actor = acting_user(as_user)
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact {contact_id}.")
        path = Path(output) if output else None
        if path is not None and not path.parent.is_dir():
            raise CommandError(f"No such folder: {path.parent}")
        try:
            data = personal_data.person_export(contact=contact, actor=actor, via=audit.Via.COMMAND)
        except PermissionDenied as exc:
            raise CommandError(f"{actor}: {exc}") from None
        text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        if path is None:
            self.stdout.write(text)
        else:
            path.write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"Wrote everything stored about contact {contact_id} to {path}.")
