"""A column page of the stage board (/contacts/board/column/), which its "Show more" fetches."""

import pytest

from tests.contacts.views.board_page import BOARD, COLUMN, ada


@pytest.fixture
def contact(db):
    """Instead of the contact page's contact of conftest.py: the board's messages name Ada."""
    return ada()


def test_a_bad_column_link_says_so(staff_client, contact):
    response = staff_client.get(
        COLUMN, {"column": "wizard", "after": "9"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "could not be loaded" in response.content.decode()
    response = staff_client.get(COLUMN, {"column": "lead", "after": "x"}, follow=True)
    assert response.redirect_chain[-1][0] == BOARD
    assert "not valid" in response.content.decode()
