"""The identity rules of a contact (docs/import-formats.md, "identity").

A LinkedIn profile URL is the natural key of a person. Exports and copy-pasted links spell the
same profile many ways (country hosts, `http`, query strings, trailing slashes, percent-encoded
slugs), so every URL is reduced to one canonical form before it is stored or compared.
"""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

CANONICAL_PREFIX = "https://www.linkedin.com/in/"

# linkedin.com, www.linkedin.com and country hosts such as uk.linkedin.com or de.linkedin.com
# all serve the same profile.
_LINKEDIN_HOST = re.compile(r"(?:[a-z]{2,3}\.|www\.|m\.)?linkedin\.com")
_NOT_IN_SLUG = set("/?#%\\\ufffd")


# The form nearly every export row already has: a fast path for 30,000-row imports.
_ALREADY_CANONICAL = re.compile(r"https://www\.linkedin\.com/in/([a-z0-9_-]+)/?")


def canonical_profile_url(value: str | None) -> str | None:
    """Return the canonical form of a LinkedIn profile URL, or None if it is not one.

    Canonical: https, host www.linkedin.com, path /in/<slug> with the slug percent-decoded and
    lower-cased, no query, fragment or trailing slash.
    """
    if not value:
        return None
    simple = _ALREADY_CANONICAL.fullmatch(value)
    if simple:
        return CANONICAL_PREFIX + simple.group(1)
    text = value.strip()
    if not text:
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower()
    if not _LINKEDIN_HOST.fullmatch(host) or parts.username or parts.password:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0].lower() != "in":
        return None
    slug = unicodedata.normalize("NFC", unquote(segments[1])).strip().lower()
    # Decoded characters that would change the URL's meaning when read again (so the result
    # would not be canonical) or that no real slug holds: separators, controls, bad bytes.
    if not slug or not slug.isprintable() or any(ch in _NOT_IN_SLUG or ch.isspace() for ch in slug):
        return None
    return CANONICAL_PREFIX + slug


def fold(value: str | None) -> str:
    """Unicode case-folded, NFC-normalised, whitespace-collapsed text for identity and tag
    name matching (accents count there: "Müller" and "Muller" may be two people; search, which
    ignores them, reduces text with linkedin_crm.search instead).

    SQLite's LIKE folds ASCII only, so these comparisons run on text folded here, in Python,
    the same way on every database.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value).casefold()
    return " ".join(text.split())


def fold_name(value: str | None) -> str:
    """fold() without accents, for matching a person by name alone: exports and hand-typed
    names spell "Zoë Müller" as "Zoe Muller" too."""
    text = unicodedata.normalize("NFKD", fold(value))
    return "".join(char for char in text if not unicodedata.combining(char))


def name_key(first_name: str | None, last_name: str | None, company: str | None) -> str:
    """The last identity rule: first + last name + company, trimmed and case-folded.

    Empty when there is no name at all: a key of only a company would join strangers.
    """
    first, last = fold(first_name), fold(last_name)
    if not first and not last:
        return ""
    return f"{first}|{last}|{fold(company)}"
