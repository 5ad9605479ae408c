import copy
import datetime
from dataclasses import dataclass
from typing import cast

from django import forms
from django.core import signing
from django.urls import reverse
from django.utils.html import format_html

from contacts.identity import canonical_profile_url
from contacts.models import EDITABLE_FIELDS, BulkAction, Contact, Network, Note, Stage, Tag
from linkedin_crm.ids import parse_ids


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [*EDITABLE_FIELDS, "tags"]
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


# What an edit form remembers of the contact as it was loaded, to tell its user what someone
# else changed meanwhile: the form's own fields and the do-not-contact mark, which the contact
# page changes while an edit form may be open elsewhere.
SNAPSHOT_FIELDS = [
    *(name for name in ContactForm.Meta.fields if name != "tags"),
    "do_not_contact",
    "dnc_reason",
]


@dataclass(frozen=True)
class LoadedVersion:
    """A contact as an edit form was loaded: its version (updated_at) and its values."""

    updated_at: datetime.datetime
    values: dict

    SALT = "contacts.edit-version"

    @classmethod
    def of(cls, contact: Contact) -> "LoadedVersion":
        values = {name: getattr(contact, name) for name in SNAPSHOT_FIELDS}
        values["tags"] = sorted(contact.tags.values_list("pk", flat=True))
        return cls(updated_at=contact.updated_at, values=values)

    def token(self) -> str:
        # Signed so that a damaged or hand-made value is refused rather than trusted; the
        # values only feed the conflict message, the check itself compares updated_at.
        payload = {"updated_at": self.updated_at.isoformat(), "values": self.values}
        return signing.dumps(payload, salt=self.SALT, compress=True)

    @classmethod
    def from_token(cls, token: str) -> "LoadedVersion":
        """Raises ValueError when the token is not one this form issued."""
        try:
            payload = signing.loads(token, salt=cls.SALT)
            updated_at = datetime.datetime.fromisoformat(payload["updated_at"])
            values = payload["values"]
        except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
            raise ValueError("not an edit version token") from error
        if updated_at.tzinfo is None or not isinstance(values, dict):
            raise ValueError("not an edit version token")
        return cls(updated_at=updated_at, values=values)

    def changes_to(self, current: Contact) -> list[str]:
        """The fields that differ between this version and `current`, each with its value
        now, for example: 'company (now “Acme GmbH”)'."""
        now = LoadedVersion.of(current).values
        described = []
        for name, value in now.items():
            if self.values.get(name) == value:
                continue
            if name == "tags":
                label = "tags"
                shown = ", ".join(current.tags.values_list("name", flat=True))
            else:
                # A field of the form is one of the contact's own, never a reverse relation.
                label = str(Contact._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
                shown = _display(current, name)
            described.append(f"{label} (now “{shown}”)" if shown else f"{label} (now empty)")
        return described


def _display(contact: Contact, name: str) -> str:
    value = getattr(contact, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "stage":
        return contact.get_stage_display()
    return value or ""


class ContactEditForm(ContactForm):
    """The contact form for an existing contact. It carries the version the contact was loaded
    at, so that saving over someone else's newer change is refused instead of silently
    reverting it."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["version"].initial = LoadedVersion.of(self.instance).token()

    @property
    def changed_data(self) -> list[str]:
        # The version is bookkeeping, not a change to the contact (and its token, signed with
        # a timestamp, differs on every load).
        return [name for name in super().changed_data if name != "version"]

    def clean_version(self) -> LoadedVersion:
        try:
            return LoadedVersion.from_token(self.cleaned_data["version"])
        except ValueError:
            raise forms.ValidationError(
                "Nothing was saved: this form does not say which version of the contact it was "
                "loaded from (it may be a page opened before an update), so changes others made "
                "since could not be checked.",
                code="bad_version",
            ) from None

    def with_current_version(self, current: Contact) -> "ContactEditForm":
        """The same typed values on a form carrying `current`'s version, to show again after a
        conflict: saving it then replaces what is saved now, which its user has been shown."""
        # A bound form's data is the request's QueryDict; django-stubs says a Mapping.
        data = self.data.copy()  # type: ignore[attr-defined]
        data[self.add_prefix("version")] = LoadedVersion.of(current).token()
        # A copy: validating copies the typed values onto the form's instance.
        form = ContactEditForm(data, instance=copy.copy(current))
        form.is_valid()
        return form


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}
        labels = {"body": "New note"}
        error_messages = {"body": {"required": "A note cannot be empty."}}


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)


class InlineEditForm(forms.Form):
    """A stage or the tags changed in a row of the contact list. It carries the version
    (updated_at) the row was drawn at: a change made since, here or elsewhere, refuses the
    edit instead of being overwritten (the edit page's check, services.contact_update)."""

    version = forms.DateTimeField(widget=forms.HiddenInput)
    stage = forms.ChoiceField(choices=Stage.choices, required=False)
    tags = forms.CharField(required=False, max_length=600, label="Tags")

    BAD_VERSION = (
        "Nothing was saved: this row does not say which version of the contact it shows. "
        "Reload the list and try again."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].error_messages.update(
            required=self.BAD_VERSION, invalid=self.BAD_VERSION
        )
        self.fields["stage"].error_messages["invalid_choice"] = "Choose one of the listed stages."

    def clean_tags(self) -> list[str] | None:
        """The tag names typed, comma-separated; None when the row sent no tags field."""
        if "tags" not in self.data:
            return None
        names = [" ".join(name.split()) for name in self.cleaned_data["tags"].split(",")]
        names = list(dict.fromkeys(name for name in names if name))
        too_long = [name for name in names if len(name) > Tag.NAME_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(f"A tag name is too long: “{too_long[0][:40]}…”.")
        return names

    def clean(self):
        cleaned = super().clean()
        if "stage" not in self.data and "tags" not in self.data:
            raise forms.ValidationError("Nothing to change: send a stage or tags.")
        if "stage" in self.data and not self.data.get("stage") and "stage" not in self.errors:
            self.add_error("stage", "Choose one of the listed stages.")
        return cleaned


class DoNotContactForm(forms.Form):
    do_not_contact = forms.BooleanField(required=False, label="Do not contact")
    reason = forms.CharField(required=False, max_length=500, label="Reason")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("do_not_contact") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Say why this person must not be contacted.")
        return cleaned


class BulkActionForm(forms.Form):
    """A bulk action on the selected contacts, or on every contact matching the filter."""

    action = forms.ChoiceField(choices=BulkAction.choices)
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


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Connections.csv",
        help_text="LinkedIn → Settings → Data privacy → Get a copy of your data → Connections.",
    )
    network = forms.ModelChoiceField(
        queryset=Network.objects.select_related("owner"),
        label="Whose network is this export?",
        help_text="Everyone in the file becomes a connection of this network.",
    )
    tags = forms.CharField(
        required=False,
        max_length=300,
        label="Tags for every imported contact",
        help_text="Comma-separated, for example: Conference 2025, Berlin",
    )
    keep_existing = forms.BooleanField(
        required=False,
        label="Keep existing values",
        help_text="When a contact is known already, only fill empty fields instead of "
        "updating changed ones.",
    )

    SIZE_HINT = "A LinkedIn export of 30,000 connections is about 3 MB: is this the right file?"

    def __init__(self, *args, max_bytes: int, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        network = cast("forms.ModelChoiceField[Network]", self.fields["network"])
        network.queryset = Network.objects.importable_by(user).select_related("owner")
        # Choosing nothing means "mine": looking at the page must not create the network, so
        # the import creates it when it is not there yet. A form shown before it existed and
        # sent after (another tab, a refused file) still means the same.
        network.required = False
        own = Network.objects.own_default(user)
        if own is None:
            network.empty_label = "My own network (created by this import)"
        else:
            network.empty_label = "My own network"
            self.initial.setdefault("network", own.pk)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"This file is {upload.size / 2**20:.1f} MB, over the "
                f"{self.max_bytes / 2**20:.0f} MB limit. {self.SIZE_HINT}"
            )
        return upload

    def clean_tags(self):
        names = [" ".join(name.split()) for name in self.cleaned_data["tags"].split(",")]
        names = [name for name in names if name]
        too_long = [name for name in names if len(name) > 60]
        if too_long:
            raise forms.ValidationError(f"A tag has at most 60 characters: “{too_long[0]}”.")
        return names


class MergeForm(forms.Form):
    """Merge two contacts: pick the survivor and, where they differ, each field's value."""

    survivor = forms.TypedChoiceField(coerce=int, label="Keep", widget=forms.RadioSelect)

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        ids = parse_ids(data.getlist("ids"))
        self.contacts = list(Contact.objects.filter(pk__in=set(ids)).order_by("pk"))
        self.fields["survivor"].choices = [(c.pk, str(c)) for c in self.contacts]
        self.differing = []
        if len(self.contacts) == 2:
            first, second = self.contacts
            for name in EDITABLE_FIELDS:
                a, b = getattr(first, name), getattr(second, name)
                if a != b:
                    label = Contact._meta.get_field(name).verbose_name
                    self.differing.append((name, label, a, b))
                    self.fields[f"value_{name}"] = forms.TypedChoiceField(
                        coerce=int,
                        choices=[(first.pk, a or "(empty)"), (second.pk, b or "(empty)")],
                        initial=first.pk if a else second.pk,
                        label=label,
                        widget=forms.RadioSelect,
                    )

    def survivor_and_merged(self) -> tuple[Contact, Contact]:
        survivor_pk = self.cleaned_data["survivor"]
        survivor = next(c for c in self.contacts if c.pk == survivor_pk)
        merged = next(c for c in self.contacts if c.pk != survivor_pk)
        return survivor, merged

    def chosen_values(self) -> dict:
        by_pk = {c.pk: c for c in self.contacts}
        return {
            name: getattr(by_pk[self.cleaned_data[f"value_{name}"]], name)
            for name, *_ in self.differing
        }
