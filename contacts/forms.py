from django import forms
from django.urls import reverse
from django.utils.html import format_html

from contacts.identity import canonical_profile_url
from contacts.models import Contact, Note, Stage, Tag


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "profile_url",
            "email",
            "company",
            "position",
            "industry",
            "member_urn",
            "stage",
            "tags",
        ]
        widgets = {"tags": forms.CheckboxSelectMultiple}

    def clean_profile_url(self):
        value = (self.cleaned_data.get("profile_url") or "").strip()
        if not value:
            return None
        canonical = canonical_profile_url(value)
        if canonical is None:
            raise forms.ValidationError(
                "Enter a LinkedIn profile URL like https://www.linkedin.com/in/jane-doe"
            )
        existing = Contact.objects.filter(profile_url=canonical).exclude(pk=self.instance.pk)
        other = existing.first()
        if other:
            raise forms.ValidationError(
                format_html(
                    'This profile already belongs to <a href="{}">{}</a>.',
                    reverse("contacts:detail", args=[other.pk]),
                    other,
                )
            )
        return canonical

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_member_urn(self):
        value = (self.cleaned_data.get("member_urn") or "").strip()
        if value and not value.startswith("urn:li:person:"):
            raise forms.ValidationError("A member URN looks like urn:li:person:AbC123.")
        return value

    def clean(self):
        cleaned = super().clean()
        names = (cleaned.get("first_name"), cleaned.get("last_name"))
        if not any(names) and not cleaned.get("profile_url") and not cleaned.get("email"):
            raise forms.ValidationError("Give at least a name, a profile URL or an e-mail.")
        return cleaned


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}
        labels = {"body": "New note"}
        error_messages = {"body": {"required": "A note cannot be empty."}}


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)


class DoNotContactForm(forms.Form):
    do_not_contact = forms.BooleanField(required=False, label="Do not contact")
    reason = forms.CharField(required=False, max_length=500, label="Reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("do_not_contact") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why this person must not be contacted.")
        return cleaned


BULK_ACTIONS = [
    ("add_tag", "Add tag"),
    ("remove_tag", "Remove tag"),
    ("set_stage", "Set stage"),
    ("mark_dnc", "Mark do-not-contact"),
    ("delete", "Delete"),
]


class BulkActionForm(forms.Form):
    """A bulk action on the selected contacts, or on every contact matching the filter."""

    action = forms.ChoiceField(choices=BULK_ACTIONS)
    selected = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.all(), required=False, to_field_name="pk"
    )
    all_matching = forms.BooleanField(required=False)
    tag = forms.CharField(required=False, max_length=60, label="Tag")
    stage = forms.ChoiceField(required=False, choices=[("", "—")] + list(Stage.choices))
    reason = forms.CharField(required=False, max_length=500, label="Reason")
    confirmed = forms.BooleanField(required=False)

    def clean_selected(self):
        # Only ids are needed; fetching the rows would load every selected contact.
        return [contact.pk for contact in self.cleaned_data.get("selected") or []]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if not cleaned.get("all_matching") and not cleaned.get("selected"):
            raise forms.ValidationError("Select at least one contact.")
        if action in ("add_tag", "remove_tag") and not (cleaned.get("tag") or "").strip():
            self.add_error("tag", "Name the tag.")
        if action == "remove_tag" and (cleaned.get("tag") or "").strip():
            tag = Tag.find_named(cleaned["tag"])
            if tag is None:
                self.add_error("tag", f"There is no tag called “{cleaned['tag'].strip()}”.")
            cleaned["tag_obj"] = tag
        if action == "set_stage" and not cleaned.get("stage"):
            self.add_error("stage", "Choose a stage.")
        if action == "mark_dnc" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why these people must not be contacted.")
        return cleaned
