"""The CSV foundation both LinkedIn readers stand on (contacts/csv_text.py)."""

import datetime
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.csv_text import (
    ColumnNames,
    clean_cell,
    find_header,
    header_key,
    html_to_text,
    parse_date,
    parse_datetime,
    split_line,
    strip_invisible,
)
from linkedin_crm.dates import MONTHS
from tests.csv_helpers import PROPERTY

NAMES = ColumnNames(
    {
        "first_name": ("firstname", "first"),
        "position": ("position", "jobtitle", "title"),
        "url": ("url",),
    }
)


def two_columns(cells, columns):
    return len(columns) >= 2


# --- Header ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "key"),
    [("First Name", "firstname"), (" E-mail_Address ", "emailaddress"), ("ÉTÉ", "été")],
)
def test_it_compares_header_names_without_case_spaces_or_punctuation(cell, key):
    assert header_key(cell) == key


def test_it_maps_the_best_ranked_name_of_a_field_whatever_the_column_order():
    # Outlook: "Title" is the honorific, "Job Title" the position, whichever comes first.
    assert NAMES.map(["Title", "First", "Job Title", "First Name"]) == {
        "position": 2,
        "first_name": 3,
    }
    assert NAMES.map(["URL", "url", "Notes"]) == {"url": 0}  # the first of two equal names


def test_it_finds_the_header_after_a_preamble_and_says_where_the_rows_start():
    text = 'Notes:\n"A note, quoted."\n\nFirst Name;URL;Position\r\nAnn;x;y\n'

    header = find_header(text, NAMES, delimiters=(",", ";"), is_header=two_columns)

    assert (header.line, header.delimiter, header.columns) == (
        4,
        ";",
        {"first_name": 0, "url": 1, "position": 2},
    )
    assert text[header.end :] == "Ann;x;y\n"


def test_it_prefers_the_line_and_delimiter_that_map_the_most_columns():
    text = "First Name,URL\nFirst Name\tURL\tTitle\n"

    header = find_header(text, NAMES, delimiters=(",", "\t"), is_header=two_columns)

    assert (header.line, header.delimiter) == (2, "\t")


def test_it_finds_no_header_beyond_the_lines_or_characters_it_scans():
    text = "\n" * 5 + "First Name,URL\n"
    assert find_header(text, NAMES, delimiters=(",",), is_header=two_columns, max_lines=5) is None
    assert find_header(text, NAMES, delimiters=(",",), is_header=two_columns, max_chars=8) is None
    assert find_header(text, NAMES, delimiters=(",",), is_header=two_columns).line == 6


def test_it_shows_the_caller_every_scanned_line_and_skips_overlong_ones():
    seen = []
    text = "a note\n\n" + "First Name," * 1000 + "\nFirst Name,URL\n"

    header = find_header(
        text,
        NAMES,
        delimiters=(",",),
        is_header=two_columns,
        look=lambda line_no, line: seen.append((line_no, line)),
    )

    assert header.line == 4
    assert seen == [(1, "a note\n"), (3, None), (4, "First Name,URL\n")]


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ('a,"b, c",d\n', ["a", "b, c", "d"]),
        ("", []),
        ('a,"never closed\n', ["a", "never closed\n"]),
    ],
)
def test_it_splits_one_line(line, cells):
    assert split_line(line, ",") == cells


# --- Cleaning ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("Ann\x00 Bis\x07set\x7f\x85", "Ann Bisset"),  # C0 and C1 controls
        ("\ufeffAnn\u200bBis\u2060set", "AnnBisset"),  # BOM, zero-width space, word joiner
        ("👩\u200d💻 Ra\u200cm", "👩\u200d💻 Ra\u200cm"),  # joiners spell emoji and scripts
        ("Crumbs\x0bLtd\x0cCo", "Crumbs Ltd Co"),  # VT and FF: a spreadsheet's in-cell break
        ("  Mary\u00a0\tAnne \r\n Okonkwo ", "Mary Anne Okonkwo"),  # NBSP, tabs, line breaks
        ("Jose\u0301", "Jos\u00e9"),  # NFC
    ],
)
def test_it_cleans_a_cell_by_one_rule(text, clean):
    assert clean_cell(strip_invisible(text)) == clean


def test_it_unescapes_formulas_only_in_files_our_export_may_have_written():
    assert clean_cell("'=SUM(1)", our_export=True) == "=SUM(1)"
    assert clean_cell("'=SUM(1)") == "'=SUM(1)"
    assert clean_cell("'Tis", our_export=True) == "'Tis"


@PROPERTY
@given(st.text(max_size=200))
def test_a_clean_cell_is_trimmed_single_spaced_visible_and_stable(text):
    clean = clean_cell(strip_invisible(text))

    assert clean == " ".join(clean.split())
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" or ch == "\ufeff" for ch in clean)
    assert clean_cell(strip_invisible(clean)) == clean


# --- HTML to text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two<br>Three</p>", "\nOne\n\nTwo\nThree\n"),
        ("<div><ul><li>a <b>bold <i>and</i></b> b</li><li>c</li></ul></div>",
         "\n\n\na bold and b\n\nc\n\n\n"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "\n\n a b\n\n"),
        ("Tom &amp; Jerry &lt;b&gt; &#8211; &#x1F600; &copy", "Tom & Jerry <b> – 😀 ©"),
        ("<head><title>Hidden</title></head>Shown", "Shown"),
        ("<style>p { color: red }</style>A<script>alert('<p>')</script>B", "AB"),
        ("<head><style>x</style><title>t</title></head>Body", "Body"),
        ("A<!-- a comment -->B", "AB"),
        ("<p>Unclosed <b>bold <i>italic", "\nUnclosed bold italic"),
        ("<div>Stray</span> close</p>", "\nStray close\n"),
        ("A<script>alert(1) <b>x", "Aalert(1) <b>x"),  # unclosed: shown, as before
        ("<style>p {}", "p {}"),
        ("<head><title>Never closed", "Never closed"),
        ("A<!-- never closed <p>B", "A"),
        ("2 < 3 and a<b", "2 < 3 and a<b"),  # no tag: text
        ("<p/>x<br/>y", "\nx\ny"),
        ("", ""),
    ],
)  # fmt: skip
def test_it_turns_html_into_text_with_the_standard_parser(html, text):
    assert html_to_text(html) == text


@PROPERTY
@given(st.text(alphabet="<>/=\"' &;#abpdivstyleripcthd!-x[\n", max_size=120))
def test_it_never_fails_on_broken_markup(html):
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a <b and c</p>", "\na <b and c\n"),  # a "<" that opens no tag is text
        ('<a title="x>y">link</a>', "link"),  # a ">" inside a quoted value ends no tag
        ("<p>x<![CDATA[y]]>z</p>", "\nx<![CDATA[y]]>z\n"),  # html.parser cannot always read it
        ("<!-- <p> inside -->after", "after"),
    ],
)
def test_it_reads_stray_angle_brackets_as_text(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize("junk", ["<a ", "<p x='", '<a b="', "<![", "</", "<!x", "<p>"])
def test_it_reads_64_kb_of_broken_markup_in_linear_time(junk):
    # html.parser before Python 3.13.4 rescans the rest of the text for every "<" that opens
    # no tag: this took minutes. A cell is at most 64 KB (messages_csv.MAX_RECORD_CHARS).
    html = "<p>x</p>" + junk * (64 * 1024 // len(junk))

    started = time.process_time()
    html_to_text(html)

    assert time.process_time() - started < 2.0


# --- Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("05 Jan 2026", "2026-01-05"),
        ("5 Sept 2022", "2022-09-05"),
        ("9-Sep-22", "2022-09-09"),
        ("Jan 5th, 2026", "2026-01-05"),
        ("1/8/18, 6:14 PM", "2018-01-08"),
        ("13/06/2022", "2022-06-13"),
        ("16.09.2021", "2021-09-16"),
        ("2022-09-08 18:08:14 UTC", "2022-09-08"),
    ],
)
def test_it_reads_the_day_of_every_date_format(text, day):
    assert parse_date(text) == datetime.date.fromisoformat(day)


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("2022-09-08 18:08:14 UTC", "2022-09-08 18:08:14"),
        ("1/8/18, 6:14 PM", "2018-01-08 18:14:00"),  # the 2018 export
        ("Jan 8, 2018 6:14 PM", "2018-01-08 18:14:00"),
        ("8 January 2018 18:14 +01:00", "2018-01-08 17:14:00"),
        ("08.01.2018 18:14", "2018-01-08 18:14:00"),
    ],
)
def test_it_reads_a_date_and_time_as_aware_utc(text, stamp):
    parsed = parse_datetime(text)
    assert parsed == datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.UTC)


def test_it_reads_slashed_dates_day_first_only_when_asked():
    assert parse_datetime("1/8/18 10:00").month == 1
    assert parse_datetime("1/8/18 10:00", day_first=True).month == 8


@pytest.mark.parametrize("text", ["", "someday", "31 Feb 2026", "05 Jne 2026", "Jane 5, 2026"])
def test_it_reads_no_date_from_what_is_not_one(text):
    assert parse_date(text) is None and parse_datetime(text) is None


def test_a_time_that_cannot_be_is_no_date_and_time_but_still_a_day():
    assert parse_datetime("2022-09-08 25:00:00 UTC") is None
    assert parse_date("2022-09-08 25:00:00 UTC") == datetime.date(2022, 9, 8)


def test_it_reads_the_month_names_the_app_writes():
    for number, name in enumerate(MONTHS, 1):
        assert parse_date(f"05 {name} 2026") == datetime.date(2026, number, 5)
