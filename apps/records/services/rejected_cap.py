"""The cap and the retention period of rejected records. A collection keeps at most its
org's cap of rejected records (else REJECTED_CAP): those past it are not stored but counted
as dropped (RejectedDrops), never silently. Rejected records older than
REJECTED_RETENTION_DAYS are deleted."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from apps.core.ids import id_at
from apps.orgs.models import Org
from apps.records.models import RejectedDrops, RejectedRecord

PRUNE_CHUNK = 10_000  # rejected records deleted per statement: short transactions


def rejected_cap_of(org_ids: Iterable[int]) -> dict[int, int]:
    """Each org's cap on rejected records per collection."""
    own = dict(Org.objects.filter(id__in=set(org_ids)).values_list("id", "rejected_cap"))
    return {org_id: settings.REJECTED_CAP if cap is None else cap for org_id, cap in own.items()}


def _held(collection_id: int, cap: int) -> int:
    """The collection's rejected records, counted up to `cap` (past it, no further)."""
    return RejectedRecord.objects.filter(collection_id=collection_id).values("id")[:cap].count()


def rejected_within_cap(rows: list[tuple[Any, ...]], now: datetime) -> list[tuple[Any, ...]]:
    """The rejected rows (REJECTED_COLUMNS) that fit their collection's cap, in order; the
    others are counted as dropped. Called in the transaction that stores them."""
    if not rows:
        return rows
    by_collection: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_collection.setdefault(row[2], []).append(row)
    caps = rejected_cap_of(row[1] for row in rows)
    kept: list[tuple[Any, ...]] = []
    for collection_id, some in by_collection.items():
        org_id = some[0][1]
        cap = caps.get(org_id, settings.REJECTED_CAP)
        room = max(0, cap - _held(collection_id, cap))
        kept += some[:room]
        _counted(collection_id, org_id, dropped=max(0, len(some) - room),
                 full=len(some) >= room, now=now)
    return kept


def _counted(collection_id: int, org_id: int, *, dropped: int, full: bool,
             now: datetime) -> None:
    if not full:
        RejectedDrops.objects.filter(collection_id=collection_id, full=True).update(full=False)
        return
    RejectedDrops.objects.bulk_create(
        [RejectedDrops(collection_id=collection_id, org_id=org_id)], ignore_conflicts=True)
    changes: dict[str, Any] = {"full": True}
    if dropped:
        changes.update(dropped=F("dropped") + dropped, last_dropped_at=now)
    RejectedDrops.objects.filter(collection_id=collection_id).update(**changes)


def rejected_fullness_refreshed(collection_ids: Iterable[int] | None = None) -> None:
    """Collections (of `collection_ids`, else any) said to hold their cap that no longer do
    (rejected records were replayed, deleted or pruned) are said not to."""
    full_ones = RejectedDrops.objects.filter(full=True)
    if collection_ids is not None:
        full_ones = full_ones.filter(collection_id__in=set(collection_ids))
    full = list(full_ones.values_list("collection_id", "org_id"))
    caps = rejected_cap_of(org_id for _, org_id in full)
    emptier = [collection_id for collection_id, org_id in full
               if _held(collection_id, cap := caps.get(org_id, settings.REJECTED_CAP)) < cap]
    RejectedDrops.objects.filter(collection_id__in=emptier).update(full=False)


def rejected_prune(*, now: datetime | None = None) -> int:
    """Deletes rejected records older than the retention period (by their id, which tells
    when they were received); answers how many."""
    before = (now or timezone.now()) - timedelta(days=settings.REJECTED_RETENTION_DAYS)
    last = id_at(int(before.timestamp() * 1000))
    deleted = 0
    while ids := list(RejectedRecord.objects.filter(id__lt=last).order_by("id")
                      .values_list("id", flat=True)[:PRUNE_CHUNK]):
        deleted += RejectedRecord.objects.filter(id__in=ids).delete()[0]
    if deleted:
        rejected_fullness_refreshed()
    return deleted
