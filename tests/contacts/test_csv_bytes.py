"""Bytes to text and text to lines, shared by the Connections.csv and messages.csv readers."""

import io

import pytest

from contacts.csv_bytes import RecordLines, RecordTooLong, decode, line_spans
from tests.csv_helpers import MB, peak_memory


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\r\nb\rc\n\nd", "\r\r\n\n", "é\u2028x\n"])
def test_it_splits_lines_as_stringio_reads_them(text):
    lines = [text[start:end] for start, end in line_spans(text)]

    assert lines == list(io.StringIO(text, newline=""))


def test_it_hands_out_a_record_within_bounds_and_pushes_back_the_rest():
    lines = RecordLines("one\ntwo\nthree\nfour\n", max_chars=100, max_lines=2)
    reading = iter(lines)

    assert [next(reading), next(reading)] == ["one\n", "two\n"]
    with pytest.raises(RecordTooLong):
        next(reading)
    assert lines.push_back_rest() == len("two\nthree\n")
    reading = iter(lines)
    assert [next(reading), next(reading)] == ["two\n", "three\n"]


def test_it_refuses_a_line_over_the_bound_before_taking_it_out_of_the_text():
    lines = RecordLines("short\n" + "," * 1000 + "\nafter\n", max_chars=100)
    reading = iter(lines)

    assert next(reading) == "short\n"
    lines.start_record()
    with pytest.raises(RecordTooLong):
        next(reading)
    assert lines.record == [(6, 1007)]
    lines.start_record()
    assert list(lines) == ["after\n"]


def test_it_decodes_a_file_of_short_lines_with_one_cp1252_byte_in_little_memory():
    # Falling back to cp1252 line by line once kept every line of the file as an object: 16
    # times the size of a file of empty lines, 34 times for lines of two letters.
    data = "Zoë\n".encode("cp1252") + b"ab\n" * (6 * MB)

    (text, encoding), peak = peak_memory(decode, data)

    assert (text[:7], encoding) == ("Zoë\nab\n", "cp1252")
    assert len(text) == len(data)
    assert peak < 3 * len(data), f"{peak / MB:.0f} MB for a {len(data) / MB:.0f} MB file"


def test_it_decodes_utf8_and_cp1252_lines_of_one_file_each_as_they_are():
    data = "Zoë\n".encode() + "Zoë\n".encode("cp1252") + b"x" * (200 * 1024) + "\nZoë".encode()

    text, encoding = decode(data)

    assert text.split("\n")[:2] == ["Zoë", "Zoë"] and text.endswith("\nZoë")
    assert encoding == "mixed"
