"""Reading the Outbox page, for the tests of its actions."""

import re


def textarea_text(page: str, pk: int) -> str:
    """The text in message `pk`'s text box, as the page shows it."""
    found = re.search(rf'<textarea name="body" id="body-{pk}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no text box for message {pk}"
    return found.group(1)
