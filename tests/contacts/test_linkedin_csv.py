"""The LinkedIn Connections.csv reader, on one synthetic fixture per export format and quirk."""

import datetime
import io
import time
import zipfile
from pathlib import Path

import pytest

from contacts.linkedin_csv import (
    ConnectionRow,
    RejectedFile,
    RowProblem,
    parse_connections,
    parse_linkedin_date,
    unescape_formula,
)
from tests.csv_helpers import MB
from tests.csv_helpers import peak_memory as measure_peak_memory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "linkedin"
IN = "https://www.linkedin.com/in/"
ALL_COLUMNS = [
    "first_name",
    "last_name",
    "profile_url",
    "email",
    "company",
    "position",
    "connected_on",
]
NO_URL_COLUMNS = [name for name in ALL_COLUMNS if name != "profile_url"]
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"


def parse(name: str):
    return parse_connections((FIXTURES / name).read_bytes())


def row(line, first, last, url=None, email="", company="", position="", on=None):
    return ConnectionRow(line, first, last, url, email, company, position, on)


def date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def counts(result) -> tuple[int, int, int, int]:
    return result.total_rows, result.skipped_empty, result.duplicates_in_file, result.invalid


# --- Formats -----------------------------------------------------------------------------------


def test_it_reads_the_current_export_after_its_three_line_preamble():
    result = parse("current.csv")

    assert result.rows == [
        row(5, "Aurelia", "Quenby", f"{IN}aurelia-quenby-4b1a2c", "", "Fernleaf Analytics",
            "Head of Data", date("2026-01-05")),
        row(6, "Bastian", "Ollerenshaw", f"{IN}bastian-ollerenshaw", "bastian.o@example.com",
            "Quillmark GmbH", "Sales Director, DACH", date("2025-12-28")),
        row(7, "Cordelia", "Vantongeren", f"{IN}cvantongeren", on=date("2025-11-14")),
        row(8, "Desmond", "Achterberg", f"{IN}desmond-achterberg-0a9b8c7d", "", "Pellucid Labs",
            "Founder & CEO", date("2025-10-03")),
        row(9, "Elowen", "Marchetti", f"{IN}elowen-marchetti", "elowen.marchetti@example.org",
            "Brightwater Ltd", "Senior Recruiter", date("2024-08-19")),
        row(10, "Fitzgerald", "Orme", f"{IN}fitz-orme", "", "Tallowby & Sons", "Apprentice",
            date("2019-03-07")),
    ]  # fmt: skip
    assert counts(result) == (6, 0, 0, 0)
    assert result.problems == []
    assert result.columns == ALL_COLUMNS
    assert (result.encoding, result.delimiter, result.format) == ("utf-8", ",", "current")


def test_it_reads_the_2021_export_without_a_url_column():
    result = parse("2022_no_url.csv")

    assert result.rows == [
        row(5, "Gwendolyn", "Harcastle", None, "", "Northgate Partners", "Partner",
            date("2022-06-02")),
        row(6, "Hamish", "Ingleby", None, "hamish@ingleby.example", "Ingleby Ltd", "Owner",
            date("2022-05-30")),
        row(7, "Isadora", "Jablonski", None, "", "Kite, Lark & Co", "Analyst", date("2022-01-11")),
        row(8, "Jasper", "Kettleworth", on=date("2021-07-01")),
        row(9, "Keziah", "Lomax", None, "", "Mirefield Council", "Planning Officer",
            date("2020-12-24")),
    ]  # fmt: skip
    assert counts(result) == (5, 0, 0, 0)
    assert result.columns == NO_URL_COLUMNS
    assert result.format == "2021"


def test_it_reads_the_2019_export_whose_header_is_the_first_line():
    result = parse("2019_no_preamble.csv")

    assert [(r.line, r.first_name, r.connected_on) for r in result.rows] == [
        (2, "Lysander", date("2018-11-20")),
        (3, "Morwenna", date("2018-09-09")),
        (4, "Nathaniel", date("2017-03-15")),
    ]
    assert result.rows[1].email == "morwenna@nankivell.example"
    assert result.format == "2019"


def test_it_reads_early_2018_dates_month_first_with_a_time():
    result = parse("2018_us_dates.csv")

    assert [(r.first_name, r.company, r.connected_on) for r in result.rows] == [
        ("Octavia", "Ravenscar Bank", date("2018-01-08")),
        ("Percival", "Saltburn Ales", date("2017-12-25")),
        ("Rosalind", "Tadcaster Tiles", date("2016-03-14")),
    ]
    assert result.problems == []
    assert result.format == "2018"


def test_it_ignores_the_address_websites_and_messenger_columns_of_2018():
    result = parse("2018_extra_columns.csv")

    assert result.rows == [
        row(2, "Sebastian", "Thackeray", None, "", "Upton Mills", "Weaver", date("2018-02-01")),
        row(3, "Theodora", "Underhill", None, "theo@underhill.example", "Verwood Books", "Editor",
            date("2017-11-30")),
    ]  # fmt: skip
    assert result.columns == NO_URL_COLUMNS
    assert result.format == "2018"


def test_it_reads_the_2012_outlook_export_in_cp1252_taking_job_title_not_title():
    result = parse("outlook_2012.csv")

    assert result.rows == [
        row(2, "Françoise", "Lefèvre", None, "f.lefevre@coeur.example", "Cœur Verrerie",
            "Directrice – Export"),
        row(3, "Jürgen", "Weiß", None, "", "Weiß & Söhne", "Geschäftsführer"),
        row(4, "Zoë", "Ó Briain", None, "zoe@ballycastle.example", "Ballycastle Ltd", "Buyer"),
    ]  # fmt: skip
    assert result.columns == ["first_name", "last_name", "email", "company", "position"]
    assert (result.encoding, result.format) == ("cp1252", "outlook")


# --- Excel re-saves ----------------------------------------------------------------------------


def test_it_reads_an_excel_resave_with_a_bom_crlf_and_us_dates():
    result = parse("excel_bom_crlf.csv")

    assert result.rows == [
        row(5, "Ulrika", "Vasquez", f"{IN}ulrika-vasquez", "", "Wexford Dental", "Hygienist",
            date("2026-01-05")),
        row(6, "Valentin", "Whitcombe", f"{IN}valentin-whitcombe", "", "Yarrow Bio", "Chemist",
            date("2025-12-31")),
    ]  # fmt: skip
    assert result.rows[0].first_name == "Ulrika"  # no BOM left on the first header cell
    assert (result.encoding, result.format, result.total_rows) == ("utf-8-sig", "current", 2)


def test_it_finds_the_header_after_blank_lines_instead_of_the_notes():
    result = parse("excel_blank_notes.csv")

    assert [(r.line, r.first_name, r.profile_url) for r in result.rows] == [
        (5, "Wilhelmina", f"{IN}wyelverton"),
        (6, "Xavier", f"{IN}xavier-abernethy"),
    ]
    assert result.columns == ALL_COLUMNS


def test_it_finds_the_header_after_notes_padded_with_commas():
    result = parse("excel_padded_notes.csv")

    assert [(r.line, r.last_name, r.connected_on) for r in result.rows] == [
        (5, "Birtwhistle", date("2026-01-05")),
        (6, "Colquhoun", date("2025-12-20")),
    ]
    assert counts(result) == (2, 0, 0, 0)


def test_it_reads_semicolons_and_european_dates_in_cp1252():
    result = parse("excel_semicolon_eu_dates.csv")

    assert result.rows == [
        row(5, "Ágnes", "Müller", f"{IN}agnes-muller", "", "Österreichische Ölwerke",
            "Leiterin, Einkauf", date("2021-09-16")),
        row(6, "Šárka", "Žižková", f"{IN}sarka-zizkova", "", "Brno Pivo", "Sládek",
            date("2022-09-09")),
        row(7, "Chloé", "Goslee, CPA", f"{IN}chloe-goslee", "chloe@goslee.example",
            "Goslee & Partners", "", date("2023-02-01")),
    ]  # fmt: skip
    assert (result.delimiter, result.encoding) == (";", "cp1252")


def test_it_reads_excel_unicode_text_in_utf16_with_tabs():
    result = parse("excel_utf16_tab.csv")

    assert result.rows == [
        row(2, "Kit", "Lanyon", f"{IN}kit-lanyon", "", "Marazion Ltd", "Diver", date("2026-01-05"))
    ]
    assert (result.encoding, result.delimiter) == ("utf-16", "\t")


def test_it_recognises_utf16_without_a_bom_by_its_nul_bytes():
    text = f"{HEADER}\r\nKit,Lanyon,{IN}kit-lanyon,,Marazion Ltd,Diver,05 Jan 2026"

    result = parse_connections(text.encode("utf-16-le"))

    assert [(r.first_name, r.company) for r in result.rows] == [("Kit", "Marazion Ltd")]
    assert result.encoding == "utf-16"


def test_it_decodes_mixed_utf8_and_cp1252_lines_and_survives_undefined_bytes():
    result = parse("mixed_encoding.csv")

    assert [(r.first_name, r.last_name, r.company, r.position) for r in result.rows] == [
        ("René", "Zoëga", "Café Zoë", "Barista"),
        ("Søren", "Ærø", "Æblegården", "Gardener"),
        ("Bartholomew", "Crane", "Ash & Elm", "Joiner\ufffd"),  # 0x81 means nothing in cp1252
        ("Ines", "Muñoz", "Jardín", "Florista"),
    ]
    assert result.encoding == "mixed"
    assert result.problems == []


def test_it_maps_deleted_reordered_renamed_and_unknown_columns():
    result = parse("deleted_columns.csv")

    assert result.rows == [
        row(2, "Ottilie", "Fairweather", None, "", "Gorsedd Slate", "", date("2022-06-02")),
        row(3, "Pip", "Hollingworth", on=date("2022-06-01")),
        row(4, "Quentin", "Ingram", None, "", "Jarrow Steel", "", date("2022-05-31")),
    ]
    assert result.columns == ["first_name", "last_name", "company", "connected_on"]
    assert result.format == "other"


@pytest.mark.parametrize(
    "header",
    [
        "E-mail Address,Job Title,LinkedIn URL,Given Name,Surname,Organization,Connected",
        "email,title,profile url,FIRST NAME ,  last name,company name,connected on",
        "Email,Role,Profile URL,First_Name,Last_Name,Organisation,Date Connected",
    ],
)
def test_it_recognises_header_aliases_in_any_case_and_order(header):
    data = f"{header}\nann@example.com,Chef,{IN}ann-b,Ann,Bisset,Crumbs,05 Jan 2026".encode()

    result = parse_connections(data)

    assert result.rows == [
        row(2, "Ann", "Bisset", f"{IN}ann-b", "ann@example.com", "Crumbs", "Chef",
            date("2026-01-05"))
    ]  # fmt: skip
    assert sorted(result.columns) == sorted(ALL_COLUMNS)


def test_it_never_trusts_the_preamble_wording_or_line_count():
    data = "\n".join(
        [
            "Notes:,,",
            '"Columns: First Name, Last Name, URL; some rows may lack an Email Address",,',
            "Company,Position",  # alias words in a note do not beat the real header
            "",
            "",
            HEADER,
            f"Ann,Bisset,{IN}ann-b,,Crumbs,Chef,05 Jan 2026",
        ]
    ).encode()

    result = parse_connections(data)

    assert [(r.line, r.first_name, r.company) for r in result.rows] == [(7, "Ann", "Crumbs")]


def test_it_reads_a_file_that_kept_only_the_url_column():
    data = f"URL\n{IN}ann-b\nhttps://de.linkedin.com/in/Bert-C/".encode()

    result = parse_connections(data)

    assert [r.profile_url for r in result.rows] == [f"{IN}ann-b", f"{IN}bert-c"]
    assert result.columns == ["profile_url"]


def test_it_reads_old_mac_cr_line_endings_and_counts_lines_across_multiline_cells():
    data = (
        f'{HEADER}\r"Ann",Bisset,{IN}ann-b,,Crumbs,"Chef\rand owner",05 Jan 2026\r'
        f"Bert,Cole,{IN}bert-c,,,,"
    ).encode()

    result = parse_connections(data)

    assert [(r.line, r.position) for r in result.rows] == [(2, "Chef and owner"), (4, "")]


# --- Values ------------------------------------------------------------------------------------


def test_it_keeps_every_script_and_normalises_whitespace():
    result = parse("unicode_names.csv")

    assert [(r.line, r.first_name, r.last_name, r.company, r.position) for r in result.rows] == [
        (5, "🚀 Priya", "Ramaswamy 🌍", "Nova Rockets", "👩\u200d💻 Engineer"),
        (6, "张", "伟", "北京科技有限公司", "工程师"),
        (7, "ليلى", "الحسيني", "شركة النخيل", "مديرة"),
        (8, "Mary Anne", "Okonkwo", "Lagos Looms", ""),  # tab inside, spaces around
        (9, "Harriet", "Goslee, CPA", "Goslee Accounting", "CPA"),
        (10, "", "Nakamura-Whitfield", "Kyoto Kites", ""),
        (11, "Oliver", "Pembroke", "Pembroke Pies", ""),
        (12, "José", "Van der Berg", "Zaragoza Zinc", ""),  # NFC: one code point for é
    ]
    assert result.rows[7].first_name == "Jos\u00e9"
    assert result.problems == []


def test_it_canonicalises_percent_encoded_slugs_and_country_hosts():
    result = parse("unicode_names.csv")

    assert result.rows[1].profile_url == f"{IN}张伟-8a7b6c"
    assert result.rows[6].profile_url == f"{IN}oliver-pembroke"


def test_it_skips_and_counts_ghost_rows_but_ignores_blank_lines():
    result = parse("ghost_rows.csv")

    assert [(r.line, r.first_name) for r in result.rows] == [(5, "Rhiannon"), (11, "Silas")]
    # Lines 6, 8 and 9 hold only a date or only commas; line 10 only a company; 7 and 12 are blank.
    assert counts(result) == (6, 4, 0, 0)
    assert result.problems == []


def test_it_drops_invalid_emails_with_a_problem_naming_the_value():
    result = parse("bad_emails.csv")

    assert [(r.line, r.first_name, r.email) for r in result.rows] == [
        (5, "Tamsin", ""),
        (6, "Ulysses", "ulysses.varley@example.com"),
        (7, "Verity", ""),
        (8, "Wendell", ""),
        (9, "Xanthe", ""),
        (11, "Yusuf", "yusuf.bellamy@example.co.uk"),
    ]
    assert result.problems == [
        RowProblem(5, 'E-mail "urn:li:member:123456" is not an e-mail address; imported '
                   "without it"),
        RowProblem(7, 'E-mail "not an e-mail" is not an e-mail address; imported without it'),
        RowProblem(8, 'E-mail "wendell@localhost" is not an e-mail address; imported without it'),
        RowProblem(9, 'E-mail "xanthe@ashdown" is not an e-mail address; imported without it'),
        RowProblem(10, 'Row skipped: no name, and e-mail "urn:li:member:987" is not an e-mail '
                   "address."),
    ]  # fmt: skip
    assert counts(result) == (7, 0, 0, 1)


def test_it_drops_bad_urls_and_dates_and_rejects_rows_with_too_many_values():
    result = parse("bad_urls_dates.csv")

    assert [(r.line, r.first_name, r.profile_url, r.connected_on) for r in result.rows] == [
        (5, "Zelda", None, date("2026-01-05")),
        (6, "Alaric", None, date("2026-01-04")),
        (7, "Beatrix", f"{IN}beatrix-eastwood", None),
        (8, "Caspian", f"{IN}caspian-f", None),
        (11, "Emrys", f"{IN}emrys-hallam", date("2025-12-30")),
    ]
    assert result.problems == [
        RowProblem(5, 'Profile URL "https://example.com/in/zelda" is not a LinkedIn profile '
                   "address; imported without it"),
        RowProblem(6, 'Profile URL "https://www.linkedin.com/company/denholm-ltd" is not a '
                   "LinkedIn profile address; imported without it"),
        RowProblem(7, 'Date "someday soon" is not a date; imported without it'),
        RowProblem(8, 'Date "31 Feb 2026" is not a date; imported without it'),
        RowProblem(9, 'Row skipped: no name, and profile URL "not a url at all" is not a '
                   "LinkedIn profile address."),
        RowProblem(10, "Row skipped: it has 8 values but the header has 7 columns (a comma in a "
                   "value that is not quoted?)."),
    ]  # fmt: skip
    assert counts(result) == (7, 0, 0, 2)


@pytest.mark.parametrize("slug", ["a%00b", "a%0Ab", "a%3Fb", "a%23b", "a%2541", "a%FFb"])
def test_it_drops_a_url_whose_slug_decodes_to_a_control_or_url_character(slug):
    result = parse_connections(f"{HEADER}\nAnn,Bisset,{IN}{slug},,,,".encode())

    assert result.rows[0].profile_url is None
    assert [p.line for p in result.problems] == [2]


def test_it_merges_duplicates_by_url_then_email_then_name_and_company():
    result = parse("duplicates.csv")

    assert result.rows == [
        # Line 6 is the same URL on a country host: it only fills the blank e-mail and position.
        row(5, "Ann", "Smithers", f"{IN}ann-smithers", "ann@example.com", "Acme", "Engineer",
            date("2026-01-05")),
        row(7, "Ben", "Tolliver", None, "ben.t@example.com", "Zephyr", "", date("2026-01-03")),
        # Line 10 by folded name + company; line 16 (a URL row) falls back to name + company
        # among rows without a URL; line 17 then matches the URL line 16 gave it.
        row(9, "Carla", "Dunmore", f"{IN}carla-dunmore", "carla@orbis.example", "Orbis", "CTO",
            date("2026-01-02")),
        row(11, "Carla", "Dunmore", None, "", "Helix"),  # another company: another person
        row(12, "Dev", "Anand", f"{IN}dev-anand-1", "", "Orbis"),  # two URLs: two people
        row(13, "Dev", "Anand", f"{IN}dev-anand-2", "", "Orbis"),
        row(14, "Eve", "Castellan", None, "eve@one.example", "Nimbus"),  # two e-mails: two people
        row(15, "Eve", "Castellan", None, "eve@two.example", "Nimbus"),
    ]  # fmt: skip
    assert counts(result) == (13, 0, 5, 0)


def test_it_undoes_our_own_formula_escaping_in_every_cell():
    result = parse("formula_escaped.csv")

    assert [(r.first_name, r.last_name, r.company, r.position) for r in result.rows] == [
        ("=Hacker", "-Ann-", "@Handle Co", "+1 Consultant"),
        ("'Tis", "O'Brien", "'Quoted'", ""),
    ]
    assert result.columns == ALL_COLUMNS  # Tags, Stage, Notes, Do Not Contact are not ours here


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("'=SUM(1)", "=SUM(1)"),
        ("'+1", "+1"),
        ("'-Ann-", "-Ann-"),
        ("'@x", "@x"),
        ("'\tx", "\tx"),
        ("'\rx", "\rx"),
        ("'Tis", "'Tis"),
        ("'", "'"),
        ("''=x", "''=x"),
        ("=x", "=x"),
        ("", ""),
    ],
)
def test_it_unescapes_a_formula_only_before_a_formula_character(cell, expected):
    assert unescape_formula(cell) == expected


def test_it_recovers_the_rows_after_a_quote_that_is_never_closed():
    result = parse("unclosed_quote.csv")

    assert [(r.line, r.first_name) for r in result.rows] == [
        (2, "Fenella"),
        (4, "Honor"),
        (5, "Ivo"),
        (6, "Juno"),
    ]
    assert result.problems == [
        RowProblem(3, "Row skipped: a quote opened on this line is never closed.")
    ]
    assert counts(result) == (5, 0, 0, 1)


def test_it_cuts_values_longer_than_the_contact_columns():
    data = f"{HEADER}\n{'A' * 250},Bisset,,,{'C' * 201},{'P' * 301},".encode()

    result = parse_connections(data)

    [contact] = result.rows
    assert (len(contact.first_name), len(contact.company), len(contact.position)) == (200, 200, 300)
    assert [p.message for p in result.problems] == [
        "First name cut to 200 characters",
        "Company cut to 200 characters",
        "Position cut to 300 characters",
    ]


def test_it_removes_control_characters_that_postgresql_would_refuse():
    data = "\n".join(
        [
            HEADER,
            f"Ann\x1b\x7f,Bis\x07set,{IN}ann-b,,Crumbs\x0b Ltd,,05 Jan 2026",
            f"Bert,Cole\x00,{IN}bert-c,,Dough Ltd,Baker,04 Jan 2026",
        ]
    ).encode()

    result = parse_connections(data)

    assert [(r.first_name, r.last_name, r.company) for r in result.rows] == [
        ("Ann", "Bisset", "Crumbs Ltd"),
        ("Bert", "Cole", "Dough Ltd"),
    ]


# --- Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05 Jan 2026", "2026-01-05"),
        ("5 Jan 2026", "2026-01-05"),
        ("20 Nov 2018", "2018-11-20"),
        ("5 September 2022", "2022-09-05"),
        ("5 Sept 2022", "2022-09-05"),
        ("1/8/18, 6:14 PM", "2018-01-08"),  # early 2018: month first
        ("12/25/17, 9:03 AM", "2017-12-25"),
        ("02/06/2022", "2022-02-06"),  # ambiguous: month first, as LinkedIn and US Excel write
        ("13/06/2022", "2022-06-13"),  # 13 cannot be a month: day first
        ("16.09.2021", "2021-09-16"),  # European Excel: day first
        ("1.2.23", "2023-02-01"),
        ("9-Sep-22", "2022-09-09"),
        ("05-Jan-2026", "2026-01-05"),
        ("2022-06-02", "2022-06-02"),
        ("2022-09-08 18:08:14 UTC", "2022-09-08"),
        ("Jan 5, 2026", "2026-01-05"),
        ("  05   JAN 2026 ", "2026-01-05"),
    ],
)
def test_it_parses_every_date_format_linkedin_or_excel_writes(text, expected):
    assert parse_linkedin_date(text) == date(expected)


@pytest.mark.parametrize(
    "text", ["", "someday", "31 Feb 2026", "13/13/2022", "05 Jne 2026", "05 Ja 2026", "2026"]
)
def test_it_returns_none_for_text_that_is_not_a_date(text):
    assert parse_linkedin_date(text) is None


# --- Rejected files ----------------------------------------------------------------------------

EXPECTED_COLUMNS = "First Name, Last Name, URL, Email Address, Company, Position, Connected On"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("preamble_only.csv", "The file holds no connections: only a note, no header or rows."),
        ("header_only.csv", "The file has a header row (line 4) but no connections."),
        (
            "headerless.csv",
            "No header row found: the file needs a row naming its columns, as in LinkedIn's "
            f"Connections.csv: {EXPECTED_COLUMNS}.",
        ),
        (
            "no_name_no_url.csv",
            "The header row (line 1) has no name or profile URL column, so contacts cannot be "
            "told apart: keep at least First Name, Last Name or URL.",
        ),
        (
            "not_a_csv.xlsx.csv",
            "This looks like an Excel workbook (.xlsx), not a CSV file. Save it from Excel with "
            "File > Save As > CSV UTF-8, or upload the original Connections.csv.",
        ),
        (
            "linkedin_export.zip.csv",
            "This looks like a ZIP archive, not a CSV file. LinkedIn sends your data as a ZIP: "
            "unzip it and upload the Connections.csv inside.",
        ),
        (
            "image.png.csv",
            "This looks like a PNG image, not a CSV file. Upload the Connections.csv file from "
            "your LinkedIn data export.",
        ),
        (
            "doc.pdf.csv",
            "This looks like a PDF document, not a CSV file. Upload the Connections.csv file "
            "from your LinkedIn data export.",
        ),
    ],
)
def test_it_rejects_unusable_files_with_a_one_line_reason(name, message):
    with pytest.raises(RejectedFile) as caught:
        parse(name)

    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_it_tells_how_to_turn_an_old_excel_workbook_into_a_csv():
    with pytest.raises(RejectedFile) as caught:
        parse_connections(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)

    assert str(caught.value) == (
        "This looks like an old Excel workbook (.xls), not a CSV file. Save it from Excel with "
        "File > Save As > CSV UTF-8, or upload the original Connections.csv."
    )


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old Excel workbook (.xls)"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "a gzip-compressed file"),
    ],
)
def test_it_names_what_a_renamed_binary_file_looks_like(data, looks_like):
    with pytest.raises(RejectedFile) as caught:
        parse_connections(data)

    assert str(caught.value).startswith(f"This looks like {looks_like}, not a CSV file. ")


@pytest.mark.parametrize(
    "data", [HEADER.encode() + b"\n\x00\x00\x00\x00", bytes(range(1, 32)) * 10 + b"First Name"]
)
def test_it_rejects_other_binary_data(data):
    with pytest.raises(RejectedFile, match="^This looks like a binary file, not a CSV text file"):
        parse_connections(data)


def test_it_tells_an_xlsx_from_a_plain_zip_by_its_first_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")

    with pytest.raises(RejectedFile, match=r"^This looks like an Excel workbook \(\.xlsx\)"):
        parse_connections(buffer.getvalue())


def test_it_names_the_expected_columns_for_a_long_line_without_a_header():
    with pytest.raises(RejectedFile, match="^No header row found"):
        parse_connections(b"Ann Bisset " * 1000)


@pytest.mark.parametrize("data", [b"   \r\n\t\n", "\ufeff".encode() + b"\r\n\r\n"])
def test_it_rejects_a_file_of_whitespace_as_empty(data):
    with pytest.raises(RejectedFile, match=r"^The file is empty\.$"):
        parse_connections(data)


def test_it_rejects_a_file_over_the_size_limit_giving_both_sizes():
    data = (FIXTURES / "current.csv").read_bytes() + b" " * (21 * 1024 * 1024)

    with pytest.raises(RejectedFile) as caught:
        parse_connections(data)

    assert str(caught.value) == "This file is 21.0 MB, over the 20 MB limit."


def test_it_takes_the_size_limit_as_an_argument():
    with pytest.raises(RejectedFile, match=r"over the 0\.5 MB limit"):
        parse_connections(b"x" * (512 * 1024 + 1), max_bytes=512 * 1024)


# --- Memory ------------------------------------------------------------------------------------


def peak_memory(data: bytes):
    """Parse data; return the result and the peak memory the parsing allocated, in bytes."""
    return measure_peak_memory(parse_connections, data, max_bytes=len(data))


@pytest.mark.parametrize("filler", [b",", b'"x'], ids=["commas", "one open quote"])
def test_it_gives_up_a_19_mb_line_before_splitting_it(filler):
    # csv would split a line of commas into one cell per comma (8 bytes and more each): the
    # line is given up by its length first.
    data = f"{HEADER}\nAnn,Bisset\n".encode() + filler * (19 * MB // len(filler)) + b"\nBo,Cole\n"

    result, peak = peak_memory(data)

    assert [r.first_name for r in result.rows] == ["Ann", "Bo"]
    assert result.problems == [RowProblem(3, "Row skipped: it is longer than 65,536 characters.")]
    assert peak < 3 * len(data), f"{peak / MB:.0f} MB for a {len(data) / MB:.0f} MB file"


def test_it_skips_a_long_line_of_whitespace_as_blank():
    data = f"{HEADER}\nAnn,Bisset\n".encode() + b" \t" * (64 * 1024) + b"\nBo,Cole"

    result = parse_connections(data)

    assert [r.first_name for r in result.rows] == ["Ann", "Bo"]
    assert counts(result) == (2, 0, 0, 0) and result.problems == []


def test_it_reads_a_file_of_lines_of_commas_in_little_memory():
    data = f"{HEADER}\n".encode() + (b"," * 1023 + b"\n") * (4 * MB // 1024)

    result, peak = peak_memory(data)

    assert counts(result) == (4096, 4096, 0, 0)  # rows of commas name nobody
    assert peak < 3 * len(data), f"{peak / MB:.0f} MB for a {len(data) / MB:.0f} MB file"


# --- Speed -------------------------------------------------------------------------------------


def test_it_parses_30000_rows_in_well_under_a_second():
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    lines = ["Notes:", '"A note, quoted."', "", HEADER]
    for i in range(30_000):
        email = f"person{i}@example.com" if i % 25 == 0 else ""
        lines.append(
            f"Firstname{i},Lastname{i},{IN}firstname-lastname-{i:06x},{email},"
            f'"Company {i % 3000}, Ltd",Manager {i % 50},{i % 28 + 1:02d} {months[i % 12]} 2024'
        )
    data = "\n".join(lines).encode()
    assert 3_000_000 < len(data) < 4_000_000

    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        result = parse_connections(data)
        best = min(best, time.process_time() - started)

    assert len(result.rows) == 30_000
    # About 0.4 s of CPU here. Timed tests on a shared machine are noisy, so this only catches
    # a disaster (a quadratic loop); `make bench` is where speed is measured.
    assert best < 4.0, f"{best:.2f} s of CPU"
