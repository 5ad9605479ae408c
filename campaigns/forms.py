from django import forms

from campaigns.models import DELAY_BOUNDS, WEIGHT_BOUNDS, Audience, Campaign, Step, Variant
from linkedin_crm.forms import use_bounds
from messaging import personalize
from messaging.models import LinkedInAccount


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "audience", "senders", "starts_at"]
        widgets = {
            "senders": forms.CheckboxSelectMultiple,
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }
        labels = {"starts_at": "Start at"}
        help_texts = {
            "audience": "A saved contact filter (“Save as audience” on the contact list).",
            "senders": "Each recipient goes to a sender whose network holds them.",
        }

    # Once launched, the audience is snapshotted into enrollments, each with its sender, and step
    # 1 is queued for the start time: changing these would not change what happens any more.
    FIXED_AFTER_LAUNCH = ("audience", "senders", "starts_at")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only accounts the person may send from: a campaign can never be made to send as
        # someone else, whoever created it.
        self.fields["senders"].queryset = LinkedInAccount.objects.manageable_by(user).exclude(
            status=LinkedInAccount.Status.DISCONNECTED
        )
        if self.instance.pk and not self.instance.is_editable:
            for name in self.FIXED_AFTER_LAUNCH:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Fixed at launch."

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.instance.is_editable:
            # A disabled field's value is its initial as shown, e.g. the start without its
            # seconds' fraction; keep exactly what is stored.
            cleaned["starts_at"] = self.instance.starts_at
        return cleaned


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ["delay_days", "stop_on_reply"]
        labels = {"delay_days": "Days after the previous step"}
        help_texts = {
            "delay_days": "Up to 365. Ignored for the first step, which goes out at launch."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_bounds(self.fields["delay_days"], DELAY_BOUNDS)


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["step", "label", "body", "weight"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = campaign.steps.all()
        use_bounds(self.fields["weight"], WEIGHT_BOUNDS)

    def clean_label(self):
        return self.cleaned_data["label"].strip().upper()

    def clean_body(self):
        result = personalize.lint(self.cleaned_data["body"])
        if not result.ok:
            raise forms.ValidationError(result.errors)
        return self.cleaned_data["body"]

    def clean(self):
        cleaned = super().clean()
        step, label = cleaned.get("step"), cleaned.get("label")
        others = step.variants.exclude(pk=self.instance.pk) if step else None
        if step and label and others.filter(label=label).exists():
            self.add_error("label", f"Step {step.order} has a variant {label} already.")
        return cleaned


class AudienceForm(forms.ModelForm):
    class Meta:
        model = Audience
        fields = ["name", "query"]
        widgets = {"query": forms.HiddenInput}
        error_messages = {"name": {"required": "Give the audience a name."}}

    def clean_name(self):
        name = self.cleaned_data["name"]
        if Audience.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                f"An audience named “{name}” exists already: choose another name, or use that "
                "one in a campaign."
            )
        return name


class ReplyForm(forms.Form):
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Their reply (optional)"
    )


class MessagesUploadForm(forms.Form):
    file = forms.FileField(
        label="messages.csv",
        help_text="From the same LinkedIn data export as Connections.csv (Messages).",
    )
