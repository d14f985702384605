
from apps.core import links
from apps.records.models import Record, RejectedRecord


def _collection(org: str, collection_id: int) -> str:
    return links.path("collection-detail", org=org, collection_id=collection_id)


@links.register(Record)
def record_links(record: Record, org: str) -> dict[str, str]:
    return {
        "self": links.path("record-detail", org=org, collection_id=record.collection_id,
                           record_id=record.id),
        "collection": _collection(org, record.collection_id),
    }


@links.register(RejectedRecord)
def rejected_links(rejected: RejectedRecord, org: str) -> dict[str, str]:
    return {
        "self": links.path("rejected-detail", org=org, rejected_id=rejected.id),
        "collection": _collection(org, rejected.collection_id),
        "replay": links.path("rejected-replay", org=org),
    }
