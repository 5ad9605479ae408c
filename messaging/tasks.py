"""django-q2 entry points: take ids, re-fetch, call a service."""

from typing import Any

from messaging import dispatch as dispatcher
from messaging import services


def check_account_expiry() -> dict[str, int]:
    return services.accounts_check_expiry()


def dispatch() -> dict[str, Any]:
    return dispatcher.dispatch_tick().as_dict()


def reap() -> int:
    return dispatcher.reap_stuck_sends()
