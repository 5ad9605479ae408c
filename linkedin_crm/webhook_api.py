"""The webhooks' API (docs/api.md#webhooks): Admins manage subscriptions and redeliver events,
as on /settings/webhooks/, through the same services (linkedin_crm.webhooks), which check the
role and write the audit log."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from linkedin_crm import audit, webhooks
from linkedin_crm.api import IDEMPOTENCY_KEY, PROBLEM, idempotent, raise_validation
from linkedin_crm.models import WebhookDelivery, WebhookEventType, WebhookSubscription

# How many of a subscription's latest deliveries its detail lists.
RECENT_DELIVERIES = 20


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField()
    event_type = serializers.CharField(source="event.type")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
        ]


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "events",
            "active",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(help_text="The signing secret, shown this once.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionDetailSerializer(SubscriptionSerializer):
    recent_deliveries = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "recent_deliveries"]

    @extend_schema_field(DeliverySerializer(many=True))
    def get_recent_deliveries(self, subscription) -> list[dict]:
        deliveries = subscription.deliveries.select_related("event").order_by("-id")
        return DeliverySerializer(deliveries[:RECENT_DELIVERIES], many=True).data


class SubscriptionWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


def _checked(body: dict) -> dict:
    """The fields the services would refuse, refused here with the field named (a target in a
    private range, an unknown host), so that nothing is written."""
    errors = {}
    if "url" in body:
        try:
            webhooks.resolve_target(body["url"])
        except DjangoValidationError as error:
            errors["url"] = error.messages
    if "events" in body:
        try:
            body["events"] = webhooks.clean_events(body["events"])
        except DjangoValidationError as error:
            errors["events"] = error.messages
    if errors:
        raise_validation(errors)
    return body


def _subscriptions(request):
    webhooks.check_manageable_by(request.user)  # Admins only: 403 for anyone else
    return WebhookSubscription.objects.order_by("pk")


@extend_schema(methods=["GET"], responses={200: SubscriptionSerializer(many=True), 403: PROBLEM})
@extend_schema(
    methods=["POST"],
    request=SubscriptionWriteSerializer,
    responses={201: SubscriptionCreatedSerializer, 403: PROBLEM, 422: PROBLEM},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["GET", "POST"])
@idempotent
def subscription_list(request):
    """The webhook subscriptions (Admins); POST subscribes a URL to events and answers its
    signing secret, shown this once."""
    subscriptions = _subscriptions(request)
    if request.method == "GET":
        return Response(SubscriptionSerializer(subscriptions, many=True).data)
    body = SubscriptionWriteSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = _checked(dict(body.validated_data))
    subscription = webhooks.subscription_create(
        url=data["url"],
        events=data["events"],
        description=data.get("description", ""),
        actor=request.user,
        via=audit.Via.API,
    )
    created = SubscriptionCreatedSerializer(subscription).data
    return Response(created, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses={200: SubscriptionDetailSerializer, 403: PROBLEM})
@extend_schema(
    methods=["PATCH"],
    request=SubscriptionWriteSerializer(partial=True),
    responses={200: SubscriptionDetailSerializer, 403: PROBLEM, 404: PROBLEM, 422: PROBLEM},
)
@extend_schema(methods=["DELETE"], responses={204: None, 403: PROBLEM, 404: PROBLEM})
@api_view(["GET", "PATCH", "DELETE"])
def subscription_detail(request, pk: int):
    """One subscription with its latest deliveries; PATCH changes what is given (turning it on
    again sends what waited), DELETE removes it with its delivery log."""
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    if request.method == "DELETE":
        webhooks.subscription_delete(
            subscription=subscription, actor=request.user, via=audit.Via.API
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
    if request.method == "PATCH":
        body = SubscriptionWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = _checked(dict(body.validated_data))
        subscription = webhooks.subscription_update(
            subscription=subscription, actor=request.user, via=audit.Via.API, **data
        )
    return Response(SubscriptionDetailSerializer(subscription).data)


@extend_schema(request=None, responses={200: DeliverySerializer, 403: PROBLEM, 404: PROBLEM})
@api_view(["POST"])
def delivery_redeliver(request, pk: int, delivery_pk: int):
    """Send an event to this subscription again, with the same id, now."""
    subscription = get_object_or_404(_subscriptions(request), pk=pk)
    delivery = get_object_or_404(subscription.deliveries.select_related("event"), pk=delivery_pk)
    delivery = webhooks.delivery_redeliver(delivery=delivery, actor=request.user, via=audit.Via.API)
    delivery.refresh_from_db()
    return Response(DeliverySerializer(delivery).data)


urlpatterns = [
    path("webhooks/", subscription_list, name="webhook_list"),
    path("webhooks/<int:pk>/", subscription_detail, name="webhook_detail"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        delivery_redeliver,
        name="webhook_redeliver",
    ),
]
