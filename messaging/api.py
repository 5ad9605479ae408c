"""The messaging API (docs/api.md): send one message or many, the message list and detail,
cancel and resolve, the Outbox and "I sent it", the LinkedIn accounts and a dispatch tick.
Validation is the composer's (ComposeForm), writes are messaging.services', and every status
change goes through its one state machine (messaging/transitions.py)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_q.tasks import async_task
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from contacts.filters import ContactFilter
from contacts.models import Connection, Contact
from linkedin_crm import audit
from linkedin_crm.api import (
    IDEMPOTENCY_KEY,
    PROBLEM,
    AdminOnly,
    Conflict,
    IsActiveStaff,
    MemberListMixin,
    TokenScope,
    idempotent,
    raise_validation,
)
from messaging import dispatch, personalize, services
from messaging.filters import MessageFilter
from messaging.forecast import forecast_account
from messaging.forms import ComposeForm
from messaging.message_views import BULK_LIMIT, forecast_for
from messaging.models import LinkedInAccount, Message
from messaging.serializers import (
    AccountSerializer,
    BulkResultSerializer,
    MessageBulkSerializer,
    MessageDetailSerializer,
    MessageSendSerializer,
    MessageSerializer,
    OutboxSentSerializer,
    ResolveSerializer,
    TaskQueuedSerializer,
    ValidateResultSerializer,
)


def _compose_form(request, data: dict) -> ComposeForm:
    """The composer's form over the API's fields: the same rules (a sender the token's owner
    may manage, a text or a template, a time not past), answered 403 for another member's
    account and 422 for the rest."""
    form = ComposeForm(
        data={
            "account": data["account"],
            "body": data.get("body", ""),
            "template": data.get("template") or "",
            "scheduled_for": data.get("send_at") or "",
        },
        user=request.user,
    )
    if not form.is_valid():
        if form.has_error("account", ComposeForm.NOT_YOURS):
            raise PermissionDenied(form.errors["account"][0])
        errors = dict(form.errors)
        if "scheduled_for" in errors:
            errors["send_at"] = errors.pop("scheduled_for")
        raise_validation(errors)
    return form


def _message_queryset(request):
    return Message.objects.manageable_by(request.user).select_related(
        "contact", "account", "created_by"
    )


@extend_schema(
    request=MessageSendSerializer,
    responses={201: MessageSerializer, 403: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["POST"])
@idempotent
def message_send(request):
    """Queue one personalised message to one contact; it goes out at the sender's next free
    slot, or at `send_at`."""
    body = MessageSendSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    contact = Contact.objects.filter(pk=body.validated_data["contact"]).first()
    if contact is None:
        raise_validation({"contact": ["There is no contact with this id."]})
    form = _compose_form(request, body.validated_data)
    try:
        result = services.messages_queue(
            contacts=[contact],
            account=form.cleaned_data["account"],
            body=form.cleaned_data["body"],
            created_by=request.user,
            scheduled_for=form.cleaned_data["scheduled_for"],
            via=audit.Via.API,
        )
    except personalize.TemplateError as error:
        raise_validation({"body": [str(error)]})
    if result.skipped:
        raise Conflict(f"Not queued: {result.skipped[0][1]}")
    message = _message_queryset(request).get(pk=result.queued_ids[0])
    return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _bulk_recipients(data: dict):
    if "ids" in data:
        return Contact.objects.filter(pk__in=data["ids"]).order_by("pk")
    query = QueryDict(mutable=True)
    for name, value in data["filter"].items():
        values = value if isinstance(value, list) else [value]
        query.setlist(name, [str(v) for v in values])
    filterset = ContactFilter(query, queryset=Contact.objects.all())
    if not filterset.is_valid():
        raise_validation({"filter": dict(filterset.errors)})
    return filterset.qs.order_by("pk")


@extend_schema(
    request=MessageBulkSerializer,
    responses={201: BulkResultSerializer, 403: PROBLEM, 422: PROBLEM},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["POST"])
@idempotent
def message_bulk(request):
    """One text to many contacts (`ids`, or `filter` with the contact list's filters), each
    personalised; those who must not or cannot get it are skipped with the reason."""
    body = MessageBulkSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    contacts = _bulk_recipients(body.validated_data)
    form = _compose_form(request, body.validated_data)
    recipients = list(contacts[: BULK_LIMIT + 1])
    if not recipients:
        raise_validation({"non_field_errors": ["No contact matches; nothing was queued."]})
    if len(recipients) > BULK_LIMIT:
        raise_validation(
            {"non_field_errors": [f"At most {BULK_LIMIT:,} recipients at once; narrow it."]}
        )
    account = form.cleaned_data["account"]
    text = form.cleaned_data["body"]
    if not body.validated_data["confirm_missing"]:
        _refuse_missing_values(text, account, recipients)
    forecast = forecast_for(account, len(recipients), timezone.now())
    try:
        result = services.messages_queue(
            contacts=recipients,
            account=account,
            body=text,
            created_by=request.user,
            scheduled_for=form.cleaned_data["scheduled_for"],
            via=audit.Via.API,
        )
    except personalize.TemplateError as error:
        raise_validation({"body": [str(error)]})
    data = {
        "queued": len(result.queued_ids),
        "skipped": [{"contact": c.pk, "reason": reason} for c, reason in result.skipped],
        "forecast": forecast,
    }
    return Response(BulkResultSerializer(data).data, status=status.HTTP_201_CREATED)


def _refuse_missing_values(text: str, account: LinkedInAccount, recipients: list) -> None:
    """As the bulk composer: a text using a value some recipients lack, with no fallback,
    needs confirming (confirm_missing), or it would read "Hi ," to them."""
    lint = personalize.lint(text)
    if not lint.variables:
        return
    connected = dict(
        Connection.objects.filter(
            network=account.network, contact__in=[c.pk for c in recipients]
        ).values_list("contact_id", "connected_on")
    )
    contexts = [
        personalize.context_for(
            c, sender_name=account.display_name, connected_on=connected.get(c.pk)
        )
        for c in recipients
    ]
    report = personalize.lint_for_recipients(text, contexts)
    if report.has_missing:
        raise_validation(
            {
                "confirm_missing": [
                    "Some recipients lack a value the message uses without a fallback; "
                    'give a fallback ({{ first_name|default:"there" }}) or send '
                    "confirm_missing: true."
                ]
            }
        )


class MessageFilterBackend(DjangoFilterBackend):
    """MessageFilter offers only the senders the user may manage."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "user": request.user}


class MessageList(MemberListMixin, generics.ListAPIView):
    """The messages of the accounts the token's owner may manage, newest first, with the
    message list's filters."""

    serializer_class = MessageSerializer
    filter_backends = [MessageFilterBackend]
    filterset_class = MessageFilter

    def member_queryset(self, request):
        return _message_queryset(request)


@extend_schema(responses={200: MessageDetailSerializer, 404: PROBLEM})
@api_view(["GET"])
def message_detail(request, pk: int):
    message = get_object_or_404(_message_queryset(request).prefetch_related("events__actor"), pk=pk)
    return Response(MessageDetailSerializer(message).data)


@extend_schema(request=None, responses={200: MessageSerializer, 404: PROBLEM, 409: PROBLEM})
@api_view(["POST"])
def message_cancel(request, pk: int):
    message = get_object_or_404(_message_queryset(request), pk=pk)
    if not services.message_cancel(message=message, actor=request.user):
        raise Conflict("Only a queued or Outbox message can be cancelled.")
    return Response(MessageSerializer(_message_queryset(request).get(pk=pk)).data)


@extend_schema(
    request=ResolveSerializer, responses={200: MessageSerializer, 404: PROBLEM, 409: PROBLEM}
)
@api_view(["POST"])
def message_resolve(request, pk: int):
    """An uncertain message: say it was sent, or have it sent again."""
    message = get_object_or_404(_message_queryset(request), pk=pk)
    body = ResolveSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    sent = body.validated_data["outcome"] == "sent"
    if not services.message_resolve_uncertain(message=message, sent=sent, actor=request.user):
        raise Conflict("Only an uncertain message needs this decision.")
    return Response(MessageSerializer(_message_queryset(request).get(pk=pk)).data)


class OutboxList(MemberListMixin, generics.ListAPIView):
    """Messages waiting in the Outbox for their sender to send by hand, as the Outbox page
    lists them: not those to contacts marked do-not-contact since (the next tick cancels
    them)."""

    serializer_class = MessageSerializer

    def member_queryset(self, request):
        return _message_queryset(request).filter(
            status=Message.Status.RELEASED, contact__do_not_contact=False
        )


@extend_schema(
    request=OutboxSentSerializer,
    responses={200: MessageSerializer, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
)
@api_view(["POST"])
def outbox_mark_sent(request, pk: int):
    """ "I sent it": the member sent the Outbox message by hand on LinkedIn (with `body`, if
    they changed the text)."""
    message = get_object_or_404(_message_queryset(request), pk=pk)
    body = OutboxSentSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        confirmed = services.outbox_mark_sent(
            message=message, actor=request.user, body=body.validated_data.get("body")
        )
    except ValueError as error:
        raise_validation({"body": [f"Not recorded as sent: {error}"]})
    if not confirmed:
        raise Conflict("This message is no longer in the Outbox.")
    return Response(MessageSerializer(_message_queryset(request).get(pk=pk)).data)


def _account_row(account: LinkedInAccount, now) -> dict:
    """Today's use of the account's cap (the cap's own rule, Message.counting_against_cap),
    what waits, the next slot as the dispatcher would take it, and when its day resets."""
    start, end = dispatch.local_day_bounds(account, now)
    used = Message.objects.filter(account=account).counting_against_cap(start, end).count()
    waiting = dict(
        Message.objects.filter(
            account=account,
            status__in=[Message.Status.QUEUED, Message.Status.RELEASED, Message.Status.UNCERTAIN],
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))
    )
    next_slot = None
    if account.status == LinkedInAccount.Status.ACTIVE:
        earliest = max(t for t in (now, account.next_send_at, account.hold_until) if t)
        try:
            next_slot = forecast_account(
                account, count=1, now=earliest, already_today=used if earliest < end else 0
            ).first_at
        except ValueError:  # settings the account form would refuse: say nothing
            next_slot = None
    return {
        "id": account.pk,
        "name": account.display_name,
        "owner": account.owner.get_username(),
        "status": account.status,
        "health": account.health(now)[0],
        "mode": account.mode,
        "used_today": used,
        "cap": account.daily_limit,
        "remaining_today": max(account.daily_limit - used, 0),
        "queued": waiting.get(Message.Status.QUEUED, 0),
        "outbox": waiting.get(Message.Status.RELEASED, 0),
        "uncertain": waiting.get(Message.Status.UNCERTAIN, 0),
        "window_open": dispatch.in_send_window(account, now),
        "next_slot": next_slot,
        "day_resets_at": end,
        "timezone": account.timezone,
    }


@extend_schema(responses={200: AccountSerializer(many=True)})
@api_view(["GET"])
def account_list(request):
    """The LinkedIn accounts the token's owner may manage."""
    now = timezone.now()
    accounts = (
        LinkedInAccount.objects.manageable_by(request.user)
        .select_related("owner")
        .defer("access_token", "refresh_token")
        .order_by("display_name", "pk")
    )
    rows = [_account_row(account, now) for account in accounts]
    return Response(AccountSerializer(rows, many=True).data)


@extend_schema(request=None, responses={200: ValidateResultSerializer, 404: PROBLEM})
@api_view(["POST"])
def account_validate(request, pk: int):
    """Ask LinkedIn whether the account's token still works (as the account page's button)."""
    account = get_object_or_404(LinkedInAccount.objects.manageable_by(request.user), pk=pk)
    ok, text = services.account_validate(account=account)
    return Response({"ok": ok, "detail": text})


@extend_schema(request=None, responses={202: TaskQueuedSerializer, 403: PROBLEM})
@api_view(["POST"])
@permission_classes([IsActiveStaff, TokenScope, AdminOnly])
def dispatch_tick(request):
    """Enqueue one dispatch tick for the worker (Admins only); nothing is sent here."""
    task_id = async_task("messaging.tasks.dispatch")
    return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("messages/", MessageList.as_view(), name="message_list"),
    path("messages/send/", message_send, name="message_send"),
    path("messages/bulk/", message_bulk, name="message_bulk"),
    path("messages/dispatch/", dispatch_tick, name="dispatch_tick"),
    path("messages/<int:pk>/", message_detail, name="message_detail"),
    path("messages/<int:pk>/cancel/", message_cancel, name="message_cancel"),
    path("messages/<int:pk>/resolve/", message_resolve, name="message_resolve"),
    path("outbox/", OutboxList.as_view(), name="outbox"),
    path("outbox/<int:pk>/sent/", outbox_mark_sent, name="outbox_mark_sent"),
    path("accounts/", account_list, name="account_list"),
    path("accounts/<int:pk>/validate/", account_validate, name="account_validate"),
]
