from types import SimpleNamespace

import pytest

from linkedin_crm.templatetags.ui import initials


@pytest.mark.parametrize(
    "first, last, shown, expected",
    [
        ("Zoë", "Müller", "", "ZM"),
        ("🫶 Ana", "Okafor", "", "AO"),
        ("", "", "jane@example.com", "J"),
        ("", "", "—", "?"),
    ],
)
def test_initials_take_the_first_letter_of_each_name(first, last, shown, expected):
    class Person(SimpleNamespace):
        def __str__(self):
            return shown

    assert initials(Person(first_name=first, last_name=last)) == expected
