"""The worker side of ingestion. With Redis, drain tasks store what the ingestion buffer holds,
many requests per write, and every worker keeps the buffer flowing (apps/ingestion/buffer.py,
apps/ingestion/watch.py); without it (the embedded default), each request's message is stored
by a task of its own. Both acknowledge late, so a task whose worker died is delivered again, and
storing is idempotent: every accepted record is stored once. While the database fails for a
reason of its own (away, a lock or statement timeout, a lost connection), records wait and are
retried with backoff, however long that lasts; only records the database refuses become
rejected records (apps/records/services.py)."""

import logging
import time
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import DatabaseError, connection

from apps.core import metrics
from apps.ingestion import buffer, watch
from apps.ingestion import metrics as ingestion_metrics
from apps.profiles.services import merges_from_batches
from apps.records.services import STORAGE_ERRORS, Batch, batches_store
from apps.records.tasks import rejected_prune_when_due

logger = logging.getLogger("sluice.ingestion")

# A drain hands over to a fresh task after this long, so that no delivery of it stays
# unacknowledged long enough to be delivered again while it runs.
DRAIN_SECONDS = min(10.0, settings.VISIBILITY_TIMEOUT / 2)
# An idle drain waits this long for more before it ends: under steady traffic one drain task
# stores request after request, and requests need not schedule drains (a Celery message each).
LINGER_SECONDS = 1.0
GATHER_SECONDS = 0.05  # what a woken drain waits for more to come with the first message
BACKOFF_SECONDS, BACKOFF_MAX_SECONDS = 1.0, 5.0  # between tries while the database fails
RELIABLE: dict[str, Any] = {
    "acks_late": True, "reject_on_worker_lost": True, "time_limit": 600, "soft_time_limit": 540,
}


def messages_store(messages: list[buffer.Message]) -> None:
    """Stores the batches of many requests in one write, then records the identities that
    users records stitch together (and asks for a prune of old rejected records when one is
    due)."""
    batches = [Batch(**batch) for message in messages for batch in message]
    started = time.perf_counter()
    result = batches_store(batches=batches)
    merges_from_batches(batches=batches)
    ingestion_metrics.write_stored(batches, result, started)
    rejected_prune_when_due()


def stored_in_time(messages: list[buffer.Message], deadline: float) -> bool:
    """Stores the messages, trying again with backoff while the database fails, until
    `deadline` (time.monotonic()); False if they are not stored by then."""
    attempt = 0
    while True:
        try:
            messages_store(messages)
            return True
        except STORAGE_ERRORS as error:
            pause = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** attempt)
            logger.warning("storing %d requests' batches failed (%s); they wait, tried again "
                           "in %.0f s", len(messages), str(error).strip() or type(error), pause)
            connection.close()  # the next try starts on a fresh connection
            metrics.TASK_RETRIES.add(drain.name)
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            attempt += 1


# The embedded default's task: Celery retries it, under the same id, while the database fails.
@shared_task(name="sluice.ingestion.store", autoretry_for=(DatabaseError,), max_retries=None,
             retry_backoff=1, retry_backoff_max=5, retry_jitter=False, **RELIABLE)
def store(message: buffer.Message) -> None:
    messages_store([message])


@shared_task(name="sluice.ingestion.drain", bind=True, **RELIABLE)
def drain(self: Any, shard: int) -> None:
    """Stores the shard's buffered messages while this task holds the shard's lease."""
    with buffer.Drain(shard, self.request.id) as hold:
        if not hold.adopt():
            return  # another drain holds the shard: it stores what this one held
        messages = hold.claimed()  # taken by a delivery of this task that was cut off
        deadline = time.monotonic() + DRAIN_SECONDS
        while True:
            if messages:
                if not stored_in_time(messages, deadline):
                    break
                hold.stored()
            if time.monotonic() > deadline:
                break
            taken = hold.next(min(LINGER_SECONDS, deadline - time.monotonic()),
                              GATHER_SECONDS)
            if taken is None or (not taken and hold.finish()):
                return
            messages = taken
        if successor := hold.hand_over():
            drain_scheduled(shard, successor)


def drain_scheduled(shard: int, drain_id: str) -> None:
    drain.apply_async((shard,), task_id=drain_id)


@worker_ready.connect
def buffer_watched(**_: Any) -> None:
    """A worker keeps the ingestion buffer flowing: what waits without a drain, and what
    drains that lost their lease held, is drained within seconds."""
    if settings.REDIS_URL:
        watch.start(drain_scheduled)
