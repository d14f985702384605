"""Writes of single records and rejected records: deletions, and a rejected record's reasons."""

from typing import Any

from apps.catalog.models import Collection
from apps.records.models import Record, RejectedRecord
from apps.records.selectors import related_to
from apps.records.services.rejected_cap import rejected_fullness_refreshed


def record_delete(*, record: Record) -> None:
    record.delete()


def profile_record_delete(*, collection: Collection, key: str) -> int:
    """Deletes the current record of `key` in a profile collection; answers how many (0 or 1)."""
    deleted, _ = Record.objects.filter(collection=collection, key=key).delete()
    return deleted


def related_delete(*, collection: Collection, identifier: str, keys: list[str],
                   visitor_ids: list[str]) -> int:
    """Deletes the records of `collection` related to `keys` (see selectors.related_to);
    answers how many."""
    deleted, _ = Record.objects.filter(collection=collection).filter(
        related_to(identifier, keys, visitor_ids)).delete()
    return deleted


def rejected_update(*, rejected: RejectedRecord, errors: list[dict[str, Any]],
                    schema_version: int) -> None:
    rejected.errors, rejected.schema_version = errors, schema_version
    rejected.save(update_fields=["errors", "schema_version"])


def rejected_delete(*, rejected: list[RejectedRecord]) -> None:
    """Takes rejected records off the rejected list (once replayed)."""
    RejectedRecord.objects.filter(id__in=[item.id for item in rejected]).delete()
    rejected_fullness_refreshed({item.collection_id for item in rejected})
