"""A contact's timeline (linkedin_crm.timeline): its own page, and the section of the contact
page that htmx loads, filters and extends with older items."""

from django import forms
from django.http import QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from contacts.models import Contact
from linkedin_crm import timeline
from linkedin_crm.auth import staff_required


class TimelineForm(forms.Form):
    """The timeline's GET parameters. A wrong one is reported and left out, never a failure:
    these are links people bookmark and edit."""

    kind = forms.MultipleChoiceField(
        choices=timeline.KINDS,
        required=False,
        error_messages={
            "invalid_choice": "“%(value)s” is not a kind of event here; showing every kind."
        },
    )
    before = forms.CharField(required=False, max_length=100)

    def clean_before(self) -> timeline.Cursor | None:
        text = self.cleaned_data["before"].strip()
        if not text:
            return None
        try:
            return timeline.Cursor.parse(text)
        except ValueError:
            raise forms.ValidationError(
                "“%(value)s” is not a position in this timeline; showing the newest items.",
                params={"value": text[:40]},
            ) from None


@staff_required
def contact_timeline(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = TimelineForm(request.GET)
    form.is_valid()  # what is valid is used, what is not is reported
    kinds = form.cleaned_data.get("kind") or []
    before = form.cleaned_data.get("before")
    page = timeline.contact_timeline(contact, user=request.user, kinds=set(kinds), before=before)
    older = None
    if page.older:
        older = QueryDict(mutable=True)
        older.setlist("kind", kinds)
        older["before"] = str(page.older)
    ctx = {
        "contact": contact,
        "form": form,
        "kinds": timeline.KINDS,
        "chosen": kinds,
        "page": page,
        "before": before,
        "url": reverse("contact_timeline", args=[contact.pk]),
        "older_query": older.urlencode() if older else "",
    }
    if request.htmx and before is not None:
        # "Older": only the next items, in place of the link that asked for them.
        return render(request, "contacts/timeline/_items.html", ctx)
    if request.htmx:
        return render(request, "contacts/timeline/_section.html", ctx)
    return render(request, "contacts/timeline/page.html", ctx)
