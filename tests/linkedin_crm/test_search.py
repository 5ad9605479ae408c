import pytest

from linkedin_crm import search


def test_it_keeps_a_short_search_whole():
    terms = search.capped("  Ann  Lee ")
    assert (terms.text, terms.notice) == ("Ann Lee", "")
    assert search.capped(None).text == ""


def test_it_keeps_the_first_10_words():
    terms = search.capped(" ".join(f"w{n}" for n in range(1500)), label="Contact")
    assert terms.text == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"
    assert terms.notice == "Contact: searched for the first 10 words only."


def test_it_keeps_the_first_200_characters():
    terms = search.capped("x" * 500)
    assert terms.text == "x" * 200
    assert terms.notice == "Search: searched for the first 200 characters only."


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Jürgen MÜLLER", "jurgen muller"),
        ("Łukasz Żółw", "lukasz zolw"),
        ("Søren Kierkegård", "soren kierkegard"),
        ("Straße ẞ", "strasse ss"),
        ("Æsir Œuvre Đorđe Þór", "aesir oeuvre dorde thor"),
        ("François  Ñúñez\tÅsa", "francois nunez asa"),
        ("ﬁne ①", "fine 1"),  # compatibility forms (NFKD)
        ("Ann Lee", "ann lee"),
        ("", ""),
        (None, ""),
    ],
)
def test_the_search_key_drops_case_accents_and_special_letters(text, key):
    assert search.search_key(text) == key


def test_the_indexed_text_adds_words_spelled_the_german_way_with_plain_vowels():
    assert search.indexed_text("Max Mueller") == "max mueller muller"
    assert search.indexed_text("Jörg Müller") == "jorg muller"
    assert search.indexed_text("Ann Lee") == "ann lee"


def test_a_search_word_looks_for_its_key_with_plain_vowels():
    assert search.search_word("Müller") == "muller"
    assert search.search_word("MUELLER") == "muller"
    assert search.search_word("Goethe") == "gothe"
    assert search.search_word("\u0301") == ""


@pytest.mark.parametrize("stored", ["Müller", "Mueller", "Muller", "MÜLLER"])
@pytest.mark.parametrize("typed", ["müller", "muller", "mueller", "MÜLLER", "Mueller"])
def test_every_spelling_of_mueller_finds_every_other(stored, typed):
    # The contract of the two functions, as a LIKE '%…%' on the column applies it.
    indexed = search.indexed_text(f"Hans {stored}")
    assert search.search_word(typed) in indexed
