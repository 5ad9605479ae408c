import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from messaging.dispatch import dispatch_tick
from messaging.models import LinkedInAccount


class Command(BaseCommand):
    help = "Run one dispatch tick of the message queue now (the worker does this every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this LinkedIn account (id).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, account: int | None, json: bool, **options):
        if account is not None and not LinkedInAccount.objects.filter(pk=account).exists():
            raise CommandError(f"No LinkedIn account {account}.")
        result = dispatch_tick(account_id=account).as_dict()
        if json:
            self.stdout.write(_dumps(result))
            return
        self.stdout.write(
            "Claimed {claimed}: {sent} sent, {released} released to the Outbox, {retried} to "
            "retry, {uncertain} uncertain, {failed} failed; {cancelled} cancelled.".format(**result)
        )
        if result["capped_accounts"]:
            capped = result["capped_accounts"]
            noun = ngettext("account", "accounts", len(capped))
            self.stdout.write(f"At today's cap: {noun} {', '.join(map(str, capped))}.")


def _dumps(value) -> str:
    return json.dumps(value)
