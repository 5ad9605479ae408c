"""Wording shared by the pages, the admin and the commands."""

from django.utils.translation import ngettext


def counted(count: int, singular: str, plural: str) -> str:
    """ "1 contact", "2,000 contacts": a count with its noun in the right number, never
    "contact(s)" or "1 messages"."""
    return f"{count:,} {ngettext(singular, plural, count)}"
