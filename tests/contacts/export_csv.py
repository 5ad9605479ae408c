"""Reading an export's CSV, shared by the tests of the export pages (views/test_contact_export*.py)
and of the command and the admin (test_export.py)."""

import codecs
import csv
import io


def rows(text: str | bytes) -> list[list[str]]:
    """The rows of an export, which must start with the byte order mark that makes Excel read
    it as UTF-8 (without it, "Müller" shows as "MÃ¼ller")."""
    if isinstance(text, bytes):
        assert text.startswith(codecs.BOM_UTF8)
        text = text.decode("utf-8")
    assert text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text)))
