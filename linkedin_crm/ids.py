"""Record ids from untrusted text (query strings, hidden fields)."""

from collections.abc import Iterable

# The largest id a database column can hold (a signed 64-bit integer): a larger number in a
# query stops SQLite with an OverflowError, not a "no such record".
MAX_ID = 2**63 - 1


def parse_ids(values: Iterable[str]) -> list[int]:
    """The ids among `values`, in order; anything else is left out. ASCII digits only:
    "²".isdigit() is true, and int("²") fails."""
    ids = []
    for value in values:
        value = value.strip()
        if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
            ids.append(int(value))
    return ids
