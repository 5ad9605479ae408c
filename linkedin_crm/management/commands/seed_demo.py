"""`manage.py seed_demo`: invented data to look at.

seed_demo --contacts N [--owner USERNAME]   contacts written straight into a network (fast)
seed_demo --full                            the first-run demo (linkedin_crm/demo/)
seed_demo --hint                            how to load the demo, if there are no contacts
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import ngettext

from contacts.models import Contact, Network
from linkedin_crm import demo
from linkedin_crm.demo.people import seed_contacts

SANDBOX_START_SECONDS = 20


class Command(BaseCommand):
    help = (
        "Invented demo data: --contacts N writes contacts into a network; --full loads the "
        "first-run demo (imports, sandbox accounts, messages, campaigns, replies)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="the first-run demo: six weeks of a team's work through the real importer, "
            "OAuth against the LinkedIn sandbox, the queue and campaigns "
            "(needs LINKEDIN_SANDBOX=1)",
        )
        parser.add_argument(
            "--contacts",
            type=int,
            help="how many contacts (default 500; with --full about how many people the "
            f"exports hold, {demo.MIN_CONTACTS}-{demo.MAX_CONTACTS:,}, default 3,000)",
        )
        parser.add_argument("--owner", help="username whose network receives the contacts")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --full: load the demo next to data the database holds already",
        )
        parser.add_argument(
            "--start-sandbox",
            action="store_true",
            help="with --full: if no sandbox answers at LINKEDIN_SANDBOX_URL, run one while the "
            "demo loads (it keeps its tokens in LINKEDIN_SANDBOX_STATE for `make run`)",
        )
        parser.add_argument(
            "--hint",
            action="store_true",
            help="print how to load the demo when the database has no contacts (make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["hint"]:
            if not Contact.objects.exists():
                self.stdout.write(
                    "No contacts yet. To look around with a demo data set (3,000 invented "
                    "contacts, two sandbox LinkedIn accounts, campaigns with replies), run "
                    "`make demo` in another terminal."
                )
            return
        if options["full"]:
            self.handle_full(**options)
        else:
            if options["force"] or options["start_sandbox"]:
                raise CommandError("--force and --start-sandbox go with --full.")
            contacts = 500 if options["contacts"] is None else options["contacts"]
            self.handle_contacts(contacts, options["owner"], options["seed"])

    def handle_contacts(self, contacts: int, owner: str | None, seed: int) -> None:
        if contacts < 1 or contacts > 1_000_000:
            raise CommandError("--contacts must be between 1 and 1,000,000.")
        User = get_user_model()
        users = User.objects.filter(is_staff=True, is_active=True).order_by("-is_superuser", "pk")
        user = users.filter(username=owner).first() if owner else users.first()
        if user is None:
            raise CommandError(
                f"No active staff user {owner!r}." if owner else "Create a staff user first."
            )
        network = Network.objects.default_for(user)
        started = time.monotonic()
        created = seed_contacts(contacts, network=network, seed=seed)
        self.stdout.write(
            f"Created {created:,} contacts in {network} in {time.monotonic() - started:.1f} s."
        )

    def handle_full(self, *, contacts: int | None, owner, seed: int, force: bool, **options):
        if owner:
            raise CommandError("--owner goes without --full: the demo has its own team.")
        contacts = 3000 if contacts is None else contacts
        if not demo.MIN_CONTACTS <= contacts <= demo.MAX_CONTACTS:
            raise CommandError(
                f"--contacts must be between {demo.MIN_CONTACTS} and {demo.MAX_CONTACTS:,} "
                "with --full."
            )
        if not settings.LINKEDIN_SANDBOX:
            raise CommandError(
                "The demo's LinkedIn accounts are sandbox accounts: run it with "
                "LINKEDIN_SANDBOX=1 (`make demo` does), never against a real LinkedIn app."
            )
        if demo.demo_loaded_already():
            raise CommandError(
                "The demo is loaded already (its team members maya, lukas and sofia exist). "
                "To load it afresh, start from an empty database (on SQLite: point DATA_DIR at "
                f"an empty folder, or delete {settings.DATABASES['default']['NAME']} and "
                f"{settings.LINKEDIN_SANDBOX_STATE or 'the sandbox state file'})."
            )
        existing = demo.existing_data()
        if existing and not force:
            held = ", ".join(
                f"{n:,} {name}{'' if n == 1 else 'es' if name.endswith('ch') else 's'}"
                for name, n in existing.items()
            )
            raise CommandError(
                f"This database holds data already ({held}). seed_demo --full fills an empty "
                "database; with --force it adds the demo next to that data (nothing is deleted, "
                "but the demo's imports may update contacts of yours, as any import would)."
            )
        url = settings.LINKEDIN_SANDBOX_URL
        with contextlib.ExitStack() as stack:
            if not demo.sandbox_answers(url):
                if not options["start_sandbox"]:
                    raise CommandError(
                        f"No LinkedIn sandbox answers at {url}. The demo connects its accounts "
                        "there, and their tokens must stay valid in the sandbox the app uses. "
                        "Start `make run` (it runs the sandbox) and run this again in another "
                        "terminal, or add --start-sandbox to run one while the demo loads "
                        "(`make demo` does)."
                    )
                stack.enter_context(TemporarySandbox(url))
                self.stdout.write(
                    f"Started the LinkedIn sandbox at {url} while the demo loads "
                    f"(it keeps its tokens in {settings.LINKEDIN_SANDBOX_STATE})."
                )
            if not get_user_model().objects.filter(is_staff=True).exists():
                # The demo's members are staff: after them, make run's first admin never comes.
                call_command("create_first_admin", stdout=self.stdout)
            started = time.monotonic()
            try:
                summary = demo.demo_load(contacts=contacts, seed=seed)
            except demo.DemoError as exc:
                raise CommandError(f"{exc} Nothing was written.") from exc
            self.report(summary, time.monotonic() - started)

    def report(self, summary: demo.DemoSummary, seconds: float) -> None:
        statuses = summary.messages_by_status
        exports = ", ".join(
            f"{b.uploaded_by.get_full_name()}: {b.rows:,} rows" for b in summary.batches
        )
        lines = [
            f"Demo loaded in {seconds:.0f} s: six weeks of a three-person team's work, up to now.",
            f"  {summary.contacts:,} contacts from {len(summary.batches)} LinkedIn exports "
            f"({exports})",
            "  LinkedIn accounts connected through the sandbox: "
            + ", ".join(f"{a.display_name} ({a.mode})" for a in summary.accounts),
            f"  {summary.templates} message templates; {statuses.get('sent', 0):,} messages sent, "
            f"{statuses.get('released', 0)} waiting in an Outbox, {statuses.get('queued', 0)} "
            f"queued, {statuses.get('uncertain', 0)} uncertain, {summary.replies} replies",
            "  campaigns: "
            + "; ".join(f"“{c.name}” {c.get_status_display().lower()}" for c in summary.campaigns),
        ]
        if summary.staged_errors:
            staged = ngettext(
                "The LinkedIn error above was staged on purpose",
                "The %(count)s LinkedIn errors above were staged on purpose",
                summary.staged_errors,
            ) % {"count": summary.staged_errors}
            lines.append(
                f"  {staged}: the demo shows how a retry, a refused message and an uncertain "
                "send look. Nothing went wrong."
            )
        admin = (
            get_user_model()
            .objects.filter(is_superuser=True, is_active=True)
            .order_by("pk")
            .first()
        )
        who = f"as {admin.get_username()}" if admin else "as a staff user"
        lines.append(
            f"Sign in {who} at http://127.0.0.1:8000/ (make run) and look at Contacts, Imports, "
            "Outbox, Messages, Campaigns and LinkedIn accounts."
        )
        self.stdout.write("\n".join(lines))


class TemporarySandbox:
    """`manage.py linkedin_sandbox` on LINKEDIN_SANDBOX_URL's port while the demo loads, with
    the state file `make run`'s sandbox reads, so the demo's tokens keep working there."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise CommandError(
                f"--start-sandbox starts a sandbox on this machine; LINKEDIN_SANDBOX_URL is {url}."
            )
        if not settings.LINKEDIN_SANDBOX_STATE:
            raise CommandError(
                "--start-sandbox needs LINKEDIN_SANDBOX_STATE: a sandbox that keeps its tokens "
                "in memory would forget the demo's accounts when it stops."
            )
        self.url = url
        self.command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "linkedin_sandbox",
            "--addr",
            parts.hostname,
            "--port",
            str(parts.port or 80),
            "--state",
            settings.LINKEDIN_SANDBOX_STATE,
        ]

    def __enter__(self) -> TemporarySandbox:
        # Its log goes to a file, not a pipe: a pipe nobody reads would fill up and stall it.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in __exit__
        self.process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            self.command, stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + SANDBOX_START_SECONDS
        while not demo.sandbox_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise CommandError(f"The LinkedIn sandbox did not start: {self.last_words}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # the sandbox's Ctrl-C: a clean stop
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.last_words = self._last_line()
        self.log.close()

    def _last_line(self) -> str:
        self.log.seek(0)
        lines = [line for line in self.log.read().splitlines() if line.strip()]
        return lines[-1] if lines else "no answer"
