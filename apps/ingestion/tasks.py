"""The worker side of ingestion. Messages are coalesced (celery-batches) so that many small
requests become one write; late acknowledgement re-delivers a batch whose worker died, and the
store is idempotent, so every accepted record is stored exactly once."""

from typing import Any

from celery import shared_task
from celery_batches import Batches

from apps.profiles.services import merges_from_batches
from apps.records.services import Batch, batches_store

FLUSH_EVERY = 200  # messages
FLUSH_INTERVAL = 0.05  # seconds


@shared_task(
    base=Batches, name="sluice.ingestion.store_batches", flush_every=FLUSH_EVERY,
    flush_interval=FLUSH_INTERVAL, acks_late=True, reject_on_worker_lost=True,
    time_limit=600, soft_time_limit=540,
)
def store_batches(requests: list[Any]) -> None:
    """Stores the batches of every coalesced message in one write, then records the
    identities that users records stitch together."""
    batches = [Batch(**message) for request in requests for message in request.kwargs["batches"]]
    batches_store(batches=batches)
    merges_from_batches(batches=batches)
