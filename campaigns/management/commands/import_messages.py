import json
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from campaigns import services
from campaigns.messages_csv import parse_messages
from contacts.linkedin_csv import RejectedFile
from linkedin_crm.text import counted


class Command(BaseCommand):
    help = "Import LinkedIn's messages.csv: record replies and confirm messages sent by hand."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--owner", help="Username to record the import under.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, path: str, owner: str | None, json: bool, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if owner:
            users = get_user_model().objects.filter(username=owner, is_staff=True, is_active=True)
            user = users.first()
            if user is None:
                raise CommandError(f"No staff user {owner!r}.")
        try:
            parsed = parse_messages(file.read_bytes(), max_bytes=settings.IMPORT_MAX_BYTES * 3)
            result = services.messages_import(parsed=parsed, actor=user)
        except (RejectedFile, services.CampaignError) as exc:
            raise CommandError(f"{file.name}: {exc}") from None
        summary = asdict(result)
        if json:
            self.stdout.write(_dumps(summary))
        else:
            self.stdout.write(
                f"{counted(result.rows, 'row', 'rows')} in "
                f"{counted(result.conversations, 'conversation', 'conversations')}: "
                f"{counted(result.replies, 'new reply', 'new replies')}, "
                f"{counted(result.confirmed_sent, 'send', 'sends')} confirmed, "
                f"{result.already_known:,} already known, {result.unmatched:,} to or from "
                f"non-contacts, {result.suppressed:,} of erased people, "
                f"{counted(result.skipped_rows, 'row', 'rows')} left out."
            )
            for reason, count in result.left_out.items():
                rows = ngettext("%(count)d row", "%(count)d rows", count) % {"count": count}
                self.stdout.write(f"{rows} not taken: {reason}.")
            for line, reason in [*result.problems, *result.left_out_lines]:
                self.stdout.write(f"  line {line}: {reason}")


def _dumps(value) -> str:
    return json.dumps(value)
