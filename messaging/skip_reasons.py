"""Why a contact cannot get a message: the one place these sentences are written.

The compose page lists them for the recipients it leaves out (services.skip_reason()); a
campaign's dry run shows them and its launch stores them on the skipped enrollments
(Enrollment.skip_reason, so a sentence changed here is not changed in campaigns launched
before). Each is a lower-case phrase that reads after "Skipped: " or "Not queued: "."""

DO_NOT_CONTACT = "do-not-contact"
NO_WAY_TO_MESSAGE = "no way to message"
# The compose page says what is missing; a campaign's dry run, one row a contact, does not.
NO_WAY_TO_MESSAGE_DETAILED = f"{NO_WAY_TO_MESSAGE} (no profile URL or member URN)"
OPEN_FROM_SENDER = "already has a queued message from this sender"
IN_ANOTHER_CAMPAIGN = "already in another running campaign"
NO_SENDER = "no sender is connected to this contact"


def messaged_recently(days: int) -> str:
    """The campaigns' cool-off (settings.CAMPAIGN_COOL_OFF_DAYS)."""
    return f"messaged in the last {days} days"
