"""Text to cells and values for LinkedIn's CSV exports: the rules both readers share
(docs/import-formats.md).

`contacts.csv_bytes` turns the uploaded bytes into text and lines; this module finds the header
among the preamble lines, maps header names to fields, splits a line, cleans a cell, reads the
dates LinkedIn and Excel write, and turns HTML message bodies into plain text. The readers
(`contacts.linkedin_csv` for Connections.csv, `campaigns.messages_csv` for messages.csv) keep
only what their own file format needs. Both import the bytes layer from here too, so that one
module is the foundation they stand on.
"""

import csv
import datetime
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from contacts.csv_bytes import (
    RecordLines,
    RecordTooLong,
    RejectedFile,
    decode,
    is_blank,
    line_spans,
    reject_binary,
)
from linkedin_crm.dates import MONTH_NAMES

__all__ = [
    "ColumnNames",
    "Header",
    "RecordLines",
    "RecordTooLong",
    "RejectedFile",
    "clean_cell",
    "decode",
    "file_text",
    "find_header",
    "header_key",
    "html_to_text",
    "is_blank",
    "line_spans",
    "looks_like_html",
    "parse_date",
    "parse_datetime",
    "quote",
    "reject_binary",
    "split_line",
    "strip_invisible",
    "unescape_entities",
    "unescape_formula",
]

# --- Characters ---------------------------------------------------------------------------------

# Characters no cell should keep, removed from the whole decoded text before it is split:
# C0 controls but tab, line feed, vertical tab, form feed and carriage return (VT and FF are
# the line break some spreadsheets write inside a cell, so they are whitespace, like a line
# break); C1 controls (PostgreSQL refuses NUL in text, and none of them is visible); BOMs left
# inside files pasted together; zero-width spaces and word joiners pasted in with names. Zero-
# width (non-)joiners stay: they are part of emoji and of Persian and Indic spelling.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff\u200b\u2060]")
# What our own CSV export puts a quote before so that a spreadsheet does not run the cell.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def strip_invisible(text: str) -> str:
    """`text` without the invisible characters above (no copy when it has none)."""
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text


def file_text(data: bytes, *, max_bytes: int, file_name: str) -> tuple[str, str]:
    """The text of an uploaded export and its encoding, invisible characters removed; raise
    RejectedFile for a file too large, empty (or only blank), or binary. `file_name` is the
    export's usual name, for the message."""
    if len(data) > max_bytes:
        raise RejectedFile(
            f"This file is {len(data) / 2**20:.1f} MB, over the {max_bytes / 2**20:.3g} MB limit."
        )
    if is_blank(data):
        raise RejectedFile("The file is empty.")
    reject_binary(data, file_name=file_name)
    text, encoding = decode(data)
    text = strip_invisible(text)
    if is_blank(text):
        raise RejectedFile("The file is empty.")
    return text, encoding


def unescape_formula(value: str) -> str:
    """Undo the spreadsheet-formula escaping of our own CSV export: `'=SUM(1)` -> `=SUM(1)`."""
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
        return value[1:]
    return value


def clean_cell(value: str, *, our_export: bool = False) -> str:
    """A one-line value: trimmed, whitespace runs (tabs, NBSP, line breaks) collapsed to one
    space, NFC-normalised. Invisible characters are already gone (strip_invisible).

    `our_export`: the file may have been written by our own contact export (a Connections-
    shaped file), whose formula escaping is undone. messages.csv only ever comes from LinkedIn,
    where a leading quote is the writer's own.
    """
    if not value:
        return value
    if our_export and value[0] == "'":
        value = unescape_formula(value)
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return " ".join(value.split())


def quote(value: str) -> str:
    """A value quoted for a problem message, cut to 60 characters."""
    return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'


# --- Header ------------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[\W_]+")
_NOT_BLANK = re.compile(r"\S")
# No header (nor a preamble note) is longer than this; a longer line is not split to look.
MAX_HEADER_CHARS = 4096


def header_key(cell: str) -> str:
    """A header name compared without case, spaces and punctuation: "E-mail Address" ->
    "emailaddress"."""
    return _NOT_WORD.sub("", cell.casefold())


class ColumnNames:
    """The header names of a file format: field -> its names (header keys), best first.

    An earlier name wins over a later one for the same field (Outlook's export has both
    "Job Title" and "Title", and there "Title" is the honorific); between two columns of the
    same name, the first.
    """

    def __init__(self, names: dict[str, tuple[str, ...]]) -> None:
        self._rank = {key: (field, rank) for field, keys in names.items() for rank, key in
                      enumerate(keys)}  # fmt: skip

    def map(self, cells: Iterable[str]) -> dict[str, int]:
        """Field -> column index of the cells of a header line."""
        best: dict[str, tuple[int, int]] = {}
        for index, cell in enumerate(cells):
            found = self._rank.get(header_key(cell))
            if found:
                field, rank = found
                if field not in best or rank < best[field][0]:
                    best[field] = (rank, index)
        return {field: index for field, (rank, index) in best.items()}


def split_line(line: str, delimiter: str) -> list[str]:
    """The cells of one line (no cells if csv cannot read it)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


@dataclass(frozen=True)
class Header:
    line: int  # its line number, from 1
    delimiter: str
    cells: list[str]
    columns: dict[str, int]  # field -> column index
    end: int  # where the rows start in the text


def find_header(
    text: str,
    names: ColumnNames,
    *,
    delimiters: tuple[str, ...],
    is_header: Callable[[list[str], dict[str, int]], bool],
    max_lines: int = 50,
    max_chars: int | None = None,
    look: Callable[[int, str | None], None] | None = None,
) -> Header | None:
    """Find the header row by its column names among the first `max_lines` lines (and the first
    `max_chars` characters), trying each delimiter; the line and delimiter that map the most
    columns win, the earliest on a tie. None if no line passes `is_header(cells, columns)`.

    Exports put notes, blank lines or nothing before the header, and Excel pads notes with
    delimiters, so neither the wording of a preamble nor the header's line number is trusted.
    `look(line_no, line)` sees every non-blank line that was scanned (None for one too long to
    be a header), for the caller's own diagnosis of a file without a header.
    """
    best: Header | None = None
    spans = line_spans(text)
    for line_no in range(1, max_lines + 1):
        span = next(spans, None)
        if span is None:
            break
        start, end = span
        if max_chars is not None and end > max_chars:
            break  # a line cut short by the scan window
        if not _NOT_BLANK.search(text, start, end):
            continue
        if end - start > MAX_HEADER_CHARS:
            if look:
                look(line_no, None)
            continue
        line = text[start:end]
        if look:
            look(line_no, line)
        for delimiter in delimiters:
            cells = split_line(line, delimiter)
            columns = names.map(cells)
            if (best is None or len(columns) > len(best.columns)) and is_header(cells, columns):
                best = Header(line_no, delimiter, cells, columns, end)
    return best


# --- Dates -------------------------------------------------------------------------------------

# The month names LinkedIn and spreadsheets write, lower case and in full, so that any
# abbreviation of three letters or more ("sep", "sept", "janu") finds its month.
_MONTHS = tuple(name.lower() for name in MONTH_NAMES)
_TIME = (
    r"(?:(?:[ t]|, ?)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?: ?([ap])\.?m\.?)?)?"
)
_ZONE = r" ?(utc|gmt|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_YEAR = r"([0-9]{4}|[0-9]{2})"
_LINKEDIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC")
_ISO = re.compile(rf"([0-9]{{4}})[-/.]([0-9]{{1,2}})[-/.]([0-9]{{1,2}}){_TIME}{_ZONE}")
_DOTTED = re.compile(rf"([0-9]{{1,2}})\.([0-9]{{1,2}})\.{_YEAR}{_TIME}{_ZONE}")
_SLASHED = re.compile(rf"([0-9]{{1,2}})/([0-9]{{1,2}})/{_YEAR}{_TIME}{_ZONE}")
_DAY_MONTH_NAME = re.compile(
    rf"([0-9]{{1,2}})[ ./-]?([a-z]{{3,9}})\.?[ ./,-]*{_YEAR}{_TIME}{_ZONE}"
)
_MONTH_NAME_DAY = re.compile(
    rf"([a-z]{{3,9}})\.? ?([0-9]{{1,2}})(?:st|nd|rd|th)?,? ?([0-9]{{4}}){_TIME}{_ZONE}"
)


def parse_date(text: str) -> datetime.date | None:
    """The day of a date (and maybe time) in any format LinkedIn or Excel writes; None if it is
    not one. The time, if any, is not checked: only the day is kept.

    Month names are English whatever the member's language. An all-numeric date with slashes is
    read month first (`1/8/18` is 8 January 2018), as LinkedIn's early-2018 export and US Excel
    write it, unless the first number cannot be a month (`13/06/2022`). Dotted dates are day
    first (`16.09.2021`, European Excel). Two-digit years are 20yy: LinkedIn started in 2003.
    """
    text = " ".join(text.split()).lower()
    # No date format is longer than this; the bound also keeps junk out of the cache.
    return _parse_short_date(text) if 0 < len(text) <= 64 else None


@lru_cache(maxsize=4096)  # an export holds a few thousand distinct dates at most
def _parse_short_date(text: str) -> datetime.date | None:
    found = _date_parts(text, day_first=False)
    if found is None:
        return None
    year, month, day, _ = found
    if not 1900 <= year <= 2100:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def parse_datetime(text: str, *, day_first: bool = False) -> datetime.datetime | None:
    """An aware UTC datetime from a date and time in any format LinkedIn or Excel writes; None
    if it is not one (nor a real time: hour 25, 30 February, an offset beyond ±14 hours).

    LinkedIn writes `2022-09-08 18:08:14 UTC`; also read: no zone (UTC assumed), ISO 8601 with
    `T`, `Z` or an offset, month names (`Jan 8, 2018 6:14 PM`, `8 Jan 2018 18:14`), and what
    Excel makes of a date when re-saving: `08.09.2022 18:08` (day first), `9/8/2022 6:08 PM`
    (month first unless `day_first` or the first number cannot be a month), two-digit years
    (20yy), times without seconds, dates without a time (midnight).
    """
    if _LINKEDIN_DATE.fullmatch(text):  # the usual case, quickly
        try:
            stamp = datetime.datetime.fromisoformat(text[:19] + "+00:00")
        except ValueError:
            return None
        return stamp if 1970 <= stamp.year <= 2100 else None
    text = " ".join(text.split())
    if not 0 < len(text) <= 64:
        return None
    found = _date_parts(text.lower(), day_first=day_first)
    if found is None:
        return None
    year, month, day, (hour, minute, second, fraction, half, zone) = found
    try:
        stamp = datetime.datetime(
            year,
            month,
            day,
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


def _date_parts(text: str, *, day_first: bool) -> tuple[int, int, int, tuple] | None:
    """Year, month, day and the time groups of lower-cased, whitespace-collapsed text."""
    month: int | None  # None: a word that names no month
    if match := _ISO.fullmatch(text):
        year, month, day = match[1], int(match[2]), match[3]
    elif match := _DOTTED.fullmatch(text):
        day, month, year = match[1], int(match[2]), match[3]
    elif match := _SLASHED.fullmatch(text):
        first, second, year = int(match[1]), int(match[2]), match[3]
        if day_first or first > 12:
            first, second = second, first  # 13/06/2022 can only be day first
        month, day = first, str(second)
    elif match := _DAY_MONTH_NAME.fullmatch(text):
        day, month, year = match[1], _month(match[2]), match[3]
    elif match := _MONTH_NAME_DAY.fullmatch(text):
        month, day, year = _month(match[1]), match[2], match[3]
    else:
        return None
    if month is None:
        return None
    return int(year) + (2000 if len(year) == 2 else 0), month, int(day), match.groups()[3:]


def _month(word: str) -> int | None:
    # "jan", "janu", "january" and "sept" all name a month; "jane" does not.
    if len(word) >= 3:
        for number, name in enumerate(_MONTHS, 1):
            if name.startswith(word):
                return number
    return None


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


# --- HTML to text ------------------------------------------------------------------------------

# A known HTML tag decides that a text is HTML; plain text may hold "<3" or "a<b".
_HTML_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|u|em|strong|ul|ol|li|blockquote|h[1-6]|table|tbody|thead|tr|td"
    r"|th|img|hr|font|pre|code|s|strike|sub|sup|small|center|html|body|head|style|script|section"
    r"|article|header|footer|wbr)\b[^<>]*>",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")


def looks_like_html(text: str) -> bool:
    return "<" in text and _HTML_TAG.search(text) is not None


def html_to_text(content: str) -> str:
    """Plain text of an HTML fragment: block tags (<p>, <div>, <li>, …) and <br> become line
    breaks, table cells a space, entities are unescaped, comments, <script>, <style> and <head>
    are dropped with what they hold. Whitespace is left as it is (line breaks in the source
    included): the caller collapses it. Never raises, whatever the markup.
    """
    parser = _TextParser()
    try:
        parser.feed(_guard_tags(content))
        parser.close()
    except Exception:  # html.parser may still trip on markup no test foresaw
        # What was read stays text; the rest is shown as it is rather than lost.
        return "".join(parser.parts) + parser.rawdata
    return "".join(parser.parts)


def _guard_tags(content: str) -> str:
    """`content` with each "<" that opens no complete tag before the next "<" escaped as text.

    html.parser before Python 3.13.4 (CVE-2025-6069) scans the rest of the text again for every
    such "<": quadratic, minutes for a 64 KB cell of `<a <a <a`. A tag here must end (a ">" not
    inside a quoted value) before the next "<", as every tag LinkedIn writes does; comments are
    left whole for the parser, and `<![` sections, which it cannot always read, become text.
    """
    if "<" not in content:
        return content
    parts, position, length = [], 0, len(content)
    while (start := content.find("<", position)) >= 0:
        parts.append(content[position:start])
        if content.startswith("<!--", start):
            end = content.find("-->", start + 4)
            end = length if end < 0 else end + 3
            parts.append(content[start:end])
            position = end
            continue
        after = content.find("<", start + 1)
        stop = length if after < 0 else after
        whole = not content.startswith("<![", start) and _tag_ends(content, start + 1, stop)
        parts.append("<" if whole else "&lt;")
        position = start + 1
    parts.append(content[position:])
    return "".join(parts)


def _tag_ends(text: str, start: int, stop: int) -> bool:
    """Whether a ">" outside quotes comes between start and stop."""
    while (end := text.find(">", start, stop)) >= 0:
        quotes = [q for q in (text.find('"', start, end), text.find("'", start, end)) if q >= 0]
        if not quotes:
            return True
        opening = min(quotes)
        closing = text.find(text[opening], opening + 1, stop)
        if closing < 0:
            return False
        start = closing + 1
    return False


def unescape_entities(text: str) -> str:
    """Plain text with the complete entities of HTML unescaped: "R&D" and "Q&A" stay."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda match: html.unescape(match[0]), text)


_BLOCK_TAGS = frozenset(
    ("p", "div", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
     "table", "pre", "hr", "section", "article", "header", "footer", "br")
)  # fmt: skip
_CELL_TAGS = frozenset(("td", "th"))
_HIDDEN_TAGS = frozenset(("script", "style", "head"))


class _TextParser(HTMLParser):
    """Collects the visible text. A hidden element's text is held back until it closes, and
    shown after all if it never does (an unclosed <style> must not swallow the message)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: list[str] = []  # the open hidden elements, innermost last
        self.held: list[str] = []  # the text inside them

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden.append(tag)
        elif tag in _BLOCK_TAGS:
            self._add("\n")
        elif tag in _CELL_TAGS:
            self._add(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        # <br/>, <p/>: a break, and no element left open.
        if tag in _BLOCK_TAGS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.hidden:
            while self.hidden.pop() != tag:
                pass
            if not self.hidden:
                self.held.clear()
        elif tag in _BLOCK_TAGS:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        self._add(data)

    def _add(self, text: str) -> None:
        (self.held if self.hidden else self.parts).append(text)

    def close(self) -> None:
        rest = self.rawdata
        if rest.startswith("<!--"):
            self.rawdata = ""  # an unclosed comment hides the rest, as in a browser
        elif self.cdata_elem is not None:
            # An unclosed <script> or <style>: what follows it is text after all.
            self.rawdata = ""
            self.held.append(rest)
        super().close()
        if self.hidden:
            self.parts.extend(self.held)
            self.hidden.clear()
