import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from contacts.demo_data import TAG_NAMES, fake_people
from contacts.models import Connection, Contact, Network, Stage, Tag

BATCH = 5000


class Command(BaseCommand):
    help = "Create invented demo contacts (bulk writes; fast enough for 100,000)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=500, help="How many (default 500).")
        parser.add_argument("--owner", help="Username whose network receives the contacts.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    def handle(self, *args, contacts: int, owner: str | None, seed: int, **options):
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


def seed_contacts(count: int, *, network: Network, seed: int = 1) -> int:
    """Bulk-create `count` invented contacts with connections and some tags and stages."""
    rng = random.Random(seed)
    tags = [Tag.get_or_create_named(name) for name in TAG_NAMES]
    stages = (
        [Stage.LEAD] * 80
        + [Stage.CONTACTED] * 10
        + [Stage.REPLIED] * 5
        + [
            Stage.MEETING,
            Stage.CUSTOMER,
            Stage.NOT_INTERESTED,
        ]
        * 2
    )
    now = timezone.now()
    people = fake_people(count, seed=seed)
    created = 0
    while created < count:
        chunk = [next(people) for _ in range(min(BATCH, count - created))]
        with transaction.atomic():
            contacts = []
            for offset, person in enumerate(chunk):
                contact = Contact(
                    first_name=person["first_name"],
                    last_name=person["last_name"],
                    profile_url=person["profile_url"],
                    email=person["email"],
                    company=person["company"],
                    position=person["position"],
                    industry=person["industry"],
                    stage=rng.choice(stages),
                    created_at=now - timezone.timedelta(seconds=count - created - offset),
                )
                contact.refresh_derived_fields()
                contacts.append(contact)
            Contact.objects.bulk_create(contacts, batch_size=1000)
            if contacts[0].pk is None:  # databases that do not return ids from bulk inserts
                urls = [c.profile_url for c in contacts]
                ids = dict(
                    Contact.objects.filter(profile_url__in=urls).values_list("profile_url", "pk")
                )
                for contact in contacts:
                    contact.pk = ids[contact.profile_url]
            Connection.objects.bulk_create(
                [
                    Connection(contact=c, network=network, connected_on=p["connected_on"])
                    for c, p in zip(contacts, chunk, strict=True)
                ],
                batch_size=1000,
            )
            through = Contact.tags.through
            links = [
                through(contact_id=c.pk, tag_id=tag.pk)
                for c in contacts
                for tag in rng.sample(tags, k=rng.choice([0, 0, 0, 1, 1, 2]))
            ]
            through.objects.bulk_create(links, batch_size=2000)
        created += len(chunk)
    return created
