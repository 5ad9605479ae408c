"""Whatever bytes are uploaded, the reader returns a clean table or raises RejectedFile.

Random bytes, truncated exports and damaged exports must never crash the import with anything
else, and whatever they yield must obey the same invariants as a good file.
"""

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.identity import canonical_profile_url
from contacts.linkedin_csv import ParsedExport, RejectedFile, parse_connections
from tests.byte_mutations import MUTATION, mutate
from tests.csv_helpers import assert_one_line_reason, property_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "linkedin"
VALID = {
    path.name: path.read_bytes()
    for path in sorted(FIXTURES.glob("*.csv"))
    if path.name
    not in {
        "empty.csv",
        "headerless.csv",
        "no_name_no_url.csv",
        "header_only.csv",
        "preamble_only.csv",
        "not_a_csv.xlsx.csv",
        "linkedin_export.zip.csv",
        "image.png.csv",
        "doc.pdf.csv",
    }
}
PROPERTY = property_settings(max_examples=200)
# Text that looks enough like a CSV to reach the row reader: delimiters, quotes, line breaks,
# header words, dates, URLs and a few non-ASCII and control characters.
CSV_ISH = st.lists(
    st.sampled_from(
        [
            ",",
            ";",
            "\t",
            '"',
            "'",
            "\n",
            "\r\n",
            "\r",
            " ",
            "  ",
            "=",
            "@",
            "-",
            "é",
            "😀",
            "\x00",
            "\x81",
            "\ufeff",
            "First Name",
            "Last Name",
            "URL",
            "Email Address",
            "Company",
            "Position",
            "Connected On",
            "Notes:",
            "05 Jan 2026",
            "1/8/18, 6:14 PM",
            "16.09.2021",
            "https://www.linkedin.com/in/",
            "%E5%BC%A0",
            "ann",
            "@example.com",
            "urn:li:member:1",
        ]
    ),  # fmt: skip
    max_size=80,
).map("".join)


def parse_or_reject(data: bytes) -> ParsedExport | None:
    try:
        result = parse_connections(data)
    except RejectedFile as exc:
        assert_one_line_reason(exc)
        return None
    check_invariants(result)
    return result


def check_invariants(result: ParsedExport) -> None:
    kept, duplicates = len(result.rows), result.duplicates_in_file
    assert result.total_rows == kept + duplicates + result.skipped_empty + result.invalid
    assert result.total_rows > 0
    assert result.format in {"current", "2021", "2019", "2018", "outlook", "other"}
    urls = [row.profile_url for row in result.rows if row.profile_url]
    assert len(urls) == len(set(urls)), "two kept rows with one profile URL"
    for row in result.rows:
        assert row.line >= 1
        assert row.first_name or row.last_name or row.profile_url or row.email
        for value in (row.first_name, row.last_name, row.company, row.position):
            assert value == " ".join(value.split())
            assert unicodedata.is_normalized("NFC", value)
            assert not any(unicodedata.category(char) == "Cc" for char in value)
        if row.profile_url:
            assert canonical_profile_url(row.profile_url) == row.profile_url
        if row.email:
            assert row.email == row.email.lower() and "@" in row.email
    assert all(problem.line >= 1 and problem.message for problem in result.problems)


@PROPERTY
@given(st.binary(max_size=4096))
def test_it_rejects_or_reads_random_bytes(data):
    parse_or_reject(data)


@PROPERTY
@given(CSV_ISH, st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_it_rejects_or_reads_random_csv_like_text(text, encoding):
    parse_or_reject(text.encode(encoding, errors="replace"))


@PROPERTY
@given(st.sampled_from(sorted(VALID)), st.data())
def test_it_rejects_or_reads_a_truncated_export(name, data):
    content = VALID[name]
    length = data.draw(st.integers(min_value=0, max_value=len(content)), label="length")
    parse_or_reject(content[:length])


@pytest.mark.parametrize("name", ["current.csv", "outlook_2012.csv", "unicode_names.csv"])
def test_it_rejects_or_reads_every_prefix_of_an_export(name):
    content = VALID[name]
    for length in range(len(content) + 1):
        parse_or_reject(content[:length])


@PROPERTY
@given(st.sampled_from(sorted(VALID)), st.lists(MUTATION, min_size=1, max_size=12))
def test_it_rejects_or_reads_a_damaged_export(name, mutations):
    parse_or_reject(mutate(VALID[name], mutations))


@PROPERTY
@given(st.lists(MUTATION, min_size=1, max_size=3))
def test_it_keeps_most_rows_of_a_slightly_damaged_export(mutations):
    # A few damaged bytes cost at most the rows they touch, never the whole file.
    content = VALID["current.csv"]
    body = content.index(b"\nAurelia")
    damaged = content[:body] + mutate(content[body:], mutations)
    result = parse_or_reject(damaged)
    assert result is not None
    assert len(result.rows) >= 6 - 2 * len(mutations)
