"""The API's endpoints that read all three apps, as their pages live in this package: a
contact's timeline (linkedin_crm.timeline) and the statistics (linkedin_crm.dashboard, the same
numbers as the dashboard)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from contacts.models import Contact
from linkedin_crm import dashboard, timeline
from linkedin_crm.api import PROBLEM, raise_validation


class TimelineQuery(serializers.Serializer):
    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=timeline.KINDS), required=False
    )
    before = serializers.CharField(required=False, max_length=100)

    def validate_before(self, value):
        try:
            return timeline.Cursor.parse(value.strip())
        except ValueError:
            raise serializers.ValidationError("This is not a position in this timeline.") from None


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    label = serializers.CharField()
    source = serializers.CharField()
    id = serializers.IntegerField()
    summary = serializers.CharField()
    text = serializers.CharField(help_text="A message's, reply's or note's text; else empty.")


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineItemSerializer(many=True)
    next_before = serializers.CharField(
        allow_null=True, help_text="Pass as `before` for the older items; null on the last page."
    )


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, many=True, enum=timeline.KIND_VALUES),
        OpenApiParameter("before", str),
    ],
    responses={200: TimelinePageSerializer, 404: PROBLEM, 422: PROBLEM},
)
@api_view(["GET"])
def contact_timeline(request, pk: int):
    """Everything that happened with one contact, newest first, as the timeline page shows it
    to the token's owner."""
    contact = get_object_or_404(Contact, pk=pk)
    query = TimelineQuery(
        data={
            **(
                {"kind": request.query_params.getlist("kind")}
                if "kind" in request.query_params
                else {}
            ),
            **(
                {"before": request.query_params["before"]}
                if "before" in request.query_params
                else {}
            ),
        }
    )
    if not query.is_valid():
        raise_validation(query.errors)
    page = timeline.contact_timeline(
        contact,
        user=request.user,
        kinds=set(query.validated_data.get("kind") or []),
        before=query.validated_data.get("before"),
    )
    items = [
        {
            "at": item.at,
            "kind": item.kind,
            "label": str(item.label),
            "source": item.source,
            "id": item.id,
            "summary": item.summary,
            "text": getattr(item.obj, "body", "") or "",
        }
        for item in page.items
    ]
    data = {"results": items, "next_before": str(page.older) if page.older else None}
    return Response(TimelinePageSerializer(data).data)


def _chart(chart) -> dict:
    """A dashboard chart as its data table: the text equivalent, every number."""
    return {
        "title": chart.title,
        "columns": list(chart.columns),
        "rows": [list(r) for r in chart.rows],
    }


def _contacts(now) -> dict:
    panel = dashboard.contacts_panel(now)
    data = {
        "total": panel["total"],
        "new_this_month": panel["new_this_month"],
        "by_stage": {value: n for value, _, n in panel.get("stage_links", [])},
    }
    for name in ("companies", "industries", "years", "owners"):
        if name in panel:
            data[name] = _chart(panel[name])
    return data


def _messages(user, now) -> dict:
    panel = dashboard.sending_panel(user, now)
    accounts = [
        {
            "id": row.account.pk,
            "name": row.account.display_name,
            "status": row.account.status,
            "health": row.health[0],
            "used_today": row.used_today,
            "cap": row.account.daily_limit,
            "queued": row.queued,
            "held": row.held,
            "outbox": row.outbox,
            "uncertain": row.uncertain,
            "window_open": row.window_open,
            "next_slot": row.next_slot,
            "queue_empty_at": row.empty_at,
        }
        for row in panel["rows"]
    ]
    totals = {
        name: panel.get(name, 0) for name in ("queued", "held", "outbox", "uncertain", "stuck")
    }
    rates = [
        {"days": rate.days, "sent": rate.sent, "replied": rate.replied, "rate": rate.rate}
        for rate in dashboard.reply_rates(now)
    ]
    return {
        **totals,
        "queue_empty_at": panel.get("empty_at"),
        "accounts": accounts,
        "reply_rates": rates,
        "sends_per_day": _chart(dashboard.sends_per_day(now)),
    }


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def stats_contacts(request):
    """The dashboard's contact numbers: total, new this month, by stage, the top companies,
    industries, connections per year and contacts by owner."""
    return Response(_contacts(timezone.now()))


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def stats_messages(request):
    """The dashboard's sending numbers for the accounts the token's owner may manage, the
    reply rates and the messages per day."""
    return Response(_messages(request.user, timezone.now()))


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def stats_dashboard(request):
    """Every number of the dashboard page, as that page shows them to the token's owner."""
    now = timezone.now()
    worker = dashboard.worker_status(now)
    return Response(
        {
            "contacts": _contacts(now),
            "messages": _messages(request.user, now),
            "campaigns": [
                {
                    "id": progress.pk,
                    "name": progress.name,
                    "enrolled": progress.enrolled,
                    "done": progress.done,
                    "replied": progress.replied,
                }
                for progress in dashboard.running_campaigns(request.user)
            ],
            "worker": {
                "last_task_at": worker.last_task_at,
                "stale": worker.stale,
                "schedule_missing": worker.schedule_missing,
            },
            "recent_imports": [
                {
                    "id": batch.pk,
                    "file_name": batch.file_name,
                    "status": batch.status,
                    "network": batch.network.name,
                    "rows": batch.rows,
                    "created": batch.created,
                    "updated": batch.updated,
                    "invalid": batch.invalid,
                    "created_at": batch.created_at,
                }
                for batch in dashboard.recent_imports()
            ],
        }
    )


urlpatterns = [
    path("contacts/<int:pk>/timeline/", contact_timeline, name="contact_timeline"),
    path("stats/contacts/", stats_contacts, name="stats_contacts"),
    path("stats/messages/", stats_messages, name="stats_messages"),
    path("stats/dashboard/", stats_dashboard, name="stats_dashboard"),
]
