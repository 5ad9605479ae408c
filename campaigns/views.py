import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from campaigns import services
from campaigns.forms import (
    AudienceForm,
    CampaignForm,
    MessagesUploadForm,
    ReplyForm,
    StepForm,
    VariantForm,
)
from campaigns.messages_csv import parse_messages
from campaigns.models import Campaign, Enrollment, EnrollmentCounts, MessageCounts, Step, Variant
from contacts.linkedin_csv import RejectedFile
from linkedin_crm.auth import staff_required
from linkedin_crm.uploads import upload_limit, upload_refusal
from messaging.message_views import forecast_for
from messaging.models import LinkedInAccount, Message

DRY_RUN_PAGE = 50


def _campaigns(request):
    """The campaigns the signed-in member may see and act on: the one rule for every view."""
    return Campaign.objects.editable_by(request.user)


@staff_required
def campaign_list(request):
    posted = request.method == "POST"
    form = CampaignForm(request.POST if posted else None, user=request.user)
    if posted and form.is_valid():
        campaign = form.save(commit=False)
        campaign.owner = request.user
        campaign.save()
        form.save_m2m()
        messages.success(request, "Campaign created. Add its steps and variants.")
        return redirect(campaign)
    campaigns = _campaigns(request).select_related("audience", "owner")
    counts = campaigns.enrollment_counts()
    sent = campaigns.message_counts()
    rows = [
        (
            campaign,
            counts.get(campaign.pk, EnrollmentCounts()),
            sent.get(campaign.pk, MessageCounts()),
        )
        for campaign in campaigns
    ]
    return render(request, "campaigns/list.html", {"rows": rows, "form": form})


@staff_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(
        _campaigns(request).select_related("audience", "launched_by"), pk=pk
    )
    skipped = (
        Enrollment.objects.filter(campaign=campaign, state=Enrollment.State.SKIPPED)
        .values_list("skip_reason")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    try:
        matches_now = services.audience_contacts(campaign.audience).count()
    except services.CampaignError:
        matches_now = None
    ctx = {
        "campaign": campaign,
        "counts": campaign.enrollment_counts(),
        "steps": campaign.steps.prefetch_related("variants"),
        "skipped": skipped,
        "matches_now": matches_now,
        "results": services.campaign_results(campaign) if campaign.launched_at else [],
        "step_form": StepForm(),
        "variant_form": VariantForm(
            campaign=campaign, initial={"step": campaign.steps.order_by("-order").first()}
        ),
    }
    return render(request, "campaigns/detail.html", ctx)


@staff_required
def campaign_edit(request, pk):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    posted = request.method == "POST"
    form = CampaignForm(request.POST if posted else None, instance=campaign, user=request.user)
    if posted and form.is_valid():
        form.save()
        messages.success(request, "Campaign saved.")
        return redirect(campaign)
    return _form_page(request, campaign, form, f"Edit “{campaign}”", "Save campaign")


@staff_required
@require_POST
def campaign_delete(request, pk):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    try:
        services.campaign_delete(campaign=campaign, actor=request.user)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
        return redirect(campaign)
    messages.success(request, f"Deleted the draft “{campaign}”.")
    return redirect("campaigns:list")


def _step(request, pk) -> Step:
    """A step of a campaign the member may act on (_campaigns), or 404."""
    steps = Step.objects.select_related("campaign").filter(campaign__in=_campaigns(request))
    return get_object_or_404(steps, pk=pk)


def _variant(request, pk) -> Variant:
    """A variant of a campaign the member may act on (_campaigns), or 404."""
    variants = Variant.objects.select_related("step__campaign").filter(
        step__campaign__in=_campaigns(request)
    )
    return get_object_or_404(variants, pk=pk)


def _form_page(request, campaign, form, title, submit):
    ctx = {"campaign": campaign, "form": form, "title": title, "submit": submit}
    return render(request, "campaigns/form.html", ctx, status=400 if form.errors else 200)


def _editable(request, campaign) -> bool:
    if not campaign.is_editable:
        messages.error(request, "A launched campaign's steps cannot change.")
        return False
    return True


@staff_required
@require_POST
def step_add(request, pk):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    if _editable(request, campaign):
        form = StepForm(request.POST)
        if form.is_valid():
            step = form.save(commit=False)
            step.campaign = campaign
            step.order = (campaign.steps.aggregate(last=Max("order"))["last"] or 0) + 1
            if step.order == 1:
                step.delay_days = 0
            step.save()
            messages.success(request, f"Added step {step.order}.")
        else:
            # The form again with its errors and what was typed, rather than a redirect that
            # would lose it.
            return _form_page(request, campaign, form, "Add a step", "Add step")
    return redirect(campaign)


@staff_required
@require_POST
def variant_add(request, pk):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    if _editable(request, campaign):
        form = VariantForm(request.POST, campaign=campaign)
        if form.is_valid():
            variant = form.save()
            messages.success(
                request, f"Added variant {variant.label} to step {variant.step.order}."
            )
        else:
            return _form_page(request, campaign, form, "Add a variant", "Add variant")
    return redirect(campaign)


@staff_required
def step_edit(request, pk):
    step = _step(request, pk)
    campaign = step.campaign
    if not _editable(request, campaign):
        return redirect(campaign)
    posted = request.method == "POST"
    form = StepForm(request.POST if posted else None, instance=step)
    if posted and form.is_valid():
        step = form.save(commit=False)
        if step.order == 1:
            step.delay_days = 0
        step.save()
        messages.success(request, f"Step {step.order} saved.")
        return redirect(campaign)
    return _form_page(request, campaign, form, f"Edit step {step.order}", "Save step")


@staff_required
@require_POST
def step_delete(request, pk):
    step = _step(request, pk)
    campaign = step.campaign
    if _editable(request, campaign):
        with transaction.atomic():
            step.delete()  # its variants go with it
            # Close the gap, lowest first, so (campaign, order) stays unique at every UPDATE.
            for later in campaign.steps.filter(order__gt=step.order).order_by("order"):
                later.order -= 1
                if later.order == 1:
                    later.delay_days = 0  # the first step goes out at launch
                later.save(update_fields=["order", "delay_days"])
        messages.success(request, f"Step {step.order} deleted.")
    return redirect(campaign)


@staff_required
def variant_edit(request, pk):
    variant = _variant(request, pk)
    campaign = variant.step.campaign
    if not _editable(request, campaign):
        return redirect(campaign)
    posted = request.method == "POST"
    form = VariantForm(request.POST if posted else None, instance=variant, campaign=campaign)
    if posted and form.is_valid():
        variant = form.save()
        messages.success(request, f"Variant {variant.label} of step {variant.step.order} saved.")
        return redirect(campaign)
    title = f"Edit variant {variant.label} of step {variant.step.order}"
    return _form_page(request, campaign, form, title, "Save variant")


@staff_required
@require_POST
def variant_delete(request, pk):
    variant = _variant(request, pk)
    campaign = variant.step.campaign
    if _editable(request, campaign):
        variant.delete()
        messages.success(request, "Variant deleted.")
    return redirect(campaign)


@staff_required
def dry_run(request, pk):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    now = timezone.now()
    plan = services.plan_launch(campaign, now=now)
    page = Paginator(plan.recipients, DRY_RUN_PAGE).get_page(request.GET.get("page"))
    plan.load(page.object_list)  # the contacts and messages of this page, not of everyone
    # Each later step waits its delay after the one before it went out (not after launch).
    delays = [datetime.timedelta(days=step.delay_days) for step in campaign.steps.all()[1:]]
    enrolled = len(plan.enrolled)
    ctx = {
        "campaign": campaign,
        "plan": plan,
        "page": page,
        "enrolled": enrolled,
        "skipped_count": len(plan.recipients) - enrolled,
        "skipped": sorted(plan.skipped_by_reason.items(), key=lambda kv: -kv[1]),
        "forecasts": [
            (
                sender,
                count,
                forecast_for(
                    sender, count, now, not_before=campaign.starts_at, follow_up_delays=delays
                ),
            )
            for sender, count in plan.per_sender.items()
        ],
    }
    return render(request, "campaigns/dry_run.html", ctx)


@staff_required
def launch(request, pk):
    """Launch a draft only after the person has seen how many contacts it will queue to, from
    how many senders: a GET (or a POST without the confirm field) shows that count, computed
    by the same planning code the launch runs; the confirmation form posts confirm=yes."""
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            plan = services.campaign_launch(campaign=campaign, actor=request.user)
        except services.CampaignError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                f"Launched: {len(plan.enrolled):,} enrolled, "
                f"{len(plan.recipients) - len(plan.enrolled):,} skipped.",
            )
        return redirect(campaign)
    if not campaign.is_editable:
        messages.error(request, "Only a draft campaign can be launched.")
        return redirect(campaign)
    plan = services.plan_launch(campaign, now=timezone.now())
    errors = list(plan.errors)
    foreign = services.senders_not_manageable_by(campaign, request.user)
    if foreign:
        names = ", ".join(str(account) for account in foreign)
        errors.append(f"You may not send from {names}.")
    enrolled = [] if errors else plan.render_enrolled()
    contacts = len(enrolled)
    senders = len({row.sender.pk for row in enrolled})
    contacts_text = ngettext("%(n)s contact", "%(n)s contacts", contacts) % {"n": f"{contacts:,}"}
    senders_text = ngettext("%(n)s sender", "%(n)s senders", senders) % {"n": f"{senders:,}"}
    ctx = {
        "campaign": campaign,
        "errors": errors,
        "question": f"Launch to {contacts_text} from {senders_text}?",
        "contacts": contacts,
        "skipped": len(plan.recipients) - contacts,
    }
    return render(request, "campaigns/launch_confirm.html", ctx)


@staff_required
@require_POST
def change_state(request, pk, action):
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    act = {
        "pause": services.campaign_pause,
        "resume": services.campaign_resume,
        "cancel": services.campaign_cancel,
    }[action]
    try:
        act(campaign=campaign, actor=request.user)
    except services.CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Campaign {campaign.get_status_display().lower()}.")
    return redirect(campaign)


@staff_required
@require_POST
def audience_save(request):
    form = AudienceForm(request.POST)
    if form.is_valid():
        audience = form.save(commit=False)
        audience.owner = request.user
        audience.save()
        messages.success(request, f"Saved audience “{audience}”. Use it in a campaign.")
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    query = request.POST.get("query", "")
    return redirect("/contacts/" + (f"?{query}" if query else ""))


@staff_required
@require_POST
def mark_replied(request, pk):
    accounts = LinkedInAccount.objects.manageable_by(request.user)
    message = get_object_or_404(Message.objects.filter(account__in=accounts), pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        reply = services.reply_record(
            contact=message.contact,
            message=message,
            text=form.cleaned_data["text"],
            actor=request.user,
        )
        text = "Reply recorded; follow-ups stop for this contact."
        if reply.opted_out:
            text += " The reply asks not to be contacted: marked do-not-contact."
        messages.success(request, text)
    return redirect(message)


def _messages_max_bytes() -> int:
    # A messages.csv export holds every message of the member's account, so it runs larger
    # than their Connections.csv.
    return settings.IMPORT_MAX_BYTES * 3


@upload_limit(_messages_max_bytes)
@staff_required
def messages_import(request):
    refusal = upload_refusal(request)
    if refusal:
        messages.error(request, refusal)
    posted = request.method == "POST" and not refusal
    form = MessagesUploadForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            parsed = parse_messages(upload.read(), max_bytes=_messages_max_bytes())
            result = services.messages_import(parsed=parsed, actor=request.user)
        except (RejectedFile, services.CampaignError) as exc:
            form.add_error("file", str(exc))
    return render(request, "campaigns/messages_import.html", {"form": form, "result": result})
