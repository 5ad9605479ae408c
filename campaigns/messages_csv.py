"""Read LinkedIn's `messages.csv` export into a list of messages (docs/campaigns.md).

Pure Python: bytes in, a `ParsedMessages` out, no database. The reply importer matches the
conversations to contacts by profile URL; this module only decides what the file says. It reads
every `messages.csv` layout LinkedIn has shipped (with or without `RECIPIENT PROFILE URLS`,
`IS MESSAGE DRAFT` and `ATTACHMENTS`) and the damage Excel does when a member re-saves it, and it
refuses files it cannot read with a `RejectedFile` whose message is shown to the user as is.
"""

import csv
import datetime
import html
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from contacts.csv_bytes import (
    RecordLines,
    RecordTooLong,
    RejectedFile,
    decode,
    is_blank,
    reject_binary,
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
# "ismessagedraft"), mapped to the field they fill.
_COLUMNS = {
    "conversationid": "conversation_id",
    "conversationtitle": "title",
    "from": "sender_name",
    "senderprofileurl": "sender_url",
    "to": "recipient_names",
    "recipientprofileurls": "recipient_urls",
    "recipientprofileurl": "recipient_urls",
    "date": "date",
    "subject": "subject",
    "content": "content",
    "folder": "folder",
    "ismessagedraft": "is_draft",
    "attachments": "attachments",
}
# Connections.csv's own columns: three of them on a line and it is that export.
_CONNECTIONS_COLUMNS = {
    "firstname", "lastname", "url", "emailaddress", "company", "position", "connectedon",
}  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+")
_DELIMITERS = (",", ";", "\t")
HEADER_SCAN_LINES = 50
HEADER_SCAN_CHARS = 256 * 1024

# LinkedIn caps a message at 8,000 characters; a record far beyond that is a stray quote
# swallowing the rows after it. Re-reading those rows is bounded by a budget so that a file full
# of stray quotes costs linear time, not quadratic.
MAX_RECORD_CHARS = 64 * 1024

_DRAFT_VALUES = {"yes", "y", "true", "1"}
_DRAFT_FOLDERS = {"draft", "drafts"}

# Control characters left in decoded text (C0 but tab and line breaks, C1, stray BOMs).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")


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


def parse_messages(data: bytes, *, max_bytes: int = 50 * 1024 * 1024) -> ParsedMessages:
    """Parse the bytes of a messages.csv export; raise RejectedFile if it cannot be read."""
    if len(data) > max_bytes:
        raise RejectedFile(
            f"This file is {len(data) / 2**20:.1f} MB, over the {max_bytes / 2**20:.3g} MB limit."
        )
    if is_blank(data):
        raise RejectedFile("The file is empty.")
    reject_binary(data, file_name="messages.csv")
    text, _ = decode(data)
    if _CONTROL_CHARS.search(text):
        text = _CONTROL_CHARS.sub("", text)
    if is_blank(text):
        raise RejectedFile("The file is empty.")

    header_line, delimiter, width, columns, body_start = _find_header(text)
    result = ParsedMessages(has_recipient_urls="recipient_urls" in columns)
    _read_rows(text, body_start, header_line, delimiter, width, columns, result)
    result.owner_url = _infer_owner(result.messages)
    return result


def direction(message: ExportedMessage, owner_url: str) -> str:
    """Return "outbound" if the owner sent the message, else "inbound" (also when unknown).

    `owner_url` may be spelled any way; a message whose sender has no profile URL is inbound."""
    owner = canonical_profile_url(owner_url) or owner_url
    return (
        "outbound" if message.sender_url is not None and message.sender_url == owner else "inbound"
    )


# --- Bytes to text -----------------------------------------------------------------------------


# --- Header ------------------------------------------------------------------------------------


def _header_key(cell: str) -> str:
    return _NOT_WORD.sub("", cell.casefold())


def _map_columns(cells: list[str]) -> dict[str, int]:
    """Field -> column index; the first column of a name wins."""
    mapping: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _COLUMNS.get(_header_key(cell))
        if name and name not in mapping:
            mapping[name] = index
    return mapping


def _split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _find_header(text: str) -> tuple[int, str, int, dict[str, int], int]:
    """Find the header row by its column names in the first lines (not by its line number);
    return its line number, the delimiter, its width, the column mapping and where the rows
    start in the text."""
    stream = io.StringIO(text[:HEADER_SCAN_CHARS], newline="")
    best: tuple[int, int, str, list[str], dict[str, int], int] | None = None
    connections = False
    offset = 0
    for line_no in range(1, HEADER_SCAN_LINES + 1):
        line = stream.readline()
        if not line:
            break
        offset += len(line)
        if offset >= HEADER_SCAN_CHARS and offset < len(text):
            break  # a line cut short by the scan window
        if not line.strip() or len(line) > 4096:  # no header is that long
            continue
        for delimiter in _DELIMITERS:
            cells = _split_line(line, delimiter)
            mapping = _map_columns(cells)
            if len(mapping) >= 3 and (best is None or len(mapping) > best[0]):
                best = (len(mapping), line_no, delimiter, cells, mapping, offset)
            keys = {_header_key(cell) for cell in cells}
            connections = connections or len(keys & _CONNECTIONS_COLUMNS) >= 3
    if best is None:
        if connections:
            raise RejectedFile(CONNECTIONS_BY_MISTAKE)
        raise RejectedFile(
            "No header row found: messages.csv starts with a row naming its columns, "
            f"{EXPECTED_COLUMNS}."
        )
    _, line_no, delimiter, cells, mapping, end = best
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
            f"The header row (line {line_no}) lacks {' and '.join(missing)}: "
            f"messages.csv needs the columns {EXPECTED_COLUMNS}."
        )
    return line_no, delimiter, len(cells), mapping, end


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

    @classmethod
    def of(cls, delimiter: str, width: int, columns: dict[str, int]) -> "_Layout":
        where = {name: columns.get(name, width) for name in _LAYOUT_FIELDS}
        return cls(delimiter, width, delimiter == ";", **where)


_LAYOUT_FIELDS = (
    "conversation_id", "sender_name", "sender_url", "recipient_names", "recipient_urls", "date",
    "subject", "content", "folder", "is_draft",
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
        date_text = _clean(cells[layout.date])
        sent_at = _parse_datetime(date_text, day_first=layout.day_first) if date_text else None
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
        row = _split_line(text, layout.delimiter)
        date = _clean(row[layout.date]) if layout.date < len(row) else ""
        if date and _parse_datetime(date, day_first=layout.day_first) is not None:
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
    folder = cells[layout.folder].strip()
    draft = cells[layout.is_draft].strip().lower()
    if draft in _DRAFT_VALUES or folder.lower() in _DRAFT_FOLDERS:
        result.skipped += 1  # never sent: not a message of the conversation
        return None
    sender_name = _clean(cells[layout.sender_name])
    raw_sender_url = cells[layout.sender_url].strip()
    sender_url = url(raw_sender_url) if raw_sender_url else None
    if not date_text:
        _skip(result, line, "no date")
        return None
    if not (sender_name or sender_url):
        _skip(result, line, "no sender (FROM and SENDER PROFILE URL are empty)")
        return None
    if sent_at is None:
        _skip(result, line, f"date {_quote(date_text)} is not a date and time")
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
        conversation_id=_clean(cells[layout.conversation_id]),
        sender_name=sender_name,
        sender_url=sender_url,
        recipient_names=_clean(cells[layout.recipient_names]),
        recipient_urls=tuple(recipient_urls),
        sent_at=sent_at,
        subject=_clean(cells[layout.subject]),
        text=message_text(cells[layout.content]),
        folder=folder,
        is_draft=False,
    )


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


def _clean(value: str) -> str:
    """Trim, collapse whitespace runs (tabs, NBSP, line breaks) to one space, NFC-normalise."""
    if not value:
        return value
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return " ".join(value.split())


def _quote(value: str) -> str:
    return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'


# --- Message text ------------------------------------------------------------------------------

# A known HTML tag decides that CONTENT is HTML; plain text may hold "<3" or "a<b".
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|u|em|strong|ul|ol|li|blockquote|h[1-6]|table|tbody|thead|tr|td"
    r"|th|img|hr|font|pre|code|s|strike|sub|sup|small|center|html|body|head|style|script|section"
    r"|article|header|footer|wbr)\b[^<>]*>",
    re.IGNORECASE,
)
_HIDDEN_OPEN = re.compile(r"<(script|style|head)\b", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_BREAK_TAG = re.compile(
    r"<br\b[^<>]*>|</?(?:p|div|li|ul|ol|blockquote|h[1-6]|tr|table|pre|hr|section|article"
    r"|header|footer)\b[^<>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")


def message_text(content: str) -> str:
    """CONTENT as plain text: HTML tags stripped (<br>, <p>, <div>, <li> become line breaks),
    entities unescaped, each line's whitespace collapsed, blank lines dropped, NFC.

    Line breaks in the raw text are kept too: LinkedIn's plain messages carry them as is.
    """
    if not content:
        return ""
    if "<" in content and _HTML_TAG.search(content):
        content = _COMMENT.sub("", content)
        content = _drop_hidden(content)
        content = _BREAK_TAG.sub("\n", content)
        content = _ANY_TAG.sub("", content)
        content = html.unescape(content)  # after the tags: "&lt;b&gt;" is text, not a tag
    elif "&" in content:
        # Plain text: only complete entities ("R&D" and "Q&A" stay as they are).
        content = _ENTITY.sub(lambda match: html.unescape(match[0]), content)
    if not content.isascii():
        content = unicodedata.normalize("NFC", content)
    return "\n".join(filter(None, [" ".join(line.split()) for line in content.splitlines()]))


def _drop_hidden(content: str) -> str:
    """Drop <script>, <style> and <head> elements with what they hold, in linear time (a regex
    would rescan the rest of the text for every unclosed one)."""
    lower = content.lower()
    if "<script" not in lower and "<style" not in lower and "<head" not in lower:
        return content
    parts, position = [], 0
    while match := _HIDDEN_OPEN.search(content, position):
        closing = lower.find(f"</{match[1].lower()}", match.end())
        end = content.find(">", closing) if closing >= 0 else -1
        if end < 0:
            break  # unclosed: its tags are stripped like any other
        parts.append(content[position : match.start()])
        position = end + 1
    parts.append(content[position:])
    return "".join(parts)


# --- Dates -------------------------------------------------------------------------------------

_TIME = (
    r"(?:(?:[ t]|, ?)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?: ?([ap])\.?m\.?)?)?"
)
_ZONE = r" ?(utc|gmt|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_LINKEDIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC")
_ISO = re.compile(rf"([0-9]{{4}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{1,2}}){_TIME}{_ZONE}")
_DOTTED = re.compile(rf"([0-9]{{1,2}})\.([0-9]{{1,2}})\.([0-9]{{4}}|[0-9]{{2}}){_TIME}{_ZONE}")
_SLASHED = re.compile(rf"([0-9]{{1,2}})/([0-9]{{1,2}})/([0-9]{{4}}|[0-9]{{2}}){_TIME}{_ZONE}")


def parse_message_date(text: str, *, day_first: bool = False) -> datetime.datetime | None:
    """Parse a DATE value into an aware UTC datetime; None if it is not a date.

    LinkedIn writes `2022-09-08 18:08:14 UTC`; also read: no zone (UTC assumed), ISO 8601 with
    `T`, `Z` or an offset, and what Excel makes of a date when re-saving: `08.09.2022 18:08`
    (day first), `9/8/2022 6:08 PM` (month first unless `day_first` or the first number cannot
    be a month), two-digit years (20yy), times without seconds, dates without a time (midnight).
    """
    return _parse_datetime(" ".join(text.split()), day_first=day_first)


def _parse_datetime(text: str, *, day_first: bool) -> datetime.datetime | None:
    if _LINKEDIN_DATE.fullmatch(text):  # the usual case, quickly
        try:
            stamp = datetime.datetime.fromisoformat(text[:19] + "+00:00")
        except ValueError:
            return None
        return stamp if 1970 <= stamp.year <= 2100 else None
    if not 0 < len(text) <= 64:
        return None
    text = text.lower()
    if match := _ISO.fullmatch(text):
        year, month, day = match[1], match[2], match[3]
    elif match := _DOTTED.fullmatch(text):
        day, month, year = match[1], match[2], match[3]
    elif match := _SLASHED.fullmatch(text):
        month, day, year = match[1], match[2], match[3]
        if day_first or int(month) > 12:
            month, day = day, month
    else:
        return None
    hour, minute, second, fraction, half, zone = match.groups()[3:]
    try:
        stamp = datetime.datetime(
            int(year) + (2000 if len(year) == 2 else 0),
            int(month),
            int(day),
            _hour(int(hour or 0), half),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=_zone(zone),
        )
    except (ValueError, OverflowError):
        return None
    if not 1970 <= stamp.year <= 2100:
        return None
    return stamp.astimezone(datetime.UTC)


def _hour(hour: int, half: str | None) -> int:
    if half is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("not a 12-hour clock hour")
    return hour % 12 + (12 if half == "p" else 0)


def _zone(zone: str | None) -> datetime.tzinfo:
    if zone is None or zone in ("utc", "gmt", "z"):
        return datetime.UTC
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError("not a UTC offset")
    offset = datetime.timedelta(hours=hours, minutes=minutes)
    return datetime.timezone(-offset if zone[0] == "-" else offset)


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
