"""Writes on LinkedIn accounts shared by the pages, the commands and the worker."""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from contacts.models import Connection, Network
from linkedin_crm import audit, webhooks
from linkedin_crm.db import CHUNK, chunks
from messaging import bulk, personalize, skip_reasons, transitions
from messaging.linkedin import AuthError, LinkedInClient, LinkedInError, client_from_settings
from messaging.models import LinkedInAccount, Message
from messaging.transitions import Action

logger = logging.getLogger(__name__)
REFRESH_TOKEN_LIFETIME = 365 * 24 * 3600


class AccountOwnedElsewhere(Exception):
    """The LinkedIn member is already connected by another staff member."""


def account_save_from_login(*, user, sociallogin, now=None) -> LinkedInAccount:
    """Create or update the LinkedInAccount for a completed OAuth connect (allauth signal)."""
    now = now or timezone.now()
    data = sociallogin.account.extra_data or {}
    claims = data.get("userinfo") or data.get("id_token") or data
    token = sociallogin.token
    member_urn = f"urn:li:person:{sociallogin.account.uid}"
    expires_in = None
    if token is not None and token.expires_at:
        expires_in = max(0, int((token.expires_at - now).total_seconds()))
    # allauth does not keep the granted scope; start from what was requested and let
    # "Validate now" (token introspection) record what LinkedIn actually granted.
    scopes = list(sociallogin.account.get_provider().app.settings.get("scope") or [])
    with transaction.atomic():
        account = LinkedInAccount.objects.select_for_update().filter(member_urn=member_urn).first()
        if account is not None and account.owner_id != user.pk:
            if account.status != LinkedInAccount.Status.DISCONNECTED:
                raise AccountOwnedElsewhere(member_urn)
            # A disconnected account may be taken over by whoever connects it next.
            account.owner = user
            account.network = Network.objects.default_for(user)
        if account is None:
            account = LinkedInAccount(
                owner=user, member_urn=member_urn, network=Network.objects.default_for(user)
            )
        account.social_account = sociallogin.account if sociallogin.account.pk else None
        account.display_name = (
            claims.get("name")
            or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
            or member_urn
        )[:200]
        account.email = claims.get("email") or ""
        account.set_tokens(
            access_token=token.token if token else "",
            expires_in=expires_in,
            refresh_token=(token.token_secret or None) if token else None,
            # LinkedIn's refresh tokens (approved partner apps only) live 365 days.
            refresh_expires_in=REFRESH_TOKEN_LIFETIME if token and token.token_secret else None,
            scopes=scopes,
            now=now,
        )
        account.status = LinkedInAccount.Status.ACTIVE
        account.last_error = ""
        account.save()
        audit.record(audit.Action.ACCOUNT_CONNECT, actor=user, obj=account, at=now)
    return account


def account_validate(
    *, account: LinkedInAccount, client: LinkedInClient | None = None, now=None
) -> tuple[bool, str]:
    """Ask LinkedIn whether the token still works (introspection, then userinfo)."""
    now = now or timezone.now()
    client = client or client_from_settings()
    if not account.access_token:
        return False, "This account has no token; reconnect it."
    try:
        info = client.introspect(account.access_token)
        if info.active:
            client.userinfo(account.access_token)
    except AuthError:
        return _needs_reconnect(account, "LinkedIn no longer accepts this account's token.")
    except LinkedInError as exc:
        account.last_error = f"Validation failed: {exc}"[:500]
        account.save(update_fields=["last_error"])
        return False, f"LinkedIn could not be asked right now ({exc}). Try again later."
    if not info.active:
        return _needs_reconnect(account, f"LinkedIn says the token is {info.status or 'inactive'}.")
    fields = ["last_validated_at", "last_error"]
    account.last_validated_at = now
    account.last_error = ""
    if info.expires_at:
        account.access_token_expires_at = info.expires_at
        fields.append("access_token_expires_at")
    if info.scope:
        account.scopes = sorted(set(info.scope))
        fields.append("scopes")
    account.save(update_fields=fields)
    return True, "LinkedIn accepts this account’s token."


def account_refresh(
    *, account: LinkedInAccount, client: LinkedInClient | None = None, now=None
) -> bool:
    """Use the refresh token (partner apps only) for a new access token; True on success.

    Without a refresh token, or when LinkedIn refuses it, the account needs reconnecting.
    """
    now = now or timezone.now()
    if not account.refresh_token:
        _needs_reconnect(account, "The access token expires and this app has no refresh token.")
        return False
    client = client or client_from_settings()
    try:
        grant = client.refresh_token(account.refresh_token)
    except AuthError:
        _needs_reconnect(account, "LinkedIn refused the refresh token; reconnect the account.")
        return False
    except LinkedInError as exc:
        account.last_error = f"Refresh failed: {exc}"[:500]
        account.save(update_fields=["last_error"])
        return False
    # LinkedIn does not extend a refresh token's life when it is used: keep the old expiry.
    account.set_tokens(
        access_token=grant.access_token,
        expires_in=grant.expires_in,
        refresh_token=grant.refresh_token,
        refresh_expires_in=None,
        scopes=grant.scope or None,
        now=now,
    )
    if account.status == LinkedInAccount.Status.NEEDS_RECONNECT:
        account.status = LinkedInAccount.Status.ACTIVE
    account.last_error = ""
    account.save()
    return True


def accounts_check_expiry(*, now=None, client: LinkedInClient | None = None) -> dict:
    """Daily housekeeping: refresh tokens that expire soon where a refresh token exists; flag
    the others "needs reconnect" a week before they expire (docs/linkedin.md)."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(days=settings.LINKEDIN_RECONNECT_WARNING_DAYS)
    due = LinkedInAccount.objects.filter(
        status__in=[LinkedInAccount.Status.ACTIVE, LinkedInAccount.Status.PAUSED],
        access_token_expires_at__lte=horizon,
    )
    result = {"refreshed": 0, "needs_reconnect": 0}
    for account in due:
        if account.refresh_token and account_refresh(account=account, client=client, now=now):
            result["refreshed"] += 1
        else:
            if account.status != LinkedInAccount.Status.NEEDS_RECONNECT:
                _needs_reconnect(account, "The token expires within a week; reconnect it.")
            result["needs_reconnect"] += 1
    return result


def check_manageable_by(account: LinkedInAccount, actor) -> None:
    """The rule for every act on an account and for every message sent from it: its owner,
    or someone with messaging.manage_all_accounts (LinkedInAccount.objects.manageable_by)."""
    if actor is None or not LinkedInAccount.objects.manageable_by(actor).filter(pk=account.pk):
        raise PermissionDenied(f"{account} is another member's LinkedIn account.")


def account_pause(*, account: LinkedInAccount, actor, via: str = audit.Via.PAGE) -> None:
    _account_set_status(
        account, actor, via, LinkedInAccount.Status.ACTIVE, LinkedInAccount.Status.PAUSED
    )


def account_resume(*, account: LinkedInAccount, actor, via: str = audit.Via.PAGE) -> None:
    _account_set_status(
        account, actor, via, LinkedInAccount.Status.PAUSED, LinkedInAccount.Status.ACTIVE
    )


def _account_set_status(account: LinkedInAccount, actor, via: str, source: str, target: str):
    """A member pauses or resumes their account: only from the state the button is for."""
    check_manageable_by(account, actor)
    if account.status != source:
        return
    action = {
        LinkedInAccount.Status.PAUSED: audit.Action.ACCOUNT_PAUSE,
        LinkedInAccount.Status.ACTIVE: audit.Action.ACCOUNT_RESUME,
    }[target]
    with transaction.atomic():
        account.status = target
        account.save(update_fields=["status"])
        audit.record(action, actor=actor, obj=account, via=via)


# Settings whose change the audit log keeps: how the account sends, and how much.
AUDITED_SETTINGS = ("mode", "daily_limit")


def account_save_settings(*, account: LinkedInAccount, actor, via: str = audit.Via.PAGE) -> None:
    """Save an account whose settings were edited (by the page's form or the admin); a change
    of mode or daily cap is written to the audit log with the values before and after."""
    check_manageable_by(account, actor)
    with transaction.atomic():
        before = (
            LinkedInAccount.objects.select_for_update().values(*AUDITED_SETTINGS).get(pk=account.pk)
        )
        account.save()
        changed = {
            name: [before[name], getattr(account, name)]
            for name in AUDITED_SETTINGS
            if before[name] != getattr(account, name)
        }
        if changed:
            audit.record(
                audit.Action.ACCOUNT_SETTINGS, actor=actor, obj=account, via=via, detail=changed
            )


def account_disconnect(*, account: LinkedInAccount, actor, via: str = audit.Via.PAGE) -> None:
    """Forget the tokens; the account stays listed (its history matters) as disconnected."""
    check_manageable_by(account, actor)
    with transaction.atomic():
        social = account.social_account
        account.access_token = ""
        account.refresh_token = ""
        account.access_token_expires_at = None
        account.refresh_token_expires_at = None
        account.status = LinkedInAccount.Status.DISCONNECTED
        account.social_account = None
        account.save()
        if social is not None:
            social.delete()
        audit.record(audit.Action.ACCOUNT_DISCONNECT, actor=actor, obj=account, via=via)


def account_mark_needs_reconnect(*, account: LinkedInAccount, reason: str) -> None:
    _needs_reconnect(account, reason)


def _needs_reconnect(account: LinkedInAccount, reason: str) -> tuple[bool, str]:
    newly = account.status != LinkedInAccount.Status.NEEDS_RECONNECT
    account.status = LinkedInAccount.Status.NEEDS_RECONNECT
    account.last_error = reason[:500]
    with transaction.atomic():
        account.save(update_fields=["status", "last_error"])
        if newly:
            webhooks.emit(
                webhooks.EventType.ACCOUNT_NEEDS_RECONNECT,
                [{"id": account.pk, "display_name": account.display_name, "reason": reason}],
            )
    return False, reason


# --- messages ----------------------------------------------------------------------------------


@dataclass
class QueueResult:
    queued_ids: list[int] = field(default_factory=list)
    # (contact, reason) for every recipient left out
    skipped: list[tuple] = field(default_factory=list)


def skip_reason(contact, *, open_for_sender: set[int]) -> str | None:
    """Why a contact cannot get a message from this sender now, or None."""
    if contact.do_not_contact:
        return skip_reasons.DO_NOT_CONTACT
    if not contact.can_be_messaged:
        return skip_reasons.NO_WAY_TO_MESSAGE_DETAILED
    if contact.pk in open_for_sender:
        return skip_reasons.OPEN_FROM_SENDER
    return None


def messages_queue(
    *,
    contacts: Iterable,
    account: LinkedInAccount,
    body: str,
    created_by,
    scheduled_for: datetime.datetime | None = None,
    via: str = audit.Via.PAGE,
    now=None,
) -> QueueResult:
    """Render the template for every recipient and queue the messages (what was previewed is
    what is sent). Recipients who cannot or must not get it are skipped with the reason.

    The messages go out from `account` on `created_by`'s authority: only from an account that
    person may manage. Queueing for more than one recipient is written to the audit log."""
    now = now or timezone.now()
    check_manageable_by(account, created_by)
    lint_result = personalize.lint(body)
    if not lint_result.ok:
        raise personalize.TemplateError(" ".join(lint_result.errors))
    contacts = list(contacts)
    ids = [contact.pk for contact in contacts]
    open_for_sender = set()
    connected_on = {}
    for chunk in chunks(ids, CHUNK):
        open_for_sender.update(
            Message.objects.filter(
                account=account, contact_id__in=chunk, status__in=Message.OPEN_STATUSES
            ).values_list("contact_id", flat=True)
        )
        if "connected_on" in lint_result.variables:  # else no message shows the date
            connected_on.update(
                Connection.objects.filter(
                    network_id=account.network_id, contact_id__in=chunk
                ).values_list("contact_id", "connected_on")
            )
    result = QueueResult()
    due = scheduled_for or now
    rows = []
    for contact in contacts:
        reason = skip_reason(contact, open_for_sender=open_for_sender)
        if reason:
            result.skipped.append((contact, reason))
            continue
        context = personalize.context_for(
            contact, sender_name=account.display_name, connected_on=connected_on.get(contact.pk)
        )
        rows.append(
            {
                "contact_id": contact.pk,
                "body": personalize.render(body, context),
                "channel": Message.Channel.API if contact.member_urn else Message.Channel.MANUAL,
            }
        )
        open_for_sender.add(contact.pk)  # the same person twice in one selection: once
    with transaction.atomic():
        result.queued_ids = bulk.messages_insert(
            rows,
            account_id=account.pk,
            status=Message.Status.QUEUED,
            scheduled_for=due,
            next_attempt_at=due,
            created_by_id=created_by.pk,
            created_at=now,
        )
        if len(contacts) > 1:
            audit.record(
                audit.Action.BULK_QUEUE,
                actor=created_by,
                obj=account,
                via=via,
                counts={"queued": len(result.queued_ids), "skipped": len(result.skipped)},
                at=now,
            )
    return result


def messages_cancel_open(messages, *, note: str, actor=None, at=None) -> int:
    """Cancel each of `messages` that has not gone out yet (queued, or waiting in an Outbox),
    with an event in its history (at `at`, default now); returns how many. One conditional
    UPDATE: a worker claiming one of them at the same moment gets it before or not at all."""
    return len(transitions.change(Action.CANCEL, messages, note=note, actor=actor, at=at))


DO_NOT_CONTACT_NOTE = "The contact is marked do-not-contact."


def messages_drop_unauthorised(*, user, actor=None) -> int:
    """Cancel every unsent message `user` queued (one-off or through a campaign they launched)
    from an account they may no longer manage: after they lost a role or left the team, their
    authority over other members' accounts goes with it. Returns how many."""
    user = type(user).objects.get(pk=user.pk)  # the permissions as they are now
    if user.is_active and user.is_staff:
        allowed = LinkedInAccount.objects.manageable_by(user)
    else:
        allowed = LinkedInAccount.objects.none()
    return messages_cancel_open(
        Message.objects.filter(created_by=user).exclude(account__in=allowed),
        note=f"{user.get_username()} may no longer send from this account.",
        actor=actor,
    )


def outbox_drop_do_not_contact(messages=None) -> int:
    """Take out of the Outbox every message whose contact was marked do-not-contact after it
    was released: nobody may send it any more (the queue checks the same at claim time)."""
    messages = Message.objects.all() if messages is None else messages
    return messages_cancel_open(
        messages.filter(status=Message.Status.RELEASED, contact__do_not_contact=True),
        note=DO_NOT_CONTACT_NOTE,
    )


def message_cancel(*, message: Message, actor, reason: str = "cancelled by a person") -> bool:
    return _transition(Action.CANCEL, message, actor, reason)


def message_resolve_uncertain(*, message: Message, sent: bool, actor) -> bool:
    """A person decides what an uncertain message was: sent, or to be sent again."""
    if sent:
        return _transition(
            Action.CONFIRM_SENT,
            message,
            actor,
            "confirmed sent",
            sent_at=message.claimed_at or timezone.now(),
        )
    return _transition(
        Action.SEND_AGAIN,
        message,
        actor,
        "requeued by a person",
        next_attempt_at=timezone.now(),
        claimed_at=None,
        claim_token="",
    )


def _outbox_body(body: str) -> str:
    """The text of an Outbox message as a member typed it, or ValueError saying what is wrong.
    A browser sends a text box's line breaks as CRLF: they are kept as the LF they were."""
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValueError("A message cannot be empty.")
    if len(body) > personalize.MAX_BODY:
        raise ValueError(f"A message has at most {personalize.MAX_BODY:,} characters.")
    return body


def outbox_edit(*, message: Message, body: str, actor) -> None:
    check_manageable_by(message.account, actor)
    if not _transition(Action.EDIT, message, actor, "edited", body=_outbox_body(body)):
        raise ValueError("This message is no longer in the Outbox.")


def outbox_skip(*, message: Message, actor) -> bool:
    return _transition(Action.SKIP, message, actor, "skipped in the Outbox")


def outbox_mark_sent(*, message: Message, actor, now=None, body: str | None = None) -> bool:
    """The member sent the prepared text by hand on LinkedIn and says so.

    `body` is the text they sent, as it stood in the Outbox's text box (which they may have
    edited without saving): it is saved with the confirmation in the same UPDATE, so the record
    is what went out. ValueError when it is empty or too long; nothing is written then."""
    check_manageable_by(message.account, actor)
    note = "sent by hand on LinkedIn"
    if body is not None:
        body = _outbox_body(body)
        if body != message.body:
            note = "sent by hand on LinkedIn, with the text edited in the Outbox"
    return message_mark_sent_by_hand(
        message.pk, actor=actor, at=now or timezone.now(), note=note, body=body
    )


def message_mark_sent_by_hand(pk: int, *, actor, at, note: str, body: str | None = None) -> bool:
    """An Outbox message went out by hand on LinkedIn at `at` (with `body`, when the member
    changed the text before sending): the member says so, or their messages export shows it.
    (The caller has checked the actor may act for its account.)"""
    values = {"sent_at": at, "claimed_at": at, "channel": Message.Channel.MANUAL}
    if body is not None:
        values["body"] = body
    changed = transitions.change(
        Action.MARK_SENT_BY_HAND, [pk], actor=actor, note=note, at=at, values=values
    )
    return bool(changed)


def _transition(action: Action, message: Message, actor, note: str, **values) -> bool:
    """A person's status change, on a message of an account they may manage: only from the
    action's source states, so a double click or a worker acting at the same moment cannot
    apply it twice."""
    check_manageable_by(message.account, actor)
    return bool(transitions.change(action, [message.pk], actor=actor, note=note, values=values))
