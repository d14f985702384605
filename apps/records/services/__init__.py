"""Every write of records and rejected records: storing batches (storing.py) and changing or
deleting single ones (editing.py)."""

from apps.records.services.editing import (
    profile_record_delete,
    record_delete,
    rejected_delete,
    rejected_update,
    related_delete,
)
from apps.records.services.storing import (
    STORAGE_ERRORS,
    Batch,
    StoreResult,
    batches_store,
    failed_transiently,
)

__all__ = [
    "STORAGE_ERRORS", "Batch", "StoreResult", "batches_store", "failed_transiently",
    "profile_record_delete", "record_delete", "rejected_delete", "rejected_update",
    "related_delete",
]
