"""Read LinkedIn's `messages.csv` export into a list of messages (docs/import-formats.md).

Pure Python: bytes in, a `ParsedMessages` out, no database. The reply importer matches the
conversations to contacts (by profile URL, or by name in the 2018 export); this module only
decides what the file says. It reads every `messages.csv` layout LinkedIn has shipped (the 2018
one of names and a DIRECTION, then with profile URLs, with or without `RECIPIENT PROFILE URLS`,
`IS MESSAGE DRAFT` and `ATTACHMENTS`) and the damage Excel does when a member re-saves it, and
it refuses files it cannot read with a `RejectedFile` whose message is shown to the user as is.
The CSV rules it shares with the Connections.csv reader are in contacts.csv_text.
"""

import csv
import datetime
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

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
    html_to_text,
    looks_like_html,
    parse_datetime,
    quote,
    split_line,
    unescape_entities,
)
from contacts.identity import canonical_profile_url

__all__ = [
    "ExportedMessage",
    "ParsedMessages",
    "RejectedFile",
    "direction",
    "message_text",
    "parse_message_date",
    "parse_messages",
]

EXPECTED_COLUMNS = (
    "CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER PROFILE URL, TO, RECIPIENT PROFILE URLS, "
    "DATE, SUBJECT, CONTENT, FOLDER"
)
CONNECTIONS_BY_MISTAKE = "This is a Connections.csv export; upload it on the Imports page."

# Header names, compared after dropping case, spaces and punctuation ("IS MESSAGE DRAFT" ->
# "ismessagedraft"), for the field they fill. DIRECTION is the 2018 export's: it had no profile
# URLs, and said instead whether the member sent or received each message.
_COLUMNS = ColumnNames(
    {
        "conversation_id": ("conversationid",),
        "title": ("conversationtitle",),
        "sender_name": ("from",),
        "sender_url": ("senderprofileurl",),
        "recipient_names": ("to",),
        "recipient_urls": ("recipientprofileurls", "recipientprofileurl"),
        "date": ("date",),
        "subject": ("subject",),
        "content": ("content",),
        "folder": ("folder",),
        "is_draft": ("ismessagedraft",),
        "attachments": ("attachments",),
        "direction": ("direction",),
    }
)
_OUTGOING = {"outgoing", "sent", "outbound", "out"}
_INCOMING = {"incoming", "received", "inbound", "in"}
# Connections.csv's own columns: three of them on a line and it is that export.
_CONNECTIONS_COLUMNS = {
    "firstname", "lastname", "url", "emailaddress", "company", "position", "connectedon",
}  # fmt: skip
_DELIMITERS = (",", ";", "\t")
HEADER_SCAN_LINES = 50
HEADER_SCAN_CHARS = 256 * 1024

# LinkedIn caps a message at 8,000 characters; a record far beyond that is a stray quote
# swallowing the rows after it. Re-reading those rows is bounded by a budget so that a file full
# of stray quotes costs linear time, not quadratic.
MAX_RECORD_CHARS = 64 * 1024

_DRAFT_VALUES = {"yes", "y", "true", "1"}
_DRAFT_FOLDERS = {"draft", "drafts"}


@dataclass(frozen=True)
class ExportedMessage:
    line: int  # the line of the file the row starts on
    conversation_id: str
    sender_name: str
    sender_url: str | None  # canonical profile URL, None if absent or not a profile
    recipient_names: str
    recipient_urls: tuple[str, ...]  # canonical; empty in older exports
    sent_at: datetime.datetime  # aware, UTC
    subject: str
    text: str  # CONTENT without HTML, whitespace collapsed, one "\n" between lines/paragraphs
    folder: str  # as given (INBOX, SENT, ARCHIVE, SPAM, …)
    is_draft: bool  # always False in ParsedMessages.messages: drafts are skipped
    # The 2018 export's DIRECTION: True if the member sent it, False if they received it; None
    # in the exports that have profile URLs instead.
    outgoing: bool | None = None


@dataclass
class ParsedMessages:
    messages: list[ExportedMessage] = field(default_factory=list)  # file order, newest first
    total_rows: int = 0  # data rows, blank lines not counted; == len(messages) + skipped
    # Rows left out: drafts, rows without a (readable) date or a sender, damaged rows. All but
    # the drafts are also in `problems`.
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    owner_url: str | None = None  # the exporting member, when it can be told
    has_recipient_urls: bool = False
    # The 2018 export (names and DIRECTION, no profile URLs): the member's name as it writes it.
    has_direction: bool = False
    owner_name: str = ""


def parse_messages(data: bytes, *, max_bytes: int = 50 * 1024 * 1024) -> ParsedMessages:
    """Parse the bytes of a messages.csv export; raise RejectedFile if it cannot be read."""
    text, _ = file_text(data, max_bytes=max_bytes, file_name="messages.csv")

    header = _find_header(text)
    columns = header.columns
    result = ParsedMessages(
        has_recipient_urls="recipient_urls" in columns, has_direction="direction" in columns
    )
    _read_rows(text, header.end, header.line, header.delimiter, len(header.cells), columns, result)
    result.owner_url = _infer_owner(result.messages)
    result.owner_name = _owner_name(result.messages)
    return result


def direction(message: ExportedMessage, owner_url: str) -> str:
    """Return "outbound" if the owner sent the message, else "inbound" (also when unknown).

    `owner_url` may be spelled any way; a message whose sender has no profile URL is inbound,
    unless the file said it was sent (the 2018 export's DIRECTION)."""
    if message.outgoing is not None:
        return "outbound" if message.outgoing else "inbound"
    owner = canonical_profile_url(owner_url) or owner_url
    return (
        "outbound" if message.sender_url is not None and message.sender_url == owner else "inbound"
    )


# --- Header ------------------------------------------------------------------------------------


def _find_header(text: str) -> Header:
    """Find the header row by its column names in the first lines (not by its line number),
    or say why there is none."""
    connections = False

    def look(line_no: int, line: str | None) -> None:
        nonlocal connections
        if not line or connections:
            return
        for delimiter in _DELIMITERS:
            keys = {header_key(cell) for cell in split_line(line, delimiter)}
            connections = connections or len(keys & _CONNECTIONS_COLUMNS) >= 3

    header = find_header(
        text,
        _COLUMNS,
        delimiters=_DELIMITERS,
        is_header=lambda cells, columns: len(columns) >= 3,
        max_lines=HEADER_SCAN_LINES,
        max_chars=HEADER_SCAN_CHARS,
        look=look,
    )
    if header is None:
        if connections:
            raise RejectedFile(CONNECTIONS_BY_MISTAKE)
        raise RejectedFile(
            "No header row found: messages.csv starts with a row naming its columns, "
            f"{EXPECTED_COLUMNS}."
        )
    mapping = header.columns
    missing = [
        label
        for label, present in (
            ("FROM or SENDER PROFILE URL", "sender_name" in mapping or "sender_url" in mapping),
            ("DATE", "date" in mapping),
            ("CONTENT", "content" in mapping),
        )
        if not present
    ]
    if missing:
        raise RejectedFile(
            f"The header row (line {header.line}) lacks {' and '.join(missing)}: "
            f"messages.csv needs the columns {EXPECTED_COLUMNS}."
        )
    return header


# --- Rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Where each field is in a row: a column index, or `width` (an always-empty padding cell)
    for the columns this file lacks."""

    delimiter: str
    width: int
    day_first: bool  # European Excel (the one that writes ";") puts the day first
    conversation_id: int
    sender_name: int
    sender_url: int
    recipient_names: int
    recipient_urls: int
    date: int
    subject: int
    content: int
    folder: int
    is_draft: int
    direction: int

    @classmethod
    def of(cls, delimiter: str, width: int, columns: dict[str, int]) -> "_Layout":
        where = {name: columns.get(name, width) for name in _LAYOUT_FIELDS}
        return cls(delimiter, width, delimiter == ";", **where)


_LAYOUT_FIELDS = (
    "conversation_id", "sender_name", "sender_url", "recipient_names", "recipient_urls", "date",
    "subject", "content", "folder", "is_draft", "direction",
)  # fmt: skip


def _read_rows(
    text: str,
    start: int,
    header_line: int,
    delimiter: str,
    width: int,
    columns: dict[str, int],
    result: ParsedMessages,
) -> None:
    layout = _Layout.of(delimiter, width, columns)
    lines = RecordLines(text, start, max_chars=MAX_RECORD_CHARS)
    reader = csv.reader(lines, delimiter=delimiter)
    reread_budget = 4 * (len(text) - start) + 1_000_000
    url = _url_reader()
    line = header_line + 1
    while True:
        lines.start_record()
        failure = ""
        try:
            cells = next(reader, None)
        except RecordTooLong:
            cells, failure = [], f"it is longer than {MAX_RECORD_CHARS:,} characters"
        except csv.Error as exc:
            cells, failure = [], f"it cannot be read as CSV ({exc})"
        broken = bool(failure)
        if cells is None:
            break
        span = len(lines.record)
        if not broken and not (cells and cells[0].strip()) and not "".join(cells).strip():
            line += span
            continue  # a blank line, or only delimiters
        result.total_rows += 1
        overflow = len(cells) > width and any(cell.strip() for cell in cells[width:])
        short = len(cells) < width
        if len(cells) <= width:
            cells += [""] * (width + 1 - len(cells))
        date_text = clean_cell(cells[layout.date])
        sent_at = parse_datetime(date_text, day_first=layout.day_first) if date_text else None
        if not broken and span > 1:
            broken = (
                overflow
                or short
                or bool(date_text and sent_at is None)
                or _looks_swallowed(cells, lines.record_lines(), layout)
            )
        if broken:
            # A stray quote swallowed the next lines into this record (or one line is absurdly
            # long): give up this line only and read the following ones afresh.
            if span > 1:
                _skip(result, line, "a quote opened on this line is never closed")
            else:
                _skip(result, line, failure)
            reread_budget -= lines.push_back_rest()
            if reread_budget < 0:
                result.problems.append(
                    (line + 1, "The rest of the file was not read: too many unbalanced quotes.")
                )
                break
            reader = csv.reader(lines, delimiter=delimiter)
            line += 1
            continue
        row_line, line = line, line + span
        if overflow:
            _skip(
                result,
                row_line,
                f"it has {len(cells)} values but the header has {width} columns "
                "(a comma in a value that is not quoted?)",
            )
            continue
        message = _make_message(row_line, cells, layout, date_text, sent_at, url, result)
        if message is not None:
            result.messages.append(message)


def _looks_swallowed(cells: list[str], record: list[str], layout: _Layout) -> bool:
    """Whether a record of several lines is rows joined by a stray quote rather than one
    message with line breaks in its text. Besides lacking values or having an unreadable date
    (checked by the caller): a line break where none belongs, or a continuation line that reads
    as a row of its own."""
    for index in (layout.conversation_id, layout.sender_url, layout.date, layout.folder,
                  layout.is_draft):  # fmt: skip
        if "\n" in cells[index] or "\r" in cells[index]:
            return True
    for text in record[1:]:
        if text.count(layout.delimiter) < layout.width - 1:
            continue  # too few delimiters to be a row: the common case, decided cheaply
        row = split_line(text, layout.delimiter)
        date = clean_cell(row[layout.date]) if layout.date < len(row) else ""
        if date and parse_datetime(date, day_first=layout.day_first) is not None:
            return True
    return False


def _skip(result: ParsedMessages, line: int, reason: str) -> None:
    result.skipped += 1
    result.problems.append((line, f"Row skipped: {reason}."))


def _make_message(
    line: int,
    cells: list[str],
    layout: _Layout,
    date_text: str,
    sent_at: datetime.datetime | None,
    url: Callable[[str], str | None],
    result: ParsedMessages,
) -> ExportedMessage | None:
    folder = clean_cell(cells[layout.folder])
    draft = cells[layout.is_draft].strip().lower()
    if draft in _DRAFT_VALUES or folder.lower() in _DRAFT_FOLDERS:
        result.skipped += 1  # never sent: not a message of the conversation
        return None
    sender_name = clean_cell(cells[layout.sender_name])
    raw_sender_url = cells[layout.sender_url].strip()
    sender_url = url(raw_sender_url) if raw_sender_url else None
    if not date_text:
        _skip(result, line, "no date")
        return None
    if not (sender_name or sender_url):
        _skip(result, line, "no sender (FROM and SENDER PROFILE URL are empty)")
        return None
    if sent_at is None:
        _skip(result, line, f"date {quote(date_text)} is not a date and time")
        return None
    outgoing = None
    if result.has_direction:
        outgoing = _outgoing(clean_cell(cells[layout.direction]), folder)
        if outgoing is None:
            reason = f"DIRECTION {quote(cells[layout.direction].strip())} is neither INCOMING"
            _skip(result, line, reason + " nor OUTGOING, and FOLDER is neither INBOX nor SENT")
            return None
    recipient_urls: list[str] = []
    raw_recipient_urls = cells[layout.recipient_urls]
    if raw_recipient_urls:
        for token in _URL_SEPARATORS.split(raw_recipient_urls):
            found = url(token) if token else None
            if found and found not in recipient_urls:
                recipient_urls.append(found)
    return ExportedMessage(
        line=line,
        conversation_id=clean_cell(cells[layout.conversation_id]),
        sender_name=sender_name,
        sender_url=sender_url,
        recipient_names=clean_cell(cells[layout.recipient_names]),
        recipient_urls=tuple(recipient_urls),
        sent_at=sent_at,
        subject=clean_cell(cells[layout.subject]),
        text=message_text(cells[layout.content]),
        folder=folder,
        is_draft=False,
        outgoing=outgoing,
    )


def _outgoing(direction: str, folder: str) -> bool | None:
    """Whether the member sent a message of the 2018 export, by its DIRECTION, else by its
    FOLDER; None if neither tells."""
    for value in (direction.lower(), folder.lower()):
        if value in _OUTGOING:
            return True
        if value in _INCOMING or value == "inbox":
            return False
    return None


_URL_SEPARATORS = re.compile(r"[\s,;]+")
# Already canonical (what LinkedIn writes): no need to take it apart.
_CANONICAL_URL = re.compile(r"https://www\.linkedin\.com/in/[a-z0-9_-]{1,200}")


def _url_reader() -> Callable[[str], str | None]:
    """canonical_profile_url with a cache: an export names the same few hundred people often."""
    cache: dict[str, str | None] = {}

    def read(value: str) -> str | None:
        if _CANONICAL_URL.fullmatch(value):
            return value
        try:
            return cache[value]
        except KeyError:
            pass
        found = canonical_profile_url(value)
        if found is not None and (len(found) > 500 or not found.isprintable()):
            found = None
        if len(cache) < 100_000:
            cache[value] = found
        return found

    return read


# --- Message text ------------------------------------------------------------------------------


def message_text(content: str) -> str:
    """CONTENT as plain text: HTML tags stripped (<br>, <p>, <div>, <li> become line breaks),
    entities unescaped, each line's whitespace collapsed, blank lines dropped, NFC.

    Line breaks in the raw text are kept too: LinkedIn's plain messages carry them as is.
    """
    if not content:
        return ""
    # Plain text may hold "R&D" and "Q&A": there only complete entities are unescaped.
    html = looks_like_html(content)
    content = html_to_text(content) if html else unescape_entities(content)
    if not content.isascii():
        content = unicodedata.normalize("NFC", content)
    return "\n".join(filter(None, [" ".join(line.split()) for line in content.splitlines()]))


# --- Dates -------------------------------------------------------------------------------------


def parse_message_date(text: str, *, day_first: bool = False) -> datetime.datetime | None:
    """Parse a DATE value into an aware UTC datetime; None if it is not a date (the rules:
    contacts.csv_text.parse_datetime)."""
    return parse_datetime(text, day_first=day_first)


# --- Owner -------------------------------------------------------------------------------------


def _infer_owner(messages: list[ExportedMessage]) -> str | None:
    """The profile URL found (as sender or recipient) in the most conversations: the exporting
    member is in all of them. None when no URL leads strictly (a tie, or no URL at all)."""
    seen: set[tuple[str, str]] = set()
    for message in messages:
        conversation = message.conversation_id or f"line {message.line}"
        if message.sender_url:
            seen.add((conversation, message.sender_url))
        for url in message.recipient_urls:
            seen.add((conversation, url))
    top = Counter(url for _, url in seen).most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def _owner_name(messages: list[ExportedMessage]) -> str:
    """The member's name in the 2018 export: the sender of their OUTGOING messages, else the
    recipient of their INCOMING ones, the most frequent spelling; "" when there is none."""
    names = Counter(m.sender_name for m in messages if m.outgoing is True and m.sender_name)
    if not names:
        names = Counter(
            m.recipient_names for m in messages if m.outgoing is False and m.recipient_names
        )
    return names.most_common(1)[0][0] if names else ""
