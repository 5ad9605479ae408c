"""The demo's engine: its six weeks as timed events, each done through the product's own paths
(see linkedin_crm/demo/__init__.py for why, and story.py for what happens when)."""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import random
import re
import zoneinfo
from collections.abc import Callable
from functools import cached_property
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.forms import AudienceForm, CampaignForm, StepForm, VariantForm
from campaigns.models import Audience, Campaign, Enrollment
from contacts import services as contact_services
from contacts.models import Contact, ImportBatch, Network, Stage, Tag
from linkedin_crm.demo import story
from linkedin_crm.demo.people import (
    INDUSTRIES,
    DemoPerson,
    connections_csv,
    demo_member_urn,
    demo_people,
)
from linkedin_crm.demo.sandbox import SandboxClock
from messaging import services as messaging_services
from messaging.dispatch import CapReached, dispatch_tick, in_send_window, outbox_send
from messaging.forms import AccountSettingsForm, MessageTemplateForm
from messaging.linkedin import client_from_settings
from messaging.models import LinkedInAccount, Message, MessageTemplate

logger = logging.getLogger(__name__)

TICK = datetime.timedelta(minutes=10)  # the worker ticks every minute; idle minutes do nothing
FIRST_TICK_HOUR, LAST_TICK_HOUR = 6, 18  # UTC: the demo's send windows all fall in between
# The worker queues follow-ups every 5 minutes; the demo does it three times a day, which only
# queues some of them a few hours later (they are days apart anyway) and saves many queries.
ADVANCE_HOURS = (6, 10, 14)
MIN_CONTACTS, MAX_CONTACTS = 100, 5000


class DemoError(Exception):
    """The demo cannot be loaded; the message says why and what to do."""


class Demo:
    """Six weeks of a team's work as a queue of timed events (plan), each an action done
    through a service, a form or a view, with the clock moved to its time (run)."""

    def __init__(
        self, *, contacts: int, seed: int, end: datetime.datetime, sandbox_url: str
    ) -> None:
        if not MIN_CONTACTS <= contacts <= MAX_CONTACTS:
            raise DemoError(f"--contacts must be between {MIN_CONTACTS} and {MAX_CONTACTS:,}.")
        self.size = contacts
        self.seed = seed
        self.rng = random.Random(seed)
        self.end = end.replace(second=0, microsecond=0)
        self.today = self.end.date()
        self.start = self.at_day(story.DAYS, 9, 0)
        self.sandbox_url = sandbox_url
        self.clock = SandboxClock(sandbox_url)
        self.client = client_from_settings()
        self.events: list = []
        self.sequence = itertools.count()
        self.users: dict[str, object] = {}
        self.networks: dict[str, Network] = {}
        self.accounts: dict[str, LinkedInAccount] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.reply_rates: dict[int, dict[str, float]] = {}
        self.batches: list[ImportBatch] = []
        self.faults_injected = False
        self.capped: dict[int, datetime.date] = {}  # account → the local day its cap was reached

    # -- the clock -----------------------------------------------------------------------------

    def at_day(self, days_ago: int, hour: int, minute: int = 0, tz: str = "UTC"):
        day = self.today - datetime.timedelta(days=days_ago)
        local = datetime.datetime.combine(
            day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(tz)
        )
        return local.astimezone(datetime.UTC)

    def schedule(self, when: datetime.datetime, action: Callable, *args) -> None:
        if when <= self.end:
            heapq.heappush(self.events, (when, next(self.sequence), action, args))

    @property
    def now(self) -> datetime.datetime:
        return timezone.now()

    def run(self, traveller: time_machine.Traveller) -> None:
        """Play the events in time order, moving this process's clock to each."""
        self.plan()
        while self.events:
            when, _, action, args = heapq.heappop(self.events)
            traveller.move_to(when)
            action(*args)
        self.clock.restore()

    def close(self) -> None:
        """Leave the sandbox as the demo found it: its own clock, and no fault of ours still
        waiting for the next real message (one injected on a quiet day may be unused)."""
        try:
            self.clock.restore()
            if self.faults_injected:
                requests.delete(f"{self.sandbox_url}/sandbox/faults", timeout=10)
        except requests.RequestException:
            logger.warning("demo: could not tidy up the sandbox at %s", self.sandbox_url)
        self.client.close()

    def plan(self) -> None:
        """The six weeks, as events at their times (story.py says what happens when)."""
        self.schedule(self.at_day(story.DAYS, 9, 0), self.team_join)
        for member, (days_ago, hour, minute) in story.IMPORTS.items():
            self.schedule(self.at_day(days_ago, hour, minute), self.import_export, member)
        self.schedule(self.at_day(*story.ENRICH), self.enrich)
        for member, (days_ago, hour, minute) in story.CONNECTS.items():
            self.schedule(self.at_day(days_ago, hour, minute), self.connect, member)
        self.schedule(self.at_day(*story.TEMPLATES_AT), self.write_templates)
        first_tick = self.at_day(story.FIRST_SENDING_DAY, FIRST_TICK_HOUR)
        self.schedule(first_tick, self.tick)
        # The last working day before today: a member queues messages and does not get round
        # to her Outbox again, so today it has something in it.
        last_workday = next(d for d in range(1, 8) if self.at_day(d, 12).weekday() < 5)
        member, template = story.LAST_DAY_ONE_OFF
        tz = story.ACCOUNTS[member]["timezone"]
        self.schedule(self.at_day(last_workday, 10, 5, tz), self.one_off, member, template)
        for days_ago in range(story.FIRST_SENDING_DAY, -1, -1):
            for member, spec in story.ACCOUNTS.items():
                if member == story.LAST_DAY_ONE_OFF[0] and days_ago <= last_workday:
                    continue
                for hour, minute in story.OUTBOX_ROUNDS:
                    when = self.at_day(days_ago, hour, minute, spec["timezone"])
                    if when.astimezone(zoneinfo.ZoneInfo(spec["timezone"])).weekday() < 5:
                        self.schedule(when, self.outbox_routine, member)
        for days_ago, hour, member, template in story.ONE_OFFS:
            self.schedule(self.at_day(days_ago, hour, 5), self.one_off, member, template)
        for key, spec in story.CAMPAIGNS.items():
            self.schedule(self.at_day(*spec["launch"]), self.launch_campaign, key)
        for days_ago, hour, status in story.FAULTS:
            self.schedule(self.at_day(days_ago, hour, 3), self.inject_fault, status)
        self.schedule(self.at_day(*story.MARK_CONTACTED), self.mark_contacted, "intro")
        self.schedule(self.at_day(*story.DO_NOT_CONTACT), self.do_not_contact)

    # -- the team, their exports and their accounts ------------------------------------------

    def team_join(self) -> None:
        User = get_user_model()
        for member in story.TEAM:
            user = User(
                username=member.username,
                first_name=member.first_name,
                last_name=member.last_name,
                email=member.email,
                is_staff=True,
            )
            user.set_unusable_password()  # an admin sets one in Admin → Users to sign in as them
            user.save()
            user.groups.add(Group.objects.get(name=member.role))
            user = User.objects.get(pk=user.pk)  # a fresh permission cache
            self.users[member.username] = user
            self.networks[member.username] = Network.objects.default_for(user)

    def import_export(self, member: str) -> None:
        spec = story.EXPORTS[member]
        rng = random.Random(f"{self.seed}:{member}")
        exported_on = spec.get("exported_on") or self.today - datetime.timedelta(
            days=spec["age_days"]
        )
        rows = []
        for person, networks in zip(self.people, self.memberships, strict=True):
            if member not in networks:
                continue
            if spec["style"] == "2022" and rng.random() < 0.15:
                # An older export: some people have changed jobs since.
                person = story.at_old_job(person, rng)
            # Newer connections are more common than old ones: a network grows.
            days = int((spec["years"] * 365) * rng.random() ** 1.6)
            rows.append((person, exported_on - datetime.timedelta(days=days)))
        data = connections_csv(
            rows,
            style=spec["style"],
            ghost_rows=2,
            junk_emails=1,
            seed=f"{self.seed}:{member}",
        )
        batch = contact_services.import_file(
            data=data,
            file_name=spec["file_name"],
            user=self.users[member],
            network=self.networks[member],
        )
        if batch.status != ImportBatch.Status.DONE:
            raise DemoError(f"Importing {spec['file_name']} failed: {batch.failure}")
        self.batches.append(batch)

    @cached_property
    def people(self) -> list[DemoPerson]:
        return demo_people(self.size, seed=self.seed)

    @cached_property
    def memberships(self) -> list[tuple[str, ...]]:
        return story.memberships(self.size, seed=self.seed)

    def enrich(self) -> None:
        """What a team does with fresh contacts: tags, an industry for the big employers, and
        member URNs typed in from LinkedIn (needed to message someone through the API). Only
        the team's own contacts: next to other data (--force) the demo leaves that alone."""
        ours = self.team_contacts()
        for name, positions in story.TAGS.items():
            tag = Tag.get_or_create_named(name)
            contact_services.contacts_add_tag(contacts=ours.filter(position__in=positions), tag=tag)
        event = Tag.get_or_create_named("Met at an event")
        sample = list(ours.order_by("pk").values_list("pk", flat=True))
        sample = self.rng.sample(sample, k=len(sample) // 20)
        contact_services.contacts_add_tag(contacts=Contact.objects.filter(pk__in=sample), tag=event)
        companies = (
            ours.exclude(company="")
            .values_list("company")
            .annotate(n=Count("pk"))
            .order_by("-n", "company")[:40]
        )
        for index, (company, _) in enumerate(companies):
            industry = INDUSTRIES[index % (len(INDUSTRIES) - 1)]  # never the empty one
            ours.filter(company=company).update(industry=industry, updated_at=self.now)
        with_urn = []
        for member, share in story.MEMBER_URN_SHARE.items():
            ids = Contact.objects.in_network([self.networks[member].pk]).filter(
                profile_url__isnull=False, member_urn=""
            )
            for contact in ids.order_by("pk"):
                if self.rng.random() < share:
                    contact.member_urn = demo_member_urn(contact.profile_url)
                    contact.updated_at = self.now
                    with_urn.append(contact)
        Contact.objects.bulk_update(with_urn, ["member_urn", "updated_at"], batch_size=500)

    def team_contacts(self):
        return Contact.objects.in_network([network.pk for network in self.networks.values()])

    def connect(self, member: str) -> None:
        """Connect the member's LinkedIn account as they would: press "Connect LinkedIn
        account", approve on the (sandbox's) consent page, come back to our callback."""
        spec = story.ACCOUNTS[member]
        user = self.users[member]
        self.clock.sync(self.now, force=True)
        browser = Client(HTTP_HOST="localhost")  # the sandbox accepts loopback redirect URIs
        browser.force_login(user)
        login = reverse("openid_connect_login", kwargs={"provider_id": "linkedin"})
        start = browser.post(f"{login}?process=connect&next=/linkedin-accounts/")
        if start.status_code != 302:
            raise DemoError(f"Connecting LinkedIn did not start (HTTP {start.status_code}).")
        authorize_url = start["Location"]
        consent_page = requests.get(authorize_url, timeout=10)
        if consent_page.status_code != 200 or spec["sandbox_member"] not in consent_page.text:
            raise DemoError(f"The sandbox's consent page did not show {spec['sandbox_member']}.")
        # What the consent form posts: its hidden fields (the request's parameters), the member
        # picked and the Approve button.
        form = dict(parse_qsl(urlsplit(authorize_url).query))
        form.update(sandbox_member=spec["sandbox_member"], decision="approve")
        approved = requests.post(
            authorize_url.split("?")[0], data=form, allow_redirects=False, timeout=10
        )
        callback = urlsplit(approved.headers.get("Location", ""))
        if approved.status_code != 302 or "code=" not in callback.query:
            raise DemoError(f"The sandbox did not approve the connection ({approved.text[:200]}).")
        page = browser.get(f"{callback.path}?{callback.query}", follow=True)
        account = LinkedInAccount.objects.filter(
            owner=user, member_urn=f"urn:li:person:{spec['sandbox_member']}"
        ).first()
        if account is None:
            flashes = re.findall(r'<li class="flash-\w+">(.*?)</li>', page.content.decode(), re.S)
            said = unescape(" ".join(flashes)) or f"HTTP {page.status_code}"
            raise DemoError(f"Connecting {user.get_full_name()}'s LinkedIn failed: {said}")
        data = {k: v for k, v in spec.items() if k not in ("sandbox_member", "cap_per_100")}
        data.update(network=account.network_id, daily_limit=self.daily_limit(spec))
        form = AccountSettingsForm(data, instance=account, user=user)
        if not form.is_valid():
            raise DemoError(f"Account settings refused: {form.errors.as_text()}")
        self.accounts[member] = form.save()

    def daily_limit(self, spec: dict) -> int:
        # A bigger network gets a bigger cap, so that the first campaign ends within the six
        # weeks; a tick every 10 minutes with the accounts' intervals allows about 50 a day.
        return max(spec["daily_limit"], min(50, round(self.size * spec["cap_per_100"] / 100)))

    def write_templates(self) -> None:
        for username, name, body in story.TEMPLATES:
            form = MessageTemplateForm({"name": name, "body": body})
            if not form.is_valid():
                raise DemoError(f"Template {name!r}: {form.errors.as_text()}")
            template = form.save(commit=False)
            template.created_by = self.users[username]
            template.save()

    # -- sending -------------------------------------------------------------------------------

    def tick(self) -> None:
        """What the worker does: a dispatch tick, and now and then the campaigns' follow-ups.

        The dispatcher is asked only about accounts that may claim now: in their window, past
        their next slot, not held and not capped today. For the others its answer would be
        "nothing", and asking costs a dozen queries a tick."""
        now = self.now
        sent = False
        for pk in self.may_claim(now):
            self.clock.sync(now)
            result = dispatch_tick(now=now, account_id=pk, client=self.client)
            if result.capped_accounts:
                self.capped[pk] = self.local_day(pk, now)
            sent = sent or bool(result.sent)
        if sent:
            self.after_sends(now)
        if now.minute == 0 and now.hour in ADVANCE_HOURS:
            campaign_services.campaigns_advance(now=now)
        following = now + TICK
        if following.hour >= LAST_TICK_HOUR:
            following = datetime.datetime.combine(
                following.date() + datetime.timedelta(days=1),
                datetime.time(FIRST_TICK_HOUR),
                tzinfo=datetime.UTC,
            )
        self.schedule(following, self.tick)

    def may_claim(self, now: datetime.datetime) -> list[int]:
        accounts = {a.pk: a for a in self.accounts.values()}
        slots = LinkedInAccount.objects.filter(
            pk__in=accounts, status=LinkedInAccount.Status.ACTIVE
        ).values_list("pk", "next_send_at", "hold_until")
        return [
            pk
            for pk, next_send_at, hold_until in slots
            if in_send_window(accounts[pk], now)
            and not (next_send_at and next_send_at > now)
            and not (hold_until and hold_until > now)
            and self.capped.get(pk) != self.local_day(pk, now)
        ]

    def local_day(self, account_pk: int, now: datetime.datetime) -> datetime.date:
        account = next(a for a in self.accounts.values() if a.pk == account_pk)
        return now.astimezone(zoneinfo.ZoneInfo(account.timezone)).date()

    def outbox_routine(self, member: str) -> None:
        """The member goes through their Outbox, a message a minute."""
        account = self.accounts.get(member)
        if account is None:
            return
        waiting = Message.objects.filter(account=account, status=Message.Status.RELEASED)
        for index, pk in enumerate(waiting.order_by("released_at", "pk").values_list("pk")):
            self.schedule(self.now + datetime.timedelta(minutes=index), self.outbox_one, pk[0])

    def outbox_one(self, pk: int) -> None:
        message = Message.objects.select_related("contact", "account__owner", "campaign_link").get(
            pk=pk
        )
        if message.status != Message.Status.RELEASED:
            return
        account, owner = message.account, message.account.owner
        # Whatever happens frees or moves a slot of today's cap: the dispatcher decides again.
        self.capped.pop(account.pk, None)
        if self.rng.random() < 0.05 and not hasattr(message, "campaign_link"):
            # Skipped: she no longer wants to send this one. (Never a campaign's message: the
            # campaign would then wait for that contact forever; see the demo's report.)
            messaging_services.outbox_skip(message=message, actor=owner)
        elif account.has_messaging_scope and message.contact.member_urn:
            self.clock.sync(self.now)
            try:
                outbox_send(message=message, actor=owner, client=self.client, now=self.now)
            except CapReached:
                return  # today's cap is used: it waits for tomorrow
        else:
            # No member URN: "Copy and open LinkedIn profile", paste, send, "I sent it".
            messaging_services.outbox_mark_sent(message=message, actor=owner, now=self.now)
        self.after_sends(self.now)

    def one_off(self, member: str, template_name: str) -> None:
        account = self.accounts[member]
        template = MessageTemplate.objects.get(name=template_name)
        candidates = (
            Contact.objects.in_network([account.network_id])
            .filter(do_not_contact=False, profile_url__isnull=False)
            .exclude(pk__in=Message.objects.values("contact_id"))
            .exclude(pk__in=Enrollment.objects.values("contact_id"))
            .exclude(company="")
        )
        companies = sorted(
            {c for c, n in candidates.values_list("company").annotate(n=Count("pk")) if n >= 2}
        )
        if not companies:
            return
        company = self.rng.choice(companies)
        size = max(3, round(self.size / 400))
        chosen = list(candidates.filter(company=company).order_by("pk")[:size])
        others = list(candidates.exclude(company=company).values_list("pk", flat=True))
        extra = self.rng.sample(others, k=min(len(others), size - len(chosen)))
        chosen += list(Contact.objects.filter(pk__in=extra))
        messaging_services.messages_queue(
            contacts=chosen,
            account=account,
            body=template.body,
            created_by=self.users[member],
            now=self.now,
        )

    def launch_campaign(self, key: str) -> None:
        spec = story.CAMPAIGNS[key]
        owner = self.users[spec["owner"]]
        query = [(name, value) for name, value in spec["filter"]]
        query += [("network", self.networks[m].pk) for m in spec["senders"]]
        query = [
            (name, Tag.find_named(value).pk if name == "tags" else value) for name, value in query
        ]
        # Beside data of its own (--force) a team may have an audience of that name already.
        name = Audience.free_name(spec["audience"])
        audience_form = AudienceForm({"name": name, "query": urlencode(query)})
        if not audience_form.is_valid():
            raise DemoError(f"Audience: {audience_form.errors.as_text()}")
        audience = audience_form.save(commit=False)
        audience.owner = owner
        audience.save()
        form = CampaignForm(
            {
                "name": spec["name"],
                "audience": audience.pk,
                "senders": [self.accounts[m].pk for m in spec["senders"]],
                "starts_at": self.now.strftime("%Y-%m-%d %H:%M"),
            },
            user=owner,
        )
        if not form.is_valid():
            raise DemoError(f"Campaign {spec['name']!r}: {form.errors.as_text()}")
        campaign = form.save(commit=False)
        campaign.owner = owner
        campaign.save()
        form.save_m2m()
        for order, (delay_days, variants) in enumerate(spec["steps"], start=1):
            step = StepForm({"delay_days": delay_days, "stop_on_reply": "on"}).save(commit=False)
            step.campaign, step.order = campaign, order
            step.save()
            for label, body in variants:
                variant_form = VariantForm(
                    {"step": step.pk, "label": label, "body": body, "weight": 1},
                    campaign=campaign,
                )
                if not variant_form.is_valid():
                    raise DemoError(f"Variant {label}: {variant_form.errors.as_text()}")
                variant_form.save()
        campaign_services.campaign_launch(campaign=campaign, actor=owner, now=self.now)
        self.campaigns[key] = campaign
        self.reply_rates[campaign.pk] = spec["reply_rates"]

    def inject_fault(self, status: int) -> None:
        """LinkedIn has a bad moment: the next Messages API call fails (the sandbox's faults)."""
        response = requests.post(
            f"{self.sandbox_url}/sandbox/faults", json={"faults": [{"status": status}]}, timeout=10
        )
        response.raise_for_status()
        self.faults_injected = True

    # -- replies and what follows -------------------------------------------------------------

    def after_sends(self, when: datetime.datetime) -> None:
        """Decide, for each message just sent, whether and when its contact replies."""
        sent = Message.objects.filter(status=Message.Status.SENT, sent_at=when).values_list(
            "pk",
            "campaign_link__step__campaign_id",
            "campaign_link__step__order",
            "campaign_link__variant__label",
        )
        for pk, campaign_id, step, label in sent:
            if campaign_id is None:
                rate = story.ONE_OFF_REPLY_RATE
            elif step > 1:
                rate = story.FOLLOW_UP_REPLY_RATE
            else:
                rate = self.reply_rates[campaign_id][label]
            if self.rng.random() < rate:
                hours = min(120.0, 0.5 + self.rng.expovariate(1 / 20))
                self.schedule(when + datetime.timedelta(hours=hours), self.reply, pk)

    def reply(self, pk: int) -> None:
        """The contact answered on LinkedIn; the sender marks the message replied."""
        message = Message.objects.select_related("contact", "account__owner").get(pk=pk)
        owner = message.account.owner
        kind = self.rng.choices(list(story.REPLY_KINDS), weights=story.REPLY_KINDS.values())[0]
        text = self.rng.choice(story.REPLIES[kind]).format(sender=owner.first_name)
        campaign_services.reply_record(
            contact=message.contact, message=message, text=text, actor=owner
        )
        if kind == "positive" and self.rng.random() < 0.5:
            when = self.now + datetime.timedelta(hours=self.rng.uniform(16, 30))
            self.schedule(when, self.book_meeting, message.contact_id, owner.pk)
        elif kind == "negative" and self.rng.random() < 0.6:
            self.schedule(
                self.now + datetime.timedelta(hours=2),
                self.set_stage,
                message.contact_id,
                Stage.NOT_INTERESTED,
                owner.pk,
            )

    def book_meeting(self, contact_id: int, owner_id: int) -> None:
        contact = Contact.objects.get(pk=contact_id)
        author = get_user_model().objects.get(pk=owner_id)
        self.set_stage(contact_id, Stage.MEETING, owner_id)
        day = self.now + datetime.timedelta(days=self.rng.randint(2, 6))
        contact_services.note_add(
            contact=contact, author=author, body=story.meeting_note(day, self.rng)
        )
        if self.rng.random() < 0.2:
            self.schedule(
                self.now + datetime.timedelta(days=14),
                self.set_stage,
                contact_id,
                Stage.CUSTOMER,
                owner_id,
            )

    def set_stage(self, contact_id: int, stage: str, actor_id: int | None = None) -> None:
        """A member moves the contact on (the contact's timeline says who), or, with no actor,
        a bulk action of the team's."""
        actor = get_user_model().objects.get(pk=actor_id) if actor_id else None
        contact_services.contacts_set_stage(
            contacts=Contact.objects.filter(pk=contact_id), stage=stage, actor=actor
        )

    def mark_contacted(self, key: str) -> None:
        """After a campaign, its recipients who never answered move from "lead" to
        "contacted" (a bulk action on the contact list)."""
        campaign = self.campaigns.get(key)
        if campaign is None:
            return
        recipients = Enrollment.objects.filter(campaign=campaign).values("contact_id")
        contact_services.contacts_set_stage(
            contacts=Contact.objects.filter(pk__in=recipients, stage=Stage.LEAD),
            stage=Stage.CONTACTED,
        )

    def do_not_contact(self) -> None:
        """Two people asked by e-mail, outside LinkedIn, not to be contacted."""
        ids = list(
            self.team_contacts()
            .filter(do_not_contact=False, stage=Stage.LEAD)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        chosen = self.rng.sample(ids, k=min(2, len(ids)))
        contact_services.contacts_mark_do_not_contact(
            contacts=Contact.objects.filter(pk__in=chosen),
            reason="Asked by e-mail not to be contacted.",
            now=self.now,
        )
