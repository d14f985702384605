from dataclasses import dataclass

from apps.core import links
from apps.ingestion.services import ReplayOutcome


@dataclass(frozen=True)
class Receipt:
    """What an ingest answer leads on to: the collection written (when one), and the rejected
    list when records were rejected."""

    collection_id: int | None
    rejected: bool


def _rejected_list(org: str, collection_id: int | None) -> str:
    found = links.path("rejected-list", org=org)
    return f"{found}?collId={collection_id}" if collection_id is not None else found


@links.register(Receipt)
def receipt_links(receipt: Receipt, org: str) -> dict[str, str]:
    found = {}
    if receipt.collection_id is not None:
        found["records"] = links.path("collection-data", org=org,
                                      collection_id=receipt.collection_id)
    if receipt.rejected:
        found["rejected"] = _rejected_list(org, receipt.collection_id)
    return found


@links.register(ReplayOutcome)
def replay_links(replay: ReplayOutcome, org: str) -> dict[str, str]:
    return {"rejected": _rejected_list(org, None)}
