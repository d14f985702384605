from django.db.models import QuerySet
from django.utils import timezone

from apps.core.cache import catalog
from apps.core.ids import parse_id
from apps.orgs.models import ApiKey, Org
from apps.orgs.services import key_hash


def api_key_by_raw(raw_key: str) -> ApiKey | None:
    """The working key with this value (not revoked, not expired), its org and source loaded,
    or None. Kept in each process while the catalog does not change (apps/core/cache.py):
    revoking counts at once, and so does an expiry passing."""
    hashed = key_hash(raw_key)
    key = catalog.get(f"api-key:{hashed}", lambda: ApiKey.objects.select_related(
        "org", "source").filter(key_hash=hashed, revoked_at__isnull=True).first())
    return key if key is not None and key.works_at(timezone.now()) else None


def api_key_list(*, org: Org) -> QuerySet[ApiKey]:
    """The org's keys, revoked and expired ones too, the newest first."""
    return ApiKey.objects.filter(org=org).select_related("source").order_by("-created_at", "-id")


def api_key_get(*, org: Org, key_id: str | int) -> ApiKey | None:
    parsed = parse_id(key_id)
    return None if parsed is None else api_key_list(org=org).filter(id=parsed).first()
