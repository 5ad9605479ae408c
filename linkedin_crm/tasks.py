"""django-q2 entry points of the project package."""

from linkedin_crm import webhooks


def deliver_webhooks() -> dict:
    """Queued after every commit that wrote webhook events, and run every minute as the sweep
    that delivers retries and whatever a lost task or a killed worker left."""
    return webhooks.deliver_due().as_dict()


def prune_webhook_events() -> int:
    return webhooks.events_prune()
