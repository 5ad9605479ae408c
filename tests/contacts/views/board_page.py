"""What the stage board's tests share (the board, its column pages and its stage changes): its
addresses, readers of its columns and cards, and the contact they move, whom its messages name."""

import re

from contacts.models import Contact
from tests.contacts.factories import ContactFactory

BOARD = "/contacts/board/"
COLUMN = "/contacts/board/column/"

COUNT = re.compile(r'id="column-(\w+)">.*?data-count="(\d+)"')


def column_counts(html: str) -> dict[str, int]:
    return {stage: int(count) for stage, count in COUNT.findall(html)}


def card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="card-(\d+)"', html)]


def ada() -> Contact:
    return ContactFactory(first_name="Ada", last_name="Lovelace", company="Engines Ltd")
