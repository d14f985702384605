from apps.core.cache import catalog
from apps.orgs.models import ApiKey
from apps.orgs.services import key_hash


def api_key_by_raw(raw_key: str) -> ApiKey | None:
    """The live key with this value, its org loaded, or None. Kept in each process while the
    catalog does not change (apps/core/cache.py): revoking counts at once."""
    hashed = key_hash(raw_key)
    return catalog.get(f"api-key:{hashed}", lambda: ApiKey.objects.select_related("org").filter(
        key_hash=hashed, revoked_at__isnull=True).first())
