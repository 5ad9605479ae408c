"""django-q2 entry points: take ids, re-fetch, call a service."""

from campaigns import services


def advance() -> dict:
    return services.campaigns_advance()
