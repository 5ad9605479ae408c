"""The webhooks page (Admins): subscriptions, their secrets and delivery logs, redelivery."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from linkedin_crm import roles, webhooks
from linkedin_crm.auth import staff_required
from linkedin_crm.models import WebhookDelivery, WebhookSubscription

# The delivery log shows the newest of a subscription's deliveries.
LOG_LENGTH = 100


def webhook_admins_only(view):
    """Webhooks send the team's data out of the app: Admins' to manage."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(roles.MANAGE_WEBHOOKS):
            raise PermissionDenied("Webhooks are for Admins.")
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Target URL",
        max_length=2000,
        assume_scheme="https",
        help_text="Where to POST the events: a public http:// or https:// address.",
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        # The type beside its description: receivers (and docs/api.md) know events by type.
        choices=[(value, f"{label} ({value})") for value, label in webhooks.EventType.choices],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    active = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Off: no events are recorded or sent for this webhook.",
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        webhooks.resolve_target(url)
        return url


def _pending_and_failed(subscriptions):
    return subscriptions.annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.FAILED)),
    )


@webhook_admins_only
def webhook_list(request):
    ctx = {"subscriptions": _pending_and_failed(WebhookSubscription.objects.all())}
    return render(request, "linkedin_crm/webhooks/list.html", ctx)


@webhook_admins_only
def webhook_create(request):
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = webhooks.subscription_create(
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                "Webhook created. Give its signing secret (below) to the receiving end.",
            )
            return redirect(subscription)
    return render(request, "linkedin_crm/webhooks/form.html", {"form": form, "subscription": None})


@webhook_admins_only
def webhook_detail(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    deliveries = subscription.deliveries.select_related("event").order_by("-id")[:LOG_LENGTH]
    ctx = {"subscription": subscription, "deliveries": deliveries, "log_length": LOG_LENGTH}
    return render(request, "linkedin_crm/webhooks/detail.html", ctx)


@webhook_admins_only
def webhook_edit(request, pk):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    initial = {
        "url": subscription.url,
        "description": subscription.description,
        "events": subscription.events,
        "active": subscription.active,
    }
    form = WebhookForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.subscription_update(
                subscription=subscription, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect(subscription)
    ctx = {"form": form, "subscription": subscription}
    return render(request, "linkedin_crm/webhooks/form.html", ctx)


@webhook_admins_only
def webhook_delete(request, pk):
    subscription = get_object_or_404(_pending_and_failed(WebhookSubscription.objects), pk=pk)
    if request.method == "POST":
        webhooks.subscription_delete(subscription=subscription, actor=request.user)
        messages.success(request, f"Webhook to {subscription.url} deleted.")
        return redirect("webhook_list")
    waiting = ngettext(
        "Its %(count)d delivery still waiting will not be sent.",
        "Its %(count)d deliveries still waiting will not be sent.",
        subscription.pending,
    ) % {"count": subscription.pending}
    ctx = {"subscription": subscription, "waiting": waiting if subscription.pending else ""}
    return render(request, "linkedin_crm/webhooks/delete.html", ctx)


@webhook_admins_only
@require_POST
def webhook_redeliver(request, pk, delivery_pk):
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("subscription"), pk=delivery_pk, subscription_id=pk
    )
    webhooks.delivery_redeliver(delivery=delivery, actor=request.user)
    if delivery.subscription.active:
        messages.success(request, f"Event {delivery.event_id} will be delivered again shortly.")
    else:
        messages.warning(
            request,
            f"Event {delivery.event_id} will be delivered again once this webhook is turned on.",
        )
    return redirect(delivery.subscription)
