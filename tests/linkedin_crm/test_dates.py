import datetime

from linkedin_crm.dates import days_label, format_date, window_label


def test_it_writes_english_month_names():
    assert format_date(datetime.date(2026, 1, 5)) == "05 Jan 2026"
    assert format_date(datetime.date(2025, 12, 31)) == "31 Dec 2025"


def test_it_names_every_day_without_ranges():
    assert days_label([4, 0, 1, 2, 3], ranges=False) == "Mon, Tue, Wed, Thu, Fri"
    assert days_label([4, 0, 1, 2, 3]) == "Mon–Fri"


def test_it_labels_a_window_both_ways():
    start, end = datetime.time(9, 0), datetime.time(17, 30)
    assert window_label([0, 1, 2, 3, 4], start, end, "UTC") == "Mon–Fri 09:00–17:30 UTC"
    assert (
        window_label([5, 6], start, end, "Europe/Berlin", ranges=False)
        == "Sat, Sun 09:00–17:30 Europe/Berlin"
    )
