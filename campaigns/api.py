"""The campaigns API (docs/api.md): list, detail with per-variant results and the statistics
(campaigns.services.campaign_results, as the campaign page), the dry run, and pause, resume
and cancel through campaigns.services. Only the campaigns the token's owner may edit
(Campaign.objects.editable_by), as on the pages."""

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.decorators import api_view
from rest_framework.response import Response

from campaigns import services
from campaigns.models import Campaign, Enrollment
from campaigns.serializers import (
    CampaignDetailSerializer,
    CampaignSerializer,
    DryRunSerializer,
    StepResultSerializer,
)
from linkedin_crm import audit
from linkedin_crm.api import PROBLEM, Conflict, MemberListMixin
from messaging.message_views import forecast_for


def _campaigns(request):
    return (
        Campaign.objects.editable_by(request.user)
        .select_related("audience", "owner")
        .prefetch_related("senders")
        .annotate(enrolled=Count("enrollments"))
    )


class CampaignList(MemberListMixin, generics.ListAPIView):
    serializer_class = CampaignSerializer

    def member_queryset(self, request):
        return _campaigns(request)


def _detail(campaign: Campaign) -> dict:
    states = dict(
        Enrollment.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("pk"))
    )
    skipped = dict(
        Enrollment.objects.filter(campaign=campaign, state=Enrollment.State.SKIPPED)
        .values_list("skip_reason")
        .annotate(n=Count("pk"))
    )
    try:
        matches_now = services.audience_contacts(campaign.audience).count()
    except services.CampaignError:
        matches_now = None
    steps = []
    for result in services.campaign_results(campaign) if campaign.launched_at else []:
        bodies = {variant.label: variant.body for variant in result.step.variants.all()}
        steps.append(
            {
                "order": result.step.order,
                "delay_days": result.step.delay_days,
                "stop_on_reply": result.step.stop_on_reply,
                "variants": [{**vars(v), "body": bodies[v.label]} for v in result.variants],
                "comparisons": [
                    {"a": a, "b": b, **vars(comparison)} for a, b, comparison in result.comparisons
                ],
            }
        )
    if not campaign.launched_at:
        for step in campaign.steps.prefetch_related("variants"):
            steps.append(
                {
                    "order": step.order,
                    "delay_days": step.delay_days,
                    "stop_on_reply": step.stop_on_reply,
                    "variants": [
                        {
                            "label": v.label,
                            "body": v.body,
                            "enrolled": 0,
                            "sent": 0,
                            "replied": 0,
                            "rate": None,
                            "interval": None,
                        }
                        for v in step.variants.all()
                    ],
                    "comparisons": [],
                }
            )
    data = CampaignSerializer(campaign).data
    data.update(
        states=states,
        skipped=skipped,
        audience_matches_now=matches_now,
        steps=StepResultSerializer(steps, many=True).data,
    )
    return data


@extend_schema(responses={200: CampaignDetailSerializer, 404: PROBLEM})
@api_view(["GET"])
def campaign_detail(request, pk: int):
    """A campaign with its enrollments by state, the skip reasons, and per step and variant:
    enrolled, sent, replied, the reply rate with its 95% interval and the tests between
    variants."""
    campaign = get_object_or_404(_campaigns(request), pk=pk)
    return Response(_detail(campaign))


@extend_schema(responses={200: DryRunSerializer, 404: PROBLEM})
@api_view(["GET"])
def campaign_dry_run(request, pk: int):
    """What launching now would do, changing nothing: who would be enrolled or skipped and
    why, what blocks the launch, and when each sender's messages would go out."""
    campaign = get_object_or_404(Campaign.objects.editable_by(request.user), pk=pk)
    now = timezone.now()
    plan = services.plan_launch(campaign, now=now)
    steps = max(1, campaign.steps.count())
    return Response(
        DryRunSerializer(
            {
                "recipients": len(plan.recipients),
                "enrolled": len(plan.enrolled),
                "skipped": dict(plan.skipped_by_reason),
                "errors": plan.errors,
                "warnings": plan.warnings,
                "senders": [
                    {
                        "account": sender.pk,
                        "name": sender.display_name,
                        "recipients": count,
                        "forecast": forecast_for(sender, count * steps, now),
                    }
                    for sender, count in plan.per_sender.items()
                ],
            }
        ).data
    )


def _state_change(act):
    @extend_schema(
        request=None, responses={200: CampaignDetailSerializer, 404: PROBLEM, 409: PROBLEM}
    )
    @api_view(["POST"])
    def view(request, pk: int):
        campaign = get_object_or_404(_campaigns(request), pk=pk)
        try:
            act(campaign=campaign, actor=request.user, via=audit.Via.API)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response(_detail(get_object_or_404(_campaigns(request), pk=pk)))

    view.__doc__ = act.__doc__
    return view


campaign_pause = _state_change(services.campaign_pause)
campaign_resume = _state_change(services.campaign_resume)
campaign_cancel = _state_change(services.campaign_cancel)

urlpatterns = [
    path("campaigns/", CampaignList.as_view(), name="campaign_list"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/dry-run/", campaign_dry_run, name="campaign_dry_run"),
    path("campaigns/<int:pk>/pause/", campaign_pause, name="campaign_pause"),
    path("campaigns/<int:pk>/resume/", campaign_resume, name="campaign_resume"),
    path("campaigns/<int:pk>/cancel/", campaign_cancel, name="campaign_cancel"),
]
