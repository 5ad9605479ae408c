"""The campaigns API's JSON shapes."""

from rest_framework import serializers

from campaigns.models import Campaign


class CampaignSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    audience = serializers.CharField(source="audience.name", read_only=True)
    senders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    enrolled = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "owner",
            "audience",
            "senders",
            "starts_at",
            "launched_at",
            "audience_count_at_launch",
            "enrolled",
            "created_at",
        ]
        read_only_fields = fields


class IntervalSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()


class VariantResultSerializer(serializers.Serializer):
    label = serializers.CharField()
    body = serializers.CharField()
    enrolled = serializers.IntegerField()
    sent = serializers.IntegerField()
    replied = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    interval = IntervalSerializer(allow_null=True)


class ComparisonSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    test = serializers.CharField()
    p_value = serializers.FloatField()
    winner = serializers.CharField(allow_null=True)
    verdict = serializers.CharField()
    more_sends_needed = serializers.IntegerField(allow_null=True)


class StepResultSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    delay_days = serializers.IntegerField()
    stop_on_reply = serializers.BooleanField()
    variants = VariantResultSerializer(many=True)
    comparisons = ComparisonSerializer(many=True)


class CampaignDetailSerializer(CampaignSerializer):
    states = serializers.DictField(child=serializers.IntegerField())
    skipped = serializers.DictField(child=serializers.IntegerField())
    audience_matches_now = serializers.IntegerField(allow_null=True)
    steps = StepResultSerializer(many=True)

    class Meta(CampaignSerializer.Meta):
        fields = [
            *CampaignSerializer.Meta.fields,
            "states",
            "skipped",
            "audience_matches_now",
            "steps",
        ]
        read_only_fields = fields


class SenderForecastSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    name = serializers.CharField()
    recipients = serializers.IntegerField()
    forecast = serializers.CharField()


class DryRunSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    skipped = serializers.DictField(child=serializers.IntegerField())
    errors = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    senders = SenderForecastSerializer(many=True)
