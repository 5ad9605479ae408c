"""Webhooks: events written with the changes they describe, signed deliveries, retries
(docs/api.md#webhooks, docs/architecture.md).

The outbox: emit() writes an event and one pending delivery per subscriber inside the caller's
transaction, so a rolled-back change sends nothing and a committed one is never lost, even when
the process dies right after the commit. After the commit a django-q2 task delivers it; the
"Deliver webhooks" schedule sweeps up whatever that task did not (the task was lost, a worker was
killed mid-POST, a retry came due). Delivery is at least once: a receiver drops duplicates by the
`webhook-id`, the event's id, which every attempt and redelivery carries.

Signing follows Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">` under the subscription's `whsec_…` secret.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from linkedin_crm import audit, roles
from linkedin_crm.db import CHUNK, chunks, insert_rows
from linkedin_crm.models import (
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)

EventType = WebhookEventType
State = WebhookDelivery.State

# Retries: 30 s after the first failure, doubling up to 4 hours between tries, for a day (about
# 13 tries); a delivery still failing then gives up, and turns its subscription off.
RETRY_FOR = datetime.timedelta(hours=24)
FIRST_RETRY = datetime.timedelta(seconds=30)
LONGEST_RETRY = datetime.timedelta(hours=4)
# Seconds to connect, and to wait for the answer.
CONNECT_TIMEOUT, READ_TIMEOUT = 5, 10
# A worker that takes a delivery moves it this far ahead before the POST: longer than the POST
# can take, so no other worker sends it meanwhile, and a worker killed mid-POST only delays it.
LEASE = datetime.timedelta(seconds=60)
# One task delivers for at most this long (django-q2 stops a task at 120 s); the rest is the
# next task's or the sweep's.
DELIVERY_BUDGET_SECONDS = 90
# What of a receiver's error answer the delivery log keeps.
ERROR_LENGTH = 300


# --- who may manage them ------------------------------------------------------------------------


def check_manageable_by(user) -> None:
    if not user.has_perm(roles.MANAGE_WEBHOOKS):
        raise PermissionDenied("Webhooks are for Admins.")


# --- targets (the SSRF guard) --------------------------------------------------------------------


def _allowed_networks() -> list:
    allowed = settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS
    return [ipaddress.ip_network(net, strict=False) for net in allowed]


def _refused_kind(address: str) -> str | None:
    """What kind of address a target may not be at `address` is, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _allowed_networks()):
        return None
    for kind, test in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved or ip.is_unspecified),
        # Private networks, and the other special ranges (shared address space, documentation).
        ("private", ip.is_private or not ip.is_global),
    ):
        if test:
            return kind
    return None


def resolve_target(url: str) -> list[str]:
    """The addresses a target URL may be reached at; raises ValidationError, saying why, for a
    URL that is not http(s), a host that does not resolve, or one that resolves to a private,
    loopback, link-local, multicast or reserved address the settings do not allow. Called when a
    subscription is saved and again before every delivery (DNS may answer differently)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError(f"The host {parts.hostname} could not be found.") from None
    # An IPv4 or IPv6 socket address starts with the address as text.
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if kind := _refused_kind(address):
            where = (
                f"{address} is"
                if address == parts.hostname
                else f"{parts.hostname} resolves to {address},"
            )
            raise ValidationError(
                f"{where} a {kind} address; webhooks are only sent to public addresses (see "
                "WEBHOOKS_ALLOW_PRIVATE_TARGETS)."
            )
    return addresses


def clean_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    if not events:
        raise ValidationError("Choose at least one event.")
    unknown = [event for event in events if event not in EventType.values]
    if unknown:
        raise ValidationError(f"Unknown event: {', '.join(unknown)}.")
    return events


# --- subscriptions (the page and the API) --------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def subscription_create(
    *,
    url: str,
    events: Iterable[str],
    actor,
    description: str = "",
    via: str = audit.Via.PAGE,
) -> WebhookSubscription:
    """A new, active subscription with a new secret. Raises ValidationError for a refused
    target or no (or unknown) events, PermissionDenied for anyone but an Admin."""
    check_manageable_by(actor)
    events = clean_events(events)
    resolve_target(url)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            url=url,
            events=events,
            description=description,
            secret=new_secret(),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            audit.Action.WEBHOOK_CREATE,
            actor=actor,
            obj=subscription,
            via=via,
            detail={"url": url, "events": events},
        )
    return subscription


def subscription_update(
    *,
    subscription: WebhookSubscription,
    actor,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
    via: str = audit.Via.PAGE,
) -> WebhookSubscription:
    """Change what is given (None leaves a field as it is). Turning a subscription on again
    clears why the app turned it off; its pending deliveries then go out."""
    check_manageable_by(actor)
    changes: dict[str, object] = {}
    if url is not None and url != subscription.url:
        resolve_target(url)
        changes["url"] = url
    if events is not None:
        events = clean_events(events)
        if events != subscription.events:
            changes["events"] = events
    if description is not None and description != subscription.description:
        changes["description"] = description
    if active is not None and active != subscription.active:
        changes["active"] = active
        changes["disabled_reason"] = ""
    if not changes:
        return subscription
    with transaction.atomic():
        for name, value in changes.items():
            setattr(subscription, name, value)
        subscription.save(update_fields=[*changes, "updated_at"])
        audit.record(
            audit.Action.WEBHOOK_UPDATE,
            actor=actor,
            obj=subscription,
            via=via,
            detail={name: value for name, value in changes.items() if name != "disabled_reason"},
        )
    return subscription


def subscription_delete(
    *, subscription: WebhookSubscription, actor, via: str = audit.Via.PAGE
) -> None:
    """Delete a subscription with its delivery log; its pending deliveries are not sent."""
    check_manageable_by(actor)
    with transaction.atomic():
        audit.record(
            audit.Action.WEBHOOK_DELETE,
            actor=actor,
            obj=subscription,
            via=via,
            detail={"url": subscription.url},
        )
        subscription.delete()


def delivery_redeliver(
    *, delivery: WebhookDelivery, actor, via: str = audit.Via.PAGE
) -> WebhookDelivery:
    """Send an event again, with the same id, now and retried for another day if it fails
    (for a receiver that lost it, or one that failed and is fixed)."""
    check_manageable_by(actor)
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=State.PENDING, next_attempt_at=now, retry_until=now + RETRY_FOR
        )
        audit.record(
            audit.Action.WEBHOOK_REDELIVER,
            actor=actor,
            obj=delivery.subscription,
            via=via,
            detail={"event": delivery.event_id},
        )
        transaction.on_commit(enqueue_delivery, robust=True)
    delivery.refresh_from_db()
    return delivery


# --- emitting ------------------------------------------------------------------------------------


def subscribers(event_type: str) -> list[int]:
    """The active subscriptions to `event_type`: one query, which is all emitting costs when
    there are none."""
    return [
        pk
        for pk, events in WebhookSubscription.objects.filter(active=True).values_list(
            "pk", "events"
        )
        if event_type in events
    ]


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(12)


def emit(
    event_type: str,
    data: Iterable[dict] | Callable[[], Iterable[dict]],
    *,
    at: datetime.datetime | None = None,
) -> int:
    """Write one `event_type` event per item of `data` (each the event's `data` object), with a
    pending delivery for every subscriber, in the caller's transaction; deliver them after it
    commits. `data` may be a function, called only when someone subscribes. Returns how many
    events it wrote."""
    subscription_ids = subscribers(event_type)
    if not subscription_ids:
        return 0
    at = at or timezone.now()
    items = list(data() if callable(data) else data)
    if not items:
        return 0
    events = [
        (new_event_id(), {"type": event_type, "timestamp": at.isoformat(), "data": item})
        for item in items
    ]
    with transaction.atomic():
        insert_rows(
            WebhookEvent,
            ["id", "payload"],
            events,
            shared={"type": event_type, "created_at": at},
        )
        insert_rows(
            WebhookDelivery,
            ["event_id", "subscription_id"],
            [(event_id, pk) for event_id, _ in events for pk in subscription_ids],
            shared={
                "state": State.PENDING,
                "attempts": 0,
                "next_attempt_at": at,
                "retry_until": at + RETRY_FOR,
                "last_error": "",
            },
        )
        transaction.on_commit(enqueue_delivery, robust=True)
    return len(events)


def emit_messages(event_type: str, message_ids: Sequence[int]) -> int:
    """Events about messages, one per id: what a receiver needs to match them up."""
    if not message_ids:
        return 0

    def data():
        from messaging.models import Message

        for chunk in chunks(list(message_ids), CHUNK):
            yield from Message.objects.filter(pk__in=chunk).values(
                "id", "status", "contact_id", "account_id", "stream", "sent_at", "last_error"
            )

    return emit(event_type, data)


def events_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the events older than WEBHOOK_EVENTS_KEEP_DAYS, with their deliveries, unless a
    delivery may still be retried (a redelivery asked for lately); returns how many. In chunks,
    so that a busy month is not one long transaction."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.WEBHOOK_EVENTS_KEEP_DAYS)
    retrying = WebhookDelivery.objects.filter(state=State.PENDING, retry_until__gt=now)
    old = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(
        pk__in=retrying.values("event_id")
    )
    deleted = 0
    while ids := list(old.order_by().values_list("pk", flat=True)[:CHUNK]):
        with transaction.atomic():
            WebhookDelivery.objects.filter(event_id__in=ids).delete()
            deleted += (
                WebhookEvent.objects.filter(pk__in=ids).delete()[1].get(WebhookEvent._meta.label, 0)
            )
    return deleted


def enqueue_delivery() -> None:
    # Called after the commit, robustly: a broker that is down must not fail a change that
    # committed; the sweep schedule delivers its events then.
    async_task("linkedin_crm.tasks.deliver_webhooks", group="webhooks")


# --- delivering ----------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    gave_up: int = 0

    def as_dict(self) -> dict:
        return {"delivered": self.delivered, "failed": self.failed, "gave_up": self.gave_up}


def due(now: datetime.datetime):
    return WebhookDelivery.objects.filter(
        state=State.PENDING, next_attempt_at__lte=now, subscription__active=True
    )


def deliver_due(*, budget_seconds: float = DELIVERY_BUDGET_SECONDS) -> DeliveryReport:
    """Deliver what is due, oldest first, for up to `budget_seconds`."""
    report = DeliveryReport()
    stop_at = time.monotonic() + budget_seconds
    while time.monotonic() < stop_at:
        batch = list(
            due(timezone.now())
            .order_by("next_attempt_at", "id")
            .values_list("pk", "next_attempt_at")[:50]
        )
        if not batch:
            break
        for pk, next_attempt_at in batch:
            if time.monotonic() >= stop_at:
                break
            delivery = _claim(pk, next_attempt_at)
            if delivery is not None:
                _attempt(delivery, report)
    return report


def _claim(pk: int, seen_next_attempt_at: datetime.datetime) -> WebhookDelivery | None:
    now = timezone.now()
    # Two workers may read the same due delivery; the one whose update still finds it as read
    # takes it (and moves it a lease ahead), the other matches no row and moves on.
    claimed = WebhookDelivery.objects.filter(
        pk=pk, state=State.PENDING, next_attempt_at=seen_next_attempt_at
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("event", "subscription").get(pk=pk)


def _attempt(delivery: WebhookDelivery, report: DeliveryReport) -> None:
    status, error = send(delivery.subscription, delivery.event)
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=State.DELIVERED, delivered_at=now, last_status_code=status, last_error=""
        )
        report.delivered += 1
        return
    retry_at = now + min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
    if retry_at <= delivery.retry_until:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=retry_at, last_status_code=status, last_error=error
        )
        report.failed += 1
        return
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=State.FAILED, last_status_code=status, last_error=error
        )
        # A target that failed every try for a day is gone or broken: stop sending to it until
        # an Admin turns it on again, rather than piling up a day of retries per event.
        subscription = (
            WebhookSubscription.objects.select_for_update()
            .filter(pk=delivery.subscription_id)
            .first()
        )
        if subscription is not None and subscription.active:
            subscription.disable(
                f"Turned off on {timezone.localtime(now):%Y-%m-%d %H:%M}: event "
                f"{delivery.event_id} could not be delivered in {delivery.attempts} tries over a "
                f"day (last: {error})."
            )
    report.gave_up += 1


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def send(subscription: WebhookSubscription, event: WebhookEvent) -> tuple[int | None, str]:
    """POST one signed event; returns (the status code or None, what went wrong or "")."""
    try:
        addresses = resolve_target(subscription.url)
    except ValidationError as exc:
        return None, f"Refused: {exc.messages[0]}"[:ERROR_LENGTH]
    body = json.dumps(event.payload, cls=DjangoJSONEncoder).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "linkedin-crm-webhooks",
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(subscription.secret, event.id, timestamp, body),
    }
    try:
        status, text = _post(subscription.url, addresses[0], body, headers)
    except (OSError, http.client.HTTPException) as exc:
        return None, f"No answer: {type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}: {text}"[:ERROR_LENGTH]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, with the certificate checked for the host name."""

    def __init__(self, host: str, port: int, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, address: str, body: bytes, headers: dict) -> tuple[int, str]:
    # To the address resolve_target() checked, not to whatever the name resolves to a moment
    # later: a second lookup could answer with an internal address (DNS rebinding).
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(
            parts.hostname,  # type: ignore[arg-type]  # resolve_target() refused a URL without one
            port,
            address=address,
            timeout=CONNECT_TIMEOUT,
            context=ssl.create_default_context(),
        )
    else:
        connection = http.client.HTTPConnection(address, port, timeout=CONNECT_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        connection.sock.settimeout(READ_TIMEOUT)
        host = parts.netloc.rpartition("@")[2]
        connection.request("POST", path, body=body, headers={"Host": host, **headers})
        response = connection.getresponse()
        text = response.read(ERROR_LENGTH).decode("utf-8", "replace")
        return response.status, text
    finally:
        connection.close()
