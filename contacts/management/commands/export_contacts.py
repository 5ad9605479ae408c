from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from contacts import services
from contacts.management.acting_user import acting_user, add_as_argument
from contacts.models import Contact, Network, Stage, Tag
from linkedin_crm import audit, roles
from linkedin_crm.text import counted


class Command(BaseCommand):
    help = "Export contacts as CSV: LinkedIn's columns first (re-importable), then ours."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: standard output).")
        parser.add_argument("--tag", help="Only contacts with this tag.")
        parser.add_argument("--company", help="Only contacts at this company (exact).")
        parser.add_argument("--stage", help=f"Only contacts in this stage: {', '.join(Stage)}.")
        parser.add_argument("--network", help="Network whose connection date fills Connected On.")
        add_as_argument(parser)

    def handle(self, *args, output, tag, company, stage, network, as_user, **options):
        self.actor = acting_user(as_user)
        try:
            services.require_permission(self.actor, roles.EXPORT_CONTACTS)
        except PermissionDenied as exc:
            # Refused before a file is opened: a refused export leaves no empty file behind.
            raise CommandError(f"{self.actor}: {exc}") from None
        contacts = Contact.objects.all()
        filters = {}
        if tag:
            found = Tag.find_named(tag)
            if found is None:
                raise CommandError(f"No tag called {tag!r}.")
            contacts = contacts.with_tag_ids([found.pk])
            filters["tag"] = found.name
        if company:
            contacts = contacts.filter(company=company)
            filters["company"] = company
        if stage:
            if stage not in Stage.values:
                raise CommandError(f"Unknown stage {stage!r}; use one of {', '.join(Stage)}.")
            contacts = contacts.filter(stage=stage)
            filters["stage"] = stage
        export_network = None
        if network:
            export_network = Network.objects.filter(name=network).first()
            if export_network is None:
                raise CommandError(f"No network called {network!r}.")
            filters["network"] = network
        if output:
            path = Path(output)
            if not path.parent.is_dir():
                raise CommandError(f"No such folder: {path.parent}")
            with path.open("w", encoding="utf-8", newline="") as out:
                count = self._export(contacts, out, filters, export_network)
            self.stderr.write(f"Exported {counted(count, 'contact', 'contacts')} to {path}.")
        else:
            self.stdout.ending = ""  # the CSV writer ends its own lines
            self._export(contacts, self.stdout, filters, export_network)

    def _export(self, contacts, out, filters, network) -> int:
        return services.contacts_export(
            contacts=contacts,
            out=out,
            user=self.actor,
            via=audit.Via.COMMAND,
            filter_params=filters,
            network=network,
        )
