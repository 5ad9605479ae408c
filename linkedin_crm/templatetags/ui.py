"""Small pieces every page draws the same way: icons from the vendored sprite, avatars."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = ""):
    """An icon of static/icons/sprite.svg (Lucide). Decorative unless given a label, for a
    button that shows nothing else."""
    href = f"{static('icons/sprite.svg')}#{name}"
    if label:
        return format_html(
            '<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href
        )
    return format_html('<svg class="icon" aria-hidden="true"><use href="{}"></use></svg>', href)


@register.filter
def initials(person) -> str:
    """Up to two letters for an avatar: of the first and last name, else of what the person
    is called (a contact known only by profile URL or e-mail)."""
    first = (getattr(person, "first_name", "") or "").strip()
    last = (getattr(person, "last_name", "") or "").strip()
    letters = (first[:1] + last[:1]) if first or last else str(person).strip()[:1]
    return letters.upper() or "?"


@register.filter
def avatar_hue(person) -> int:
    """One of eight background colours for an avatar, the same for a person on every page."""
    return (getattr(person, "pk", 0) or 0) % 8
