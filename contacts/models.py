from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from contacts.identity import canonical_profile_url, fold


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    CONTACTED = "contacted", "Contacted"
    REPLIED = "replied", "Replied"
    MEETING = "meeting", "Meeting"
    CUSTOMER = "customer", "Customer"
    NOT_INTERESTED = "not_interested", "Not interested"


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def find_named(cls, name: str) -> "Tag | None":
        """Tags are matched case-insensitively (Unicode-aware), so "VIP" and "vip" are one tag.
        A team has tens of tags, not thousands, so folding them in Python is cheap."""
        wanted = fold(name)
        for tag in cls.objects.only("id", "name"):
            if fold(tag.name) == wanted:
                return tag
        return None

    @classmethod
    def get_or_create_named(cls, name: str) -> "Tag":
        name = " ".join(name.split())[:60]
        if not name:
            raise ValidationError("A tag needs a name.")
        return cls.find_named(name) or cls.objects.create(name=name)


class NetworkQuerySet(models.QuerySet):
    def default_for(self, user) -> "Network":
        """The user's own network, created on first use: every staff member has one."""
        network = self.filter(owner=user, is_default=True).first()
        if network is None:
            name = user.get_full_name() or user.get_username()
            network = self.create(owner=user, is_default=True, name=f"{name}'s network")
        return network


class Network(models.Model):
    """One LinkedIn member's network, as the team sees it through that member's exports."""

    name = models.CharField(max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="networks"
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NetworkQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="one_default_network_per_user"
            )
        ]

    def __str__(self):
        return self.name


class ContactQuerySet(models.QuerySet):
    def search(self, text: str):
        """Unicode case-insensitive search over name, company, position and e-mail.

        Every word must appear; matching runs on the folded `search_text` column so that
        "müller" finds "MÜLLER" on SQLite as on PostgreSQL.
        """
        qs = self
        for word in fold(text).split():
            qs = qs.filter(search_text__contains=word)
        return qs

    def with_tag_ids(self, tag_ids):
        """Contacts carrying any of the tags, without a join that would need DISTINCT."""
        through = Contact.tags.through.objects.filter(tag_id__in=tag_ids)
        return self.filter(pk__in=through.values("contact_id"))

    def in_network(self, network_ids):
        return self.filter(
            pk__in=Connection.objects.filter(network_id__in=network_ids).values("contact_id")
        )

    def connected_between(self, start=None, end=None):
        connections = Connection.objects.all()
        if start:
            connections = connections.filter(connected_on__gte=start)
        if end:
            connections = connections.filter(connected_on__lte=end)
        return self.filter(pk__in=connections.values("contact_id"))

    def with_first_connected_on(self):
        earliest = (
            Connection.objects.filter(contact=OuterRef("pk"), connected_on__isnull=False)
            .order_by("connected_on")
            .values("connected_on")[:1]
        )
        return self.annotate(first_connected_on=Subquery(earliest))


class Contact(models.Model):
    """One real person, however many team members know them."""

    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    # Canonical (contacts.identity): unique when set; NULL rather than "" so that many
    # contacts without a URL do not collide.
    profile_url = models.CharField(
        "profile URL", max_length=500, unique=True, null=True, blank=True
    )
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    company = models.CharField(max_length=200, blank=True)
    position = models.CharField(max_length=300, blank=True)
    industry = models.CharField(max_length=200, blank=True)
    member_urn = models.CharField(
        "member URN",
        max_length=100,
        blank=True,
        help_text="urn:li:person:… — needed to message this person through LinkedIn's API.",
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    do_not_contact = models.BooleanField(default=False)
    dnc_reason = models.CharField("do-not-contact reason", max_length=500, blank=True)
    dnc_at = models.DateTimeField("do-not-contact since", null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    # Folded copy of name, company, position and e-mail: SQLite's LIKE folds ASCII only, so
    # case-insensitive search runs on text folded in Python (identity.fold).
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_contact", "Can export contacts")]
        indexes = [
            # The contact list's default order (newest first) and its last pages.
            models.Index(fields=["-created_at", "-id"], name="contact_created_idx"),
            # Sort by company, and the company filter (exact match).
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            # Sort by name.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            # Filter and sort by stage.
            models.Index(fields=["stage", "id"], name="contact_stage_idx"),
        ]

    def __str__(self):
        return self.full_name or self.profile_url or self.email or f"Contact {self.pk}"

    def get_absolute_url(self):
        return reverse("contacts:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def message_channel(self) -> str | None:
        """How this person can be messaged: "api" with a member URN, "manual" with a profile to
        open, None when there is no way (or they asked not to be contacted)."""
        if self.do_not_contact:
            return None
        if self.member_urn:
            return "api"
        if self.profile_url:
            return "manual"
        return None

    @property
    def can_be_messaged(self) -> bool:
        return self.message_channel is not None

    def build_search_text(self) -> str:
        return fold(
            " ".join((self.first_name, self.last_name, self.company, self.position, self.email))
        )

    def clean(self):
        if self.profile_url:
            canonical = canonical_profile_url(self.profile_url)
            if canonical is None:
                raise ValidationError(
                    {"profile_url": "Enter a LinkedIn profile URL like https://www.linkedin.com/in/name"}
                )
            self.profile_url = canonical
        else:
            self.profile_url = None
        self.email = (self.email or "").strip().lower()

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "updated_at"}
        super().save(*args, **kwargs)

    def mark_do_not_contact(self, reason: str, now=None):
        self.do_not_contact = True
        self.dnc_reason = reason
        self.dnc_at = now or timezone.now()
        self.save(update_fields=["do_not_contact", "dnc_reason", "dnc_at"])

    def clear_do_not_contact(self):
        self.do_not_contact = False
        self.dnc_reason = ""
        self.dnc_at = None
        self.save(update_fields=["do_not_contact", "dnc_reason", "dnc_at"])


class Connection(models.Model):
    """Contact × network: this person is a first-degree connection of that member."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="connections")
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="connections")
    connected_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["connected_on"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "network"], name="one_connection_per_network")
        ]
        indexes = [
            # "in the network of …" and connected-on range filters on the contact list.
            models.Index(fields=["network", "contact"], name="connection_network_idx"),
            models.Index(fields=["connected_on", "contact"], name="connection_date_idx"),
        ]

    def __str__(self):
        return f"{self.contact} in {self.network}"


class Note(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="notes"
    )
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.body[:60]
