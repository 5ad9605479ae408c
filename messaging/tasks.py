"""django-q2 entry points: take ids, re-fetch, call a service."""

import datetime
from typing import Any

from messaging import dispatch as dispatcher
from messaging import fan_out, services


def check_account_expiry() -> dict[str, int]:
    return services.accounts_check_expiry()


def dispatch() -> dict[str, Any]:
    """The scheduled tick: one `dispatch_turn` task per account with due messages."""
    return fan_out.dispatch_fan_out()


def dispatch_turn(account_id: int, enqueued_at: datetime.datetime) -> dict[str, Any]:
    return fan_out.dispatch_turn(account_id, enqueued_at)


def reap() -> int:
    return dispatcher.reap_stuck_sends()
