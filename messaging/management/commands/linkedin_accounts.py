from django.core.management.base import BaseCommand
from django.utils import timezone

from messaging import services
from messaging.models import LinkedInAccount


class Command(BaseCommand):
    help = "List the connected LinkedIn accounts and their state; --validate asks LinkedIn."

    def add_arguments(self, parser):
        parser.add_argument(
            "--validate", action="store_true", help="Check every active account's token."
        )

    def handle(self, *args, validate: bool, **options):
        accounts = LinkedInAccount.objects.select_related("owner").order_by("pk")
        if not accounts:
            self.stdout.write("No LinkedIn accounts are connected.")
            return
        now = timezone.now()
        for account in accounts:
            note = ""
            if validate and account.status != LinkedInAccount.Status.DISCONNECTED:
                ok, text = services.account_validate(account=account, now=now)
                note = f" — {'valid' if ok else 'INVALID'}: {text}"
            _, label = account.health(now)
            expires = (
                f"{account.access_token_expires_at:%Y-%m-%d}"
                if account.access_token_expires_at
                else "-"
            )
            self.stdout.write(
                f"{account.pk:>4}  {account.display_name}  owner={account.owner}  {label}  "
                f"mode={account.mode}  limit={account.daily_limit}/day  expires={expires}{note}"
            )
