"""manage.py create_api_token USERNAME [--name NAME] [--read-only] [--expires-days N]

Prints the new token on stdout's last line, so that a script can take it with `tail -n 1`.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from linkedin_crm import api_tokens, audit


class Command(BaseCommand):
    help = "Make a personal API token for a staff member and print it (once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="What will use the token.")
        parser.add_argument("--read-only", action="store_true", help="May only read.")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Stops working after this many days."
        )

    def handle(self, *args, username, name, read_only, expires_days, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user “{username}”.")
        if not (user.is_active and user.is_staff):
            raise CommandError(f"“{username}” is not an active staff member; the API is for staff.")
        expires_at = None
        if expires_days is not None:
            if expires_days < 1:
                raise CommandError("--expires-days must be at least 1.")
            expires_at = timezone.now() + datetime.timedelta(days=expires_days)
        try:
            token, raw = api_tokens.api_token_create(
                owner=user,
                name=name,
                read_only=read_only,
                expires_at=expires_at,
                actor=user,
                via=audit.Via.COMMAND,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        access = "read-only" if read_only else "read and write"
        self.stderr.write(f"Token “{token.name}” ({access}) for {username}; it is shown only once:")
        self.stdout.write(raw)
