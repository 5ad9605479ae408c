"""A row of the contact list, drawn with one format_html() rather than by the template engine:
fifty rows of some forty template nodes each were most of the list's time, over its 60 ms budget
(tests/perf/bench_contact_list.py). What a row shows is the same as on the contact's page."""

from django import template
from django.template.loader import render_to_string
from django.utils.dateformat import format as format_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from linkedin_crm.templatetags.ui import avatar_hue, icon, initials, stage_options

register = template.Library()

ROW = """<tr id="contact-{pk}"{dnc_class}>
  <td class="check"><input type="checkbox" name="selected" value="{pk}" form="bulk-form" \
aria-label="Select {name}"></td>
  <td><div class="name-cell">
    <span class="avatar avatar-{hue}" aria-hidden="true">{initials}</span>
    <span><a href="{detail_url}">{name}</a>{dnc_badge}{email}{company_line}</span>
  </div></td>
  <td class="company-col">{company}</td>
  <td class="hide-narrow">{position}</td>
  <td>
    <form method="post" action="{inline_url}" class="inline-stage" hx-post="{inline_url}" \
hx-trigger="change" hx-target="closest tr" hx-swap="outerHTML">
      <input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">
      <input type="hidden" name="version" value="{version}">
      <input type="hidden" name="next" value="{next}">
      <select name="stage" class="stage-select badge-{stage}" aria-label="Stage of {name}">
        {stage_options}
      </select>
      <noscript><button type="submit">Save</button></noscript>
    </form>
  </td>
  <td class="tags-cell">
    {tags}
    <details class="inline-tags"{open}>
      <summary aria-label="Edit tags of {name}" title="Edit tags">{pencil}</summary>
      {tags_editor}
    </details>
    {row_error}
  </td>
  <td class="hide-narrow nowrap">{connected_on}</td>
</tr>
"""

# The tag editor is fetched when opened (a form in each of fifty rows, mostly never opened, was a
# sixth of the list's time); without JavaScript the pencil offers the contact's page instead.
TAGS_EDITOR_LINK = (
    '<p class="inline-tags-form" hx-get="{}" hx-trigger="toggle once from:closest details" '
    'hx-swap="outerHTML"><a href="{}">Edit on the contact\'s page</a></p>'
)


@register.simple_tag(takes_context=True)
def contact_row(context, contact) -> SafeString:
    """The contact's row. The context gives `request`, `csrf_token` and `contacts_url` (the
    list's URL, under which the row's links are built: a reverse() for each link of fifty rows
    cost more than the rest of a row); after a refused inline edit, also `typed_tags` and
    `row_error`, which open the tag editor with what was typed."""
    request = context["request"]
    name = str(contact)
    detail_url = f"{context['contacts_url']}{contact.pk}/"
    inline_url = f"{detail_url}inline/"
    version = contact.updated_at.isoformat()
    tags = list(contact.tags.all())
    typed_tags = context.get("typed_tags")
    if typed_tags is None:
        tags_editor = format_html(TAGS_EDITOR_LINK, inline_url, detail_url)
    else:
        tags_editor = mark_safe(  # noqa: S308 (a template's output, escaped there)
            render_to_string(
                "contacts/_row_tags_form.html",
                {
                    "inline_url": inline_url,
                    "version": version,
                    "next": request.get_full_path(),
                    "pk": contact.pk,
                    "name": name,
                    "tags": tags,
                    "typed_tags": typed_tags,
                },
                request=request,
            )
        )
    connected_on = getattr(contact, "first_connected_on", None)
    row_error = context.get("row_error")
    return format_html(
        ROW,
        pk=contact.pk,
        dnc_class=mark_safe(' class="dnc"') if contact.do_not_contact else "",
        name=name,
        hue=avatar_hue(contact),
        initials=initials(contact),
        detail_url=detail_url,
        dnc_badge=format_html(
            ' <span class="badge badge-dnc" title="{}">do not contact</span>', contact.dnc_reason
        )
        if contact.do_not_contact
        else "",
        email=format_html(
            ' <span class="muted" title="{}">{}</span>', contact.email, icon("mail", contact.email)
        )
        if contact.email
        else "",
        company_line=format_html('<span class="name-company muted">{}</span>', contact.company)
        if contact.company
        else "",
        company=contact.company,
        position=Truncator(contact.position).chars(60),
        inline_url=inline_url,
        csrf_token=context.get("csrf_token", ""),
        version=version,
        next=request.get_full_path(),
        stage=contact.stage,
        stage_options=stage_options(contact.stage),
        tags=format_html_join(
            "", '<span class="tag" title="{}">{}</span> ', ((t, t) for t in tags)
        ),
        open=mark_safe(" open") if typed_tags is not None else "",
        pencil=icon("pencil"),
        tags_editor=tags_editor,
        row_error=format_html('<p class="error" role="alert">{}</p>', row_error)
        if row_error
        else "",
        connected_on=format_date(connected_on, "d M Y") if connected_on else "—",
    )
