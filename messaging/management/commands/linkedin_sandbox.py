"""`manage.py linkedin_sandbox`: run the local LinkedIn look-alike (docs/sandbox.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

if TYPE_CHECKING:
    from messaging.sandbox import LinkedInSandbox

SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's own, public value


class Command(BaseCommand):
    help = "Serve a local LinkedIn look-alike (OAuth, userinfo, Messages API) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        # By default where the app looks for it (LINKEDIN_SANDBOX_URL), so the two cannot part.
        url = urlsplit(settings.LINKEDIN_SANDBOX_URL)
        parser.add_argument(
            "--addr",
            default=url.hostname or "127.0.0.1",
            help="address to bind (default: LINKEDIN_SANDBOX_URL's host)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=url.port or 8765,
            help="port to bind (default: LINKEDIN_SANDBOX_URL's port, 8765)",
        )
        parser.add_argument(
            "--partner",
            action="store_true",
            help="act as a LinkedIn-approved partner app: issue refresh tokens",
        )
        parser.add_argument(
            "--state",
            default=None,
            help="file that keeps issued tokens and accepted messages across restarts "
            "(default: LINKEDIN_SANDBOX_STATE, data/linkedin-sandbox.jsonl); '' keeps them in "
            "memory only",
        )
        parser.add_argument(
            "--daily-limit",
            type=int,
            default=150,
            help="messages per member per UTC day before LinkedIn's 429 (150)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Anyone who can reach the sandbox can mint tokens it accepts: development only.
        if not settings.DEBUG:
            raise CommandError(
                "The LinkedIn sandbox runs only with DEBUG on; it must never run in production."
            )
        # Imported only now, so that not even this refusal loads the sandbox in production.
        from messaging.sandbox import LinkedInSandbox, StateFileError

        # The app's client id and secret must match the sandbox's, or every token call fails
        # with invalid_client; reuse the configured pair so LINKEDIN_SANDBOX=1 just works.
        client_id = getattr(settings, "LINKEDIN_CLIENT_ID", "") or SANDBOX_CLIENT_ID
        client_secret = getattr(settings, "LINKEDIN_CLIENT_SECRET", "") or SANDBOX_CLIENT_SECRET
        state = options["state"]
        if state is None:
            state = getattr(settings, "LINKEDIN_SANDBOX_STATE", "")
        try:
            sandbox = LinkedInSandbox(
                options["addr"],
                options["port"],
                partner=options["partner"],
                client_id=client_id,
                client_secret=client_secret,
                daily_limit=options["daily_limit"],
                state_path=state or None,
            )
        except StateFileError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {options['addr']}:{options['port']}: {exc}"
            ) from exc
        shown_secret = (
            client_secret
            if client_secret == SANDBOX_CLIENT_SECRET
            else "(the value of LINKEDIN_CLIENT_SECRET)"
        )
        self.stdout.write(
            f"LinkedIn sandbox at {sandbox.base_url}"
            f"{' (partner app: refresh tokens on)' if options['partner'] else ''}\n"
            f"  LINKEDIN_OAUTH_BASE_URL={sandbox.oauth_base_url}\n"
            f"  LINKEDIN_API_BASE_URL={sandbox.api_base_url}\n"
            f"  LINKEDIN_CLIENT_ID={client_id}\n"
            f"  LINKEDIN_CLIENT_SECRET={shown_secret}\n"
            f"  sent messages: {sandbox.base_url}/sandbox/messages\n"
            f"  members: {sandbox.base_url}/sandbox/members\n"
            f"  state: {self._state_line(sandbox)}\n"
            "Quit with Ctrl-C."
        )
        self.stdout.flush()  # under honcho stdout is a pipe: show the banner now, not at exit
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("LinkedIn sandbox stopped.")

    @staticmethod
    def _state_line(sandbox: LinkedInSandbox) -> str:
        if sandbox.state_path is None:
            return "in memory (tokens are forgotten when the sandbox stops)"
        authorizations, messages = len(sandbox.authorizations()), len(sandbox.sent_messages())
        return (
            f"{sandbox.state_path} (kept from earlier runs: {authorizations} authorizations, "
            f"{messages} messages)"
        )
