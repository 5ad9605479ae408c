"""Issuing and revoking personal API tokens: one place for the tokens page and the
`create_api_token` command, each act written to the audit log."""

import datetime

from django.db import transaction
from django.utils import timezone

from linkedin_crm import audit
from linkedin_crm.models import ApiToken


def api_token_create(
    *,
    owner,
    name: str,
    read_only: bool = False,
    expires_at: datetime.datetime | None = None,
    actor=None,
    via: str = audit.Via.PAGE,
) -> tuple[ApiToken, str]:
    """Make a token for `owner`; returns it with the secret, which is stored nowhere (only its
    hash is) and so can be shown this once."""
    name = name.strip()
    if not name:
        raise ValueError("Give the token a name, to tell later what uses it.")
    if len(name) > ApiToken.NAME_MAX_LENGTH:
        raise ValueError(f"A token's name has at most {ApiToken.NAME_MAX_LENGTH} characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry date must be in the future.")
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            owner=owner,
            name=name,
            prefix=raw[: ApiToken.PREFIX_LENGTH],
            token_hash=ApiToken.hash(raw),
            read_only=read_only,
            expires_at=expires_at,
        )
        audit.record(
            audit.Action.API_TOKEN_CREATE,
            actor=actor or owner,
            obj=token,
            via=via,
            detail={"owner": owner.get_username(), "read_only": read_only},
        )
    return token, raw


def api_token_revoke(*, token: ApiToken, actor, via: str = audit.Via.PAGE) -> bool:
    """Revoke `token` at once; False when it was revoked already. Conditional, so two clicks
    record one revocation."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not revoked:
            return False
        audit.record(
            audit.Action.API_TOKEN_REVOKE,
            actor=actor,
            obj=token,
            via=via,
            detail={"owner": token.owner.get_username()},
        )
    token.revoked_at = now
    return True
