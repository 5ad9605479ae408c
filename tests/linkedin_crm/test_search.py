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
