"""The worker side of ingestion. With Redis, drain tasks store what the ingestion buffer holds,
many requests per write (apps/ingestion/buffer.py); without it (the embedded default), each
request's message is stored by a task of its own. Both acknowledge late, so a task whose worker
died is delivered again, and storing is idempotent: every accepted record is stored once. While
the database is away they are retried, under the same id, until it is back: the records wait in
the queue or the drain's claim meanwhile (records that the database refuses one by one become
rejected records instead: apps/records/services.py)."""

import logging
import time
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError

from apps.ingestion import buffer
from apps.profiles.services import merges_from_batches
from apps.records.services import Batch, batches_store

logger = logging.getLogger("sluice.ingestion")

# A drain hands over to a fresh task after this long, so that no delivery of it stays
# unacknowledged long enough to be delivered again while it runs.
DRAIN_SECONDS = min(10.0, settings.VISIBILITY_TIMEOUT / 2)
# An idle drain waits this long for more before it ends: under steady traffic one drain task
# stores request after request, and requests need not schedule drains (a Celery message each).
LINGER_SECONDS = 1.0
GATHER_SECONDS = 0.05  # what a woken drain waits for more to come with the first message
RELIABLE = {
    "acks_late": True, "reject_on_worker_lost": True, "time_limit": 600, "soft_time_limit": 540,
    # backing off 1, 2, 4... seconds, at most half a drain's time: a retry waiting in a worker
    # is unacknowledged, and must not be delivered a second time meanwhile
    "autoretry_for": (DatabaseError,), "max_retries": None, "retry_backoff": 1,
    "retry_backoff_max": max(1, int(DRAIN_SECONDS / 2)), "retry_jitter": False,
}


def messages_store(messages: list[buffer.Message]) -> None:
    """Stores the batches of many requests in one write, then records the identities that
    users records stitch together."""
    batches = [Batch(**batch) for message in messages for batch in message]
    batches_store(batches=batches)
    merges_from_batches(batches=batches)


@shared_task(name="sluice.ingestion.store", **RELIABLE)
def store(message: buffer.Message) -> None:
    messages_store([message])


@shared_task(name="sluice.ingestion.drain", bind=True, **RELIABLE)
def drain(self: Any, shard: int) -> None:
    """Stores the shard's buffered messages until the shard is empty."""
    hold = buffer.Drain(shard, self.request.id)
    messages = hold.claimed()  # taken by a delivery of this task that was cut off
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        if messages:
            messages_store(messages)
            hold.stored()
        if time.monotonic() > deadline:
            drain.delay(shard)  # the shard's flag stays set: the next drain goes on
            return
        linger = min(LINGER_SECONDS, deadline - time.monotonic())
        messages = hold.take() or (hold.wait(linger, GATHER_SECONDS) if linger > 0.01 else [])
        if not messages and hold.finish():
            return


@worker_ready.connect
def drain_what_waits(**_: Any) -> None:
    """A worker that starts drains what is waiting without a drain scheduled, and what drains
    that are no longer alive held."""
    if settings.REDIS_URL:
        if returned := buffer.claims_returned():
            logger.warning("%d requests' batches that failed drains held are stored again",
                           returned)
        buffer.schedule_waiting(drain.delay)
