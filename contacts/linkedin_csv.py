"""Read a LinkedIn `Connections.csv` export into a clean table (docs/import-formats.md).

Pure Python: bytes in, a `ParsedExport` out, no database. The importer maps the rows onto
contacts; this module only decides what the file says. It accepts every export format LinkedIn
has shipped since 2012 and the damage Excel does when a member re-saves the file, and it refuses
files it cannot map safely with a `RejectedFile` whose message is shown to the user as is.
"""

import csv
import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.csv_text import (
    ColumnNames,
    Header,
    RecordLines,
    RecordTooLong,
    RejectedFile,
    clean_cell,
    file_text,
    find_header,
    header_key,
    line_spans,
    parse_date,
    quote,
    split_line,
    unescape_formula,
)
from contacts.identity import canonical_profile_url, fold

__all__ = [
    "ConnectionRow",
    "ParsedExport",
    "RejectedFile",
    "RowProblem",
    "parse_connections",
    "parse_linkedin_date",
    "unescape_formula",
]

FIELDS = ("first_name", "last_name", "profile_url", "email", "company", "position", "connected_on")
EXPECTED_COLUMNS = "First Name, Last Name, URL, Email Address, Company, Position, Connected On"

# Header names as they appear in LinkedIn's exports, Outlook's and hand-edited files, compared
# after dropping case, spaces and punctuation ("E-mail Address" -> "emailaddress"). Earlier
# aliases win: the Outlook export has both "Job Title" and "Title", and there "Title" is the
# honorific ("Mrs."), not the position.
_COLUMN_NAMES = ColumnNames({
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "profile_url": ("url", "profileurl", "linkedinurl", "linkedinprofileurl", "publicprofileurl",
                    "linkedinprofile", "profile"),
    "email": ("emailaddress", "email", "mailaddress", "mail"),
    "company": ("company", "companyname", "organization", "organisation", "employer"),
    "position": ("position", "jobtitle", "title", "role"),
    "connected_on": ("connectedon", "connected", "connectiondate", "dateconnected", "connectedat"),
})  # fmt: skip
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
# The early-2018 export wrote `1/8/18, 6:14 PM`: a slashed, month-first date.
_SLASHED_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}")


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
    text, encoding, found, mapping = _read_header(data, max_bytes=max_bytes)
    header_line, delimiter, header = found.line, found.delimiter, found.cells
    result = ParsedExport(
        columns=[name for name in FIELDS if name in mapping],
        encoding=encoding,
        delimiter=delimiter,
    )
    first_date = _read_rows(text, found.end, header_line, len(header), mapping, result)
    if result.total_rows == 0:
        raise RejectedFile(f"The file has a header row (line {header_line}) but no connections.")
    result.format = _format_label(header, mapping, header_line, first_date)
    return result


def check_connections_file(data: bytes, *, max_bytes: int = 20 * 1024 * 1024) -> None:
    """Raise RejectedFile for a file that is not a Connections.csv at all (too large, empty,
    binary, no usable header), reading no row: quick enough for the upload request, so that
    a wrong file is refused on the form at once while the worker reads the rows."""
    _read_header(data, max_bytes=max_bytes)


def _read_header(data: bytes, *, max_bytes: int) -> tuple[str, str, Header, dict[str, int]]:
    text, encoding = file_text(data, max_bytes=max_bytes, file_name="Connections.csv")

    found = _find_header(text)
    header_line, mapping = found.line, found.columns
    if "first_name" not in mapping and "last_name" not in mapping and "profile_url" not in mapping:
        raise RejectedFile(
            f"The header row (line {header_line}) has no name or profile URL column, so contacts "
            "cannot be told apart: keep at least First Name, Last Name or URL."
        )
    return text, encoding, found, mapping


def parse_linkedin_date(text: str) -> datetime.date | None:
    """Parse a `Connected On` value in any format LinkedIn or Excel writes; None if it is not one
    (the rules: contacts.csv_text.parse_date)."""
    return parse_date(text)


# --- Header ------------------------------------------------------------------------------------


def _find_header(text: str) -> Header:
    """Find the header row by its column names in the first lines, or say why there is none."""
    non_blank = 0
    only_notes = True  # a preamble-only file: up to three lines of one cell each

    def look(line_no: int, line: str | None) -> None:
        nonlocal non_blank, only_notes
        non_blank += 1
        one_cell = line is not None and sum(1 for c in split_line(line, ",") if c.strip()) <= 1
        only_notes = only_notes and non_blank <= 3 and one_cell

    def is_header(cells: list[str], columns: dict[str, int]) -> bool:
        # One known column is enough only when it is the whole line (a one-column file).
        whole_line = sum(1 for cell in cells if cell.strip()) == 1
        return len(columns) >= 2 or (bool(columns) and whole_line)

    header = find_header(
        text,
        _COLUMN_NAMES,
        delimiters=_DELIMITERS,
        is_header=is_header,
        max_lines=HEADER_SCAN_LINES,
        look=look,
    )
    if header is None:
        if only_notes and not _filled_line_after(text, HEADER_SCAN_LINES):
            raise RejectedFile("The file holds no connections: only a note, no header or rows.")
        raise RejectedFile(
            "No header row found: the file needs a row naming its columns, as in LinkedIn's "
            f"Connections.csv: {EXPECTED_COLUMNS}."
        )
    return header


def _filled_line_after(text: str, scanned: int) -> bool:
    """Whether the line after the first `scanned` lines holds anything."""
    spans = line_spans(text)
    for _ in range(scanned):
        if next(spans, None) is None:
            return False
    after = next(spans, None)
    return after is not None and bool(_NOT_BLANK.search(text, *after))


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
    extras = {header_key(cell) for cell in header} & {"websites", "instantmessengers"}
    if extras or _SLASHED_DATE.match(first_date):
        return "2018"
    return "2021" if header_line > 1 else "2019"


# --- Rows --------------------------------------------------------------------------------------


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
            name: clean_cell(cells[index], our_export=True)
            if index is not None and index < len(cells)
            else ""
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
                f"profile URL {quote(values['profile_url'])} is not a LinkedIn profile address"
            )
    email = ""
    if values["email"]:
        email = _email(values["email"])
        if not email:
            reasons.append(f"e-mail {quote(values['email'])} is not an e-mail address")
    connected_on = None
    if values["connected_on"]:
        connected_on = parse_date(values["connected_on"])
        if connected_on is None:
            reasons.append(f"date {quote(values['connected_on'])} is not a date")
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
