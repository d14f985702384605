from django.core.cache import cache

from apps.orgs.models import ApiKey
from apps.orgs.services import api_key_cache_key, key_hash


def api_key_by_raw(raw_key: str) -> ApiKey | None:
    """The live key with this value, its org loaded, or None. Cached: revoking drops it."""
    hashed = key_hash(raw_key)
    key: ApiKey | None = cache.get(api_key_cache_key(hashed))
    if key is None:
        key = ApiKey.objects.select_related("org").filter(
            key_hash=hashed, revoked_at__isnull=True).first()
        if key is not None:
            cache.set(api_key_cache_key(hashed), key)
    return key
