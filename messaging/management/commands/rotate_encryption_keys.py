from django.core.management.base import BaseCommand
from django.db import transaction

from linkedin_crm.text import counted
from messaging.models import LinkedInAccount


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token under the newest key of FIELD_ENCRYPTION_KEYS (the "
        "first). Run it after putting a new key first; then older keys can be removed."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            # Reading decrypts with whichever key fits; saving encrypts with the first key.
            for account in LinkedInAccount.objects.select_for_update().order_by("pk"):
                if account.access_token or account.refresh_token:
                    account.save(update_fields=["access_token", "refresh_token"])
                    count += 1
        accounts = counted(count, "account", "accounts")
        self.stdout.write(f"Re-encrypted the tokens of {accounts} under the newest key.")
