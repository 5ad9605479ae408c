import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from contacts import services
from contacts.linkedin_csv import RejectedFile
from contacts.management.acting_user import acting_user, add_as_argument
from contacts.models import Network, Tag
from linkedin_crm import audit
from linkedin_crm.text import counted


class Command(BaseCommand):
    help = "Import a LinkedIn Connections.csv export (any era, also after Excel re-saved it)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The Connections.csv file.")
        owner = parser.add_mutually_exclusive_group()
        owner.add_argument("--network", help="Name of the network the export belongs to.")
        owner.add_argument("--owner", help="Username whose default network the export belongs to.")
        parser.add_argument("--tag", action="append", default=[], help="Tag every contact.")
        parser.add_argument(
            "--keep-existing",
            action="store_true",
            help="Only fill empty fields of known contacts instead of updating them.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would happen; change nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        add_as_argument(parser, default="the network's owner")

    def handle(
        self, *args, path, network, owner, tag, keep_existing, dry_run, json, as_user, **options
    ):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        actor = acting_user(as_user) if as_user else None
        target = self._network(network, owner, actor)
        actor = actor or target.owner
        tags = [name.strip() for name in tag if name.strip()]
        if any(len(name) > 60 for name in tags):
            raise CommandError("A tag has at most 60 characters.")
        data = file.read_bytes()
        kwargs = {
            "data": data,
            "file_name": file.name,
            "user": actor,
            "network": target,
            "keep_existing": keep_existing,
        }
        try:
            if dry_run:
                batch = services.import_preview(**kwargs)
                summary = _summary(batch, dry_run=True)
                batch.delete()  # a dry run leaves no trace
            else:
                batch = services.import_file(
                    **kwargs,
                    tags=[Tag.get_or_create_named(name) for name in tags],
                    via=audit.Via.COMMAND,
                )
                summary = _summary(batch, dry_run=False)
        except RejectedFile as exc:
            raise CommandError(f"{file.name}: {exc}") from None
        except PermissionDenied as exc:
            raise CommandError(f"{actor}: {exc}") from None
        if json:
            self.stdout.write(_json_dumps(summary))
        else:
            self._report(summary, file.name)

    def _network(self, name: str | None, username: str | None, actor) -> Network:
        """The network to import into, refused here (before tags or a network are created) when
        the acting user may not import into it."""
        if name:
            found = Network.objects.filter(name=name).select_related("owner").first()
            if found is None:
                raise CommandError(f"No network called {name!r}.")
            self._check(actor, found)
            return found
        users = get_user_model().objects.filter(is_staff=True, is_active=True)
        user = (
            users.filter(username=username).first()
            if username
            else users.order_by("-is_superuser", "pk").first()
        )
        if user is None:
            raise CommandError(
                f"No active staff user {username!r}." if username else "Create a staff user first."
            )
        # Another member's network not created yet would be theirs as well: the same rule.
        self._check(actor, Network.objects.own_default(user) or Network(owner=user))
        return Network.objects.default_for(user)

    def _check(self, actor, network: Network) -> None:
        if actor is None or actor == network.owner:
            return
        try:
            services.require_importable(actor, network)
        except PermissionDenied as exc:
            raise CommandError(f"{actor}: {exc}") from None

    def _report(self, summary: dict, file_name: str) -> None:
        verb = "Would import" if summary["batch"] is None else f"Batch {summary['batch']}:"
        self.stdout.write(
            f"{verb} {file_name}: {counted(summary['rows'], 'row', 'rows')} — "
            f"{summary['created']} new, "
            f"{summary['updated']} updated, {summary['unchanged']} unchanged, "
            f"{summary['skipped_empty']} skipped empty, {summary['invalid']} invalid, "
            f"{summary['suppressed']} suppressed (erased people)."
        )
        for error in summary["errors"]:
            self.stdout.write(f"  line {error['line']}: {error['message']}")


def _summary(batch, *, dry_run: bool) -> dict:
    return {
        "batch": None if dry_run else batch.pk,
        "rows": batch.rows,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "skipped_empty": batch.skipped_empty,
        "invalid": batch.invalid,
        "suppressed": batch.suppressed,
        "errors": batch.errors,
    }


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
