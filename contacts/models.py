import datetime
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from contacts import liveness
from contacts.identity import canonical_profile_url, fold, name_key
from linkedin_crm import search
from linkedin_crm.db import CHUNK, chunks
from linkedin_crm.text import counted


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    CONTACTED = "contacted", "Contacted"
    REPLIED = "replied", "Replied"
    MEETING = "meeting", "Meeting"
    CUSTOMER = "customer", "Customer"
    NOT_INTERESTED = "not_interested", "Not interested"


# The fields a person edits on a contact: the contact form (with the tags), the API's contact
# (which is written through that form), and what one chooses between when merging two contacts.
EDITABLE_FIELDS = [
    "first_name",
    "last_name",
    "profile_url",
    "email",
    "company",
    "position",
    "industry",
    "member_urn",
    "stage",
]


class Tag(models.Model):
    NAME_MAX_LENGTH = 60

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)

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


class NetworkQuerySet(models.QuerySet["Network"]):
    def default_for(self, user) -> "Network":
        """The user's own network, created on first use: every staff member has one. It writes,
        so only acts that need the network call it, never a page being looked at."""
        network: Network | None = self.filter(owner=user, is_default=True).first()
        if network is None:
            name = user.get_full_name() or user.get_username()
            network = self.create(owner=user, is_default=True, name=f"{name}'s network")
        return network

    def importable_by(self, user):
        """The networks a staff member may import into and undo imports of: their own, or all
        with the contacts.import_any_network permission."""
        if user.has_perm("contacts.import_any_network"):
            return self
        return self.filter(owner=user)

    def own_default(self, user) -> "Network | None":
        """The user's own network if it exists yet; unlike default_for, never creates it."""
        return self.filter(owner=user, is_default=True).first()


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
        permissions = [
            ("import_any_network", "Can import into and undo imports of any member's network")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="one_default_network_per_user"
            )
        ]

    def __str__(self):
        return self.name


class ContactQuerySet(models.QuerySet):
    def search(self, text: str):
        """Case-, accent- and transliteration-insensitive search over name, company, position
        and e-mail.

        Every word must appear; matching runs on the `search_text` column, reduced in Python
        (linkedin_crm.search), so that "müller", "MÜLLER", "muller" and "mueller" find each
        other on SQLite as on PostgreSQL. Only the words search.capped keeps are used (the page
        says so).
        """
        qs = self
        for word in search.capped(text).text.split():
            # A word of accents alone looks for nothing, which would match everyone.
            if looked_for := search.search_word(word):
                qs = qs.filter(search_text__contains=looked_for)
        return qs

    def with_tag_ids(self, tag_ids):
        """Contacts carrying any of the tags, without a join that would need DISTINCT."""
        return self._pk_in(tag_links(tag_ids))

    def in_network(self, network_ids):
        return self._pk_in(network_links(network_ids))

    def connected_between(self, start=None, end=None):
        connections = Connection.objects.all()
        if start:
            connections = connections.filter(connected_on__gte=start)
        if end:
            connections = connections.filter(connected_on__lte=end)
        return self._pk_in(connections.values("contact_id"))

    def _pk_in(self, contact_ids):
        """`pk IN (subquery)`, written `pk + 0 IN (…)` so that SQLite cannot use the primary key
        for it. With `pk IN`, SQLite fetches every matching contact by id and sorts them all to
        show one page (a network of 100,000: 250 ms); with `pk + 0` it walks the list's sort
        index, checks each contact against the subquery's ids (built once) and stops after a
        page. A count has no page to stop at: see counting()."""
        return self.alias(pk_plus_0=F("pk") + 0).filter(pk_plus_0__in=contact_ids)

    def probing(self) -> "ProbingContactQuerySet":
        """These contacts, for walking an index until a page is found: see
        ProbingContactQuerySet."""
        return ProbingContactQuerySet(model=self.model, query=self.query.chain(), using=self.db)

    def counting(self) -> "CountingContactQuerySet":
        """These contacts, for counting them rather than showing a page: the tag, network and
        date filters added afterwards look their contacts up by id (a tag of 9,610 among
        100,000 contacts: 12 ms), where `pk + 0` would check every contact (17 ms)."""
        return CountingContactQuerySet(model=self.model, query=self.query.chain(), using=self.db)

    def with_first_connected_on(self):
        earliest = (
            Connection.objects.filter(contact=OuterRef("pk"), connected_on__isnull=False)
            .order_by("connected_on")
            .values("connected_on")[:1]
        )
        return self.annotate(first_connected_on=Subquery(earliest))


def tag_links(tag_ids) -> models.QuerySet:
    """The ids of the contacts carrying any of the tags, once per tag they carry."""
    return Contact.tags.through.objects.filter(tag_id__in=tag_ids).values("contact_id")


def network_links(network_ids) -> models.QuerySet:
    """The ids of the contacts in any of the networks, once per network they are in."""
    return Connection.objects.filter(network_id__in=network_ids).values("contact_id")


class CountingContactQuerySet(ContactQuerySet):
    """ContactQuerySet.counting(): its filters meant for a COUNT. Filtering keeps the class."""

    def _pk_in(self, contact_ids):
        return self.filter(pk__in=contact_ids)


class ProbingContactQuerySet(ContactQuerySet):
    """ContactQuerySet.probing(): its tag, network and date filters ask, for each contact
    walked, whether it has such a link (an EXISTS on the link's (contact, …) index), rather
    than building the list of every linked contact first.

    For the stage board's columns: each column's newest cards are a subquery of their own, and
    SQLite builds a `pk + 0 IN (…)` list once per subquery, six times for the 9,610 contacts of
    a tag (20 ms); probing walks each column only until it has its page (2 ms). A rare tag
    would have whole columns walked: the board looks those few contacts up by id instead
    (board_views._columns). Filtering keeps the class."""

    def _pk_in(self, contact_ids):
        return self.filter(Exists(contact_ids.filter(contact_id=OuterRef("pk"))))


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
    # Name, company, position and e-mail without case, accents or special letters: SQLite's
    # LIKE folds ASCII only, so search runs on text reduced in Python (search.indexed_text).
    search_text = models.TextField(editable=False, default="")
    # The last identity rule (docs/import-formats.md): first + last name + company, folded.
    # Indexed because imports of URL-less exports look contacts up by it.
    name_key = models.CharField(max_length=620, editable=False, default="", db_index=True)
    # The import batch that created this contact: undoing the batch deletes it. Contacts a
    # batch merely updated keep their previous values in ImportChange instead.
    created_by_batch = models.ForeignKey(
        "ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="created_contacts",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    # Computed from the other fields by refresh_derived_fields(): every write of those fields
    # writes these too (bulk writes name them in update_fields).
    DERIVED_FIELDS = ("search_text", "name_key")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("export_contact", "Can export contacts"),
            ("merge_contact", "Can merge contacts"),
            ("erase_contact", "Can erase a person and export everything stored about them"),
        ]
        indexes = [
            # The contact list's default order (newest first) and its last pages.
            models.Index(fields=["-created_at", "-id"], name="contact_created_idx"),
            # Sort by company, and the company filter (exact match).
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            # Sort by name.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            # Filter and sort by stage.
            models.Index(fields=["stage", "id"], name="contact_stage_idx"),
            # The dashboard's contacts per industry: counted from this index alone, where
            # otherwise every (wide) contact row is read.
            models.Index(fields=["industry"], name="contact_industry_idx"),
        ]

    def __str__(self):
        return self.full_name or self.profile_url or self.email or f"Contact {self.pk}"

    def save(self, *args, **kwargs):
        # Here, not in the module: the webhooks need django-q2, loaded after the models.
        from linkedin_crm import webhooks

        self.refresh_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *self.DERIVED_FIELDS, "updated_at"}
        adding = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            # One at a time (the form, the admin, the API); an import's contacts are announced
            # together by its import.finished.
            if adding:
                webhooks.emit(webhooks.EventType.CONTACT_CREATED, [self.webhook_data()])

    def get_absolute_url(self):
        return reverse("contacts:detail", args=[self.pk])

    # What a contact.* webhook event says about the contact (also read with .values() when
    # many contacts changed at once).
    WEBHOOK_FIELDS = (
        "id",
        "first_name",
        "last_name",
        "profile_url",
        "email",
        "company",
        "position",
        "stage",
        "do_not_contact",
    )

    def webhook_data(self) -> dict:
        return {name: getattr(self, name) for name in self.WEBHOOK_FIELDS}

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
        # The fields and their order are also those of migration 0008's refill.
        return search.indexed_text(
            " ".join((self.first_name, self.last_name, self.company, self.position, self.email))
        )

    def refresh_derived_fields(self) -> None:
        """Recompute the folded columns; bulk writes call this since they bypass save()."""
        self.search_text = self.build_search_text()
        self.name_key = name_key(self.first_name, self.last_name, self.company)

    def clean(self):
        if self.profile_url:
            canonical = canonical_profile_url(self.profile_url)
            if canonical is None:
                raise ValidationError(
                    {
                        "profile_url": "Enter a LinkedIn profile URL like https://www.linkedin.com/in/name"
                    }
                )
            self.profile_url = canonical
        else:
            self.profile_url = None
        self.email = (self.email or "").strip().lower()

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
    # The import batch that first brought this connection; undoing it removes the connection.
    batch = models.ForeignKey(
        "ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["connected_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "network"], name="one_connection_per_network"
            )
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


def percent_done(done: int, total: int, *, finished: bool) -> int:
    """A progress bar's value for work the worker does row by row (an import, an export, a bulk
    change): before it knows how many rows there are, 0, or 100 once it has finished."""
    if not total:
        return 100 if finished else 0
    return min(100, round(100 * done / total))


class ImportBatch(models.Model):
    """One uploaded Connections.csv: what it held, what importing it did, and how to undo it."""

    class Status(models.TextChoices):
        # The upload is stored and the worker reads and plans it (a large file takes longer
        # than a web request may).
        PLANNING = "planning", "Preparing the preview"
        PLAN_FAILED = "unplanned", "Preview failed"
        PENDING = "pending", "Waiting for confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        UNDOING = "undoing", "Undoing"
        UNDONE = "undone", "Undone"

    # The worker has it, or will (its page polls the progress bar).
    WORKING = (Status.PLANNING, Status.QUEUED, Status.RUNNING, Status.UNDOING)

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="import_batches")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    keep_existing = models.BooleanField(
        default=False, help_text="On conflict keep existing values instead of updating them."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_format = models.CharField(max_length=20, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped_empty = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    duplicates_in_file = models.PositiveIntegerField(default=0)
    # Rows of people who were erased (Suppression): left out so that they do not come back.
    suppressed = models.PositiveIntegerField(default=0)
    # Progress of a background import, for the batch page's progress bar. Written in the
    # transaction of each chunk, so it counts exactly the rows whose writes are committed.
    rows_done = models.PositiveIntegerField(default=0)
    # The batch's last sign of life: when it was queued, claimed by a process, or committed a
    # chunk. A batch queued or running without one for IMPORT_STALL_SECONDS has lost its worker.
    progress_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The process applying the batch ("host:pid:start", contacts.liveness). Only that process
    # may commit chunks; on its own host a vanished process is noticed without the timeout.
    worker = models.CharField(max_length=200, blank=True, editable=False)
    # [{"line": n, "message": "..."}]: invalid rows and values dropped from valid rows.
    errors = models.JSONField(default=list, blank=True)
    # [{"line": n, "contact": id, "candidates": [ids]}]: rows the identity rules could not decide.
    possible_duplicates = models.JSONField(default=list, blank=True)
    # What the preview decided, kept so that confirming does not parse and diff the file again.
    # Cleared once applied.
    plan = models.JSONField(null=True, blank=True, editable=False)
    failure = models.TextField(blank=True)
    undo_report = models.JSONField(default=dict, blank=True)
    # Who confirmed it: the worker records a large import under their name.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who asked for the undo the worker carries out (the audit event names them).
    undo_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%d %b %Y %H:%M})"

    def get_absolute_url(self):
        return reverse("imports:detail", args=[self.pk])

    def webhook_data(self) -> dict:
        """What an import.finished webhook event says about the batch."""
        counts = ("rows", "created", "updated", "unchanged", "invalid", "suppressed")
        return {
            "id": self.pk,
            "file_name": self.file_name,
            "network_id": self.network_id,
            **{name: getattr(self, name) for name in counts},
        }

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.UNDONE)

    @property
    def is_working(self) -> bool:
        """The worker has it (or will): its page polls the progress bar."""
        return self.status in self.WORKING

    @property
    def plan_task_name(self) -> str:
        return f"preview-batch-{self.pk}"

    @property
    def undo_task_name(self) -> str:
        return f"undo-batch-{self.pk}"

    @property
    def status_before_undo(self) -> str:
        """Where an undo that did not happen leaves the batch: a failed import always says why."""
        return self.Status.FAILED if self.failure else self.Status.DONE

    @property
    def task_name(self) -> str:
        """The name of its django-q2 task, by which recovery finds the task in the queue."""
        return f"import-batch-{self.pk}"

    @property
    def last_sign_of_life(self) -> datetime.datetime:
        # Batches confirmed before the heartbeat existed have only their time stamps.
        return self.progress_at or self.started_at or self.created_at

    def is_stalled(self, now: datetime.datetime) -> bool:
        """Running, but its worker has died: its process is gone (seen from its own host), or
        no chunk committed for IMPORT_STALL_SECONDS. Read-only: pages show it, and
        contacts.services.import_batches_recover is what marks such a batch failed."""
        if self.status not in (self.Status.RUNNING, self.Status.PLANNING, self.Status.UNDOING):
            return False
        if self.status != self.Status.RUNNING and not self.worker:
            return False  # not claimed yet: recovery asks the queue (services._stop_reason)
        stall = datetime.timedelta(seconds=settings.IMPORT_STALL_SECONDS)
        return self.last_sign_of_life < now - stall or liveness.process_is_gone(self.worker)

    @property
    def undo_refusal(self) -> str:
        """Why a batch that is neither done nor failed cannot be undone."""
        refused = f"A batch that is “{self.get_status_display()}” cannot be undone"
        match self.status:
            case self.Status.PENDING:
                return f"{refused}: it was never confirmed, so nothing was imported. Cancel it."
            case self.Status.QUEUED:
                return f"{refused}: it is waiting for the worker and nothing was imported yet."
            case self.Status.RUNNING:
                return (
                    f"{refused} while it is importing (row {self.rows_done:,} of {self.rows:,}). "
                    "Undo it once it has finished, or once it has stalled if its worker stops."
                )
            case self.Status.UNDONE:
                return f"{refused}: it was undone already."
        return f"{refused}."

    @property
    def progress_percent(self) -> int:
        return percent_done(self.rows_done, self.rows, finished=self.is_finished)

    def same_file_batches(self):
        """Earlier imports of the very same file (by content), so a re-upload is noticed."""
        return ImportBatch.objects.filter(sha256=self.sha256).exclude(pk=self.pk)


class ImportUpload(models.Model):
    """The bytes of an uploaded file, in the database so that any worker on any machine can
    read them. Kept until the import is confirmed or cancelled (a failed preview can be tried
    again), and deleted after IMPORT_UPLOAD_KEEP_HOURS by the housekeeping schedule."""

    batch = models.OneToOneField(ImportBatch, on_delete=models.CASCADE, related_name="upload")
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"Upload of {self.batch_id} ({len(self.data):,} bytes)"


class ImportChange(models.Model):
    """What a batch changed on a contact that existed before it, so that undo can restore it.

    Kept only for contacts the batch updated (or tagged); contacts it created need no record.
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    # {"field": [previous, imported]}
    fields = models.JSONField(default=dict)
    added_tag_ids = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "contact"], name="one_change_per_contact")
        ]

    def __str__(self):
        return f"{self.batch_id} changed contact {self.contact_id}"


class ContactAlias(models.Model):
    """An identifier (profile URL or e-mail) of a contact merged into another, so that later
    imports of the old identifier resolve to the survivor."""

    class Kind(models.TextChoices):
        URL = "url", "Profile URL"
        EMAIL = "email", "E-mail"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="aliases")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    value = models.CharField(max_length=500)

    class Meta:
        verbose_name_plural = "contact aliases"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="one_alias_per_identifier")
        ]

    def __str__(self):
        return f"{self.value} → contact {self.contact_id}"


class MergeLog(models.Model):
    """Who merged which contact into which, and what the merged one held."""

    survivor = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, related_name="merges"
    )
    merged_contact_id = models.BigIntegerField()
    merged_snapshot = models.JSONField(default=dict)
    chosen_values = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self):
        return f"contact {self.merged_contact_id} merged into {self.survivor_id}"

    @property
    def moved_summary(self) -> str:
        """What moved to the survivor, "1 note, 2 connections", or "" when nothing did. The
        log keys counts by the relation's name; the related model says its singular."""
        meta = {
            relation.get_accessor_name(): relation.related_model._meta
            for relation in Contact._meta.related_objects
        }
        parts = []
        for name, count in self.moved.items():
            known = meta.get(name)
            singular = str(known.verbose_name) if known else name
            plural = str(known.verbose_name_plural) if known else name
            parts.append(counted(count, singular, plural))
        return ", ".join(parts)


class SuppressionQuerySet(models.QuerySet):
    def matching(self, kind: str, values: Iterable[str | None]) -> set[str]:
        """The values among `values` that identify an erased person (one query per CHUNK)."""
        by_digest: dict[str, str] = {}
        if not self.filter(kind=kind).exists():
            # The usual case: nobody was erased, and a 30,000-row import hashes nothing.
            return set()
        keys = Suppression.keys()
        for value in values:
            if value:
                for digest in Suppression.digests(kind, value, keys=keys):
                    by_digest[digest] = value
        digests = sorted(by_digest)
        found: set[str] = set()
        for chunk in chunks(digests, CHUNK):
            found.update(self.filter(kind=kind, digest__in=chunk).values_list("digest", flat=True))
        return {by_digest[digest] for digest in found}


class Suppression(models.Model):
    """What is kept of a person who was erased: a keyed hash (HMAC-SHA256) of each of their
    identifiers (canonical profile URL, lower-cased e-mail), so that imports can leave them
    out without the system holding anything that names them.

    The key is derived from SECRET_KEY. A rotated key keeps working while the old one is in
    SECRET_KEY_FALLBACKS; once it is dropped from there, the suppressions made under it no
    longer match.
    """

    class Kind(models.TextChoices):
        URL = "url", "Profile URL"
        EMAIL = "email", "E-mail"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="one_suppression_per_digest")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.digest[:12]}…"

    @staticmethod
    def keys() -> list[bytes]:
        """The HMAC keys: the current SECRET_KEY's first, then its fallbacks'."""
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        return [
            hashlib.sha256(f"contacts.Suppression:{secret}".encode()).digest() for secret in secrets
        ]

    @classmethod
    def digests(cls, kind: str, value: str, *, keys: list[bytes] | None = None) -> list[str]:
        """The value's digest under each key, the current key's first."""
        if kind == cls.Kind.URL:
            normalized = canonical_profile_url(value) or value.strip()
        else:
            normalized = value.strip().lower()
        message = f"{kind}:{normalized}".encode()
        return [hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys or cls.keys()]

    @classmethod
    def add(cls, kind: str, value: str) -> None:
        cls.objects.get_or_create(kind=kind, digest=cls.digests(kind, value)[0])


class WorkerJob(models.Model):
    """Work on the contacts a filter matches that a member asked for and the worker does row by
    row, because it takes longer than a web request may: an export, a bulk change. Its requester
    follows it on its page (the progress bar polls `get_progress_url`); `worker` and
    `progress_at` tell recovery whether the process doing it is still alive."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The contact list's filter (its query string as a dict), applied when the worker runs.
    filter_params = models.JSONField(default=dict, blank=True)
    rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True, editable=False)
    progress_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Each kind's pages (its own, and its progress bar's) by URL name, and its tasks' names.
    page_url_names = ("", "")
    task_prefix = ""
    # A status field whose choices have at least QUEUED, RUNNING, DONE and FAILED.
    status: models.CharField

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def get_absolute_url(self):
        return reverse(self.page_url_names[0], args=[self.pk])

    def get_progress_url(self):
        return reverse(self.page_url_names[1], args=[self.pk])

    @property
    def task_name(self) -> str:
        return f"{self.task_prefix}-{self.pk}"

    # The status values every kind has (each names them in its own Status, with its labels).
    @property
    def is_running(self) -> bool:
        return self.status == "running"

    @property
    def is_finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def progress_percent(self) -> int:
        return percent_done(self.rows_done, self.rows, finished=self.is_finished)


class ContactExport(WorkerJob):
    """A CSV of contacts built by the worker (a large export takes longer than a web request
    may) and kept in the database until its owner downloads it, for EXPORT_KEEP_HOURS."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Writing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    data = models.BinaryField(null=True, editable=False)

    page_url_names = ("contacts:export_detail", "contacts:export_progress")
    task_prefix = "contact-export"
    # What its progress bar says while the worker is at it.
    progress_doing = "Writing the file…"

    class Meta(WorkerJob.Meta):
        pass

    def __str__(self):
        return f"Export {self.pk} by {self.requested_by} ({self.get_status_display()})"

    @property
    def file_name(self) -> str:
        return f"contacts-{self.created_at:%Y-%m-%d}.csv"


class BulkAction(models.TextChoices):
    """What the contact list's bulk bar does to the selected or all matching contacts."""

    ADD_TAG = "add_tag", "Add tag"
    REMOVE_TAG = "remove_tag", "Remove tag"
    SET_STAGE = "set_stage", "Set stage"
    MARK_DNC = "mark_dnc", "Mark do-not-contact"
    DELETE = "delete", "Delete"


def bulk_action_result(action: str, count: int, *, tag: "Tag | None", stage: str) -> str:
    """What a bulk action did, as the contact list says it after one in the request and a bulk
    change's page after one in the worker."""
    contacts = counted(count, "contact", "contacts")
    match action:
        case BulkAction.ADD_TAG:
            return f"Tagged {contacts} “{tag}”."
        case BulkAction.REMOVE_TAG:
            return f"Removed “{tag}” from {contacts}."
        case BulkAction.SET_STAGE:
            return f"Moved {contacts} to “{Stage(stage).label}”."
        case BulkAction.MARK_DNC:
            return f"Marked {contacts} do-not-contact."
    return f"Deleted {contacts}."


class ContactBulkChange(WorkerJob):
    """A bulk action on every contact a filter matches, applied by the worker because they are
    too many for a web request (BULK_IN_REQUEST_MAX; issue #16). The worker walks the contacts
    by ascending id, a chunk per transaction that also moves the cursor (last_pk, the counts),
    so a worker that dies leaves a cursor that matches what was committed, and the change
    resumes after it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Changing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    action = models.CharField(max_length=20, choices=BulkAction.choices)
    # SET_NULL, not PROTECT: a tag deleted in the admin must not be held back by a change
    # waiting in the queue (nor by a finished one); the worker fails the change instead, saying
    # why, and the page names the tag as deleted.
    tag = models.ForeignKey(Tag, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    # The do-not-contact reason, until the change finishes: it may name a person's
    # circumstances, and once it is on the contacts this row need not keep it.
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # `rows`: the contacts matching, once the worker counted; `rows_done`: of which it went
    # through; `changed`: of which the action changed.
    changed = models.PositiveIntegerField(default=0)
    # The last contact id of the last committed chunk: the worker goes on after it.
    last_pk = models.PositiveBigIntegerField(default=0, editable=False)

    page_url_names = ("contacts:bulk_change", "contacts:bulk_change_progress")
    task_prefix = "contact-bulk-change"

    class Meta(WorkerJob.Meta):
        pass

    def __str__(self):
        return f"Bulk change {self.pk} by {self.requested_by} ({self.get_status_display()})"

    @property
    def progress_doing(self) -> str:
        return "Deleting…" if self.action == BulkAction.DELETE else "Changing…"

    @property
    def description(self) -> str:
        """What the change does, as a heading: "Add tag “VIP”", "Set stage: Contacted"."""
        label = self.get_action_display()
        if self.action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG):
            return f"{label} “{self.tag}”" if self.tag else f"{label} (a tag since deleted)"
        if self.action == BulkAction.SET_STAGE:
            return f"{label}: {self.get_stage_display()}"
        return label

    @property
    def result(self) -> str:
        return bulk_action_result(self.action, self.changed, tag=self.tag, stage=self.stage)
