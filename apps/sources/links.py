
from apps.core import links
from apps.sources.models import Source


@links.register(Source)
def source_links(source: Source, org: str) -> dict[str, str]:
    return {
        "self": links.path("source-detail", org=org, source_id=source.id),
        "data": links.path("source-data", org=org, source_id=source.id),
        "collections": links.path("collection-list", org=org)
        + f"?sourceId={source.id}",
    }
