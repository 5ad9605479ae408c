"""How much of what was typed into a search box a search uses, and how it is matched.

Every word of a search is one more condition in its query, and SQLite refuses a query whose
expression tree is deeper than 1000 ("Expression tree is too large"): a pasted paragraph was a
server error. No one needs more than a few words to find a person, so searches use the first
MAX_WORDS words of their first MAX_CHARS characters, and the page says what was left out.

Matching ignores case, accents and the usual transliterations ("Müller" = "muller" =
"mueller", "Łukasz" = "lukasz", "Søren" = "soren"): the searched text is stored reduced by
`indexed_text` and each word of a search by `search_word`, in Python, so that a plain
substring match (LIKE) does the rest the same way on SQLite and PostgreSQL.
"""

import re
import unicodedata
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


# Letters that Unicode decomposition (NFKD) does not split into a base letter and a mark, as
# they are written in ASCII. Case-folded first, so lower case only ("ß" and "ẞ" fold to "ss").
_SPELLED_OUT = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "ĸ": "k",
    }
)
# German writes ä, ö, ü as ae, oe, ue where the letters are missing (passports, e-mail
# addresses, LinkedIn URLs): "Mueller" is "Müller", which loses its marks as "muller".
_GERMAN_SPELLING = re.compile("([aou])e")


def search_key(text: str | None) -> str:
    """`text` lower-cased, without accents or special letters, whitespace collapsed:
    "Łukasz MÜLLER-Søren" -> "lukasz muller-soren"."""
    if not text:
        return ""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_SPELLED_OUT)
    return " ".join(text.split())


def _without_german_spelling(word: str) -> str:
    return _GERMAN_SPELLING.sub(r"\1", word)


def indexed_text(text: str | None) -> str:
    """What a search matches against: the search key of `text`, followed by each of its words
    that holds "ae", "oe" or "ue" as it reads with a plain vowel, so that "muller" finds
    "Mueller" and "mueller" (looking for "muller", search_word) finds all three."""
    key = search_key(text)
    if "e" not in key:
        return key
    plain = [
        _without_german_spelling(word) for word in key.split() if _GERMAN_SPELLING.search(word)
    ]
    return " ".join([key, *plain])


def search_word(word: str) -> str:
    """What one word of a search looks for in `indexed_text`: its search key, with German
    "ae", "oe", "ue" as the plain vowel ("Müller", "Mueller" -> "muller"), which every
    indexed word holding them has too. One LIKE per word, however it was spelled."""
    return _without_german_spelling(search_key(word))
