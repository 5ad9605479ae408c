"""Bytes to text and text to lines, shared by the Connections.csv and messages.csv readers."""

import io

import pytest

from contacts.csv_bytes import RecordLines, RecordTooLong, line_spans


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
