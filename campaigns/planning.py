"""The plan behind a campaign's dry run and its launch (docs/campaigns.md): who is skipped and why,
which sender and first-step variant everyone else gets, and the linter's counts of missing
values. services.plan_launch() makes a plan; the dry run shows it, the launch applies it.

An audience of 30,000 is classified in one query that returns compact rows (skip codes and
bit masks, no model instances); contacts, template contexts and messages are loaded only for
the rows that are shown or launched (LaunchPlan.load)."""

import contextlib
import datetime
import gc
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)

from campaigns.models import Campaign, Enrollment, Variant
from contacts.models import Connection, Contact
from linkedin_crm.db import CHUNK, chunks
from messaging import personalize, skip_reasons
from messaging.models import LinkedInAccount, Message

# The contact columns a plan loads for the recipients it shows or launches: what the template
# variables, the dry run's contact link and the queue (the channel) read.
PLAN_CONTACT_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "profile_url",
    "member_urn",
    "company",
    "position",
    "industry",
    "do_not_contact",
)

# Skip reasons the database tells apart, in their order of precedence; the last reason (no
# sender is connected) follows from the senders' networks, decided with the round-robin.
_SKIP_DO_NOT_CONTACT, _SKIP_NO_WAY, _SKIP_BUSY, _SKIP_RECENT = 1, 2, 3, 4
# Networks per bit-mask column: a mask is a 64-bit signed integer in SQLite and PostgreSQL.
_MASK_BITS = 60

# The template variables that come from the contact's own columns.
_CONTACT_VARIABLES = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "full_name": ("first_name", "last_name"),
    "company": ("company",),
    "position": ("position",),
    "industry": ("industry",),
}


@contextlib.contextmanager
def garbage_collection_paused():
    """For work that creates objects by the ten thousand and keeps them all (a plan's
    recipients, a launch's model instances): the cycle collector, set off by the count of new
    objects, would walk the whole process again and again and free nothing (a plan of 30,000:
    70 ms in one request out of three; a launch: a dozen times, a sixth of its time). Reference
    counting frees as usual; the collector is back on afterwards, unless it was off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- variants -------------------------------------------------------------------------------


def assign_variant(variants: list[Variant], *, campaign_id: int, contact_id: int, step: int):
    """The same contact always gets the same variant of a step (stable across dry runs and
    launches), spread by weight: a hash of campaign, contact and step picks a point on the
    weights' total."""
    return variant_picker(variants, campaign_id=campaign_id, step=step)(contact_id)


def variant_picker(variants: list[Variant], *, campaign_id: int, step: int):
    """assign_variant() for many contacts of one step: the variants are ordered and weighed
    once, and each contact costs one hash."""
    ordered = sorted(variants, key=lambda v: v.label)
    total = sum(v.weight for v in ordered)

    def pick(contact_id: int) -> Variant:
        digest = hashlib.sha256(f"{campaign_id}:{contact_id}:{step}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % total
        for variant in ordered:
            if point < variant.weight:
                return variant
            point -= variant.weight
        return ordered[-1]

    return pick


# --- the plan ---------------------------------------------------------------------------------

_UNASSIGNED = object()


@dataclass(eq=False, slots=True)
class PlannedRecipient:
    """One contact of the audience: the sender and first-step variant it gets, or why it is
    skipped. The contact, its template variables and its rendered first message come from the
    plan on first use (LaunchPlan.load): until a page or the launch needs them, a plan of
    30,000 recipients holds ids."""

    contact_id: int
    plan: "LaunchPlan" = field(repr=False)
    sender: LinkedInAccount | None = None
    skip_reason: str = ""
    _variant: Variant | None | object = field(default=_UNASSIGNED, repr=False)
    _message: str | None = field(default=None, repr=False)

    @property
    def variant(self) -> Variant | None:
        """The first step's variant (assign_variant()), None for a recipient the plan skips;
        assigned on first use, as the dry run shows one page."""
        if self._variant is _UNASSIGNED:
            pick = self.plan.pick
            self._variant = pick(self.contact_id) if pick and self.sender else None
        return self._variant

    @property
    def contact(self) -> Contact:
        return self.plan.contact(self.contact_id)

    @property
    def context(self) -> dict:
        """The template variables of the first message (needs a sender)."""
        return personalize.context_for(
            self.contact,
            sender_name=self.sender.display_name,
            connected_on=self.plan.connected_on(self.contact_id, self.sender.network_id),
        )

    @property
    def message(self) -> str:
        """The rendered first message, rendered on first use: the dry run renders only the
        page it shows, the launch renders everyone. Empty without a variant (a campaign with
        no first step yet: the plan's errors say so)."""
        if self._message is None and self.variant is None:
            return ""
        if self._message is None:
            try:
                self._message = personalize.render(self.variant.body, self.context)
            except personalize.TemplateError as exc:
                self._message = ""
                self.skip_reason = f"cannot be rendered: {exc}"
        return self._message


@dataclass
class LaunchPlan:
    """What a launch would do: every recipient, the errors that block it, the warnings."""

    recipients: list[PlannedRecipient] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # blocking: lint errors, no steps, …
    warnings: list[str] = field(default_factory=list)  # e.g. missing values
    networks: tuple[int, ...] = ()  # the senders' networks
    # Whether a first-step variant shows connected_on: if none does, the date cannot change a
    # message and is not fetched (the context's connected_on stays empty).
    dates_shown: bool = True
    # How many recipients the round-robin gives each sender, senders in order of first use.
    per_sender: dict[LinkedInAccount, int] = field(default_factory=dict)
    # contact id → its variant of step 1 (variant_picker), None without variants.
    pick: Callable[[int], Variant] | None = field(default=None, repr=False)
    _contacts: dict[int, Contact] = field(default_factory=dict, repr=False)
    _connected_on: dict[tuple[int, int], datetime.date | None] = field(
        default_factory=dict, repr=False
    )

    @property
    def enrolled(self) -> list[PlannedRecipient]:
        return [r for r in self.recipients if not r.skip_reason]

    @property
    def skipped_by_reason(self) -> Counter:
        return Counter(r.skip_reason for r in self.recipients if r.skip_reason)

    def render_enrolled(self) -> list[PlannedRecipient]:
        """Render every enrolled recipient's first message, as the launch does before it
        queues them, and return those still enrolled: one whose message cannot be rendered is
        skipped. The launch confirmation counts this list, so it states what the launch will
        really queue."""
        self.load(self.enrolled)
        for row in self.enrolled:
            row.message  # noqa: B018 — rendering decides whether the row stays enrolled
        return self.enrolled

    def load(self, rows: list[PlannedRecipient]) -> None:
        """Fetch the contacts of these rows and (if shown) when they connected with their
        senders, a few queries for any number of rows: the dry run loads the page it shows,
        the launch everyone. Rows loaded before are not fetched again."""
        ids = [r.contact_id for r in rows if r.contact_id not in self._contacts]
        for chunk in chunks(ids, CHUNK):
            found = {
                contact.pk: contact
                for contact in Contact.objects.only(*PLAN_CONTACT_FIELDS)
                .filter(pk__in=chunk)
                .order_by()
            }
            for contact_id in chunk:
                # Deleted since it was planned: shown as "Contact <id>" rather than failing.
                self._contacts[contact_id] = found.get(contact_id) or Contact(pk=contact_id)
        if self.dates_shown:
            self._load_dates(rows)

    def _load_dates(self, rows: list[PlannedRecipient]) -> None:
        keys = [
            (r.contact_id, r.sender.network_id)
            for r in rows
            if r.sender is not None
            and (r.contact_id, r.sender.network_id) not in self._connected_on
        ]
        for chunk in chunks(keys, CHUNK):
            # A connection removed since the plan was made has no date (None), like one
            # without a date: it is not looked for again.
            self._connected_on.update(dict.fromkeys(chunk))
            self._connected_on.update(
                ((contact_id, network_id), date)
                for contact_id, network_id, date in Connection.objects.filter(
                    contact_id__in=[contact_id for contact_id, _ in chunk],
                    network_id__in=self.networks,
                )
                .order_by()
                .values_list("contact_id", "network_id", "connected_on")
            )

    def contact(self, contact_id: int) -> Contact:
        if contact_id not in self._contacts:
            self.load(self.recipients)  # a caller that did not load first: everyone at once
        return self._contacts[contact_id]

    def connected_on(self, contact_id: int, network_id: int) -> datetime.date | None:
        key = (contact_id, network_id)
        if self.dates_shown and key not in self._connected_on:
            self.load(self.recipients)
        return self._connected_on.get(key)


# --- classifying the audience -------------------------------------------------------------


def plan_recipients(
    plan: LaunchPlan,
    audience,
    *,
    campaign: Campaign,
    senders: list[LinkedInAccount],
    first_variants: list[Variant],
    now: datetime.datetime,
) -> "MissingValues":
    """Add one recipient per contact of the audience (a queryset, in its order) to the plan:
    skipped with its reason, or with a sender (round-robin among those whose network holds
    the contact) and the first step's variant. Returns the counts of missing values that the
    linter reports for the first step's variants."""
    # The variables step 1 shows without a default: the linter counts who lacks them.
    watched = list(
        dict.fromkeys(
            name
            for variant in first_variants
            for name in personalize.lint(variant.body).without_default
        )
    )
    columns = list(dict.fromkeys(c for name in watched for c in _CONTACT_VARIABLES.get(name, ())))
    plan.networks = _networks_of(senders)
    plan.dates_shown = any(
        "connected_on" in personalize.lint(variant.body).variables for variant in first_variants
    )
    dated = "connected_on" in watched
    rows = _audience_rows(
        audience, campaign=campaign, networks=plan.networks, dated=dated, columns=columns, now=now
    )

    reasons = _skip_reasons()
    masks = -(-len(plan.networks) // _MASK_BITS)
    held_end = 2 + masks
    dated_end = held_end + (masks if dated else 0)
    bits = _mask_bits(plan.networks)
    eligible_for = {}  # masks → (id, sender) of the senders whose network holds the contact
    load = {s.pk: 0 for s in senders}
    used = []
    if first_variants:
        plan.pick = variant_picker(first_variants, campaign_id=campaign.pk, step=1)
    missing = MissingValues(watched, columns, senders)
    recipients = plan.recipients
    for row in rows:
        recipient = PlannedRecipient(row[0], plan)
        recipients.append(recipient)
        if row[1]:
            recipient.skip_reason = reasons[row[1]]
            continue
        held = row[2:held_end]
        eligible = eligible_for.get(held)
        if eligible is None:
            eligible = eligible_for[held] = [
                (s.pk, s)
                for s in senders
                if s.network_id in bits and held[bits[s.network_id][0]] & bits[s.network_id][1]
            ]
        if not eligible:
            recipient.skip_reason = skip_reasons.NO_SENDER
            continue
        if len(eligible) == 1:
            sender_id, sender = eligible[0]
        else:
            # Round-robin among the eligible: the sender with the fewest so far.
            sender_id, sender = min(eligible, key=lambda e: (load[e[0]], e[0]))
        if not load[sender_id]:
            used.append(sender)
        load[sender_id] += 1
        recipient.sender = sender
        if watched:
            missing.add(recipient, sender_id, row[held_end:dated_end], row[dated_end:])
    plan.per_sender = {sender: load[sender.pk] for sender in used}

    return missing


def _skip_reasons() -> dict[int, str]:
    return {
        _SKIP_DO_NOT_CONTACT: skip_reasons.DO_NOT_CONTACT,
        _SKIP_NO_WAY: skip_reasons.NO_WAY_TO_MESSAGE,
        _SKIP_BUSY: skip_reasons.IN_ANOTHER_CAMPAIGN,
        _SKIP_RECENT: skip_reasons.messaged_recently(settings.CAMPAIGN_COOL_OFF_DAYS),
    }


def _network_masks(networks: tuple[int, ...], **lookups) -> list:
    """Bit i of mask column i // 60 is set when network i holds the contact (with the
    connection filtered by **lookups): integers, so 30,000 rows need no conversion."""
    masks = []
    for column in chunks(networks, _MASK_BITS):
        mask = Value(0)
        for bit, network_id in enumerate(column):
            held = Connection.objects.filter(
                contact=OuterRef("pk"), network_id=network_id, **lookups
            )
            mask = mask + Case(When(Exists(held), then=Value(1 << bit)), default=Value(0))
        masks.append(ExpressionWrapper(mask, output_field=BigIntegerField()))
    return masks


def _networks_of(senders: list[LinkedInAccount]) -> tuple[int, ...]:
    return tuple(sorted({s.network_id for s in senders if s.network_id is not None}))


def _mask_bits(networks: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """network id → (its mask column, its bit) in _network_masks()."""
    return {n: (i // _MASK_BITS, 1 << (i % _MASK_BITS)) for i, n in enumerate(networks)}


def _audience_rows(audience, *, campaign: Campaign, networks, dated: bool, columns, now):
    """One row per contact of the audience, in its order: (id, skip code, the masks of the
    sender networks holding the contact, [the masks of those where the connection has a date],
    *columns). The skip tests are EXISTS on indexes, evaluated by the database in their order
    of precedence, so the audience is classified in one query, however many contacts."""
    cutoff = now - datetime.timedelta(days=settings.CAMPAIGN_COOL_OFF_DAYS)
    busy = Enrollment.objects.filter(
        contact=OuterRef("pk"),
        state=Enrollment.State.ACTIVE,
        campaign__status__in=[
            Campaign.Status.SCHEDULED,
            Campaign.Status.RUNNING,
            Campaign.Status.PAUSED,
        ],
    ).exclude(campaign=campaign)
    recent = Message.objects.filter(contact=OuterRef("pk")).filter(
        Q(status=Message.Status.SENT, sent_at__gte=cutoff) | Q(status__in=Message.OPEN_STATUSES)
    )
    # Contact.message_channel is None: neither a member URN nor a profile URL.
    no_way = Q(member_urn="") & (Q(profile_url__isnull=True) | Q(profile_url=""))
    annotations = {
        "plan_skip": Case(
            When(do_not_contact=True, then=Value(_SKIP_DO_NOT_CONTACT)),
            When(no_way, then=Value(_SKIP_NO_WAY)),
            When(Exists(busy), then=Value(_SKIP_BUSY)),
            When(Exists(recent), then=Value(_SKIP_RECENT)),
            default=Value(0),
            output_field=IntegerField(),
        )
    }
    for index, mask in enumerate(_network_masks(networks)):
        annotations[f"plan_held_{index}"] = mask
    if dated:
        for index, mask in enumerate(_network_masks(networks, connected_on__isnull=False)):
            annotations[f"plan_dated_{index}"] = mask
    rows = audience.annotate(**annotations).values_list("pk", *annotations, *columns)
    # Straight from the cursor: the values need no conversion (integers and text), and the
    # ORM's per-row work would be a third of the time of 30,000 rows. Row by row rather than
    # fetchall(): a row is freed once classified, so the garbage collector, counting objects
    # alive, is not set off into full collections of the whole process half-way.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        yield from cursor


class MissingValues:
    """How many recipients of each first-step variant lack each value the variant shows without
    a default, as personalize.lint_for_recipients() counts them (a value is missing when it is
    blank in the recipient's context), without building 30,000 contexts. Most audiences lack
    nothing: then a recipient costs a look at its columns, and variants are assigned for the
    counts (a hash per recipient) only when someone lacks a value.

    Blank in the context (personalize.context_for) means: a contact column of only whitespace;
    a full name whose two parts are; connected_on without a date in the sender's network; the
    sender's names when the display name is."""

    def __init__(self, watched: list[str], columns: list[str], senders: list[LinkedInAccount]):
        self.watched = watched
        self.columns = columns
        self.senders = {s.pk: s for s in senders}
        self.bits = _mask_bits(_networks_of(senders))
        self.names_for = {}  # (sender id, date masks, blank columns) → the names missing
        self.lacking = []  # (recipient, the names it lacks)

    def add(self, recipient: PlannedRecipient, sender_id: int, dates: tuple, values: tuple):
        key = (sender_id, dates, tuple([not value or value.isspace() for value in values]))
        names = self.names_for.get(key)
        if names is None:
            names = self.names_for[key] = tuple(
                name for name in self.watched if self._is_missing(name, *key)
            )
        if names:
            self.lacking.append((recipient, names))

    def _is_missing(self, name: str, sender_id: int, dates: tuple, blank: tuple) -> bool:
        if name in _CONTACT_VARIABLES:
            return all(blank[self.columns.index(c)] for c in _CONTACT_VARIABLES[name])
        if name == "connected_on":
            column, bit = self.bits[self.senders[sender_id].network_id]
            return not dates[column] & bit
        name = self.senders[sender_id].display_name  # sender_name, sender_first_name
        return not name or name.isspace()

    def result(self, variant: Variant, plan: LaunchPlan) -> personalize.LintResult:
        result = personalize.lint(variant.body)
        result.missing = dict.fromkeys(result.without_default, 0)
        if not self.lacking:
            return result  # nobody lacks anything: the number of recipients is never shown
        result.recipients = sum(1 for r in plan.recipients if r.sender and r.variant is variant)
        for recipient, names in self.lacking:
            if recipient.variant is variant:
                for name in names:
                    if name in result.missing:
                        result.missing[name] += 1
        return result
