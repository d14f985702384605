from apps.core import links
from apps.orgs.models import ApiKey


@links.register(ApiKey)
def api_key_links(key: ApiKey, org: str) -> dict[str, str]:
    found = {"self": links.path("key-detail", org=org, key_id=key.id),
             "rotate": links.path("key-rotate", org=org, key_id=key.id)}
    if key.source_id is not None:
        found["source"] = links.path("source-detail", org=org, source_id=key.source_id)
    return found
