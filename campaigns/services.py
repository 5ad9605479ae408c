"""Campaign writes shared by the pages, the admin, the worker and commands (docs/campaigns.md)."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, F
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import ngettext

from campaigns import opt_out, planning, stats
from campaigns.messages_csv import direction
from campaigns.models import Audience, Campaign, CampaignMessage, Enrollment, Reply, Step
from campaigns.planning import LaunchPlan, variant_picker
from contacts import services as contact_services
from contacts.filters import ContactFilter
from contacts.identity import fold_name
from contacts.models import Connection, Contact, Network, Stage, Suppression
from linkedin_crm import audit, webhooks
from linkedin_crm.db import CHUNK, chunks, insert_rows
from messaging import personalize, skip_reasons
from messaging.bulk import messages_insert
from messaging.models import LinkedInAccount, Message
from messaging.services import message_mark_sent_by_hand, messages_cancel_open


class CampaignError(ValueError):
    """A campaign cannot do what was asked; the message says why."""


def check_editable_by(campaign: Campaign, actor) -> None:
    """The rule for every act on a campaign: its owner, someone who may manage all its senders,
    or a Manager (Campaign.objects.editable_by)."""
    if not Campaign.objects.editable_by(actor).filter(pk=campaign.pk).exists():
        raise PermissionDenied(f"“{campaign}” is another member's campaign.")


def senders_not_manageable_by(campaign: Campaign, actor) -> list[LinkedInAccount]:
    """Senders of the campaign the actor may not send from (launch refuses them)."""
    return list(campaign.senders.exclude(pk__in=LinkedInAccount.objects.manageable_by(actor)))


# --- audiences -----------------------------------------------------------------------------


def audience_contacts(audience: Audience):
    """The contacts the saved filter matches now."""
    filterset = ContactFilter(QueryDict(audience.query), queryset=Contact.objects.all())
    if not filterset.is_valid():
        raise CampaignError(f"The audience “{audience}” has a filter that is no longer valid.")
    return filterset.qs.order_by("pk")


# --- the plan behind the dry run and the launch -------------------------------------------------


def plan_launch(campaign: Campaign, *, now=None) -> LaunchPlan:
    """Everything a launch would do, without doing it: the dry run shows this, the launch
    applies it (campaigns.planning)."""
    now = now or timezone.now()
    plan = LaunchPlan()
    steps = list(campaign.steps.prefetch_related("variants"))
    senders = list(campaign.senders.exclude(status=LinkedInAccount.Status.DISCONNECTED))
    if not steps or not steps[0].variants.all():
        plan.errors.append("Add a first step with at least one variant.")
    elif any(not step.variants.all() for step in steps):
        plan.errors.append("Every step needs at least one variant.")
    if [step.order for step in steps] != list(range(1, len(steps) + 1)):
        # Only the admin can leave a gap; the launch and the follow-ups count 1, 2, 3, …
        plan.errors.append("Number the steps 1, 2, 3, … without gaps.")
    if not senders:
        plan.errors.append("Choose at least one sender account.")
    try:
        audience = audience_contacts(campaign.audience)
    except CampaignError as exc:
        plan.errors.append(str(exc))
        return plan

    first_variants = list(steps[0].variants.all()) if steps else []
    with planning.garbage_collection_paused():
        missing = planning.plan_recipients(
            plan,
            audience,
            campaign=campaign,
            senders=senders,
            first_variants=first_variants,
            now=now,
        )
    for step in steps:
        for variant in step.variants.all():
            if step is steps[0]:
                result = missing.result(variant, plan)
            else:
                result = personalize.lint(variant.body)
            plan.errors += [
                f"Step {step.order} variant {variant.label}: {e}" for e in result.errors
            ]
            if result.has_missing:
                plan.warnings += [
                    f"Step {step.order} variant {variant.label}: {line}"
                    for line in result.missing_summary()
                ]
    return plan


# --- launching and running ------------------------------------------------------------------


def campaign_launch(
    *, campaign: Campaign, actor, via: str = audit.Via.PAGE, now=None
) -> LaunchPlan:
    """Snapshot the audience into enrollments and queue step 1 (at the start time).

    The messages are the actor's: every sender must be an account the actor may manage, and
    follow-ups keep the senders authorised here (Campaign.launched_by)."""
    now = now or timezone.now()
    check_editable_by(campaign, actor)
    with transaction.atomic(), planning.garbage_collection_paused():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.DRAFT:
            raise CampaignError("Only a draft campaign can be launched.")
        foreign = senders_not_manageable_by(locked, actor)
        if foreign:
            names = ", ".join(str(account) for account in foreign)
            raise CampaignError(
                f"You may not send from {names}: remove them from the senders, or ask their "
                "owner or a Manager to launch."
            )
        locked.launched_by = actor
        plan = plan_launch(locked, now=now)
        if plan.errors:
            raise CampaignError(" ".join(plan.errors))
        plan.load(plan.enrolled)
        for row in plan.enrolled:
            row.message  # noqa: B018 — render now; a recipient who cannot be rendered is skipped
        start = max(locked.starts_at, now)
        step_one = locked.steps.get(order=1)
        by_contact = _enroll(locked, plan, now=now)
        _queue_step(
            locked,
            step_one,
            [(by_contact[row.contact_id], row.variant, row.message) for row in plan.enrolled],
            at=start,
            now=now,
        )
        locked.status = Campaign.Status.RUNNING if start <= now else Campaign.Status.SCHEDULED
        locked.launched_at = now
        locked.audience_count_at_launch = len(plan.recipients)
        locked.save(
            update_fields=["status", "launched_at", "launched_by", "audience_count_at_launch"]
        )
        audit.record(
            audit.Action.CAMPAIGN_LAUNCH,
            actor=actor,
            obj=locked,
            via=via,
            counts={
                "enrolled": len(plan.enrolled),
                "skipped": len(plan.recipients) - len(plan.enrolled),
            },
            at=now,
        )
    campaign.refresh_from_db()
    return plan


def _enroll(campaign: Campaign, plan: LaunchPlan, *, now) -> dict[int, Enrollment]:
    """Insert one enrollment per recipient (the skipped with their reason) and return the
    active ones by contact id, as bulk_create() would have: every field set, and the campaign,
    contact and sender attached (_queue_step reads the contact's member URN).

    Through insert_rows() rather than bulk_create(), which passes each of the 300,000 values
    of a 30,000-contact launch through its field; here only the time and the variants' JSON
    need the database's form."""
    inserted = insert_rows(
        Enrollment,
        ["contact_id", "sender_id", "state", "skip_reason", "variants", "last_step"],
        [
            (
                row.contact_id,
                row.sender.pk if row.sender else None,
                Enrollment.State.SKIPPED if row.skip_reason else Enrollment.State.ACTIVE,
                row.skip_reason,
                {"1": row.variant.pk} if row.variant else {},
                0 if row.skip_reason else 1,
            )
            for row in plan.recipients
        ],
        shared={"campaign_id": campaign.pk, "created_at": now},
        returning=("contact_id", "id", "state"),
    )
    ids = {contact_id: pk for contact_id, pk, state in inserted if state == Enrollment.State.ACTIVE}

    # Model.from_db() with every field, in order: the fastest way to a model instance.
    attnames = [f.attname for f in Enrollment._meta.concrete_fields]
    alias = connection.alias
    enrollments = {}
    # An enrolled recipient has a sender and a variant; only the skipped lack them.
    for row in plan.enrolled:
        values = {
            "id": ids[row.contact_id],
            "campaign_id": campaign.pk,
            "contact_id": row.contact_id,
            "sender_id": row.sender.pk,  # type: ignore[union-attr]
            "state": Enrollment.State.ACTIVE,
            "skip_reason": "",
            "variants": {"1": row.variant.pk},  # type: ignore[union-attr]
            "last_step": 1,
            "last_step_at": None,
            "replied_at": None,
            "created_at": now,
        }
        enrollment = Enrollment.from_db(alias, attnames, [values[a] for a in attnames])
        enrollment.campaign = campaign
        enrollment.contact = row.contact
        enrollment.sender = row.sender
        enrollments[row.contact_id] = enrollment
    return enrollments


def _queue_step(campaign, step, rows, *, at, now) -> int:
    """rows: (enrollment, variant, rendered text)."""
    message_ids = messages_insert(
        [
            {
                "contact_id": enrollment.contact_id,
                "account_id": enrollment.sender_id,
                "body": text,
                "channel": Message.Channel.API
                if enrollment.contact.member_urn
                else Message.Channel.MANUAL,
            }
            for enrollment, _, text in rows
        ],
        stream=campaign.stream,
        held=campaign.status == Campaign.Status.PAUSED,
        scheduled_for=at,
        next_attempt_at=at,
        # The person who launched it sent it (on their authority over the senders).
        created_by_id=campaign.launched_by_id or campaign.owner_id,
        created_at=now,
    )
    insert_rows(
        CampaignMessage,
        ["message_id", "enrollment_id", "variant_id"],
        [
            (pk, enrollment.pk, variant.pk if variant else None)
            for pk, (enrollment, variant, _) in zip(message_ids, rows, strict=True)
        ],
        shared={"step_id": step.pk},
    )
    return len(message_ids)


def campaigns_advance(*, now=None) -> dict:
    """The worker's campaign tick: start scheduled campaigns, queue follow-up steps whose delay
    has passed for contacts who have not replied, and complete finished campaigns."""
    now = now or timezone.now()
    Campaign.objects.filter(status=Campaign.Status.SCHEDULED, starts_at__lte=now).update(
        status=Campaign.Status.RUNNING
    )
    queued = 0
    for campaign in Campaign.objects.filter(status=Campaign.Status.RUNNING).select_related(
        "launched_by", "owner"
    ):
        steps = list(campaign.steps.prefetch_related("variants"))
        authorised = senders_authorised(campaign)
        for previous, step in zip(steps, steps[1:], strict=False):
            variants = list(step.variants.all())
            if not variants:  # only the admin can empty a launched step: nothing to send
                continue
            pick = variant_picker(variants, campaign_id=campaign.pk, step=step.order)
            cutoff = now - datetime.timedelta(days=step.delay_days)
            ready = list(
                Enrollment.objects.filter(
                    campaign=campaign,
                    state=Enrollment.State.ACTIVE,
                    last_step=previous.order,
                    messages__step=previous,
                    messages__message__status=Message.Status.SENT,
                    messages__message__sent_at__lte=cutoff,
                ).select_related("contact", "sender")
            )
            connected_on = _connection_dates(ready)
            rows, do_not_contact, unrenderable, unauthorised = [], [], [], []
            for enrollment in ready:
                if enrollment.sender_id not in authorised:
                    unauthorised.append(enrollment.pk)
                    continue
                if enrollment.contact.do_not_contact:
                    do_not_contact.append(enrollment.pk)
                    continue
                variant = pick(enrollment.contact_id)
                # An active enrollment has a sender; only a skipped one lacks it.
                context = personalize.context_for(
                    enrollment.contact,
                    sender_name=enrollment.sender.display_name,  # type: ignore[union-attr]
                    connected_on=connected_on.get(
                        (enrollment.contact_id, enrollment.sender.network_id)  # type: ignore[union-attr]
                    ),
                )
                try:
                    text = personalize.render(variant.body, context)
                except personalize.TemplateError:
                    unrenderable.append(enrollment.pk)
                    continue
                rows.append((enrollment, variant, text))
            # Stopped rather than left active, or the campaign could never complete.
            Enrollment.objects.filter(pk__in=do_not_contact).update(
                state=Enrollment.State.STOPPED, skip_reason=skip_reasons.DO_NOT_CONTACT
            )
            Enrollment.objects.filter(pk__in=unauthorised).update(
                state=Enrollment.State.STOPPED,
                skip_reason="whoever launched the campaign may no longer send from this sender",
            )
            Enrollment.objects.filter(pk__in=unrenderable).update(
                state=Enrollment.State.STOPPED,
                skip_reason=f"step {step.order} cannot be rendered for this contact",
            )
            if rows:
                with transaction.atomic():
                    # Paused or cancelled since this tick read it: queue nothing now (a resume
                    # finds these enrollments still waiting for the step).
                    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
                    if current.status != Campaign.Status.RUNNING:
                        break
                    queued += _queue_step(campaign, step, rows, at=now, now=now)
                    for enrollment, variant, _ in rows:
                        enrollment.variants[str(step.order)] = variant.pk
                        enrollment.last_step = step.order
                        enrollment.last_step_at = now
                    Enrollment.objects.bulk_update(
                        [row[0] for row in rows], ["variants", "last_step", "last_step_at"]
                    )
        else:
            _complete_if_done(campaign, steps)
    return {"queued": queued}


def senders_authorised(campaign: Campaign) -> set[int]:
    """The campaign's senders its follow-ups may still go through: those whoever launched it
    may manage today. A launcher who lost the role, or left the team, sends nothing more."""
    launcher = campaign.launched_by or campaign.owner
    if not (launcher.is_active and launcher.is_staff):
        return set()
    return set(
        campaign.senders.filter(pk__in=LinkedInAccount.objects.manageable_by(launcher)).values_list(
            "pk", flat=True
        )
    )


def _connection_dates(enrollments: list[Enrollment]) -> dict:
    """{(contact id, network id): connected_on} for the enrollments' senders' networks."""
    dates: dict[tuple[int, int], datetime.date | None] = {}
    for chunk in chunks(enrollments, CHUNK):
        dates.update(
            ((contact_id, network_id), connected_on)
            for contact_id, network_id, connected_on in Connection.objects.filter(
                contact_id__in=[e.contact_id for e in chunk],
                # Active enrollments, each with a sender.
                network_id__in={e.sender.network_id for e in chunk},  # type: ignore[union-attr]
            ).values_list("contact_id", "network_id", "connected_on")
        )
    return dates


def _complete_if_done(campaign: Campaign, steps: list[Step]) -> None:
    """An enrollment is over when its last step went out, or when its current step's message
    failed or was cancelled (a follow-up to a message they never got makes no sense); the
    campaign completes when no enrollment is active. An uncertain message waits for a person."""
    last = steps[-1].order if steps else 0
    active = Enrollment.objects.filter(campaign=campaign, state=Enrollment.State.ACTIVE)
    finished = active.filter(
        last_step=last, messages__step__order=last, messages__message__status=Message.Status.SENT
    )
    Enrollment.objects.filter(pk__in=finished.values("pk")).update(state=Enrollment.State.COMPLETED)
    ended = active.filter(
        messages__step__order=F("last_step"),
        messages__message__status__in=[Message.Status.FAILED, Message.Status.CANCELLED],
    )
    Enrollment.objects.filter(pk__in=ended.values("pk")).update(state=Enrollment.State.STOPPED)
    if not active.exists():
        campaign.status = Campaign.Status.COMPLETED
        with transaction.atomic():
            campaign.save(update_fields=["status"])
            webhooks.emit(
                webhooks.EventType.CAMPAIGN_COMPLETED, [{"id": campaign.pk, "name": campaign.name}]
            )


def campaign_pause(*, campaign: Campaign, actor, via: str = audit.Via.PAGE) -> None:
    """Stop at once: queued messages stay queued but are held from the dispatcher."""
    check_editable_by(campaign, actor)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED):
            raise CampaignError("Only a running or scheduled campaign can be paused.")
        held = Message.objects.filter(stream=campaign.stream, status=Message.Status.QUEUED).update(
            held=True
        )
        campaign.status = Campaign.Status.PAUSED
        campaign.save(update_fields=["status"])
        audit.record(
            audit.Action.CAMPAIGN_PAUSE, actor=actor, obj=campaign, via=via, counts={"held": held}
        )


def campaign_resume(*, campaign: Campaign, actor, via: str = audit.Via.PAGE, now=None) -> None:
    now = now or timezone.now()
    check_editable_by(campaign, actor)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != Campaign.Status.PAUSED:
            raise CampaignError("Only a paused campaign can be resumed.")
        released = Message.objects.filter(
            stream=campaign.stream, status=Message.Status.QUEUED
        ).update(held=False)
        campaign.status = (
            Campaign.Status.RUNNING if campaign.starts_at <= now else Campaign.Status.SCHEDULED
        )
        campaign.save(update_fields=["status"])
        audit.record(
            audit.Action.CAMPAIGN_RESUME,
            actor=actor,
            obj=campaign,
            via=via,
            counts={"released": released},
        )


def campaign_cancel(*, campaign: Campaign, actor, via: str = audit.Via.PAGE) -> int:
    """Cancel every unsent message of the campaign; returns how many."""
    check_editable_by(campaign, actor)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
            raise CampaignError("This campaign is over already.")
        cancelled = messages_cancel_open(
            Message.objects.filter(stream=campaign.stream),
            note="The campaign was cancelled.",
            actor=actor,
        )
        Enrollment.objects.filter(campaign=campaign, state=Enrollment.State.ACTIVE).update(
            state=Enrollment.State.STOPPED
        )
        campaign.status = Campaign.Status.CANCELLED
        campaign.save(update_fields=["status"])
        audit.record(
            audit.Action.CAMPAIGN_CANCEL,
            actor=actor,
            obj=campaign,
            via=via,
            counts={"cancelled": cancelled},
        )
    return cancelled


def campaign_delete(*, campaign: Campaign, actor, via: str = audit.Via.PAGE) -> None:
    """Only a draft can be deleted (nothing was sent); a launched campaign is cancelled."""
    check_editable_by(campaign, actor)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not campaign.is_editable:
            raise CampaignError("Only a draft can be deleted; cancel a launched campaign instead.")
        audit.record(audit.Action.CAMPAIGN_DELETE, actor=actor, obj=campaign, via=via)
        campaign.delete()


# --- replies ----------------------------------------------------------------------------------


def is_opt_out(text: str) -> bool:
    """Does the reply ask not to be contacted again (campaigns/opt_out.py), with the phrases
    of the OPT_OUT_PHRASES setting besides the built-in ones?"""
    return opt_out.is_opt_out(text, extra_phrases=settings.OPT_OUT_PHRASES)


def reply_record(
    *,
    contact: Contact,
    text: str = "",
    received_at=None,
    source: str = Reply.Source.MANUAL,
    actor=None,
    external_key: str = "",
    message: Message | None = None,
) -> Reply | None:
    """Record a reply: the contact's stage becomes "replied", follow-ups stop for them, and an
    opt-out phrase marks them do-not-contact. Returns None when this reply was recorded
    before (same external key)."""
    received_at = received_at or timezone.now()
    with transaction.atomic():
        if external_key and Reply.objects.filter(external_key=external_key).exists():
            return None
        if message is None:
            message = (
                Message.objects.filter(
                    contact=contact, status=Message.Status.SENT, sent_at__lte=received_at
                )
                .order_by("-sent_at")
                .first()
            )
        opted_out = is_opt_out(text)
        reply = Reply.objects.create(
            contact=contact,
            message=message,
            received_at=received_at,
            text=text[:10_000],
            source=source,
            external_key=external_key,
            opted_out=opted_out,
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if message is not None and message.replied_at is None:
            Message.objects.filter(pk=message.pk).update(replied_at=received_at)
        # Through the contacts' services, so that the contact's timeline shows who recorded
        # the reply that moved them (the actor; nobody for an import by command).
        if contact.stage in (Stage.LEAD, Stage.CONTACTED):
            contact_services.contacts_set_stage(
                contacts=Contact.objects.filter(pk=contact.pk), stage=Stage.REPLIED, actor=actor
            )
            contact.stage = Stage.REPLIED
        if opted_out and not contact.do_not_contact:
            # Not the reply's text: the contact page is the whole team's, the conversation is not.
            contact_services.contacts_mark_do_not_contact(
                contacts=Contact.objects.filter(pk=contact.pk),
                reason="Asked not to be contacted in a reply.",
                actor=actor,
                now=received_at,
            )
            contact.do_not_contact = True
            contact.dnc_reason = "Asked not to be contacted in a reply."
            contact.dnc_at = received_at
        _stop_follow_ups(contact, received_at)
        webhooks.emit(webhooks.EventType.REPLY_RECEIVED, [_reply_data(reply)])
    return reply


def _reply_data(reply: Reply) -> dict:
    # Not the reply's text: a receiver that needs it asks for it through the API.
    return {
        "id": reply.pk,
        "contact_id": reply.contact_id,
        "message_id": reply.message_id,
        "received_at": reply.received_at,
        "source": reply.source,
        "opted_out": reply.opted_out,
    }


def _stop_follow_ups(contact: Contact, at) -> None:
    enrollments = Enrollment.objects.filter(
        contact=contact,
        state=Enrollment.State.ACTIVE,
        campaign__steps__stop_on_reply=True,
    ).distinct()
    ids = list(enrollments.values_list("pk", flat=True))
    if not ids:
        return
    Enrollment.objects.filter(pk__in=ids).update(state=Enrollment.State.REPLIED, replied_at=at)
    # Their follow-ups, queued or already waiting in an Outbox, must not go out any more.
    messages_cancel_open(
        Message.objects.filter(campaign_link__enrollment_id__in=ids),
        note="The contact replied.",
    )


# --- results -------------------------------------------------------------------------------


@dataclass
class StepResults:
    step: Step
    variants: list = field(default_factory=list)  # stats.VariantResult
    comparisons: list = field(default_factory=list)  # (label, label, stats.Comparison)


def campaign_results(campaign: Campaign) -> list[StepResults]:
    """Per step and variant: enrolled, sent, replied, reply rate with its Wilson interval, and
    the tests between variants. Counts come from aggregate queries, not Python loops over rows."""
    links = CampaignMessage.objects.filter(step__campaign=campaign)
    sent = Counter(
        dict(
            links.filter(message__status=Message.Status.SENT)
            .values("variant_id")
            .annotate(n=Count("pk"))
            .values_list("variant_id", "n")
        )
    )
    replied = Counter(
        dict(
            links.filter(message__replied_at__isnull=False)
            .values("variant_id")
            .annotate(n=Count("pk"))
            .values_list("variant_id", "n")
        )
    )
    enrolled = Counter(
        dict(links.values("variant_id").annotate(n=Count("pk")).values_list("variant_id", "n"))
    )
    results = []
    for step in campaign.steps.prefetch_related("variants"):
        row = StepResults(step=step)
        for variant in step.variants.all():
            row.variants.append(
                stats.variant_result(
                    variant.label,
                    enrolled[variant.pk],
                    sent[variant.pk],
                    min(replied[variant.pk], sent[variant.pk]),
                )
            )
        if len(row.variants) > 1:
            row.comparisons = stats.compare_all(row.variants)
        results.append(row)
    return results


# --- LinkedIn's messages.csv ---------------------------------------------------------------

# A message the export shows as sent this close to one our Outbox has as sent is that one (the
# API's clock and LinkedIn's export differ by seconds).
SAME_SEND = datetime.timedelta(minutes=10)

# Why a row was not taken (MessagesImportResult.left_out).
NOT_YOUR_ACCOUNT = (
    "the conversation is on another member's LinkedIn account, which you cannot import for"
)
NO_ACCOUNT = "no LinkedIn account here is the export's: none has its member's name"
NOT_A_REPLY = "a message from a contact that answers no message sent to them from this account"
NOT_IN_OUTBOX = "sent from this account, but no message to them waits in the Outbox"
NO_RECIPIENT = "sent from this account, but the row names no recipient profile URL"
AMBIGUOUS_NAME = "several contacts in your network have this name: cannot tell which"
# Outcomes of a row that matched no contact.
SUPPRESSED, UNMATCHED = "suppressed", "unmatched"
UNKNOWN_NAME = "no contact in your network has this name"


@dataclass
class MessagesImportResult:
    """What became of every data row of the file: each is counted in exactly one of skipped_rows,
    replies, already_known, confirmed_sent, unmatched, suppressed and left_out (see
    `accounted_rows`)."""

    rows: int = 0
    conversations: int = 0
    replies: int = 0
    confirmed_sent: int = 0
    # Replies recorded before, and messages of ours the Outbox already has as sent.
    already_known: int = 0
    # Rows to or from people who are not contacts here.
    unmatched: int = 0
    opted_out: int = 0
    # Messages to or from people who were erased: left out, so that nothing of theirs returns.
    suppressed: int = 0
    # Rows the reader left out (drafts, unreadable dates, …): how many, and the first reasons.
    skipped_rows: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    # Rows that reached a contact but were not taken: reason -> rows, and the first lines.
    left_out: dict[str, int] = field(default_factory=dict)
    left_out_lines: list[tuple[int, str]] = field(default_factory=list)

    def accounted_rows(self) -> int:
        return (
            self.skipped_rows
            + self.replies
            + self.already_known
            + self.confirmed_sent
            + self.unmatched
            + self.suppressed
            + sum(self.left_out.values())
        )

    def leave_out(self, line: int, reason: str, detail: str = "") -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1
        self.note(line, f"{detail}: {reason}" if detail else reason)

    def note(self, line: int, text: str) -> None:
        if len(self.left_out_lines) < 50:
            self.left_out_lines.append((line, text))


def messages_import(*, parsed, actor, now=None) -> MessagesImportResult:
    """Match an exported messages.csv to contacts: an inbound message after one of ours records
    a reply; an outbound one that matches a message waiting in the Outbox confirms it as sent.
    Every row ends up counted or listed with its reason. Importing the same file again changes
    nothing.

    Contacts are matched by profile URL, or, in the 2018 export that has only names, by full
    name when exactly one contact in the importer's networks has it. Only the export's own
    account is written to: the account named as its member, if the importer may manage it
    (`actor` None, the command without --owner, may act for any account so named)."""
    result = MessagesImportResult(
        rows=parsed.total_rows, skipped_rows=parsed.skipped, problems=parsed.problems[:20]
    )
    # The 2018 export: names and DIRECTION, and no profile URL to go by.
    by_name = parsed.has_direction and parsed.owner_url is None
    owner = parsed.owner_name if by_name else parsed.owner_url
    if not owner and parsed.messages:
        count = len({m.conversation_id for m in parsed.messages})
        conversations = ngettext("its only conversation", "its %(count)d conversations", count) % {
            "count": count
        }
        raise CampaignError(
            "Cannot tell whose export this is: no profile URL appears in more conversations "
            f"than any other in {conversations}. Upload the whole messages.csv of your "
            "LinkedIn data export, not a part of it."
        )
    exporter_name = owner if by_name else _exporter_name(parsed.messages, owner)
    accounts, no_account = _export_accounts(actor, exporter_name)
    if by_name:
        people = _people_by_name(parsed.messages, _import_networks(actor, accounts))
        # No conversation IDs in that export: a conversation is the other person's.
        result.conversations = len(
            {tuple(people.keys(m, m.outgoing) or ()) for m in parsed.messages}
        )
    else:
        people = _people_by_url(parsed.messages, owner)
        result.conversations = len({m.conversation_id for m in parsed.messages})
    for message in sorted(parsed.messages, key=lambda m: m.sent_at):
        outbound = direction(message, owner or "") == "outbound"
        contacts, outcome, name = people.match(message, outbound)
        if outcome == SUPPRESSED:
            result.suppressed += 1
        elif outcome == UNMATCHED:
            result.unmatched += 1
            if by_name and name:  # the name is all the row has: say which one
                result.note(message.line, f"“{name}”: {UNKNOWN_NAME}")
        elif outcome:
            result.leave_out(message.line, outcome, f"“{name}”" if name else "")
        elif not accounts:
            result.leave_out(message.line, no_account)
        elif outbound:
            _confirm_sent(message, contacts, accounts, actor, result)
        else:
            _record_reply(message, contacts[0], accounts, actor, result)
    return result


def _exporter_name(messages, owner_url: str | None) -> str:
    return next(
        (m.sender_name for m in messages if m.sender_url == owner_url and m.sender_name), ""
    )


def _export_accounts(actor, exporter_name: str) -> tuple[list[LinkedInAccount], str]:
    """The accounts the export may write to, or none and why: the accounts named as the
    export's member that the importer may manage; when none is so named, the importer's own."""
    named = [
        account
        for account in LinkedInAccount.objects.select_related("owner")
        if exporter_name and fold_name(account.display_name) == fold_name(exporter_name)
    ]
    if actor is None or not getattr(actor, "pk", None):
        return named, NO_ACCOUNT
    if named:
        allowed = set(
            LinkedInAccount.objects.manageable_by(actor)
            .filter(pk__in=[a.pk for a in named])
            .values_list("pk", flat=True)
        )
        return [a for a in named if a.pk in allowed], NOT_YOUR_ACCOUNT
    return list(LinkedInAccount.objects.filter(owner=actor)), NO_ACCOUNT


def _import_networks(actor, accounts: list[LinkedInAccount]) -> list[int]:
    """The networks whose contacts a name may match: those the importer may import into, or,
    for the command without --owner, those of the export's accounts."""
    if actor is None or not getattr(actor, "pk", None):
        return sorted({account.network_id for account in accounts})
    return list(Network.objects.importable_by(actor).values_list("pk", flat=True))


class _People:
    """Who the rows are to or from: contacts by key (a profile URL, or a folded full name),
    and the keys that are erased people's or that several contacts share."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.suppressed: set[str] = set()
        self.ambiguous: set[str] = set()
        self.partners: dict[str, list[str]] = {}  # conversation -> who wrote in it

    def keys(self, message, outbound: bool) -> list[str] | None:
        """The keys of the people a row is to (outbound) or from; None if it cannot say."""
        raise NotImplementedError

    def match(self, message, outbound: bool) -> tuple[list[Contact], str, str]:
        """The row's contacts; else an outcome (SUPPRESSED, UNMATCHED or a reason to leave it
        out) and the name it is about, if it only has a name."""
        keys = self.keys(message, outbound)
        if keys is None:
            return [], NO_RECIPIENT, ""
        found = [self.contacts[key] for key in keys if key in self.contacts]
        if found:
            return found, "", ""
        name = message.recipient_names if outbound else message.sender_name
        if any(key in self.ambiguous for key in keys):
            return [], AMBIGUOUS_NAME, name
        if any(key in self.suppressed for key in keys):
            return [], SUPPRESSED, ""
        return [], UNMATCHED, name


class _PeopleByUrl(_People):
    def keys(self, message, outbound: bool):
        if not outbound:
            return [message.sender_url] if message.sender_url else []
        if message.recipient_urls:
            return list(message.recipient_urls)
        # Older exports name no recipient URL: whoever answered in the conversation is it.
        return self.partners.get(message.conversation_id)


class _PeopleByName(_People):
    def keys(self, message, outbound: bool):
        name = message.recipient_names if outbound else message.sender_name
        return [fold_name(name)] if name else []


def _people_by_url(messages, owner: str) -> _People:
    people = _PeopleByUrl()
    urls: set[str] = set()
    for message in messages:
        urls.update(filter(None, [message.sender_url, *message.recipient_urls]))
        if message.sender_url and message.sender_url != owner:
            partners = people.partners.setdefault(message.conversation_id, [])
            if message.sender_url not in partners:
                partners.append(message.sender_url)
    urls.discard(owner)
    # Erased people stay erased, even when someone has added them again by hand.
    people.suppressed = Suppression.objects.matching(Suppression.Kind.URL, urls)
    urls -= people.suppressed
    for chunk in chunks(sorted(urls), CHUNK):
        people.contacts.update(
            Contact.objects.filter(profile_url__in=chunk).in_bulk(field_name="profile_url")
        )
    return people


def _people_by_name(messages, networks: list[int]) -> _People:
    """Contacts by folded full name, among those connected in `networks`: a name that two
    contacts share matches neither."""
    people = _PeopleByName()
    wanted = set()
    for message in messages:
        wanted.add(fold_name(message.recipient_names if message.outgoing else message.sender_name))
    wanted.discard("")
    found: dict[str, list[int]] = {}
    candidates = (
        Contact.objects.filter(connections__network__in=networks)
        .distinct()
        .values_list("pk", "first_name", "last_name", "profile_url")
    )
    urls: dict[int, str] = {}
    for pk, first, last, url in candidates.iterator(chunk_size=2000):
        name = fold_name(f"{first} {last}")
        if name in wanted and pk not in found.get(name, []):
            found.setdefault(name, []).append(pk)
            if url:
                urls[pk] = url
    suppressed = Suppression.objects.matching(Suppression.Kind.URL, set(urls.values()))
    unique = {}
    for name, pks in found.items():
        if len(pks) > 1:
            people.ambiguous.add(name)
        elif urls.get(pks[0]) in suppressed:
            people.suppressed.add(name)
        else:
            unique[pks[0]] = name
    for pk, contact in Contact.objects.in_bulk(list(unique)).items():
        people.contacts[unique[pk]] = contact
    return people


def _conversation(accounts, contact: Contact):
    """The messages between the exporter's accounts and this contact."""
    return Message.objects.filter(account__in=accounts, contact=contact)


def _record_reply(message, contact: Contact, accounts, actor, result) -> None:
    # The conversation is between the exporter and this contact: a reply answers the
    # exporter's own last message to them, never a colleague's.
    answered = (
        _conversation(accounts, contact)
        .filter(status=Message.Status.SENT, sent_at__lte=message.sent_at)
        .order_by("-sent_at")
        .first()
    )
    if answered is None:
        result.leave_out(message.line, NOT_A_REPLY)  # they wrote first, or before us
        return
    key = f"li-export:{message.conversation_id}:{message.sent_at.isoformat()}:{contact.pk}"
    reply = reply_record(
        contact=contact,
        text=message.text,
        received_at=message.sent_at,
        source=Reply.Source.EXPORT,
        actor=actor,
        external_key=key[:200],
        message=answered,
    )
    if reply is None:
        result.already_known += 1
    else:
        result.replies += 1
        result.opted_out += int(reply.opted_out)


def _confirm_sent(message, contacts: list[Contact], accounts, actor, result) -> None:
    """Confirm the Outbox message a sent row is (one per contact of a group message); the row
    counts once, as confirmed, else as already known, else as left out."""
    confirmed = known = False
    for contact in contacts:
        waiting = (
            _conversation(accounts, contact)
            .filter(status=Message.Status.RELEASED, released_at__lte=message.sent_at)
            .order_by("released_at")
            .first()
        )
        # Claimed like a sender claims a message: only if it is still waiting.
        if waiting is not None and message_mark_sent_by_hand(
            waiting.pk,
            actor=actor if getattr(actor, "pk", None) else None,
            at=message.sent_at,
            note="confirmed by LinkedIn's messages export",
        ):
            confirmed = True
        elif (
            _conversation(accounts, contact)
            .filter(
                status=Message.Status.SENT,
                sent_at__range=(message.sent_at - SAME_SEND, message.sent_at + SAME_SEND),
            )
            .exists()
        ):
            known = True
    if confirmed:
        result.confirmed_sent += 1
    elif known:
        result.already_known += 1
    else:
        result.leave_out(message.line, NOT_IN_OUTBOX)
