"""Read a LinkedIn `Connections.csv` export into a clean table (docs/import-formats.md).

Pure Python: bytes in, a `ParsedExport` out, no database. The importer maps the rows onto
contacts; this module only decides what the file says. It accepts every export format LinkedIn
has shipped since 2012 and the damage Excel does when a member re-saves the file, and it refuses
files it cannot map safely with a `RejectedFile` whose message is shown to the user as is.
"""

import csv
import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.csv_bytes import (
    RecordLines,
    RecordTooLong,
    RejectedFile,
    decode,
    is_blank,
    line_spans,
    reject_binary,
)
from contacts.identity import canonical_profile_url, fold

FIELDS = ("first_name", "last_name", "profile_url", "email", "company", "position", "connected_on")
EXPECTED_COLUMNS = "First Name, Last Name, URL, Email Address, Company, Position, Connected On"

# Header names as they appear in LinkedIn's exports, Outlook's and hand-edited files, compared
# after dropping case, spaces and punctuation ("E-mail Address" -> "emailaddress"). Earlier
# aliases win: the Outlook export has both "Job Title" and "Title", and there "Title" is the
# honorific ("Mrs."), not the position.
_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "profile_url": ("url", "profileurl", "linkedinurl", "linkedinprofileurl", "publicprofileurl",
                    "linkedinprofile", "profile"),
    "email": ("emailaddress", "email", "mailaddress", "mail"),
    "company": ("company", "companyname", "organization", "organisation", "employer"),
    "position": ("position", "jobtitle", "title", "role"),
    "connected_on": ("connectedon", "connected", "connectiondate", "dateconnected", "connectedat"),
}  # fmt: skip
_ALIAS_RANK = {
    alias: (name, rank) for name, aliases in _ALIASES.items() for rank, alias in enumerate(aliases)
}
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_BLANK = re.compile(r"\S")

# The sizes of the Contact columns: longer values are cut here rather than failing on PostgreSQL.
FIELD_LIMITS = {"first_name": 200, "last_name": 200, "company": 200, "position": 300}
MAX_URL_LENGTH = 500
MAX_EMAIL_LENGTH = 254

HEADER_SCAN_LINES = 50
# A record may legitimately span a few lines (Alt+Enter in an Excel cell); more than this means
# a stray quote swallowed the following rows.
MAX_RECORD_LINES = 3
# No export row comes near this, Outlook's 90 columns included. A longer record is given up
# before csv splits it: a line of commas would become one cell per byte.
MAX_RECORD_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")

# Control characters left in decoded text (C0 and C1, and stray BOMs from concatenated files):
# invisible, and PostgreSQL refuses NUL in text columns.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ConnectionRow:
    line: int
    first_name: str
    last_name: str
    profile_url: str | None
    email: str
    company: str
    position: str
    connected_on: datetime.date | None


@dataclass
class RowProblem:
    line: int
    message: str


@dataclass
class ParsedExport:
    rows: list[ConnectionRow] = field(default_factory=list)
    total_rows: int = 0
    skipped_empty: int = 0
    duplicates_in_file: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    invalid: int = 0
    columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    format: str = "other"


def parse_connections(data: bytes, *, max_bytes: int = 20 * 1024 * 1024) -> ParsedExport:
    """Parse the bytes of a Connections.csv export; raise RejectedFile if it cannot be imported."""
    if len(data) > max_bytes:
        raise RejectedFile(
            f"This file is {len(data) / 2**20:.1f} MB, over the {max_bytes / 2**20:.3g} MB limit."
        )
    if is_blank(data):
        raise RejectedFile("The file is empty.")
    reject_binary(data, file_name="Connections.csv")
    text, encoding = decode(data)
    if _CONTROL_CHARS.search(text):
        text = _CONTROL_CHARS.sub("", text)
    if is_blank(text):
        raise RejectedFile("The file is empty.")

    header_line, delimiter, header, body_start = _find_header(text)
    mapping = _map_columns(header)
    if "first_name" not in mapping and "last_name" not in mapping and "profile_url" not in mapping:
        raise RejectedFile(
            f"The header row (line {header_line}) has no name or profile URL column, so contacts "
            "cannot be told apart: keep at least First Name, Last Name or URL."
        )
    result = ParsedExport(
        columns=[name for name in FIELDS if name in mapping],
        encoding=encoding,
        delimiter=delimiter,
    )
    first_date = _read_rows(text, body_start, header_line, len(header), mapping, result)
    if result.total_rows == 0:
        raise RejectedFile(f"The file has a header row (line {header_line}) but no connections.")
    result.format = _format_label(header, mapping, header_line, first_date)
    return result


def parse_linkedin_date(text: str) -> datetime.date | None:
    """Parse a `Connected On` value in any format LinkedIn or Excel writes; None if it is not one.

    Month names are English whatever the member's language. An all-numeric date with slashes is
    read month first (`1/8/18` is 8 January 2018), as LinkedIn's early-2018 export and US Excel
    write it, unless the first number cannot be a month (`13/06/2022`). Dotted dates are day
    first (`16.09.2021`, European Excel). Two-digit years are 20yy: LinkedIn started in 2003.
    """
    return _parse_date(" ".join(text.split()).lower())


def unescape_formula(value: str) -> str:
    """Undo the spreadsheet-formula escaping of our own CSV export: `'=SUM(1)` -> `=SUM(1)`."""
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
        return value[1:]
    return value


# --- Bytes to text -----------------------------------------------------------------------------


# --- Header ------------------------------------------------------------------------------------


def _header_key(cell: str) -> str:
    return _NOT_WORD.sub("", cell.casefold())


def _map_columns(header: list[str]) -> dict[str, int]:
    """Canonical field -> column index, keeping the best-ranked alias of each field."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(header):
        found = _ALIAS_RANK.get(_header_key(cell))
        if found:
            name, rank = found
            if name not in best or rank < best[name][0]:
                best[name] = (rank, index)
    return {name: index for name, (rank, index) in best.items()}


def _split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _find_header(text: str) -> tuple[int, str, list[str], int]:
    """Find the header row by its column names in the first lines; return its line number,
    the delimiter, its cells and where the rows start in the text.

    The preamble has changed over the years (none, a note, blank lines, `Notes:,,` padded by
    Excel), so neither its wording nor the header's line number is trusted.
    """
    spans = line_spans(text)
    best: tuple[int, int, str, list[str], int] | None = None  # score, line, delimiter, cells, end
    non_blank = 0
    only_notes = True  # a preamble-only file: up to three lines of one cell each
    for line_no in range(1, HEADER_SCAN_LINES + 1):
        span = next(spans, None)
        if span is None:
            break
        start, end = span
        if not _NOT_BLANK.search(text, start, end):
            continue
        non_blank += 1
        if end - start > 4096:
            only_notes = False  # no header or note is that long (nor taken out of the text)
            continue
        line = text[start:end]
        filled = [cell for cell in _split_line(line, ",") if cell.strip()]
        only_notes = only_notes and non_blank <= 3 and len(filled) <= 1
        for delimiter in _DELIMITERS:
            cells = _split_line(line, delimiter)
            mapping = _map_columns(cells)
            # One known column is enough only when it is the whole line (a one-column file).
            whole_line = sum(1 for cell in cells if cell.strip()) == 1
            is_header = len(mapping) >= 2 or (mapping and whole_line)
            if is_header and (best is None or len(mapping) > best[0]):
                best = (len(mapping), line_no, delimiter, cells, end)
    if best is None:
        after = next(spans, None)
        if only_notes and (after is None or not _NOT_BLANK.search(text, *after)):
            raise RejectedFile("The file holds no connections: only a note, no header or rows.")
        raise RejectedFile(
            "No header row found: the file needs a row naming its columns, as in LinkedIn's "
            f"Connections.csv: {EXPECTED_COLUMNS}."
        )
    _, line_no, delimiter, cells, end = best
    return line_no, delimiter, cells, end


def _format_label(
    header: list[str], mapping: dict[str, int], header_line: int, first_date: str
) -> str:
    """Name the LinkedIn export a header comes from; "other" once columns were deleted."""
    found = set(mapping)
    if "connected_on" not in found:
        return "outlook" if len(header) >= 30 else "other"
    if found == set(FIELDS):
        return "current"
    if found != set(FIELDS) - {"profile_url"}:
        return "other"
    extras = {_header_key(cell) for cell in header} & {"websites", "instantmessengers"}
    if extras or _US_DATE.fullmatch(first_date.lower()):
        return "2018"
    return "2021" if header_line > 1 else "2019"


# --- Rows --------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    """Trim, collapse whitespace runs (tabs, NBSP, line breaks) to one space, NFC-normalise."""
    if not value:
        return value
    if value[0] == "'":
        value = unescape_formula(value)
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return " ".join(value.split())


def _quote(value: str) -> str:
    return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'


def _profile_url(value: str) -> str | None:
    url = canonical_profile_url(value)
    # A percent-encoded control character or broken UTF-8 (%00, %FF) is no slug.
    if url is None or len(url) > MAX_URL_LENGTH or "\ufffd" in url or not url.isprintable():
        return None
    # A slug that decodes to "?", "#" or "%" would read back as another profile: refuse it.
    if ("?" in url or "#" in url or "%" in url) and canonical_profile_url(url) != url:
        return None
    return url


def _email(value: str) -> str:
    email = value.lower()
    if len(email) > MAX_EMAIL_LENGTH or "." not in email.rpartition("@")[2]:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


def _read_rows(
    text: str,
    start: int,
    header_line: int,
    width: int,
    mapping: dict[str, int],
    result: ParsedExport,
) -> str:
    """Fill result with the data rows, read from `start` in the text; return the first non-empty
    date text (for the label)."""
    columns = [(name, mapping.get(name)) for name in FIELDS]
    rows: list[ConnectionRow] = []
    first_date = ""
    lines = RecordLines(text, start, max_chars=MAX_RECORD_CHARS, max_lines=MAX_RECORD_LINES)
    reader = csv.reader(lines, delimiter=result.delimiter)
    line = header_line + 1
    while True:
        lines.start_record()
        too_long = broken = False
        try:
            cells = next(reader, None)
        except RecordTooLong:
            cells, too_long = [], True
        except csv.Error:
            cells, broken = [], True
        if cells is None:
            break
        span = len(lines.record)
        if too_long and span == 1:
            # One line longer than any row, never split: an invalid row, or a blank line if it
            # holds only whitespace.
            if _NOT_BLANK.search(text, *lines.record[0]):
                result.total_rows += 1
                _reject_row(result, line, f"it is longer than {MAX_RECORD_CHARS:,} characters")
            reader = csv.reader(lines, delimiter=result.delimiter)
            line += 1
            continue
        if not (too_long or broken) and len(cells) <= 1 and not (cells and cells[0].strip()):
            line += span
            continue  # a blank line
        result.total_rows += 1
        overflow = len(cells) > width and any(cell.strip() for cell in cells[width:])
        if too_long or broken or (span > 1 and overflow):
            # A stray quote swallowed the next lines into this record: give up this line only
            # and read the following ones afresh.
            _reject_row(result, line, "a quote opened on this line is never closed")
            lines.push_back_rest()
            reader = csv.reader(lines, delimiter=result.delimiter)
            line += 1
            continue
        row_line, line = line, line + span
        if overflow:
            reason = f"it has {len(cells)} values but the header has {width} columns"
            _reject_row(result, row_line, reason + " (a comma in a value that is not quoted?)")
            continue
        values = {
            name: _clean(cells[index]) if index is not None and index < len(cells) else ""
            for name, index in columns
        }
        row = _make_row(row_line, values, result)
        if row is not None:
            rows.append(row)
            first_date = first_date or values["connected_on"]
    result.rows, result.duplicates_in_file = _dedupe(rows)
    return first_date


def _reject_row(result: ParsedExport, line: int, reason: str) -> None:
    result.invalid += 1
    result.problems.append(RowProblem(line, f"Row skipped: {reason}."))


def _make_row(line: int, values: dict[str, str], result: ParsedExport) -> ConnectionRow | None:
    """Validate one row's values; None if it is a ghost or has nothing that identifies a person."""
    if not (
        values["first_name"] or values["last_name"] or values["profile_url"] or values["email"]
    ):
        # Ghost rows (`,,,,,,02 Jun 2022`, or only commas) name nobody: skip and count them.
        result.skipped_empty += 1
        return None
    reasons = []
    url = None
    if values["profile_url"]:
        url = _profile_url(values["profile_url"])
        if url is None:
            reasons.append(
                f"profile URL {_quote(values['profile_url'])} is not a LinkedIn profile address"
            )
    email = ""
    if values["email"]:
        email = _email(values["email"])
        if not email:
            reasons.append(f"e-mail {_quote(values['email'])} is not an e-mail address")
    connected_on = None
    if values["connected_on"]:
        connected_on = _parse_date(values["connected_on"].lower())
        if connected_on is None:
            reasons.append(f"date {_quote(values['connected_on'])} is not a date")
    if not (values["first_name"] or values["last_name"] or url or email):
        _reject_row(result, line, "no name, and " + "; ".join(reasons))
        return None
    for reason in reasons:
        result.problems.append(
            RowProblem(line, f"{reason[0].upper()}{reason[1:]}; imported without it")
        )
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            values[name] = values[name][:limit].rstrip()
            label = name.replace("_", " ").capitalize()
            result.problems.append(RowProblem(line, f"{label} cut to {limit} characters"))
    first, last, company, position = (
        values[name] for name in ("first_name", "last_name", "company", "position")
    )
    return ConnectionRow(line, first, last, url, email, company, position, connected_on)


def _dedupe(rows: list[ConnectionRow]) -> tuple[list[ConnectionRow], int]:
    """Merge rows of the same person by the identity rules (docs/import-formats.md); the first
    occurrence wins.

    Two rows with different profile URLs, or different e-mails, are never one person. A row with
    a URL falls back to e-mail, then name + company, only among rows that have no URL.
    """
    kept: list[ConnectionRow] = []
    by_url: dict[str, ConnectionRow] = {}
    by_email: dict[str, list[ConnectionRow]] = {}
    by_name: dict[tuple[str, str, str], list[ConnectionRow]] = {}
    duplicates = 0

    def name_key(row: ConnectionRow) -> tuple[str, str, str] | None:
        if not (row.first_name or row.last_name):
            return None
        return fold(row.first_name), fold(row.last_name), fold(row.company)

    def compatible(row: ConnectionRow, other: ConnectionRow) -> bool:
        if row.profile_url and other.profile_url:
            return False  # different URLs (equal ones were matched first)
        return not (row.email and other.email and row.email != other.email)

    def index(row: ConnectionRow, key: tuple[str, str, str] | None) -> None:
        if row.profile_url:
            by_url.setdefault(row.profile_url, row)
        if row.email:
            _add(by_email.setdefault(row.email, []), row)
        if key:
            _add(by_name.setdefault(key, []), row)

    for row in rows:
        target = by_url.get(row.profile_url) if row.profile_url else None
        if target is None and row.email:
            target = next((o for o in by_email.get(row.email, []) if compatible(row, o)), None)
        key = name_key(row)
        if target is None and key:
            target = next((o for o in by_name.get(key, []) if compatible(row, o)), None)
        if target is None:
            kept.append(row)
            index(row, key)
            continue
        duplicates += 1
        filled = [name for name in FIELDS if not getattr(target, name) and getattr(row, name)]
        for name in filled:
            setattr(target, name, getattr(row, name))
        if filled:
            index(target, name_key(target))  # now findable by its new URL, e-mail or company
    return kept, duplicates


def _add(bucket: list[ConnectionRow], row: ConnectionRow) -> None:
    if not any(other is row for other in bucket):
        bucket.append(row)


# --- Dates -------------------------------------------------------------------------------------

# The month names LinkedIn and spreadsheets write in exported dates, in full and lower case to
# match any abbreviation of them: a fact of the format, apart from linkedin_crm.dates, which
# holds how this app shows a date.
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_TIME = (
    r"(?:[ ,t]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)? ?(?:[ap]\.?m\.?)? ?(?:utc|gmt|z)?)?"
)
_YEAR = r"([0-9]{4}|[0-9]{2})"
_DAY_MONTH_NAME = re.compile(rf"([0-9]{{1,2}})[ ./-]?([a-z]{{3,9}})\.?[ ./,-]*{_YEAR}{_TIME}")
_MONTH_NAME_DAY = re.compile(
    rf"([a-z]{{3,9}})\.? ?([0-9]{{1,2}})(?:st|nd|rd|th)?,? ?([0-9]{{4}}){_TIME}"
)
_US_DATE = re.compile(rf"([0-9]{{1,2}})/([0-9]{{1,2}})/{_YEAR}{_TIME}")
_DOTTED_DATE = re.compile(rf"([0-9]{{1,2}})\.([0-9]{{1,2}})\.{_YEAR}{_TIME}")
_ISO_DATE = re.compile(rf"([0-9]{{4}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{1,2}}){_TIME}")


def _month(word: str) -> int | None:
    # "jan", "janu", "january" and "sept" all name a month; "jane" does not.
    for number, name in enumerate(_MONTH_NAMES, 1):
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def _date(year: str, month: int | None, day: str) -> datetime.date | None:
    number = int(year)
    number += 2000 if len(year) == 2 else 0
    if month is None or not 1900 <= number <= 2100:
        return None
    try:
        return datetime.date(number, month, int(day))
    except ValueError:
        return None


def _parse_date(text: str) -> datetime.date | None:
    """Parse lower-cased, whitespace-collapsed date text."""
    # No date format is longer than this; the bound also keeps junk out of the cache.
    return _parse_short_date(text) if 0 < len(text) <= 64 else None


@lru_cache(maxsize=4096)  # an export holds a few thousand distinct dates at most
def _parse_short_date(text: str) -> datetime.date | None:
    if match := _DAY_MONTH_NAME.fullmatch(text):
        day, word, year = match.groups()
        return _date(year, _month(word), day)
    if match := _MONTH_NAME_DAY.fullmatch(text):
        word, day, year = match.groups()
        return _date(year, _month(word), day)
    if match := _US_DATE.fullmatch(text):
        first, second, year = int(match[1]), int(match[2]), match[3]
        if first > 12 >= second:
            first, second = second, first  # 13/06/2022 can only be day first
        return _date(year, first, str(second))
    if match := _DOTTED_DATE.fullmatch(text):
        day, month, year = match.groups()
        return _date(year, int(month), day)
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
        return _date(year, int(month), day)
    return None
