"""Identity stitching and erasure."""

from django.db import IntegrityError, transaction

from apps.catalog.builtin_names import BuiltinCollection
from apps.catalog.models import Collection
from apps.profiles import selectors
from apps.profiles.models import Merge
from apps.records.services import Batch, profile_record_delete, related_delete


def merges_record(*, org_id: int, pairs: list[tuple[str, str]]) -> None:
    """Records each (visitorId, userId) identification once: a merge, or a conflict when the
    visitor is merged into another user already. Never merges two known users."""
    for visitor_id, user_id in pairs:
        if Merge.objects.filter(org_id=org_id, visitor_id=visitor_id, user_id=user_id).exists():
            continue
        taken = Merge.objects.filter(org_id=org_id, visitor_id=visitor_id,
                                     status=Merge.Status.MERGED).exists()
        status = Merge.Status.CONFLICT if taken else Merge.Status.MERGED
        try:
            with transaction.atomic():
                Merge.objects.create(org_id=org_id, visitor_id=visitor_id, user_id=user_id,
                                     status=status)
        except IntegrityError:
            continue  # another worker recorded it meanwhile


def merges_from_batches(*, batches: list[Batch]) -> None:
    """Records the identifications that stored users records carry (userId with visitorId)."""
    identified = [batch for batch in batches if any(
        data.get("visitorId") and data.get("userId") for _, _, _, data in batch.records)]
    if not identified:  # most traffic: no need to ask which collections are users
        return
    users = set(Collection.objects.filter(
        id__in={batch.collection_id for batch in identified}, name=BuiltinCollection.USERS,
    ).values_list("id", flat=True))
    by_org: dict[int, list[tuple[str, str]]] = {}
    for batch in identified:
        if batch.collection_id not in users:
            continue
        for _, _, _, data in batch.records:
            if data.get("visitorId") and data.get("userId"):
                by_org.setdefault(batch.org_id, []).append(
                    (str(data["visitorId"]), str(data["userId"])))
    for org_id, pairs in by_org.items():
        merges_record(org_id=org_id, pairs=pairs)


@transaction.atomic
def profile_erase(*, collection: Collection, key: str) -> dict[str, int]:
    """Deletes the profile's record and every record whose foreign identifier points at it
    (and, for a user, those its merged visitors sent); answers the counts per collection."""
    deleted: dict[str, int] = {}
    visitors = selectors.merged_visitors(collection=collection, key=key)
    for other, identifier in selectors.references_to(collection=collection):
        count = related_delete(collection=other, identifier=identifier, keys=[key],
                               visitor_ids=visitors)
        if count:
            deleted[other.name] = deleted.get(other.name, 0) + count
    own = profile_record_delete(collection=collection, key=key)
    if own:
        deleted[collection.name] = deleted.get(collection.name, 0) + own
    Merge.objects.filter(org_id=collection.org_id, user_id=key).delete()
    return deleted
