from django.core.management.base import BaseCommand, CommandError

from contacts import services
from contacts.models import ImportBatch


class Command(BaseCommand):
    help = "Undo an import batch: delete what it created, restore what it updated."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)

    def handle(self, *args, batch_id: int, **options):
        batch = ImportBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"No import batch {batch_id}.")
        try:
            report = services.import_batch_undo(batch=batch)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Undid batch {batch_id}: {report['deleted']} deleted, {report['restored']} "
            f"restored, {len(report['kept'])} kept (they have notes or messages since), "
            f"{len(report['conflicts'])} field(s) kept a newer value."
        )
