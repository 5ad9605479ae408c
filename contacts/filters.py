import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import ngettext
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contacts.models import Contact, Network, Stage, Tag, network_links, tag_links
from linkedin_crm import search
from linkedin_crm.forms import date_input

SORT_CHOICES = [
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("company", "Company A–Z"),
    ("-company", "Company Z–A"),
    ("stage", "Stage"),
]

# Each sort ends on the primary key so that pages are stable, and each has an index.
SORT_FIELDS = {
    "created": ["created_at", "id"],
    "name": ["last_name", "first_name", "id"],
    "company": ["company", "id"],
    "stage": ["stage", "id"],
}


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    pass


def yes_no_select():
    """A yes/no filter whose empty choice reads "Any" rather than django-filter's "Unknown"."""
    return forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


def chips():
    """A multiple choice static/js/chips.js turns into searchable, removable chips."""
    return forms.SelectMultiple(attrs={"data-chips": ""})


# What may stand before a word inside a position: "VP Sales", "VP/CTO", "Co-Founder",
# "Head of Growth (EMEA)", "Sales, DACH".
POSITION_WORD_SEPARATORS = (" ", "/", "-", "(", ",", "&")


class ContactFilter(django_filters.FilterSet):
    """The contact list's filter. Every multi-valued filter uses a subquery (pk IN …) rather
    than a join, so the list never needs DISTINCT and counts stay cheap."""

    q = django_filters.CharFilter(
        label="Search", method="filter_search", widget=search.search_input()
    )
    company = django_filters.CharFilter(label="Company", method="filter_company")
    position = django_filters.CharFilter(
        label="Position", method="filter_position", widget=search.search_input()
    )
    tags = django_filters.ModelMultipleChoiceFilter(
        label="Tags (any of)", queryset=Tag.objects.all(), method="filter_tags", widget=chips()
    )
    stage = django_filters.MultipleChoiceFilter(
        label="Stage", choices=Stage.choices, widget=chips()
    )
    connected_after = django_filters.DateFilter(
        label="Connected on or after",
        method="filter_connected_after",
        widget=date_input(),
    )
    connected_before = django_filters.DateFilter(
        label="Connected on or before",
        method="filter_connected_before",
        widget=date_input(),
    )
    has_email = django_filters.BooleanFilter(
        label="Has e-mail", method="filter_has_email", widget=yes_no_select()
    )
    has_profile_url = django_filters.BooleanFilter(
        label="Has profile URL", method="filter_has_profile_url", widget=yes_no_select()
    )
    do_not_contact = django_filters.BooleanFilter(label="Do not contact", widget=yes_no_select())
    network = django_filters.ModelMultipleChoiceFilter(
        label="In the network of",
        queryset=Network.objects.all(),
        method="filter_network",
        widget=chips(),
    )
    # A fixed selection (comma-separated ids), for audiences made from an admin selection: kept
    # while the filter is refined, not typed.
    ids = NumberInFilter(
        field_name="pk", lookup_expr="in", label="Contact ids", widget=forms.HiddenInput
    )
    # Chosen through the column headings; the filter form carries it along.
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=SORT_CHOICES,
        method="filter_sort",
        empty_label=None,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        # An unknown sort (an old bookmark, a hand-edited link) falls back to the default order
        # and says so, rather than emptying the list over a field the page does not show.
        self.unknown_sort = ""
        if data is not None and data.get("sort", "") not in {"", *dict(SORT_CHOICES)}:
            data = data.copy()
            self.unknown_sort = data.pop("sort")[-1]
        super().__init__(data, *args, **kwargs)

    @property
    def sort_key(self) -> str:
        """The sort the list is in, as the column headings' links know it ("" is the default)."""
        if self.is_bound and self.form.is_valid():
            return self.form.cleaned_data.get("sort") or ""
        return ""

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_company(self, queryset, name, value):
        # Exact match uses the company index; a partial name belongs in the search box.
        return queryset.filter(company=value.strip())

    def filter_position(self, queryset, name, value):
        # Each word must start a word of the position: "cto" finds "CTO" and "VP/CTO", not
        # "Director"; "dir" finds "Director". The folded search column narrows first.
        # istartswith/icontains are Unicode-aware on PostgreSQL; SQLite's LIKE folds ASCII
        # letters only, so there "GESCHÄFTSFÜHRER" needs its umlauts typed in the same case.
        queryset = queryset.search(value)
        for word in search.capped(value).text.split():
            starts = Q(position__istartswith=word)
            for separator in POSITION_WORD_SEPARATORS:
                starts |= Q(position__icontains=separator + word)
            queryset = queryset.filter(starts)
        return queryset

    def filter_tags(self, queryset, name, value):
        return queryset.with_tag_ids([tag.pk for tag in value]) if value else queryset

    def filter_connected_after(self, queryset, name, value):
        return queryset.connected_between(start=value)

    def filter_connected_before(self, queryset, name, value):
        return queryset.connected_between(end=value)

    def filter_has_email(self, queryset, name, value):
        return queryset.exclude(email="") if value else queryset.filter(email="")

    def filter_has_profile_url(self, queryset, name, value):
        return queryset.filter(profile_url__isnull=not value)

    # The API's schema: networks are chosen by id (contacts has no field of that name).
    @extend_schema_field(OpenApiTypes.INT)
    def filter_network(self, queryset, name, value):
        return queryset.in_network([network.pk for network in value]) if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset

    @property
    def notices(self) -> list[str]:
        """What the list did with input it could not take whole (an unknown sort, the words
        a long search left out), to say so above the results."""
        notices = []
        if self.unknown_sort:
            notices.append(f"Unknown sort “{self.unknown_sort[:40]}”: shown newest first.")
        if not self.is_bound or not self.is_valid():
            return notices
        capped = [
            search.capped(self.form.cleaned_data.get(name), label=str(self.filters[name].label))
            for name in ("q", "position")
        ]
        return notices + [terms.notice for terms in capped if terms.notice]

    @property
    def qs(self):
        return super().qs.order_by(*sort_order(self.sort_key or "-created"))

    def count(self) -> int:
        """How many contacts match: the list's total. Tags alone, or networks alone, are
        counted on their links, which name each contact once per tag or network: no contact
        row is read (PostgreSQL, a tag of 9,610 among 100,000 contacts: 17 ms → 4 ms)."""
        active = self.active_filters()
        if active.keys() == {"tags"}:
            return tag_links([tag.pk for tag in active["tags"]]).distinct().count()
        if active.keys() == {"network"}:
            return network_links([network.pk for network in active["network"]]).distinct().count()
        return self.qs_to_count.count()

    def active_filters(self) -> dict:
        """The filters given a value, by name, the sort aside; none while the form is not
        valid. A filter's value counts as django-filter counts it: an empty choice does not."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            name: value
            for name, value in self.form.cleaned_data.items()
            if name != "sort"
            and value not in EMPTY_VALUES
            and not (isinstance(value, QuerySet) and not value)
        }

    @property
    def qs_to_count(self):
        """The same contacts as `qs`, written for counting them (ContactQuerySet.counting);
        none while the filter is not valid. Filters with the form already cleaned: no query
        to validate it again."""
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        counting = self.queryset.counting()
        return self.filter_queryset(counting) if self.is_bound else counting


def sort_order(sort: str) -> list[str]:
    descending = sort.startswith("-")
    fields = SORT_FIELDS.get(sort.lstrip("-"), SORT_FIELDS["created"])
    return [f"-{field}" if descending else field for field in fields]


def params_as_dict(params: QueryDict) -> dict:
    """A filter's query string as exports and bulk changes keep it for the worker and the audit
    log shows it: one value as itself, several as a list."""
    return {name: values[0] if len(values) == 1 else values for name, values in params.lists()}


def params_from_dict(filter_params: dict) -> QueryDict:
    """The query string of a filter kept by params_as_dict()."""
    params = QueryDict(mutable=True)
    for name, value in filter_params.items():
        params.setlist(name, value if isinstance(value, list) else [value])
    return params


def matching_contacts(filter_params: dict) -> QuerySet[Contact]:
    """The contacts a kept filter (params_as_dict) matches now. Raises ValueError when it is not
    valid (any more: a tag or network it names may have been deleted since)."""
    filterset = ContactFilter(
        params_from_dict(filter_params) or None, queryset=Contact.objects.all()
    )
    if filterset.is_bound and not filterset.is_valid():
        raise ValueError("The filter is not valid")
    return filterset.qs


# Filter fields that are not shown as chips above the list: the sort is the column headings'.
NOT_CHIPS = {"sort"}


def active_chips(filterset: ContactFilter, params) -> list[tuple[str, str]]:
    """The filters in force, one (text, query string without it) per value, for the removable
    chips above the list. Only a valid filter has chips: an invalid one shows its errors."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    chips = []
    for name, field in filterset.form.fields.items():
        if name in NOT_CHIPS:
            continue
        label = str(field.label)
        for value in params.getlist(name):
            if value == "":
                continue
            shown = _chip_value(name, field, value, filterset.form.cleaned_data.get(name))
            if shown is None:
                continue
            rest = params.copy()
            rest.setlist(name, [v for v in params.getlist(name) if v != value])
            rest.pop("page", None)
            chips.append((f"{label}: {shown}", rest.urlencode()))
    return chips


def _chip_value(name: str, field, value: str, cleaned) -> str | None:
    """How a chip names one value of a filter field: the choice's label where it has one."""
    if name == "ids":
        return ngettext("%(n)d chosen contact", "%(n)d chosen contacts", value.count(",") + 1) % {
            "n": value.count(",") + 1
        }
    if isinstance(field, forms.ModelMultipleChoiceField):
        # The filter already fetched the chosen rows: no query of its own.
        chosen = {str(obj.pk): obj for obj in cleaned or []}.get(value)
        return str(chosen) if chosen else None
    if isinstance(field, forms.NullBooleanField):
        return {"true": "Yes", "false": "No"}.get(value)
    choices = dict(getattr(field, "choices", None) or [])
    return str(choices.get(value, value)) if choices else value
