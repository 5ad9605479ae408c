"""Bytes to text for LinkedIn's CSV exports (Connections.csv, messages.csv), and text to lines.

Shared by the readers: refuse what is not text (saying what it looks like — a renamed file is
common), decode what Excel and LinkedIn write without ever crashing on a stray byte, and hand
the lines to csv one bounded record at a time.
"""

import codecs
import re
from collections.abc import Iterator


class RejectedFile(Exception):
    """A file that cannot be imported; str(exc) is a clear one-line reason for the user."""


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"%PDF-", "a PDF document"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)
# Bytes decoded at a time when a file is not all UTF-8 (a block ends at the end of a line).
_DECODE_BLOCK = 64 * 1024
# Bytes that never occur in text (tab, LF, CR, VT and FF excepted).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])


def reject_binary(data: bytes, *, file_name: str) -> None:
    """Refuse files that are not text; `file_name` is the export file the user should upload
    (e.g. "Connections.csv"), named in the hint."""
    upload_hint = f"Upload the {file_name} file from your LinkedIn data export."
    excel_hint = (
        f"Save it from Excel with File > Save As > CSV UTF-8, or upload the original {file_name}."
    )
    head = data[:1024]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"[Content_Types].xml" in head or b"xl/" in head:
            raise RejectedFile(
                f"This looks like an Excel workbook (.xlsx), not a CSV file. {excel_hint}"
            )
        raise RejectedFile(
            "This looks like a ZIP archive, not a CSV file. LinkedIn sends your data as a ZIP: "
            f"unzip it and upload the {file_name} inside."
        )
    for magic, what in _MAGIC:
        if head.startswith(magic):
            hint = excel_hint if "Excel" in what else upload_hint
            raise RejectedFile(f"This looks like {what}, not a CSV file. {hint}")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(data):
        return
    # Binary formats are full of NULs and control bytes; a damaged text file has a stray few.
    sample = data[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > 2 + len(sample) // 100:
        raise RejectedFile(f"This looks like a binary file, not a CSV text file. {upload_hint}")


def is_blank(data: bytes | str) -> bool:
    """Empty or only whitespace; unlike `not data.strip()`, without a copy of the whole file."""
    return not data or data.isspace()


def utf16_without_bom(data: bytes) -> str | None:
    """Excel's "Unicode Text" is UTF-16: every other byte of ASCII text is NUL."""
    sample = data[:8192]
    half = len(sample) // 2
    if half < 4:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd > half * 0.6 and even < half * 0.1:
        return "utf-16-le"
    if even > half * 0.6 and odd < half * 0.1:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Return the text and a label of the encoding found.

    Raw exports are UTF-8 without BOM; Excel adds a BOM, or writes cp1252 or UTF-16, and files
    pasted together from several end up mixed, so undecodable lines fall back to cp1252 one by
    one.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    utf16 = utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace"), "utf-16"
    label, start = "utf-8", 0
    if data.startswith(codecs.BOM_UTF8):
        label, start = "utf-8-sig", 3
    try:
        return data.decode(label), label  # utf-8-sig drops the BOM without copying the bytes
    except UnicodeDecodeError:
        pass
    # In blocks of whole lines, and line by line only within a block that is not UTF-8: a list
    # of every line of a file of short lines takes tens of times the file's size.
    parts, saw_utf8 = [], label == "utf-8-sig"
    while start < len(data):
        end = data.find(b"\n", start + _DECODE_BLOCK)
        end = len(data) if end < 0 else end + 1
        block = data[start:end]
        start = end
        try:
            parts.append(block.decode("utf-8"))
        except UnicodeDecodeError:
            text, block_saw_utf8 = _decode_lines(block)
            parts.append(text)
            saw_utf8 = saw_utf8 or block_saw_utf8
        else:
            saw_utf8 = saw_utf8 or not block.isascii()
    return "".join(parts), "mixed" if saw_utf8 else "cp1252"


def _decode_lines(block: bytes) -> tuple[str, bool]:
    """Decode each line as UTF-8, or else as cp1252; also say whether a line was non-ASCII
    UTF-8."""
    lines, saw_utf8 = [], False
    for raw in block.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
            saw_utf8 = saw_utf8 or not raw.isascii()
        except UnicodeDecodeError:
            # cp1252 leaves five bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) undefined: replace them.
            lines.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(lines), saw_utf8


# --- Text to lines -----------------------------------------------------------------------------

# A line and its break (LF, CRLF or CR), as io.StringIO(text, newline="") reads them.
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def line_spans(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Where each line of `text` from `start` begins and ends (its line break included).

    io.StringIO would keep a copy of the whole text at four bytes a character; this keeps
    nothing, and lets the reader look at a line's length before taking it out of the text.
    """
    return (match.span() for match in _LINE.finditer(text, start))


class RecordTooLong(Exception):
    """The record being read ran past RecordLines' bounds; its lines so far are in `record`."""


class RecordLines:
    """The physical lines of `text` from `start`, for csv.reader, one bounded record at a time.

    The line that takes the record being read past `max_chars` characters (or `max_lines`
    lines) raises RecordTooLong instead of reaching csv: csv would split it into cells first,
    and a line of commas becomes millions of empty strings (8 bytes or more each, for each byte
    of the file). `record` holds the (start, end) of the current record's lines, the one that
    ran over included; `push_back_rest` hands all but the first out again (last first), so that
    a stray quote that swallowed the lines after it costs only its own line.
    """

    def __init__(
        self, text: str, start: int = 0, *, max_chars: int, max_lines: int | None = None
    ) -> None:
        self.text = text
        self.max_chars = max_chars
        self.max_lines = max_lines
        self.record: list[tuple[int, int]] = []
        self.chars = 0
        self._spans = line_spans(text, start)
        self._pushed_back: list[tuple[int, int]] = []

    def start_record(self) -> None:
        self.record.clear()
        self.chars = 0

    def push_back_rest(self) -> int:
        """Hand the record's lines after its first out again; return how many characters."""
        rest = self.record[1:]
        self._pushed_back.extend(reversed(rest))
        self.start_record()
        return sum(end - start for start, end in rest)

    def record_lines(self) -> list[str]:
        """The text of the current record's lines (within bounds: it was read whole)."""
        return [self.text[start:end] for start, end in self.record]

    def __iter__(self) -> Iterator[str]:
        while True:
            span = self._pushed_back.pop() if self._pushed_back else next(self._spans, None)
            if span is None:
                return
            self.record.append(span)
            self.chars += span[1] - span[0]
            if self.chars > self.max_chars or (
                self.max_lines is not None and len(self.record) > self.max_lines
            ):
                raise RecordTooLong
            yield self.text[span[0] : span[1]]
