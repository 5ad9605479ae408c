import pytest

from contacts.identity import canonical_profile_url, fold


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("https://www.linkedin.com/in/jane-doe", "https://www.linkedin.com/in/jane-doe"),
        ("http://www.linkedin.com/in/jane-doe/", "https://www.linkedin.com/in/jane-doe"),
        ("https://uk.linkedin.com/in/Jane-Doe", "https://www.linkedin.com/in/jane-doe"),
        ("https://de.linkedin.com/in/jane-doe?trk=abc#top", "https://www.linkedin.com/in/jane-doe"),
        ("linkedin.com/in/jane-doe", "https://www.linkedin.com/in/jane-doe"),
        ("  https://WWW.LinkedIn.com/in/JANE-DOE/  ", "https://www.linkedin.com/in/jane-doe"),
        (
            "https://www.linkedin.com/in/jane-doe/details/experience/",
            "https://www.linkedin.com/in/jane-doe",
        ),
        (
            "https://www.linkedin.com/in/j%C3%BCrgen-m%C3%BCller-12345",
            "https://www.linkedin.com/in/jürgen-müller-12345",
        ),
        ("https://www.linkedin.com/in/%E6%9D%8E%E5%A8%9C", "https://www.linkedin.com/in/李娜"),
        ("https://m.linkedin.com/in/jane-doe", "https://www.linkedin.com/in/jane-doe"),
        # The fast path for URLs already in (nearly) canonical form.
        (
            "https://www.linkedin.com/in/jane-doe-1a2b3c/",
            "https://www.linkedin.com/in/jane-doe-1a2b3c",
        ),
        ("https://www.linkedin.com/in/jane_doe", "https://www.linkedin.com/in/jane_doe"),
    ],
)
def test_it_canonicalises_profile_urls(raw, canonical):
    assert canonical_profile_url(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "   ",
        "https://www.linkedin.com/company/acme",
        "https://www.linkedin.com/in/",
        "https://example.com/in/jane-doe",
        "https://linkedin.com.evil.example/in/jane",
        "ftp://www.linkedin.com/in/jane",
        "urn:li:member:123",
        "https://www.linkedin.com/in/%20",
        # Decoded characters that would not survive canonicalising again, or no slug holds.
        "https://www.linkedin.com/in/a%3Fb",
        "https://www.linkedin.com/in/a%23b",
        "https://www.linkedin.com/in/a%25b",
        "https://www.linkedin.com/in/a%00b",
        "https://www.linkedin.com/in/a%FFb",
        "https://someone@www.linkedin.com/in/jane",
    ],
)
def test_it_rejects_what_is_not_a_profile_url(raw):
    assert canonical_profile_url(raw) is None


def test_it_folds_case_and_whitespace_across_scripts():
    assert fold("  MÜLLER\tStraße ") == fold("müller strasse")
    assert fold("ZOË") == fold("zoë")
    assert fold("ΣΩΚΡΆΤΗΣ") == fold("σωκράτης")


@pytest.mark.parametrize(
    "raw",
    [
        "https://uk.linkedin.com/in/J%C3%BCrgen/",
        "http://linkedin.com/in/ann?x=1",
        "m.linkedin.com/in/A",
    ],
)
def test_canonical_urls_are_stable(raw):
    once = canonical_profile_url(raw)
    assert once is not None and canonical_profile_url(once) == once
