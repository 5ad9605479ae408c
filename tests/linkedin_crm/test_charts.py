"""The chart geometry and text equivalents: pure functions, no database."""

import pytest

from linkedin_crm import charts
from linkedin_crm.charts import (
    BAR_HEIGHT,
    BAR_PERCENT,
    LABEL_PERCENT,
    PLOT_HEIGHT,
    PLOT_TOP,
    ROW_HEIGHT,
    Series,
    horizontal_bars,
    nice_ceiling,
    stacked_columns,
    ticks,
)

BOTTOM = PLOT_TOP + PLOT_HEIGHT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1),
        (0.4, 1),
        (1, 1),
        (2, 2),
        (3, 5),
        (7, 10),
        (10, 10),
        (11, 20),
        (180, 200),
        (999, 1000),
    ],
)
def test_it_rounds_an_axis_up_to_1_2_or_5_times_a_power_of_ten(value, expected):
    assert nice_ceiling(value) == expected


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (5, [0, 5]),
        (10, [0, 5, 10]),
        (20, [0, 5, 10, 15, 20]),
        (200, [0, 50, 100, 150, 200]),
    ],
)
def test_it_puts_gridlines_at_whole_numbers(top, expected):
    assert ticks(top) == expected


def test_it_shortens_long_labels_with_an_ellipsis():
    assert charts.shorten("Acme") == "Acme"
    assert charts.shorten("  Société   Lumière  ") == "Société Lumière"
    long = "Ó Súilleabháin & Partners International"
    assert charts.shorten(long) == "Ó Súilleabháin &…"
    assert len(charts.shorten(long)) <= charts.LABEL_CHARS


# --- horizontal bars ---------------------------------------------------------------------------


@pytest.mark.parametrize("items", [[], [("Lead", 0), ("Customer", 0)]])
def test_bars_of_nothing_are_an_empty_chart(items):
    chart = horizontal_bars("c", "Contacts by stage", items, label_name="Stage")
    assert chart.is_empty
    assert chart.rects == chart.texts == chart.rows == ()
    assert chart.height == 0
    assert chart.description == "No contacts to show."
    assert chart.columns == ("Stage", "Contacts")


def test_one_bar_fills_the_bar_area():
    chart = horizontal_bars("c", "Companies", [("Acme", 7)], label_name="Company")
    (rect,) = chart.rects
    assert (rect.x, rect.width, rect.height) == (LABEL_PERCENT, BAR_PERCENT, BAR_HEIGHT)
    assert rect.y == (ROW_HEIGHT - BAR_HEIGHT) / 2
    assert rect.tooltip == "Acme: 7"
    label, value = chart.texts
    assert (label.x, label.text, label.anchor) == (0, "Acme", "start")
    assert (value.x, value.dx, value.text) == (LABEL_PERCENT + BAR_PERCENT, 4, "7")
    assert chart.height == ROW_HEIGHT
    assert chart.rows == (("Acme", "7"),)
    assert chart.description == "1 bar; the largest: Acme, 7 contacts."


def test_bars_scale_to_the_largest_keep_their_order_and_skip_zero_rectangles():
    items = [("Lead", 80_000), ("Contacted", 20_000), ("Customer", 0), ("Replied", 40_000)]
    chart = horizontal_bars("c", "Contacts by stage", items, label_name="Stage")
    assert [rect.width for rect in chart.rects] == [50.0, 12.5, 25.0]
    assert [rect.y for rect in chart.rects] == [4.0, 30.0, 82.0]  # Customer's row stays empty
    values = [text for text in chart.texts if text.dx]
    assert [(text.x, text.text) for text in values] == [
        (86.0, "80,000"),
        (48.5, "20,000"),
        (36.0, "0"),
        (61.0, "40,000"),
    ]
    assert chart.height == 4 * ROW_HEIGHT
    assert chart.rows == (
        ("Lead", "80,000"),
        ("Contacted", "20,000"),
        ("Customer", "0"),
        ("Replied", "40,000"),
    )
    assert chart.description == "4 bars; the largest: Lead, 80,000 contacts."


def test_a_long_label_is_shortened_on_the_chart_but_whole_in_its_text_equivalent():
    name = "Ó Súilleabháin & Partners International"
    chart = horizontal_bars("c", "Companies", [(name, 3)], label_name="Company")
    assert chart.texts[0].text == "Ó Súilleabháin &…"
    assert chart.rects[0].tooltip == f"{name}: 3"
    assert chart.rows == ((name, "3"),)


# --- stacked columns ---------------------------------------------------------------------------


def test_columns_of_nothing_are_an_empty_chart_with_their_header():
    chart = stacked_columns(
        "c",
        "Per day",
        ["01 Nov", "02 Nov"],
        [Series("Sent", "s-sent", [0, 0]), Series("Failed", "s-failed", [0, 0])],
        category_name="Day",
    )
    assert chart.is_empty and chart.rows == () and chart.height == 0
    assert chart.columns == ("Day", "Sent", "Failed", "Total")
    assert chart.description == "No messages to show."


def test_one_column_under_a_round_top():
    chart = stacked_columns(
        "c",
        "Connections per year",
        ["2024"],
        [Series("Connections", "chart-bar", [3])],
        category_name="Year",
        what="connections",
    )
    (rect,) = chart.rects
    # The top is 5, so 3 reaches three fifths of the plot.
    assert rect.height == PLOT_HEIGHT * 3 / 5
    assert rect.y == BOTTOM - PLOT_HEIGHT * 3 / 5
    assert rect.x == pytest.approx(100 * charts.COLUMN_GAP_PERCENT)
    assert rect.x + rect.width == pytest.approx(100 - 100 * charts.COLUMN_GAP_PERCENT)
    # Gridlines at 0 (the axis) and 5, with the 5 labelled.
    assert [(line.y1, line.css) for line in chart.lines] == [
        (BOTTOM, "chart-axis"),
        (PLOT_TOP, "chart-grid"),
    ]
    labels = [(text.text, text.anchor, text.x) for text in chart.texts]
    assert ("5", "start", 0) in labels
    assert ("2024", "end", 100.0) in labels
    assert chart.legend == ()  # one series: no legend, no total column
    assert chart.columns == ("Year", "Connections")
    assert chart.rows == (("2024", "3"),)
    assert (
        chart.description == "3 connections over 1 year, from 2024 to 2024; the most, 3, in 2024."
    )


def test_stacked_series_sit_on_each_other_and_the_table_has_every_number():
    sent = Series("Sent", "s-sent", [10, 0, 30, 20])
    failed = Series("Failed", "s-failed", [5, 2, 0, 20])
    chart = stacked_columns(
        "c", "Per day", ["d1", "d2", "d3", "d4"], [sent, failed], category_name="Day"
    )
    # The tallest column is 40, so the top is 50; each column is a quarter of the width.
    first_sent, first_failed = chart.rects[:2]
    assert (first_sent.css, first_failed.css) == ("s-sent", "s-failed")
    assert first_sent.x == first_failed.x == 25 * charts.COLUMN_GAP_PERCENT
    assert first_sent.height == PLOT_HEIGHT * 10 / 50
    assert first_sent.y + first_sent.height == BOTTOM
    assert first_failed.y + first_failed.height == pytest.approx(first_sent.y)
    # A zero draws nothing: 6 rectangles for 8 values.
    assert len(chart.rects) == 6
    assert chart.legend == (("Sent", "s-sent"), ("Failed", "s-failed"))
    assert chart.columns == ("Day", "Sent", "Failed", "Total")
    assert chart.rows == (
        ("d1", "10", "5", "15"),
        ("d2", "0", "2", "2"),
        ("d3", "30", "0", "30"),
        ("d4", "20", "20", "40"),
    )
    assert chart.description == (
        "87 messages over 4 days, from d1 to d4; the most, 40, in d4. By status: Sent 60, "
        "Failed 27."
    )
    assert chart.rects[0].tooltip == "d1: 10 Sent"


def test_many_columns_label_only_some_categories_ending_with_the_last():
    days = [f"{n:02d} Nov" for n in range(1, 31)]
    chart = stacked_columns(
        "c", "Per day", days, [Series("Sent", "s-sent", list(range(30)))], category_name="Day"
    )
    labels = [text for text in chart.texts if text.text in days]
    assert len(labels) == charts.MAX_CATEGORY_LABELS
    assert labels[0].text == "30 Nov" and labels[0].anchor == "end"
    assert {text.anchor for text in labels[1:]} == {"middle"}
    assert len(chart.rows) == 30  # the table has every day


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="has 1 values for 2"):
        stacked_columns(
            "c", "Per day", ["a", "b"], [Series("Sent", "s-sent", [1])], category_name="Day"
        )
