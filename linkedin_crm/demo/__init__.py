"""The first-run demo (`manage.py seed_demo --full`): six weeks of a small team's work, made
through the product's own paths so that every page has something true to show.

- Three members' LinkedIn exports (invented people, real Connections.csv formats) go through the
  importer, so the import batches are real ones.
- Two members connect their LinkedIn accounts through our connect views (Django's test client
  plays the browser on our side) and the sandbox's consent page (over HTTP), so the accounts
  hold tokens the sandbox really issued.
- Templates, one-off messages, two campaigns, the dispatcher's ticks, the Outbox and replies all
  go through the services at past times: time-machine moves this process's clock through the
  six weeks and the sandbox's clock follows over its control API, so that LinkedIn's record and
  ours agree on when each thing happened. Nothing is written in a state the product could not
  have reached by itself.

Everything is written in one transaction, so a failure half-way (the sandbox stops answering)
leaves the database as it was; the sandbox keeps what it issued until then. The demo plays a
LinkedIn member's browser and the sandbox's operator, so it speaks HTTP to the sandbox itself;
what the product sends to LinkedIn still goes through messaging/linkedin.py.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, Reply
from contacts.models import Contact, ImportBatch
from linkedin_crm.demo import story
from linkedin_crm.demo.play import MAX_CONTACTS, MIN_CONTACTS, Demo, DemoError
from linkedin_crm.demo.sandbox import sandbox_answers
from messaging.models import LinkedInAccount, Message, MessageTemplate

__all__ = [
    "MAX_CONTACTS",
    "MIN_CONTACTS",
    "DemoError",
    "DemoSummary",
    "demo_load",
    "demo_loaded_already",
    "existing_data",
    "sandbox_answers",
]


def existing_data() -> dict[str, int]:
    """What the database holds already that a demo would mix with (empty: a fresh install)."""
    counts = {
        "contact": Contact.objects.count(),
        "import batch": ImportBatch.objects.count(),
        "LinkedIn account": LinkedInAccount.objects.count(),
        "message": Message.objects.count(),
        "message template": MessageTemplate.objects.count(),
        "campaign": Campaign.objects.count(),
    }
    return {name: n for name, n in counts.items() if n}


def demo_loaded_already() -> bool:
    return get_user_model().objects.filter(username__in=[m.username for m in story.TEAM]).exists()


@dataclass
class DemoSummary:
    contacts: int = 0
    batches: list[ImportBatch] = field(default_factory=list)
    accounts: list[LinkedInAccount] = field(default_factory=list)
    templates: int = 0
    messages_by_status: dict[str, int] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)
    replies: int = 0
    staged_errors: int = 0  # LinkedIn errors the demo caused on purpose (story.FAULTS)


class StagedErrors(logging.Filter):
    """Marks the LinkedIn client's warnings while the demo runs as staged: the sandbox fails
    only where the demo injects a fault (story.FAULTS), to show a retry, a refusal and an
    uncertain send, and unmarked such a line reads as the demo going wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            self.count += 1
            record.msg = f"Staged on purpose by the demo: {record.msg}"
        return True


@contextlib.contextmanager
def staged_errors_marked() -> Iterator[StagedErrors]:
    logger = logging.getLogger("messaging.linkedin")
    marker = StagedErrors()
    logger.addFilter(marker)
    try:
        yield marker
    finally:
        logger.removeFilter(marker)


def demo_load(*, contacts: int = 3000, seed: int = 1, now=None) -> DemoSummary:
    """Load the demo into the database (see the module's docstring). The sandbox at
    LINKEDIN_SANDBOX_URL must be running; raises DemoError, with nothing written, otherwise."""
    sandbox_url = settings.LINKEDIN_SANDBOX_URL
    if not settings.LINKEDIN_SANDBOX:
        raise DemoError(
            "The demo connects its accounts to the LinkedIn sandbox: set LINKEDIN_SANDBOX=1."
        )
    if sandbox_url != settings.LINKEDIN_API_BASE_URL:
        raise DemoError(
            f"LINKEDIN_API_BASE_URL ({settings.LINKEDIN_API_BASE_URL}) is not the sandbox at "
            f"{sandbox_url}: the demo's accounts would send somewhere their tokens mean nothing."
        )
    if not sandbox_answers(sandbox_url):
        raise DemoError(f"No LinkedIn sandbox answers at {sandbox_url}.")
    demo = Demo(contacts=contacts, seed=seed, end=now or timezone.now(), sandbox_url=sandbox_url)
    saved_random = random.getstate()
    random.seed(seed)  # the dispatcher's jitter: the same seed gives the same six weeks
    try:
        with (
            staged_errors_marked() as staged,
            transaction.atomic(),
            time_machine.travel(demo.start, tick=False) as traveller,
        ):
            demo.run(traveller)
    except requests.RequestException as exc:
        raise DemoError(f"The sandbox at {sandbox_url} stopped answering: {exc}") from exc
    finally:
        random.setstate(saved_random)
        demo.close()
    return DemoSummary(
        contacts=Contact.objects.count(),
        batches=demo.batches,
        accounts=list(demo.accounts.values()),
        templates=MessageTemplate.objects.count(),
        messages_by_status=dict(
            Message.objects.values_list("status").annotate(n=Count("pk")).order_by()
        ),
        campaigns=[Campaign.objects.get(pk=c.pk) for c in demo.campaigns.values()],
        replies=Reply.objects.count(),
        staged_errors=staged.count,
    )
