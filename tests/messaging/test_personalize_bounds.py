"""Message templates cannot make a worker run out of memory: the filters that multiply text are
withheld, and the others are bounded. No database needed."""

import pytest
from django.template import defaultfilters

from messaging import personalize
from messaging.personalize import TemplateError, lint, render

ANNA = {"first_name": "Anna", "company": "Acme"}

# The body from the security finding: 168 characters that took a worker from 84 to 595 MB.
FINDING_BODY = "Hi {{ first_name" + '|join:"xx"' * 15 + "}}"
# Seventeen of them reached 3.4 GB.
CHAINED_JOIN_BODY = "{{ first_name" + '|join:"xx"' * 17 + " }}"

JOIN_REFUSAL = (
    "The filter “join” is not available in messages: on text it repeats its argument between "
    "every letter, so each use multiplies the length of the message."
)


# --- every default filter is decided -----------------------------------------------------------


def test_it_decides_on_every_default_filter():
    # A Django upgrade that adds a filter fails here until it is allowed (and shown to be
    # bounded) or withheld with a reason.
    offered = set(defaultfilters.register.filters)
    allowed = set(personalize._ALLOWED_FILTERS)
    withheld = set(personalize._WITHHELD_FILTERS)

    assert allowed.isdisjoint(withheld)
    assert offered - allowed - withheld == set(), "undecided default filters"
    assert (allowed | withheld) - offered == set(), "decisions on filters Django does not have"


def test_the_engine_offers_only_the_allowed_filters():
    assert set(personalize.ENGINE.template_builtins[0].filters) == personalize._ALLOWED_FILTERS


# --- withheld filters --------------------------------------------------------------------------


def test_it_refuses_the_body_from_the_finding_with_a_sentence():
    assert len(FINDING_BODY) == 168

    assert lint(FINDING_BODY).errors == [JOIN_REFUSAL]
    assert lint(CHAINED_JOIN_BODY).errors == [JOIN_REFUSAL]


def test_it_refuses_to_render_the_chained_join():
    for body in (FINDING_BODY, CHAINED_JOIN_BODY):
        with pytest.raises(TemplateError) as caught:
            render(body, ANNA)

        assert caught.value.errors == [JOIN_REFUSAL]


@pytest.mark.parametrize("name", sorted(personalize._WITHHELD_FILTERS))
def test_it_refuses_every_withheld_filter_with_its_reason(name):
    reason = personalize._WITHHELD_FILTERS[name]
    sentence = f"The filter “{name}” is not available in messages: {reason}."

    assert lint(f'{{{{ company|{name}:"2" }}}}').errors == [sentence]
    assert lint(f"{{{{ company|{name} }}}}").errors == [sentence]
    assert lint(f"{{% if company|{name} %}}x{{% endif %}}").errors == [sentence]


@pytest.mark.parametrize(
    "body",
    [
        '{{ first_name|make_list|join:"" }}',
        "{{ company|unordered_list }}",
        "{{ company|safeseq }}",
        '{{ company|dictsort:"upper" }}',
        '{{ company|date:"rrrrrrrrrrrrrrrrrrrr" }}',
        "{{ company|addslashes|addslashes|addslashes }}",
        "{{ company|urlencode }}",
        "{{ company|linenumbers }}",
    ],
)
def test_it_refuses_filters_that_multiply_text_or_build_lists(body):
    result = lint(body)

    assert not result.ok
    assert all("is not available in messages: " in error for error in result.errors)
