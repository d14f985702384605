"""The catalog's work in the background: the scans of schema dry runs."""

from typing import Any

from celery import shared_task

from apps.catalog.services import schema_dry_run_scan

# A dry run whose worker died is scanned again from the start (acks_late); its time limit
# leaves room for millions of records of versions that must be read one by one.
RELIABLE: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "time_limit": 3660,
            "soft_time_limit": 3600}


@shared_task(name="sluice.catalog.dry_run", **RELIABLE)
def dry_run(dry_run_id: int) -> None:
    schema_dry_run_scan(dry_run_id=dry_run_id)
