"""The contacts API's JSON shapes. Rules about what a contact may hold stay in
contacts.forms.ContactForm, which the API validates with as the pages do."""

from rest_framework import serializers

from contacts.models import EDITABLE_FIELDS, Contact, ImportBatch, Note, Stage, Tag


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class ContactSerializer(serializers.ModelSerializer):
    tags = TagSerializer(many=True, read_only=True)
    # Empty when unknown, which the schema's "email" format would not allow.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            *EDITABLE_FIELDS,
            "do_not_contact",
            "dnc_reason",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def contacts_json(contacts: list[Contact]) -> list[dict]:
    """What ContactSerializer writes, for a page of the list: the tags of every contact in one
    query of (contact, tag, name) rows, without building model instances for them, and each
    field read once. A hundred contacts through the serializer cost more than the queries
    (tests/perf/bench_api.py); tests/api/test_contacts_api.py checks the two agree."""
    through = Contact.tags.through.objects.filter(contact_id__in=[c.pk for c in contacts])
    tags: dict[int, list[dict]] = {}
    for contact_id, tag_id, name in through.order_by("tag__name").values_list(
        "contact_id", "tag_id", "tag__name"
    ):
        tags.setdefault(contact_id, []).append({"id": tag_id, "name": name})
    datetime_field = serializers.DateTimeField()
    return [
        {
            "id": c.pk,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "profile_url": c.profile_url,
            "email": c.email,
            "company": c.company,
            "position": c.position,
            "industry": c.industry,
            "member_urn": c.member_urn,
            "stage": c.stage,
            "do_not_contact": c.do_not_contact,
            "dnc_reason": c.dnc_reason,
            "tags": tags.get(c.pk, []),
            "created_at": datetime_field.to_representation(c.created_at),
            "updated_at": datetime_field.to_representation(c.updated_at),
        }
        for c in contacts
    ]


class ContactWriteSerializer(serializers.Serializer):
    """What a create or PATCH may set; PATCH leaves out what it does not change. `tags` is the
    contact's whole set of tag ids."""

    first_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    profile_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, allow_null=True
    )
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.CharField(max_length=300, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=200, required=False, allow_blank=True)
    member_urn = serializers.CharField(max_length=100, required=False, allow_blank=True)
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    tags = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53), required=False
    )


class TagAddSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60, help_text="Created if no tag has this name yet.")


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(
        source="author.get_username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class NoteWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class ImportBatchSerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="network.name", read_only=True)
    uploaded_by = serializers.CharField(
        source="uploaded_by.get_username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "file_name",
            "size",
            "network",
            "uploaded_by",
            "status",
            "file_format",
            "encoding",
            "rows",
            "created",
            "updated",
            "unchanged",
            "skipped_empty",
            "invalid",
            "duplicates_in_file",
            "suppressed",
            "rows_done",
            "errors",
            "failure",
            "undo_report",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
