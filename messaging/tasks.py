"""django-q2 entry points: take ids, re-fetch, call a service."""

from messaging import services


def check_account_expiry() -> dict:
    return services.accounts_check_expiry()
