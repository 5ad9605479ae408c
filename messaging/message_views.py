"""Composing, the Outbox, the message list and the template library."""

import datetime
from types import SimpleNamespace

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from contacts.filters import ContactFilter
from contacts.models import Connection, Contact
from linkedin_crm.auth import staff_required
from linkedin_crm.ids import parse_ids
from linkedin_crm.text import counted
from messaging import dispatch, personalize, services
from messaging.filters import MessageFilter
from messaging.forecast import forecast_account, forecast_account_sequence
from messaging.forms import ComposeForm, MessageTemplateForm
from messaging.linkedin import LinkedInError
from messaging.models import LinkedInAccount, Message, MessageTemplate

PREVIEWS = 5
BULK_LIMIT = 50_000


# Whom the template list shows each template written to: a made-up person with every field
# filled, so the list reads as the message a contact gets rather than as {{ tags }}.
SAMPLE_RECIPIENT = SimpleNamespace(
    first_name="Jane",
    last_name="Doe",
    company="Acme GmbH",
    position="Head of Sales",
    industry="Software",
)


def _message(request, pk) -> Message:
    accounts = LinkedInAccount.objects.manageable_by(request.user)
    queryset = Message.objects.select_related("contact", "account").filter(account__in=accounts)
    return get_object_or_404(queryset, pk=pk)


def forecast_for(
    account: LinkedInAccount,
    count: int,
    now,
    *,
    not_before=None,
    follow_up_delays: list[datetime.timedelta] | None = None,
) -> str:
    """The forecast sentence for `count` messages from the account, due from not_before (the
    composer's "Send at", a campaign's start) on; with follow_up_delays, `count` recipients of
    a campaign whose later steps wait those delays (docs/queue.md, "Forecast")."""
    due = max(now, not_before) if not_before else now
    # Held messages (a paused campaign's) are not ahead: they wait for the campaign. Nor are
    # those due after ours.
    ahead = Message.objects.filter(
        account=account, status=Message.Status.QUEUED, held=False, next_attempt_at__lte=due
    ).count()
    start, end = dispatch.local_day_bounds(account, now)
    used = Message.objects.filter(account=account).counting_against_cap(start, end).count()
    common = {"now": now, "already_today": used, "queued_before": ahead, "not_before": due}
    if follow_up_delays:
        result = forecast_account_sequence(
            account, recipients=count, follow_up_delays=follow_up_delays, **common
        )
    else:
        result = forecast_account(account, count=count, **common)
    return result.describe(account.timezone)


# --- composing -----------------------------------------------------------------------------------


def _compose_form(request, contact: Contact) -> ComposeForm:
    """The composer's form, bound to the POST if there is one, the senders connected to the
    contact first."""
    connected_networks = set(contact.connections.values_list("network_id", flat=True))
    form = ComposeForm(request.POST or None, user=request.user)
    # form.fields holds the declared ModelChoiceField; django-stubs types it as a plain Field.
    accounts = sorted(
        form.fields["account"].queryset,  # type: ignore[attr-defined]
        key=lambda a: (a.network_id not in connected_networks, str(a)),
    )
    form.fields["account"].choices = [("", "Choose a sender")] + [  # type: ignore[attr-defined]
        (a.pk, f"{a}{' — connected' if a.network_id in connected_networks else ''}")
        for a in accounts
    ]
    form.accounts = accounts
    form.connected_networks = connected_networks
    return form


def _compose_check(contact: Contact, form: ComposeForm) -> dict:
    """What the composer shows before anything is queued, for a valid form: the rendered
    text, the linter's findings, the forecast, and why the queue would refuse it (the queue's
    own rule, services.skip_reason, asked the same way). Reads only."""
    account = form.cleaned_data["account"]
    body = form.cleaned_data["body"]
    connected_on = (
        Connection.objects.filter(contact=contact, network=account.network)
        .values_list("connected_on", flat=True)
        .first()
    )
    context = personalize.context_for(
        contact, sender_name=account.display_name, connected_on=connected_on
    )
    try:
        preview = personalize.render(body, context)
    except personalize.TemplateError as exc:
        form.add_error("body", str(exc))
        return {}
    open_for_sender = set(
        Message.objects.filter(
            account=account, contact=contact, status__in=Message.OPEN_STATUSES
        ).values_list("contact_id", flat=True)
    )
    refusal = services.skip_reason(contact, open_for_sender=open_for_sender)
    return {
        "preview": preview,
        "lint": personalize.lint_for_recipients(body, [context]),
        "refusal": refusal,
        "not_connected": account.network_id not in form.connected_networks,
        # When it would go out, for a message that can be queued.
        "forecast": None
        if refusal
        else forecast_for(
            account, 1, timezone.now(), not_before=form.cleaned_data["scheduled_for"]
        ),
    }


def _compose_status(form: ComposeForm) -> int:
    # A sender that is another member's account comes from a stale or forged form: 403.
    return 403 if form.has_error("account", ComposeForm.NOT_YOURS) else 200


@staff_required
def compose(request, pk):
    """One message to one contact, from their page. The preview beside the form follows the
    typing (compose_preview); Preview and Queue work without JavaScript too."""
    contact = get_object_or_404(Contact, pk=pk)
    form = _compose_form(request, contact)
    ctx = {
        "contact": contact,
        "form": form,
        "accounts": form.accounts,
        "template_bodies": dict(MessageTemplate.objects.values_list("pk", "body")),
    }
    if request.method == "POST" and form.is_valid():
        ctx.update(_compose_check(contact, form))
        if request.POST.get("action") == "queue" and "preview" in ctx and not ctx["refusal"]:
            result = services.messages_queue(
                contacts=[contact],
                account=form.cleaned_data["account"],
                body=form.cleaned_data["body"],
                created_by=request.user,
                scheduled_for=form.cleaned_data["scheduled_for"],
            )
            if not result.skipped:
                # With a "Send at", say when: the next free slot is not when it goes out.
                scheduled = form.cleaned_data["scheduled_for"]
                messages.success(
                    request,
                    f"Queued: {ctx['forecast']}"
                    if scheduled
                    else "Queued. It goes out at the sender's next free slot.",
                )
                return redirect("messaging:message_detail", result.queued_ids[0])
            # Refused between the check and the queue (another tab queued one): say why,
            # beside the text, which stays in the form.
            ctx["refusal"] = result.skipped[0][1]
    return render(request, "messaging/compose.html", ctx, status=_compose_status(form))


@staff_required
@require_POST
def compose_preview(request, pk):
    """The composer's live preview (htmx, as the member types): the rendered text, the linter's
    findings and every reason the queue would refuse it. A POST, for a text too long for a URL;
    it writes nothing."""
    contact = get_object_or_404(Contact, pk=pk)
    form = _compose_form(request, contact)
    ctx = {"contact": contact, "form": form}
    if form.is_valid():
        ctx.update(_compose_check(contact, form))
    return render(request, "messaging/_compose_preview.html", ctx, status=_compose_status(form))


def _bulk_contacts(data: QueryDict):
    """The recipients of a bulk message: selected ids, or all contacts matching a filter."""
    if data.get("all_matching"):
        filterset = ContactFilter(QueryDict(data.get("query", "")), queryset=Contact.objects.all())
        if not filterset.is_valid():
            return None
        return filterset.qs.order_by("pk")
    ids = parse_ids(data.getlist("selected")) + parse_ids(data.get("ids", "").split(","))
    return Contact.objects.filter(pk__in=ids).order_by("pk")


@staff_required
def bulk_compose(request):
    """A message to many contacts: template, sender, previews, the linter's report and the
    forecast, then confirm."""
    data = request.POST if request.method == "POST" else request.GET
    contacts = _bulk_contacts(data)
    if contacts is None:
        messages.error(request, "The filter is not valid any more; choose the contacts again.")
        return redirect("contacts:list")
    total = contacts.count()
    if not total:
        messages.error(request, "Select at least one contact to message.")
        return redirect("contacts:list")
    if total > BULK_LIMIT:
        messages.error(request, f"At most {BULK_LIMIT:,} recipients at once; narrow the filter.")
        return redirect("contacts:list")
    step = data.get("step", "")
    form = ComposeForm(data if step else None, user=request.user)
    ctx = {
        "form": form,
        "total": total,
        "selection": {
            "all_matching": data.get("all_matching", ""),
            "query": data.get("query", ""),
            "ids": ",".join(map(str, contacts.values_list("pk", flat=True)))
            if not data.get("all_matching")
            else "",
        },
    }
    if step and form.is_valid():
        account = form.cleaned_data["account"]
        body = form.cleaned_data["body"]
        recipients = list(contacts)
        open_for_sender = set(
            Message.objects.filter(
                account=account, status__in=Message.OPEN_STATUSES, contact__in=contacts
            ).values_list("contact_id", flat=True)
        )
        sendable, skipped = [], []
        for contact in recipients:
            reason = services.skip_reason(contact, open_for_sender=open_for_sender)
            (skipped.append((contact, reason)) if reason else sendable.append(contact))
        connected = dict(
            Connection.objects.filter(network=account.network, contact__in=contacts).values_list(
                "contact_id", "connected_on"
            )
        )
        contexts = [
            personalize.context_for(
                c, sender_name=account.display_name, connected_on=connected.get(c.pk)
            )
            for c in sendable
        ]
        lint = personalize.lint_for_recipients(body, contexts)
        previews = []
        for contact, context in list(zip(sendable, contexts, strict=True))[:PREVIEWS]:
            try:
                previews.append((contact, personalize.render(body, context)))
            except personalize.TemplateError as exc:
                previews.append((contact, f"(cannot be rendered: {exc})"))
        ctx.update(
            account=account,
            lint=lint,
            previews=previews,
            skipped=skipped,
            sendable=len(sendable),
            not_connected=sum(1 for c in sendable if c.pk not in connected),
            forecast=forecast_for(
                account,
                len(sendable),
                timezone.now(),
                not_before=form.cleaned_data["scheduled_for"],
            ),
        )
        needs_confirmation = lint.has_missing and not form.cleaned_data["confirm_missing"]
        # Queueing is a POST (with its CSRF token): a link must never send messages.
        if step == "queue" and request.method == "POST" and not needs_confirmation:
            result = services.messages_queue(
                contacts=sendable,
                account=account,
                body=body,
                created_by=request.user,
                scheduled_for=form.cleaned_data["scheduled_for"],
            )
            messages.success(
                request,
                f"Queued {counted(len(result.queued_ids), 'message', 'messages')} from {account}; "
                f"skipped {len(skipped) + len(result.skipped):,}. {ctx['forecast']}",
            )
            return redirect(
                reverse("messaging:message_list") + f"?account={account.pk}&status=queued"
            )
        if step == "queue" and needs_confirmation:
            form.add_error("confirm_missing", "Confirm, or change the message to give a fallback.")
    return render(request, "messaging/bulk_compose.html", ctx)


# --- the Outbox ----------------------------------------------------------------------------------


@staff_required
def outbox(request):
    return _outbox_page(request)


def _outbox_page(request, *, refused: Message | None = None, typed="", error="", status=200):
    """The Outbox. `refused` is a message whose text a member typed (`typed`) and the app
    refused (`error`): it is shown in focus with that text and the reason, so nothing typed is
    lost."""
    now = timezone.now()
    accounts = list(LinkedInAccount.objects.manageable_by(request.user))
    in_outbox = Message.objects.filter(account__in=accounts, status=Message.Status.RELEASED)
    # Messages to contacts marked do-not-contact since they were released are not shown; the
    # next tick cancels them (a GET never writes) and Send refuses them meanwhile.
    withheld = in_outbox.filter(contact__do_not_contact=True).count()
    if withheld:
        messages.warning(
            request,
            ngettext(
                "%(count)s message is hidden from the Outbox: its contact has been marked "
                "do-not-contact since. It is cancelled at the next tick.",
                "%(count)s messages are hidden from the Outbox: their contacts have been "
                "marked do-not-contact since. They are cancelled at the next tick.",
                withheld,
            )
            % {"count": f"{withheld:,}"},
        )
    released = (
        in_outbox.filter(contact__do_not_contact=False)
        .select_related("contact", "account")
        .order_by("account_id", "released_at", "pk")
    )
    groups = []
    for account in accounts:
        items = [m for m in released if m.account_id == account.pk]
        if not items:
            continue
        # What each message's text box and error show, set on the message for the template.
        for message in items:
            message.on_screen, message.error = message.body, ""  # type: ignore[attr-defined]
            if refused is not None and message.pk == refused.pk:
                message.on_screen, message.error = typed, error  # type: ignore[attr-defined]
        # Both from the cap rule (messaging/models.py): what went to LinkedIn today, which an
        # Outbox Send checks against the cap, and what waits here, each holding a slot until it
        # is sent; their sum is the day's taken slots, as the dashboard shows them.
        start, end = dispatch.local_day_bounds(account, now)
        sent, waiting = (
            part.count()
            for part in Message.objects.filter(account=account).counting_against_cap_parts(
                start, end
            )
        )
        groups.append(
            {
                "account": account,
                "items": items,
                "sent_today": sent,
                "slots_taken": sent + waiting,
            }
        )
    ctx = {
        "groups": groups,
        "total": sum(len(group["items"]) for group in groups),
        "focus": refused.pk if refused is not None else None,
    }
    return render(request, "messaging/outbox.html", ctx, status=status)


def _outbox_message(request, pk) -> Message | None:
    message = _message(request, pk)
    if message.status != Message.Status.RELEASED:
        messages.error(request, "This message is no longer in the Outbox.")
        return None
    return message


def _outbox_next(request):
    """Back to the Outbox, with the message the page asked to go on with (outbox.js sends the
    one after the message acted on) in focus."""
    url = reverse("messaging:outbox")
    following = parse_ids([request.POST.get("next", "")])
    return redirect(f"{url}#message-{following[0]}" if following else url)


@staff_required
@require_POST
def outbox_edit(request, pk):
    message = _outbox_message(request, pk)
    if message is None:
        return redirect("messaging:outbox")
    body = request.POST.get("body", "")
    try:
        services.outbox_edit(message=message, body=body, actor=request.user)
    except ValueError as exc:
        return _outbox_page(request, refused=message, typed=body, error=str(exc), status=400)
    messages.success(request, "Saved. Only this message changed.")
    return redirect(reverse("messaging:outbox") + f"#message-{pk}")


@staff_required
@require_POST
def outbox_send(request, pk):
    message = _outbox_message(request, pk)
    if message is None:
        return redirect("messaging:outbox")
    if not (message.account.has_messaging_scope and message.contact.member_urn):
        messages.error(request, "This one cannot go through LinkedIn's API: send it by hand.")
        return redirect("messaging:outbox")
    # What goes out is the text on screen, edited or not: save an unsaved edit first.
    body = request.POST.get("body")
    if body is not None and body.replace("\r\n", "\n").strip() != message.body:
        try:
            services.outbox_edit(message=message, body=body, actor=request.user)
        except ValueError as exc:
            return _outbox_page(request, refused=message, typed=body, error=str(exc), status=400)
        message.refresh_from_db()
    try:
        outcome = dispatch.outbox_send(message=message, actor=request.user)
    except dispatch.CapReached as exc:
        messages.error(request, str(exc))
    except ValueError as exc:
        messages.error(request, str(exc))
    except LinkedInError as exc:
        messages.error(request, f"LinkedIn did not take it: {exc}")
    else:
        text = {
            "sent": f"Sent to {message.contact}.",
            "retried": "LinkedIn could not take it right now; it is queued to try again.",
            "uncertain": "LinkedIn's answer was lost: it may have gone out. See the message page.",
            "failed": "LinkedIn refused the message; see the message page.",
        }[outcome]
        (messages.success if outcome == "sent" else messages.error)(request, text)
    return _outbox_next(request)


@staff_required
@require_POST
def outbox_mark_sent(request, pk):
    message = _outbox_message(request, pk)
    if message is None:
        return redirect("messaging:outbox")
    # The text on screen is the text sent, saved or not; a page without the text box (an old
    # tab, a script) confirms the saved text.
    body = request.POST.get("body")
    try:
        confirmed = services.outbox_mark_sent(message=message, actor=request.user, body=body)
    except ValueError as exc:
        error = f"Not recorded as sent: {exc}"
        return _outbox_page(request, refused=message, typed=body, error=error, status=400)
    if confirmed:
        messages.success(request, f"Recorded as sent to {message.contact}.")
    else:
        messages.error(request, "This message is no longer in the Outbox.")
    return _outbox_next(request)


@staff_required
@require_POST
def outbox_skip(request, pk):
    message = _outbox_message(request, pk)
    if message is not None and services.outbox_skip(message=message, actor=request.user):
        messages.success(request, f"Skipped the message to {message.contact}.")
    return _outbox_next(request)


# --- messages ----------------------------------------------------------------------------------


@staff_required
def message_list(request):
    accounts = LinkedInAccount.objects.manageable_by(request.user)
    queryset = Message.objects.filter(account__in=accounts).select_related("contact", "account")
    filterset = MessageFilter(request.GET or None, queryset=queryset, user=request.user)
    rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else queryset.none()
    page = Paginator(rows.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    counts = dict(
        Message.objects.filter(account__in=accounts)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    ctx = {
        "filter": filterset,
        "page": page,
        "status_counts": [
            (value, label, counts.get(value, 0)) for value, label in Message.Status.choices
        ],
    }
    return render(request, "messaging/message_list.html", ctx)


@staff_required
def message_detail(request, pk):
    message = _message(request, pk)
    ctx = {"message": message, "events": message.events.select_related("actor")}
    return render(request, "messaging/message_detail.html", ctx)


@staff_required
@require_POST
def message_cancel(request, pk):
    message = _message(request, pk)
    if services.message_cancel(message=message, actor=request.user):
        messages.success(request, "Cancelled; it will not be sent.")
    else:
        messages.error(request, "Only a queued or Outbox message can be cancelled.")
    return redirect(message)


@staff_required
@require_POST
def message_resolve(request, pk):
    message = _message(request, pk)
    sent = request.POST.get("outcome") == "sent"
    if request.POST.get("outcome") not in ("sent", "requeue"):
        messages.error(request, "Choose whether it was sent or should be sent again.")
    elif services.message_resolve_uncertain(message=message, sent=sent, actor=request.user):
        messages.success(request, "Marked as sent." if sent else "Queued to be sent again.")
    else:
        messages.error(request, "Only an uncertain message needs this decision.")
    return redirect(message)


# --- templates -----------------------------------------------------------------------------------


@staff_required
def template_list(request):
    sample = personalize.context_for(
        SAMPLE_RECIPIENT,
        sender_name=request.user.get_full_name() or request.user.get_username(),
        connected_on=timezone.localdate(),
    )
    rows = []
    for template in MessageTemplate.objects.all():
        try:
            rows.append((template, personalize.render(template.body, sample), ""))
        except personalize.TemplateError as error:
            rows.append((template, "", str(error)))
    return render(request, "messaging/template_list.html", {"rows": rows, "sample": sample})


@staff_required
def template_edit(request, pk=None):
    template = get_object_or_404(MessageTemplate, pk=pk) if pk else None
    posted = request.method == "POST"
    form = MessageTemplateForm(request.POST if posted else None, instance=template)
    if posted and form.is_valid():
        saved = form.save(commit=False)
        if template is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, f"Saved template “{saved}”.")
        return redirect("messaging:template_list")
    return render(request, "messaging/template_form.html", {"form": form, "template": template})


@staff_required
def template_delete(request, pk):
    template = get_object_or_404(MessageTemplate, pk=pk)
    if request.method == "POST":
        template.delete()
        messages.success(
            request, f"Deleted template “{template}”. Queued messages keep their text."
        )
        return redirect("messaging:template_list")
    return render(request, "messaging/template_delete.html", {"template": template})
