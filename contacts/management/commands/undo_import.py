from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from contacts import services
from contacts.management.acting_user import acting_user, add_as_argument
from contacts.models import ImportBatch
from linkedin_crm import audit
from linkedin_crm.text import counted


class Command(BaseCommand):
    help = "Undo an import batch: delete what it created, restore what it updated."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)
        add_as_argument(parser)

    def handle(self, *args, batch_id: int, as_user: str | None, **options):
        actor = acting_user(as_user)
        batch = ImportBatch.objects.filter(pk=batch_id).select_related("network").first()
        if batch is None:
            raise CommandError(f"No import batch {batch_id}.")
        try:
            report = services.import_batch_undo(batch=batch, actor=actor, via=audit.Via.COMMAND)
        except PermissionDenied as exc:
            raise CommandError(f"{actor}: {exc}") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Undid batch {batch_id}: {report['deleted']} deleted, {report['restored']} "
            f"restored, {len(report['kept'])} kept (they have notes or messages since), "
            f"{counted(len(report['conflicts']), 'field', 'fields')} kept a newer value."
        )
