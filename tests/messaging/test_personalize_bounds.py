"""Message templates cannot make a worker run out of memory: the filters that multiply text are
withheld, and the others are bounded. No database needed."""

import tracemalloc

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


# --- rendering within bounds -------------------------------------------------------------------

# Generous: the body from the finding took 500 MB; these stay well under 1 MB.
MEMORY_BOUND = 5 * 1024 * 1024

# 300 characters that case changes, slugify and escapes would all lengthen.
LONG = {
    "first_name": "Anna",
    "last_name": "Berg",
    "full_name": "Anna Berg",
    "company": "ß<a>ΐ⒇ 'x' " * 18,
    "position": ("ßΐ⒇<a> P,1 " * 28)[:300],
    "industry": "é" * 200,
}
# One variable grown by |add to 7,800 characters, just under the limit of a message.
GROWN = "{{ position" + "|add:position" * 25


def peak_memory(function) -> int:
    """The most memory (in bytes) Python held at once while function ran."""
    tracemalloc.start()
    try:
        function()
    except TemplateError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def render_or_refusal(body: str, context: dict) -> str:
    try:
        return render(body, context)
    except TemplateError as error:
        return str(error)


def test_it_refuses_a_filter_result_longer_than_a_message():
    body = "{{ position" + "|add:position" * 40 + " }}"
    assert lint(body).ok

    with pytest.raises(TemplateError) as caught:
        render(body, LONG)

    assert caught.value.errors == [
        "The filter “add” makes a text of 8,100 characters for this recipient; a message has "
        "at most 8,000."
    ]


def test_it_refuses_a_long_literal_made_longer():
    body = '{{ position|add:"' + "x" * 7900 + '" }}'
    assert lint(body).ok

    with pytest.raises(TemplateError, match="The filter “add” makes a text of 8,200 characters"):
        render(body, LONG)


def test_it_stops_rendering_as_soon_as_the_message_passes_the_limit():
    # 570 tags of 300 characters each: 171,000 characters if rendered whole.
    body = "{{ position }}" * 570
    assert len(body) < personalize.MAX_BODY
    assert lint(body).ok

    with pytest.raises(TemplateError) as caught:
        render(body, LONG)
    peak = peak_memory(lambda: render(body, LONG))

    assert caught.value.errors == [
        "The message for this recipient is longer than the limit of 8,000 characters."
    ]
    assert peak < 100_000  # well under the 171,000 characters of the whole text


def test_it_counts_the_text_inside_if_blocks_towards_the_limit():
    body = "{% if position %}" * 5 + "{{ position|add:position }}" * 60 + "{% endif %}" * 5

    with pytest.raises(TemplateError, match="longer than the limit of 8,000 characters"):
        render(body, LONG)


def test_it_refuses_a_refused_filter_inside_an_if_comparison():
    # Django would evaluate the comparison as False and render the {% else %}.
    grown = "position" + "|add:position" * 40
    for condition in (f'{grown} == "x"', f"not {grown}", f'"x" in {grown}', grown):
        body = f"{{% if {condition} %}}yes{{% else %}}no{{% endif %}}"
        assert lint(body).ok

        with pytest.raises(TemplateError, match="The filter “add” makes a text of 8,100"):
            render(body, LONG)


def test_it_still_renders_a_message_just_under_the_limit():
    body = GROWN + " }}"

    assert len(render(body, LONG)) == 7_800


def test_it_explains_a_filter_failure_that_has_no_message():
    # strip_tags() raises a bare SuspiciousOperation on text nested this deep.
    body = '{{ "' + "<a" * 3000 + '"|striptags }}'

    with pytest.raises(TemplateError) as caught:
        render(body, LONG)

    assert caught.value.errors == ["The message could not be rendered."]


ADVERSARIAL_TEMPLATES = {
    "chained add": "{{ position" + "|add:position" * 40 + " }}",
    "many tags": "{{ position }}" * 570,
    "many filtered tags": "{{ position|add:position|add:position|add:position }}" * 33,
    "case changes": "{{ company" + "|upper|lower" * 50 + " }}",
    "long default": '{{ last_name|cut:"Berg"|default:"' + "x" * 7900 + '" }}',
    "huge counts": (
        "{{ first_name|truncatechars:99999999999999999999999999 }}"
        "{{ first_name|truncatewords:99999999999999999999 }}"
        '{{ first_name|slice:"99999999999999999:-99999999999999" }}'
    ),
    "if comparison": "{% if position" + "|add:position" * 40 + ' == "x" %}a{% else %}b{% endif %}',
    "nested if": "{% if position %}" * 10 + "{{ position|add:position }}" * 60 + "{% endif %}" * 10,
    "big numbers": '{{ "' + "9" * 4000 + '"|add:"' + "9" * 3000 + '" }}',
    "widened letters": '{{ "' + "ΐ" * 2700 + '"|upper }}',
    "slugify": '{{ "' + "⒇" * 7000 + '"|slugify }}',
    "yesno": '{{ first_name|yesno:"' + "y" * 3000 + "," + "n" * 3000 + '" }}',
    "filesizeformat": '{{ "' + "9" * 4000 + '"|filesizeformat }}',
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL_TEMPLATES))
def test_it_renders_adversarial_templates_in_bounded_memory(name):
    body = ADVERSARIAL_TEMPLATES[name]
    assert lint(body).ok  # each passes the linter: only the rendering bounds stop it
    render_or_refusal(body, LONG)  # compiled and cached outside the measurement

    peak = peak_memory(lambda: render(body, LONG))

    assert peak < MEMORY_BOUND


# Arguments that would make an unbounded filter allocate: huge and negative counts, a step of
# zero, a long literal, a variable.
ADVERSARIAL_ARGUMENTS = (
    '"99999999999999999999"',
    '"-99999999999999999999"',
    '"0"',
    '"1:2:0"',
    '"' + "ab," * 1000 + '"',
    "position",
)


@pytest.mark.parametrize("name", sorted(personalize._ALLOWED_FILTERS))
def test_it_keeps_every_allowed_filter_within_bounds(name):
    # Twenty uses in a row on 7,800 characters, with each kind of argument it accepts.
    uses = [f"|{name}", *(f"|{name}:{argument}" for argument in ADVERSARIAL_ARGUMENTS)]
    bodies = [GROWN + use * 20 + " }}" for use in uses]
    usable = [body for body in bodies if lint(body).ok]
    assert usable

    for body in usable:
        outcome = render_or_refusal(body, LONG)
        peak = peak_memory(lambda body=body: render(body, LONG))

        assert len(outcome) <= personalize.MAX_BODY
        assert peak < MEMORY_BOUND


# --- the shape of a message --------------------------------------------------------------------


def test_it_allows_ten_if_blocks_inside_one_another():
    body = "{% if company %}" * 10 + "{{ company }}" + "{% endif %}" * 10

    assert lint(body).ok
    assert render(body, ANNA) == "Acme"


def test_it_refuses_more_than_ten_if_blocks_inside_one_another():
    body = "{% if company %}\n" * 11 + "{{ company }}" + "{% endif %}" * 11

    assert lint(body).errors == [
        "Line 11: more than 10 {% if %} blocks inside one another; simplify the conditions."
    ]


def test_it_refuses_if_blocks_nested_deeper_than_python_can_render():
    # 470 levels fit in 8,000 characters; Django's recursive render gave up at about 250.
    body = "{%if 1%}" * 470 + "x" + "{%endif%}" * 470
    assert len(body) <= personalize.MAX_BODY

    assert lint(body).errors == [
        "Line 1: more than 10 {% if %} blocks inside one another; simplify the conditions."
    ]
    with pytest.raises(TemplateError, match="more than 10 {% if %} blocks"):
        render(body, ANNA)


def test_it_counts_depth_again_after_an_endif():
    body = ("{% if company %}" * 10 + "x" + "{% endif %}" * 10) * 3

    assert lint(body).ok


def test_it_refuses_a_condition_with_more_than_ten_nots():
    assert lint("{% if " + "not " * 10 + "company %}x{% endif %}").ok

    # A thousand made Django's condition parser raise RecursionError: a server error.
    body = "{% if " + "not " * 1000 + "company %}x{% endif %}"

    assert lint(body).errors == [
        "Line 1: the {% if %} condition uses “not” 1,000 times; the limit is 10."
    ]


def test_it_refuses_more_than_a_hundred_filters():
    assert lint("{{ company" + "|upper" * 100 + " }}").ok

    body = "{{ company" + "|upper" * 60 + " }}{% if company" + "|lower" * 41 + " %}x{% endif %}"

    assert lint(body).errors == ["The message uses 101 filters; the limit is 100."]
