"""Small pieces every page draws the same way: icons from the vendored sprite, avatars."""

import functools

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language

register = template.Library()


@functools.cache
def _sprite_url() -> str:
    # The manifest lookup costs more than the rest of an icon, and a long list draws hundreds.
    return static("icons/sprite.svg")


@functools.cache
def _stage_options(selected: str, language: str | None) -> str:
    # Imported here: the project's tag library must import without the app registry (a module
    # imported before django.setup() must not load models).
    from contacts.models import Stage

    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if value == selected else "", label)
            for value, label in Stage.choices
        ),
    )


def _forget_cached_urls(*, setting: str, **kwargs) -> None:
    if setting in {"STATIC_URL", "STORAGES"}:
        _sprite_url.cache_clear()


setting_changed.connect(_forget_cached_urls)


@register.simple_tag
def icon(name: str, label: str = ""):
    """An icon of static/icons/sprite.svg (Lucide). Decorative unless given a label, for a
    button that shows nothing else."""
    href = f"{_sprite_url()}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.filter
def initials(person) -> str:
    """Up to two letters for an avatar: of the first and last name, else of what the person
    is called (a contact known only by profile URL or e-mail)."""
    first = _first_letter(getattr(person, "first_name", ""))
    last = _first_letter(getattr(person, "last_name", ""))
    letters = (first + last) if first or last else _first_letter(str(person))
    return letters.upper() or "?"


def _first_letter(text: str | None) -> str:
    # Letters only: a name that opens with an emoji or a quote still gets an initial.
    return next((char for char in text or "" if char.isalnum()), "")


@register.filter
def avatar_hue(person) -> int:
    """One of eight background colours for an avatar, the same for a person on every page."""
    return (getattr(person, "pk", 0) or 0) % 8


@register.simple_tag
def stage_options(selected: str):
    """The <option>s of a stage menu with `selected` chosen: the same six strings on every row of
    a list, so they are built once per language."""
    return _stage_options(selected, get_language())
