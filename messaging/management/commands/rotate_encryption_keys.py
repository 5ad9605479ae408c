from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import ngettext

from linkedin_crm.models import WebhookSubscription
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
            secrets = 0
            for subscription in WebhookSubscription.objects.select_for_update().order_by("pk"):
                subscription.save(update_fields=["secret"])
                secrets += 1
        accounts = counted(count, "account", "accounts")
        self.stdout.write(f"Re-encrypted the tokens of {accounts} under the newest key.")
        if secrets:
            self.stdout.write(
                ngettext(
                    "Re-encrypted the signing secret of %(count)d webhook.",
                    "Re-encrypted the signing secrets of %(count)d webhooks.",
                    secrets,
                )
                % {"count": secrets}
            )
