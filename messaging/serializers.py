"""The messaging API's JSON shapes. What a message may say, and from which account, stays in
messaging.forms.ComposeForm, which the API validates with as the composer does."""

from rest_framework import serializers

from messaging.models import LinkedInAccount, Message, MessageEvent


class MessageSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.__str__", read_only=True)
    # Empty until the message goes out one way or the other, which an enum would not allow.
    channel = serializers.CharField(read_only=True)
    account_name = serializers.CharField(source="account.display_name", read_only=True)
    created_by = serializers.CharField(
        source="created_by.get_username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "contact",
            "contact_name",
            "account",
            "account_name",
            "body",
            "status",
            "channel",
            "held",
            "scheduled_for",
            "released_at",
            "claimed_at",
            "sent_at",
            "attempts",
            "last_error",
            "replied_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class MessageEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.get_username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = MessageEvent
        fields = ["status", "note", "actor", "at"]
        read_only_fields = fields


class MessageDetailSerializer(MessageSerializer):
    events = MessageEventSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "events"]
        read_only_fields = fields


class _ComposeFields(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=2**53)
    body = serializers.CharField(
        required=False, allow_blank=True, help_text="The text, with {{ variables }}."
    )
    template = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="Or a template's id."
    )
    send_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Empty: the sender's next free slot."
    )


class MessageSendSerializer(_ComposeFields):
    contact = serializers.IntegerField(min_value=1, max_value=2**53)


class MessageBulkSerializer(_ComposeFields):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        required=False,
        max_length=50_000,
        help_text="The recipients' contact ids; or give `filter`.",
    )
    filter = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="The contact list's filters, as its query parameters: "
        '{"company": "Acme", "stage": ["lead"]}.',
    )
    confirm_missing = serializers.BooleanField(
        default=False,
        help_text="Send even to recipients who lack a value the text uses without a fallback.",
    )

    def validate(self, data):
        if ("ids" in data) == ("filter" in data):
            raise serializers.ValidationError("Give either `ids` or `filter`.")
        return data


class SkippedSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    reason = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    skipped = SkippedSerializer(many=True)
    forecast = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[("sent", "It was sent"), ("requeue", "Send it again")]
    )


class OutboxSentSerializer(serializers.Serializer):
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The text as sent, when it differs from the saved one.",
    )


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.CharField()
    status = serializers.ChoiceField(choices=LinkedInAccount.Status.choices)
    health = serializers.CharField()
    mode = serializers.CharField()
    used_today = serializers.IntegerField()
    cap = serializers.IntegerField()
    remaining_today = serializers.IntegerField()
    queued = serializers.IntegerField()
    outbox = serializers.IntegerField()
    uncertain = serializers.IntegerField()
    window_open = serializers.BooleanField()
    next_slot = serializers.DateTimeField(allow_null=True)
    day_resets_at = serializers.DateTimeField()
    timezone = serializers.CharField()


class ValidateResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class TaskQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
