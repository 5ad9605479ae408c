"""Personalised message templates (docs/queue.md, "Personalisation").

Templates use Django template syntax, rendered by a locked-down engine: no loaders, no
`{% load %}`, autoescape off, the default filters in _ALLOWED_FILTERS (_WITHHELD_FILTERS says
why not the others) and only the `{% if %}` tag with its `{% elif %}`/`{% else %}`/`{% endif %}`
clauses. Variables are the flat names in VARIABLES; they have no attributes, so a template can
reach nothing but the strings in its context.

Comments: `{# … #}` is allowed (it renders as nothing); the `{% comment %}` block tag is
rejected like every other tag, because Django skips its contents unparsed and the linter
would otherwise have to guess what is inside.

A literal "{{" or "{%" cannot be written in a message: it is reported as an unclosed tag,
because in practice it is a typo far more often than an intent.
"""

import datetime
import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sized
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NoReturn

from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    VariableDoesNotExist,
    defaultfilters,
    defaulttags,
)
from django.template.base import Lexer, NodeList, Parser, Token, TokenType, Variable, filter_re
from django.template.defaulttags import IfNode, TemplateIfParser

# {{ connected_on }} is written out as 05 Jan 2026 (format_date is named here for callers).
from linkedin_crm.dates import format_date

VARIABLES: tuple[str, ...] = (
    "first_name",
    "last_name",
    "full_name",
    "company",
    "position",
    "industry",
    "connected_on",
    "sender_first_name",
    "sender_name",
)
MAX_BODY = 8000
# The most text rendering may produce before the message is refused. The rendered text is
# stripped before its length is checked against MAX_BODY, so it may be longer by blank space at
# either end; twice the limit leaves room for that and still stops a runaway message early.
_MAX_RENDERED = 2 * MAX_BODY

# How missing_summary() names each variable.
LABELS: dict[str, str] = {
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "name",
    "company": "company",
    "position": "position",
    "industry": "industry",
    "connected_on": "connection date",
    "sender_first_name": "sender first name",
    "sender_name": "sender name",
}

ALLOWED_TAGS = frozenset({"if", "elif", "else", "endif"})

# The default filters the engine offers. Every one returns at most a small multiple of what it
# is given, so no single use can make much more text than its value and argument hold:
# - add: two numbers (at most 4,300 digits each, Python's limit for int()) or the two texts one
#   after the other; default, default_if_none, yesno and pluralize: the value or a part of the
#   argument.
# - capfirst, lower, upper, title: one character may become up to three ("ß" → "SS").
# - cut, first, last, slice, striptags, truncatechars, truncatewords: at most the value
#   (truncatewords adds " …"); huge counts allocate nothing.
# - slugify: at most a few characters per character ("⒇" → "20"); phone2numeric: one per one;
#   safe: the value itself (autoescape is off anyway).
# - divisibleby, filesizeformat, get_digit, length, wordcount: a number or a short text.
# A Django upgrade that adds a filter leaves it out of the engine until it is put in this set or
# in _WITHHELD_FILTERS (a test fails meanwhile).
_ALLOWED_FILTERS = frozenset(
    {
        "add",
        "capfirst",
        "cut",
        "default",
        "default_if_none",
        "divisibleby",
        "filesizeformat",
        "first",
        "get_digit",
        "last",
        "length",
        "lower",
        "phone2numeric",
        "pluralize",
        "safe",
        "slice",
        "slugify",
        "striptags",
        "title",
        "truncatechars",
        "truncatewords",
        "upper",
        "wordcount",
        "yesno",
    }
)

# The default filters the engine does not offer, with the reason the linter gives. Why each one:
# - join repeats its argument between the items of a list, and on text between every character:
#   each |join:"xx" triples the length, and a 168-character message with a chain of them took a
#   worker from 84 to 595 MB (17 of them: 3.4 GB).
# - make_list, safeseq and escapeseq turn text into a list of characters, dictsort and
#   dictsortreversed sort one (and reach attributes of its items, which variables never have),
#   unordered_list writes an HTML item per character (12 times the text): messages have text
#   only, and a list is what join and the output would multiply.
# - center, ljust, rjust, stringformat and floatformat take a width or precision, so a short
#   template ("|center:999999999") allocates gigabytes in one call.
# - addslashes (up to 2 times per use), escape and force_escape (6: ' becomes &#x27;), escapejs
#   (6: \u0027), iriencode and urlencode (12: an emoji becomes %F0%9F%98%80), linebreaks,
#   linebreaksbr, linenumbers, urlize, urlizetrunc and json_script write HTML, JavaScript, URLs
#   or line numbers: text a LinkedIn message would show as typed, and several times longer
#   than its input, chain after chain.
# - truncatechars_html and truncatewords_html parse HTML and close every tag they cut, which
#   adds text; truncatechars and truncatewords do the job for plain text.
# - date and time format dates, and the variables are text ({{ connected_on }} is written out
#   already); each letter of their format becomes up to 31 characters ("r").
# - timesince and timeuntil depend on the moment of rendering, and random on chance: the
#   preview would not be the message sent.
# - pprint is a debugging aid (Python's repr of the value).
# - wordwrap breaks lines at a width, but LinkedIn fits lines to each screen itself, and hard
#   breaks look broken on a phone. It is also the slowest filter (textwrap): chained on a long
#   text it took 1.4 s of CPU per recipient.
_WITHHELD_FILTERS: dict[str, str] = {
    "addslashes": "it puts backslashes before quotes, which LinkedIn would show",
    "center": "it pads the text to a width, and a large width would make a huge message",
    "date": "the variables are text, not dates; {{ connected_on }} is already written out",
    "dictsort": "it sorts lists, and messages have only text",
    "dictsortreversed": "it sorts lists, and messages have only text",
    "escape": "it writes HTML codes such as &amp;, which LinkedIn would show as typed",
    "escapejs": "it escapes text for JavaScript, which LinkedIn would show as typed",
    "escapeseq": "it works on lists, and messages have only text",
    "floatformat": "a large number of decimal places would make a huge message",
    "force_escape": "it writes HTML codes such as &amp;, which LinkedIn would show as typed",
    "iriencode": "it encodes text for a web address, which can make it many times longer",
    "join": "on text it repeats its argument between every letter, so each use multiplies "
    "the length of the message",
    "json_script": "it writes an HTML script element, which LinkedIn would show as typed",
    "linebreaks": "it writes HTML paragraphs; a message keeps its own line breaks",
    "linebreaksbr": "it writes HTML line breaks; a message keeps its own line breaks",
    "linenumbers": "it numbers every line, which can make the text several times longer",
    "ljust": "it pads the text to a width, and a large width would make a huge message",
    "make_list": "it splits text into a list of letters, and messages have only text",
    "pprint": "it shows how Python sees a value, for debugging",
    "random": "the preview would differ from the message sent",
    "rjust": "it pads the text to a width, and a large width would make a huge message",
    "safeseq": "it works on lists, and messages have only text",
    "stringformat": "a width in its format would make a huge message",
    "time": "the variables are text, not times",
    "timesince": "the variables are text, not dates, and the preview would differ from the "
    "message sent",
    "timeuntil": "the variables are text, not dates, and the preview would differ from the "
    "message sent",
    "truncatechars_html": "it is for HTML; use truncatechars",
    "truncatewords_html": "it is for HTML; use truncatewords",
    "unordered_list": "it writes an HTML list, one item per letter of text",
    "urlencode": "it encodes text for a web address, which can make it many times longer",
    "urlize": "it writes HTML links, which LinkedIn would show as typed",
    "urlizetrunc": "it writes HTML links, which LinkedIn would show as typed",
    "wordwrap": "LinkedIn fits lines to each screen itself",
}

# Words an {% if %} condition may contain besides expressions.
_IF_OPERATORS = frozenset({"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="})

# Limits on the shape of a message, far above what a person writes, that keep the work for each
# recipient small. Django parses and renders nested {% if %} blocks by recursion, three frames a
# level: 250 levels fit in a message and end the render at Python's recursion limit.
_MAX_IF_DEPTH = 10
# Django's condition parser takes each "not" by recursion too: a thousand of them fit in a
# message and raised RecursionError in the linter itself, a server error.
_MAX_NOTS = 10
# Every filter use is bounded (see _bounded) but may take a fraction of a millisecond on long
# text: a thousand of them chained took 0.2 s of CPU for each recipient, for a message that is
# 20 µs with a realistic handful.
_MAX_FILTERS = 100
# Context builtins (Context always provides them); harmless in comparisons.
_CONSTANTS = frozenset({"True", "False", "None"})

_UNCLOSED_RE = re.compile(r"\{\{|\{%|\{#")
_STRAY_CLOSE_RE = re.compile(r"\}\}|%\}")
_UNCLOSED_TAG_RE = re.compile(r"Unclosed tag on line (\d+): '(\w+)'")
_INVALID_TAG_RE = re.compile(r"Invalid block tag on line (\d+): '(\w+)'")
_INVALID_FILTER_RE = re.compile(r"Invalid filter: '(\w+)'")
_FILTER_ARGUMENTS_RE = re.compile(r"(\w+) requires (\d+) arguments, (\d+) provided")


# The refusal raised while rendering, kept here as well: Django evaluates an {% if %} comparison
# ("==", "in", "not" …) as False when an operand raises, and a refused filter there must refuse
# the message, not quietly choose another branch.
_refusal: ContextVar[str | None] = ContextVar("personalize_refusal", default=None)


def _refuse(message: str) -> NoReturn:
    _refusal.set(message)
    raise TemplateError(message)


def _bounded(name: str, function: Callable[..., object]) -> Callable[..., object]:
    """The filter, refusing a result longer than a whole message may be. Each allowed filter
    makes at most a few times what it is given; this keeps a chain of them from compounding
    ("|upper|lower|upper…", "|add:position|add:position…")."""

    # wraps() keeps the flags Django reads (is_safe, needs_autoescape) and, via __wrapped__,
    # the signature it checks the number of arguments against.
    @functools.wraps(function)
    def bounded(value: object, *args: object, **kwargs: object) -> object:
        result = function(value, *args, **kwargs)
        if isinstance(result, Sized) and len(result) > MAX_BODY:
            _refuse(
                f"The filter “{name}” makes a text of {len(result):,} characters for this "
                f"recipient; a message has at most {MAX_BODY:,}."
            )
        return result

    return bounded


def _build_filters() -> Library:
    library = Library()
    library.filters = {
        name: _bounded(name, function)
        for name, function in defaultfilters.register.filters.items()
        if name in _ALLOWED_FILTERS
    }
    return library


def _build_tags() -> Library:
    library = Library()
    library.tag("if", defaulttags.do_if)
    return library


def _build_engine() -> Engine:
    engine = Engine(
        dirs=[],
        app_dirs=False,
        loaders=[],
        libraries={},
        autoescape=False,
        debug=False,
        string_if_invalid="",
    )
    # Engine always prepends Django's default builtins (every default tag, include, extends,
    # block). Replacing the compiled list means the engine itself cannot build any other tag
    # even if a caller skipped the linter; the linter only adds friendlier messages.
    engine.template_builtins = [_FILTERS, _TAGS]
    return engine


_FILTERS = _build_filters()
_TAGS = _build_tags()
ENGINE = _build_engine()
_EMPTY_CONTEXT = dict.fromkeys(VARIABLES, "")


class TemplateError(ValueError):
    """A template that cannot be rendered; the message says why, for a person to read."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors if errors is not None else [message]


@dataclass
class LintResult:
    errors: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    without_default: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    recipients: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_missing(self) -> bool:
        """Whether any recipient lacks a value the template shows without a default."""
        return any(self.missing.values())

    def missing_summary(self) -> list[str]:
        """Lines like "12 of 340 have no company", the most affected first (ties in template
        order)."""
        order = {name: index for index, name in enumerate(self.without_default)}
        lacking = [(name, count) for name, count in self.missing.items() if count > 0]
        lacking.sort(key=lambda item: (-item[1], order.get(item[0], len(order))))
        return [
            f"{count:,} of {self.recipients:,} {'has' if count == 1 else 'have'} "
            f"no {LABELS.get(name, name.replace('_', ' '))}"
            for name, count in lacking
        ]


@dataclass(frozen=True)
class _Analysis:
    errors: tuple[str, ...]
    variables: tuple[str, ...]
    without_default: tuple[str, ...]


class _Linter:
    """One pass over the template's tokens, collecting every problem rather than the first."""

    def __init__(self, body: str):
        self.body = body
        self.errors: list[str] = []
        self.variables: list[str] = []
        self.without_default: list[str] = []
        self.rejected_tags: set[str] = set()
        self.depth = 0  # of {% if %} blocks around the current token
        self.filter_uses = 0
        # A parser that knows only the engine's filters and tags: compile_filter() on it
        # checks filter names and argument counts exactly as the engine will.
        self.parser = Parser([], libraries={}, builtins=ENGINE.template_builtins)

    def run(self) -> _Analysis:
        body = self.body
        if not body.strip():
            self.error("The message is empty.")
            return self.result()
        if len(body) > MAX_BODY:
            self.error(f"The message is {len(body):,} characters long; the limit is {MAX_BODY:,}.")
        for token in Lexer(body).tokenize():
            if token.token_type == TokenType.TEXT:
                self.check_text(token)
            elif token.token_type == TokenType.VAR:
                self.check_variable_tag(token)
            elif token.token_type == TokenType.BLOCK:
                self.check_block_tag(token)
            # TokenType.COMMENT ({# … #}) renders as nothing.
        if self.filter_uses > _MAX_FILTERS:
            self.error(
                f"The message uses {self.filter_uses:,} filters; the limit is {_MAX_FILTERS}."
            )
        if not self.errors:
            # Token by token everything is fine; the compiler finds what only shows across
            # tokens: an {% if %} never closed, an {% endif %} with no {% if %}.
            try:
                compiled(body)
            except TemplateSyntaxError as error:
                self.error(_explain_structure(str(error)))
        return self.result()

    def result(self) -> _Analysis:
        return _Analysis(tuple(self.errors), tuple(self.variables), tuple(self.without_default))

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def use(self, name: str, *, defaulted: bool) -> None:
        if name not in self.variables:
            self.variables.append(name)
        if not defaulted and name not in self.without_default:
            self.without_default.append(name)

    def check_text(self, token: Token) -> None:
        # Django renders an unclosed "{{ first_name" (or one broken over two lines) as
        # literal text; in a message that is always a mistake, so it is an error here.
        text = token.contents
        for match in _UNCLOSED_RE.finditer(text):
            line = _line(token) + text.count("\n", 0, match.start())
            opening = match.group()
            closing = {"{{": "}}", "{%": "%}", "{#": "#}"}[opening]
            self.error(f"Line {line}: “{opening}” is not closed by “{closing}” on the same line.")
        for match in _STRAY_CLOSE_RE.finditer(text):
            line = _line(token) + text.count("\n", 0, match.start())
            closing = match.group()
            opening = {"}}": "{{", "%}": "{%"}[closing]
            self.error(f"Line {line}: “{closing}” has no “{opening}” before it.")

    def check_variable_tag(self, token: Token) -> None:
        if not token.contents:
            self.error(f"Line {token.lineno}: empty {{{{ }}}}; write a variable inside.")
            return
        self.check_expression(token.contents, _line(token), in_condition=False)

    def check_block_tag(self, token: Token) -> None:
        bits = token.split_contents()
        if not bits:
            self.error(f"Line {token.lineno}: empty {{% %}}.")
            return
        tag = bits[0]
        if tag not in ALLOWED_TAGS:
            self.reject_tag(tag)
            return
        if tag == "if":
            self.depth += 1
            if self.depth == _MAX_IF_DEPTH + 1:
                self.error(
                    f"Line {token.lineno}: more than {_MAX_IF_DEPTH} {{% if %}} blocks inside "
                    "one another; simplify the conditions."
                )
        elif tag == "endif":
            self.depth = max(self.depth - 1, 0)
        if tag in ("if", "elif"):
            self.check_condition(bits[1:], _line(token), tag)

    def reject_tag(self, tag: str) -> None:
        # "{% endfor %}" after "{% for %}" is the same mistake, reported once.
        if tag.startswith("end") and tag[3:] in self.rejected_tags:
            return
        self.rejected_tags.add(tag)
        if tag == "load":
            self.error(
                "The tag {% load %} is not allowed: messages can use only the built-in filters."
            )
        else:
            self.error(
                f"The tag {{% {tag} %}} is not allowed; use {{% if %}} … {{% endif %}} "
                "and variables."
            )

    def check_condition(self, bits: list[str], line: int, tag: str) -> None:
        nots = bits.count("not")
        if nots > _MAX_NOTS:
            self.error(
                f"Line {line}: the {{% {tag} %}} condition uses “not” {nots:,} times; "
                f"the limit is {_MAX_NOTS}."
            )
            return
        fine = True
        for bit in bits:
            if bit not in _IF_OPERATORS and bit not in _CONSTANTS:
                fine = self.check_expression(bit, line, in_condition=True) and fine
        if not fine:
            return
        try:
            TemplateIfParser(self.parser, bits).parse()
        except TemplateSyntaxError as error:
            self.error(f"Line {line}: {{% {tag} %}} condition: {error}")

    def check_expression(self, text: str, line: int, *, in_condition: bool) -> bool:
        """Check one `variable|filter:arg` expression; True when it is fine."""
        # Names are checked with Django's own expression regex before compiling, so the
        # author reads "no parts" rather than Django's "may not begin with underscores".
        main: str | None = None
        arguments: list[tuple[str, str]] = []  # (filter name, variable passed to it)
        filter_names: list[str] = []
        for index, match in enumerate(filter_re.finditer(text)):
            if index == 0 and match["var"]:
                main = match["var"]
            if match["filter_name"]:
                filter_names.append(match["filter_name"])
                if match["var_arg"]:
                    arguments.append((match["filter_name"], match["var_arg"]))
        self.filter_uses += len(filter_names)
        names = [main, *(name for _, name in arguments)]
        problems = [
            problem
            for name in names
            if name and not _is_literal(name) and (problem := _name_problem(name))
        ]
        for problem in problems:
            self.error(problem)
        if problems:
            return False
        try:
            self.parser.compile_filter(text)
        except TemplateSyntaxError as error:
            self.error(_explain_expression(str(error), line, self.parser.filters))
            return False
        defaulted = in_condition or "default" in filter_names
        if main in VARIABLES:
            self.use(main, defaulted=defaulted)
        for filter_name, name in arguments:
            if name in VARIABLES:
                # The argument of |default is a fallback; any other argument is shown as
                # much as the value it is applied to.
                self.use(name, defaulted=defaulted or filter_name == "default")
        return True


def _line(token: Token) -> int:
    """The token's line: Lexer numbers every token (django-stubs allows None, for tokens made
    by hand)."""
    return token.lineno or 0


def _is_literal(name: str) -> bool:
    if name in _CONSTANTS:
        return True
    try:
        return Variable(name).lookups is None
    except TemplateSyntaxError:
        return False  # a name starting with "_": not a literal, and _name_problem says why


def _name_problem(name: str) -> str | None:
    if name in VARIABLES:
        return None
    if "." in name:
        parts = name.split(".")
        known = next((part for part in parts if part in VARIABLES), None)
        target = known or _closest(parts[0]) or parts[0]
        return f"Use {{{{ {target} }}}}: variables have no parts."
    suggestion = _closest(name)
    if suggestion:
        return f"Unknown variable {{{{ {name} }}}} — did you mean {{{{ {suggestion} }}}}?"
    available = ", ".join(VARIABLES)
    return f"Unknown variable {{{{ {name} }}}}; the variables are {available}."


def _closest(name: str) -> str | None:
    matches = difflib.get_close_matches(name, VARIABLES, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _explain_expression(message: str, line: int, filters: Iterable[str]) -> str:
    if match := _INVALID_FILTER_RE.match(message):
        name = match.group(1)
        if name in _WITHHELD_FILTERS:
            return f"The filter “{name}” is not available in messages: {_WITHHELD_FILTERS[name]}."
        suggestion = difflib.get_close_matches(name, list(filters), n=1, cutoff=0.6)
        if suggestion:
            return f"Unknown filter |{name} — did you mean |{suggestion[0]}?"
        return f"Unknown filter |{name}."
    if match := _FILTER_ARGUMENTS_RE.match(message):
        # Django counts the filtered value as an argument; people do not.
        name, required = match.group(1), int(match.group(2)) - 1
        if required == 0:
            return f"Line {line}: the filter |{name} takes no argument."
        return f'Line {line}: the filter |{name} needs an argument, as in |{name}:"…".'
    return f"Line {line}: {message}"


def _explain_structure(message: str) -> str:
    if match := _UNCLOSED_TAG_RE.match(message):
        line, tag = match.groups()
        return f"Line {line}: {{% {tag} %}} is never closed; add {{% endif %}}."
    if match := _INVALID_TAG_RE.match(message):
        line, tag = match.groups()
        if tag == "endif":
            return f"Line {line}: {{% endif %}} has no {{% if %}} before it."
        return (
            f"Line {line}: {{% {tag} %}} is out of place: it belongs between {{% if %}} and "
            "{% endif %}, and {% else %} comes last."
        )
    return message


def _analyse(body: str) -> _Analysis:
    if len(body) > MAX_BODY:
        # Not cached: an oversized body is rejected anyway, and caching a few hundred of them
        # could hold a lot of memory.
        return _Linter(body).run()
    return _analyse_cached(body)


@functools.lru_cache(maxsize=256)
def _analyse_cached(body: str) -> _Analysis:
    # render() lints before every message; a campaign renders one body thousands of times.
    return _Linter(body).run()


class _Output:
    """The rendered pieces, refusing the message as soon as they pass _MAX_RENDERED."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.length = 0

    def write(self, text: str) -> None:
        self.length += len(text)
        if self.length > _MAX_RENDERED:
            _refuse(
                f"The message for this recipient is longer than the limit of {MAX_BODY:,} "
                "characters."
            )
        self.pieces.append(text)


def _chosen_branch(node: IfNode, context: Context) -> NodeList | None:
    """The clause of an {% if %} that IfNode.render() would render, or None."""
    for condition, nodelist in node.conditions_nodelists:
        if condition is None:  # {% else %}
            return nodelist
        try:
            # IfNode.render() passes the Context too; django-stubs says a dict.
            match = condition.eval(context)  # type: ignore[arg-type]
        except VariableDoesNotExist:
            match = None
        if (refusal := _refusal.get()) is not None:
            raise TemplateError(refusal)
        if match:
            return nodelist
    return None


def _render_nodes(nodelist: NodeList, context: Context, output: _Output) -> None:
    for node in nodelist:
        if isinstance(node, IfNode):
            branch = _chosen_branch(node, context)
            if branch is not None:
                _render_nodes(branch, context, output)
        else:
            # Text from the body, or one variable after its (bounded) filters.
            output.write(str(node.render_annotated(context)))


class _BoundedTemplate(Template):
    """A template that stops rendering, refusing the message, once its text passes
    _MAX_RENDERED. Django's own NodeList.render() makes every piece before joining them, so a
    template of many short tags that each make a lot of text would be held whole in memory."""

    def _render(self, context: Context) -> str:
        # Template.render() binds the context to the template and then calls _render().
        token = _refusal.set(None)
        try:
            output = _Output()
            _render_nodes(self.nodelist, context, output)
            return "".join(output.pieces)
        finally:
            _refusal.reset(token)


@functools.lru_cache(maxsize=256)
def compiled(body: str) -> Template:
    """The body compiled by the locked engine, once per distinct body: a campaign renders
    one template for thousands of recipients."""
    return _BoundedTemplate(body, engine=ENGINE)


def lint(body: str) -> LintResult:
    """Syntax, tags, variables and length; no recipients involved."""
    analysis = _analyse(body)
    return LintResult(
        errors=list(analysis.errors),
        variables=list(analysis.variables),
        without_default=list(analysis.without_default),
    )


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return False


def lint_for_recipients(body: str, contexts: Iterable[Mapping[str, object]]) -> LintResult:
    """lint() plus, across the audience, how many recipients lack each value the template
    shows without a default. Checks the values only; nothing is rendered."""
    result = lint(body)
    watched = result.without_default
    missing = dict.fromkeys(watched, 0)
    recipients = 0
    for context in contexts:
        recipients += 1
        for name in watched:
            if _is_empty(context.get(name)):
                missing[name] += 1
    result.missing = missing
    result.recipients = recipients
    return result


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def context_for(
    contact: object, *, sender_name: str = "", connected_on: datetime.date | None = None
) -> dict[str, str]:
    """The template variables for one recipient (any object with first_name, last_name,
    company, position and industry attributes)."""
    first_name = _clean(getattr(contact, "first_name", ""))
    last_name = _clean(getattr(contact, "last_name", ""))
    sender = _clean(sender_name)
    return {
        "first_name": first_name,
        "last_name": last_name,
        "full_name": " ".join(part for part in (first_name, last_name) if part),
        "company": _clean(getattr(contact, "company", "")),
        "position": _clean(getattr(contact, "position", "")),
        "industry": _clean(getattr(contact, "industry", "")),
        "connected_on": format_date(connected_on) if connected_on else "",
        "sender_first_name": sender.split(" ", 1)[0] if sender else "",
        "sender_name": sender,
    }


def render(body: str, context: Mapping[str, object]) -> str:
    """The message one recipient gets; the preview calls this too, so what a person sees is
    what is sent. Raises TemplateError when the template does not lint, when a filter fails
    on this recipient's values, or when the result is empty or too long; a result that grows
    too long is refused while it is rendered, before it is held in memory whole."""
    analysis = _analyse(body)
    if analysis.errors:
        raise TemplateError(" ".join(analysis.errors), list(analysis.errors))
    values: dict[str, object] = dict(_EMPTY_CONTEXT)
    values.update(context)
    try:
        text: str = compiled(body).render(Context(values, autoescape=False))
    except TemplateError:
        raise  # a bound was reached; the message already says which
    except Exception as error:
        # A filter may raise on a particular value (|divisibleby:2 on a name); the person
        # previewing needs a message, not a server error. Some say nothing (|striptags on
        # text of nested "<" raises a bare SuspiciousOperation).
        detail = f": {error}" if str(error) else "."
        raise TemplateError(f"The message could not be rendered{detail}") from error
    text = text.strip()
    if not text:
        raise TemplateError("The message is empty for this recipient.")
    if len(text) > MAX_BODY:
        raise TemplateError(
            f"The message for this recipient is {len(text):,} characters long; "
            f"the limit is {MAX_BODY:,}."
        )
    return text
