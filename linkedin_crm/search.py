"""How much of what was typed into a search box a search uses.

Every word of a search is one more condition in its query, and SQLite refuses a query whose
expression tree is deeper than 1000 ("Expression tree is too large"): a pasted paragraph was a
server error. No one needs more than a few words to find a person, so searches use the first
MAX_WORDS words of their first MAX_CHARS characters, and the page says what was left out.
"""

from dataclasses import dataclass

from django import forms

MAX_WORDS = 10
MAX_CHARS = 200


@dataclass(frozen=True)
class SearchTerms:
    text: str
    """What the search uses: at most MAX_WORDS words, MAX_CHARS characters."""
    notice: str
    """What it left out, to show beside the results; "" when it used everything."""


def capped(text: str | None, *, label: str = "Search") -> SearchTerms:
    """The part of `text` a search uses; `label` names the box in the notice."""
    text = text or ""
    words = text[:MAX_CHARS].split()
    if len(words) > MAX_WORDS:
        notice = f"{label}: searched for the first {MAX_WORDS} words only."
    elif len(text.strip()) > MAX_CHARS:
        notice = f"{label}: searched for the first {MAX_CHARS} characters only."
    else:
        notice = ""
    return SearchTerms(text=" ".join(words[:MAX_WORDS]), notice=notice)


def search_input() -> forms.TextInput:
    """A search box's input: the browser keeps a paste within MAX_CHARS, too."""
    return forms.TextInput(attrs={"maxlength": MAX_CHARS})
