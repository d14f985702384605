from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from apps.core.ids import new_id

SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"


class Compatibility(models.TextChoices):
    """What a new schema version of a collection must stay compatible with, as Confluent
    Schema Registry's modes mean it (apps/catalog/compatibility.py checks them)."""

    NONE = "NONE", "None: any change is taken"
    BACKWARD = "BACKWARD", "Backward: the new schema reads what the latest version wrote"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE", "Backward, against every version"
    FORWARD = "FORWARD", "Forward: the latest version reads what the new schema writes"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE", "Forward, against every version"
    FULL = "FULL", "Full: backward and forward against the latest version"
    FULL_TRANSITIVE = "FULL_TRANSITIVE", "Full, against every version"


# The names at the root of /v1/ (config/urls.py): no org may be addressed as one of them.
RESERVED_SLUGS = frozenset({
    "schema", "docs", "redoc", "health", "metrics",  # Sluice's own
    "batch", "identify", "track", "page", "screen", "group", "alias",  # Segment's calls
    "i", "t", "p", "s", "g", "a", "b", "m",  # their short forms, the browser's metrics
})


class Org(models.Model):
    """A tenant, addressed by its slug in every URL."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    slug = models.CharField(max_length=63, unique=True, validators=[RegexValidator(SLUG_PATTERN)])
    name = models.CharField(max_length=200, blank=True)
    compatibility = models.CharField(
        max_length=20, choices=Compatibility.choices, default=Compatibility.BACKWARD,
        help_text="The compatibility mode of collections that name none of their own.")
    # Limits of this org's own; blank: the setting's (README, "Limits")
    rate_limit_key = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests a second each key may make (blank: "
        "SLUICE_RATE_LIMIT_KEY; 0: no limit).")
    rate_limit_key_burst = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests a key may make at once after a pause (blank: "
        "SLUICE_RATE_LIMIT_KEY_BURST).")
    rate_limit_org = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests a second all keys of the org together may "
        "make (blank: SLUICE_RATE_LIMIT_ORG; 0: no limit).")
    rate_limit_org_burst = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests all keys together may make at once (blank: "
        "SLUICE_RATE_LIMIT_ORG_BURST).")
    rejected_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rejected records kept per collection; past it they "
        "are counted as dropped, not kept (blank: SLUICE_REJECTED_CAP).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def clean(self) -> None:
        if self.slug.lower() in RESERVED_SLUGS:
            raise ValidationError({"slug": f"{self.slug!r} is reserved: Sluice serves "
                                   f"/v1/{self.slug} itself. Choose another slug."})


class ApiKey(models.Model):
    """A key of one org, stored as its SHA-256; only its prefix is shown after creation. A key
    works until it is revoked or its expiry passes; a write key with a source sends only to
    that source's collections (and the org's built-in ones)."""

    class Kind(models.TextChoices):
        SECRET = "secret", "Secret (manages the org, reads and sends records)"
        READ = "read", "Read (reads and exports; changes nothing)"
        WRITE = "write", "Write (only sends records; safe in a web page)"

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True)
    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, null=True, blank=True,
        related_name="api_keys",
        help_text="A write key with a source sends only to that source's collections.")
    prefix = models.CharField(max_length=20, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="The key stops working then; empty: never.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # written at most once a minute per key (apps/orgs/services.py: api_key_used)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["org", "created_at"]
        verbose_name = "API key"
        constraints = [models.CheckConstraint(
            condition=models.Q(source__isnull=True) | models.Q(kind="write"),
            name="api_key_source_only_for_write_keys")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.kind})"

    @property
    def is_secret(self) -> bool:
        return self.kind == self.Kind.SECRET

    @property
    def key_id(self) -> int:
        return self.id

    @property
    def org_slug(self) -> str:
        return self.org.slug

    def works_at(self, moment: datetime) -> bool:
        """Whether the key is accepted at `moment`: not revoked, not expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)
