import django_filters

from contacts.models import Contact
from linkedin_crm import search
from linkedin_crm.forms import date_input
from messaging.models import LinkedInAccount, Message


class MessageFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Message.Status.choices)
    account = django_filters.ModelChoiceFilter(
        label="Sender", queryset=LinkedInAccount.objects.all(), empty_label="Any sender"
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created on or after",
        widget=date_input(),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created on or before",
        widget=date_input(),
    )
    contact = django_filters.CharFilter(
        label="Contact", method="filter_contact", widget=search.search_input()
    )

    class Meta:
        model = Message
        fields = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["account"].queryset = LinkedInAccount.objects.manageable_by(user)

    @property
    def notices(self) -> list[str]:
        """What the contact search left out of a long search, to say so above the results."""
        if not self.is_bound or not self.is_valid():
            return []
        terms = search.capped(self.form.cleaned_data.get("contact"), label="Contact")
        return [terms.notice] if terms.notice else []

    def filter_contact(self, queryset, name, value):
        return queryset.filter(contact__in=Contact.objects.search(value))
