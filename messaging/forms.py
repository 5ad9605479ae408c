import datetime
import zoneinfo

from django import forms
from django.utils import timezone

from contacts.models import Network
from linkedin_crm.dates import WEEKDAYS
from linkedin_crm.forms import use_bounds
from linkedin_crm.ids import parse_ids
from messaging import personalize
from messaging.models import DAILY_LIMIT_BOUNDS, LinkedInAccount, MessageTemplate


class AccountSettingsForm(forms.ModelForm):
    window_days = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Send on",
    )
    acknowledge_terms = forms.BooleanField(
        required=False,
        label="I understand that LinkedIn's terms require partner approval for automatic "
        "sending, and that this app sends without a person pressing Send for this account.",
    )

    class Meta:
        model = LinkedInAccount
        fields = ["network", "mode", *LinkedInAccount.SENDING_SETTINGS]
        widgets = {
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "timezone": forms.TextInput(attrs={"list": "timezones", "autocomplete": "off"}),
        }
        help_texts = {
            "daily_limit": "1–500 a day. 20–50 is conservative, 100–150 aggressive; "
            "LinkedIn does not publish its limit.",
            "timezone": "IANA name, e.g. Europe/Berlin. The day and the send window follow it.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = Network.objects.filter(
            owner=user
        ) | Network.objects.filter(pk=self.instance.network_id)
        self.timezones = sorted(zoneinfo.available_timezones())
        use_bounds(self.fields["daily_limit"], DAILY_LIMIT_BOUNDS)

    def clean(self):
        cleaned = super().clean()
        automatic = cleaned.get("mode") == LinkedInAccount.Mode.AUTOMATIC
        acknowledged = self.instance.automatic_acknowledged_at is not None
        if automatic and not acknowledged and not cleaned.get("acknowledge_terms"):
            self.add_error(
                "acknowledge_terms",
                "Automatic sending needs this acknowledgement; otherwise keep assisted mode.",
            )
        return cleaned

    def save(self, commit=True):
        account = super().save(commit=False)
        if self.cleaned_data.get("acknowledge_terms") and not account.automatic_acknowledged_at:
            account.automatic_acknowledged_at = timezone.now()
        if commit:
            account.save()
        return account


VARIABLES_HELP = ", ".join("{{ " + name + " }}" for name in personalize.VARIABLES)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "body": f"Variables: {VARIABLES_HELP}. "
            'Fallbacks: {{ company|default:"your team" }}.'
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        result = personalize.lint(body)
        if not result.ok:
            raise forms.ValidationError(result.errors)
        return body


class ComposeForm(forms.Form):
    """Write or pick a template, choose the sender, send at the next slot or at a time."""

    NOT_YOURS = "not_yours"

    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.all(),
        required=False,
        label="Start from a template",
        error_messages={
            "invalid_choice": "That template does not exist (any more): pick another one, "
            "or write the message."
        },
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=personalize.MAX_BODY,
        label="Message",
        help_text=f"Variables: {VARIABLES_HELP}.",
    )
    account = forms.ModelChoiceField(
        queryset=LinkedInAccount.objects.none(),
        label="Send from",
        error_messages={"invalid_choice": "Choose one of the senders listed."},
    )
    scheduled_for = forms.DateTimeField(
        required=False,
        label="Send at (optional)",
        help_text="Empty: the next free slot of the sender. Times are in the server's time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    confirm_missing = forms.BooleanField(
        required=False, label="Send anyway to recipients who lack a value the message uses"
    )

    # The senders, connected to the contact first, and the networks they connect it to: the
    # composer's view sets them (message_views._compose_form).
    accounts: list[LinkedInAccount]
    connected_networks: set[int]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["account"].queryset = LinkedInAccount.objects.manageable_by(user).exclude(
            status=LinkedInAccount.Status.DISCONNECTED
        )

    def _name_another_members_account(self) -> None:
        """An account that exists but is another member's gets its own error (and code): the
        composer answers 403 to it."""
        chosen = parse_ids([str(self.data.get("account", ""))])
        if not (chosen and self.has_error("account", "invalid_choice")):
            return
        mine = LinkedInAccount.objects.manageable_by(self.user)
        if LinkedInAccount.objects.filter(pk=chosen[0]).exclude(pk__in=mine).exists():
            del self.errors["account"]
            self.add_error(
                "account",
                forms.ValidationError(
                    "That LinkedIn account is another member's: you cannot send from it.",
                    code=self.NOT_YOURS,
                ),
            )

    def clean(self):
        cleaned = super().clean()
        self._name_another_members_account()
        body = (cleaned.get("body") or "").strip()
        if not body and cleaned.get("template"):
            body = cleaned["template"].body
        if not body:
            self.add_error("body", "Write a message or pick a template.")
            return cleaned
        cleaned["body"] = body
        result = personalize.lint(body)
        for error in result.errors:
            self.add_error("body", error)
        when = cleaned.get("scheduled_for")
        if when and when < timezone.now() - datetime.timedelta(minutes=5):
            self.add_error("scheduled_for", "That time has passed.")
        return cleaned
