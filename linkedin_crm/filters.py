"""The audit log page's filter."""

import django_filters
from django.apps import apps

from linkedin_crm.forms import date_input
from linkedin_crm.models import AuditEvent


def _actor_choices():
    # By the name kept on each event: it still finds the acts of a user deleted since.
    names = AuditEvent.objects.exclude(actor_name="").values_list("actor_name", flat=True)
    return [(name, name) for name in sorted(set(names.order_by()), key=str.casefold)]


def _object_type_choices():
    labels = {model._meta.model_name: model._meta.verbose_name for model in apps.get_models()}
    types = AuditEvent.objects.exclude(object_type="").values_list("object_type", flat=True)
    return sorted(
        ((name, str(labels.get(name, name)).capitalize()) for name in set(types.order_by())),
        key=lambda choice: choice[1],
    )


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(
        label="Action", choices=AuditEvent.Action.choices, empty_label="Any"
    )
    actor = django_filters.ChoiceFilter(
        label="Who", field_name="actor_name", choices=_actor_choices, empty_label="Anyone"
    )
    via = django_filters.ChoiceFilter(
        label="Through", choices=AuditEvent.Via.choices, empty_label="Any"
    )
    object_type = django_filters.ChoiceFilter(
        label="Object type", choices=_object_type_choices, empty_label="Any"
    )
    object_id = django_filters.CharFilter(label="Object id")
    date_from = django_filters.DateFilter(
        label="From",
        field_name="at",
        lookup_expr="date__gte",
        widget=date_input(),
    )
    date_to = django_filters.DateFilter(
        label="To",
        field_name="at",
        lookup_expr="date__lte",
        widget=date_input(),
    )

    class Meta:
        model = AuditEvent
        fields = []
