"""Writes on LinkedIn accounts shared by the pages, the commands and the worker."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contacts.models import Network
from messaging.linkedin import AuthError, LinkedInClient, LinkedInError, client_from_settings
from messaging.models import LinkedInAccount

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
    the others "needs reconnect" a week before they expire (DESIGN §2)."""
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


def account_pause(*, account: LinkedInAccount) -> None:
    if account.status == LinkedInAccount.Status.ACTIVE:
        account.status = LinkedInAccount.Status.PAUSED
        account.save(update_fields=["status"])


def account_resume(*, account: LinkedInAccount) -> None:
    if account.status == LinkedInAccount.Status.PAUSED:
        account.status = LinkedInAccount.Status.ACTIVE
        account.save(update_fields=["status"])


def account_disconnect(*, account: LinkedInAccount) -> None:
    """Forget the tokens; the account stays listed (its history matters) as disconnected."""
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


def _needs_reconnect(account: LinkedInAccount, reason: str) -> tuple[bool, str]:
    account.status = LinkedInAccount.Status.NEEDS_RECONNECT
    account.last_error = reason[:500]
    account.save(update_fields=["status", "last_error"])
    return False, reason
