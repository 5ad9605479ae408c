import zoneinfo

from django import forms
from django.utils import timezone

from contacts.models import Network
from messaging.models import WEEKDAYS, LinkedInAccount


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
        fields = [
            "network",
            "mode",
            "daily_limit",
            "timezone",
            "window_days",
            "window_start",
            "window_end",
            "min_interval_seconds",
            "jitter_seconds",
        ]
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
