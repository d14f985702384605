"""Every write of records and rejected records: storing batches (storing.py), changing or
deleting single ones (editing.py), and the cap and retention of rejected ones
(rejected_cap.py)."""

from apps.records.services.editing import (
    profile_record_delete,
    record_delete,
    rejected_delete,
    rejected_update,
    related_delete,
)
from apps.records.services.rejected_cap import rejected_prune
from apps.records.services.storing import (
    STORAGE_ERRORS,
    Batch,
    StoreResult,
    batches_store,
    failed_transiently,
)

__all__ = [
    "STORAGE_ERRORS", "Batch", "StoreResult", "batches_store", "failed_transiently",
    "profile_record_delete", "record_delete", "rejected_delete", "rejected_prune",
    "rejected_update", "related_delete",
]
