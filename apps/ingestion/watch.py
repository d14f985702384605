"""What every worker does beside its tasks: it looks at the ingestion buffer every few seconds
and resumes what waits with no live drain (apps/ingestion/buffer.py). Whatever failed, a drain,
a worker, Redis or the database, records flow again within seconds of it being back, with no
restart, no new request and no operator."""

import logging
import threading
import time

import redis
from kombu.exceptions import OperationalError as BrokerError

from apps.ingestion import buffer
from apps.records.tasks import rejected_prune_when_due

SWEEP_SECONDS = 2.0
logger = logging.getLogger("sluice.ingestion")


def start(schedule_drain: buffer.ScheduleDrain) -> threading.Thread:
    """Starts the watch in a thread of this process, for as long as the process lives."""
    buffer_checked()
    thread = threading.Thread(target=_watch, args=(schedule_drain,), daemon=True,
                              name="buffer-watch")
    thread.start()
    return thread


def _watch(schedule_drain: buffer.ScheduleDrain) -> None:
    away = False
    while True:
        try:
            if returned := buffer.resume(schedule_drain):
                logger.warning("%d requests' batches that drains no longer alive held went "
                               "back to the buffer", returned)
            if away:
                logger.warning("the ingestion buffer is reachable again; drains resume")
            away = False
            rejected_prune_when_due()  # with no traffic, old rejected records go all the same
        except (redis.RedisError, BrokerError) as error:
            if not away:
                logger.error("the ingestion buffer cannot be reached (%s); records wait, and "
                             "drains resume once it is back", error)
            away = True
        except Exception:  # a fault of ours must not end the watch: log it, and go on
            logger.exception("looking at the ingestion buffer failed")
        time.sleep(SWEEP_SECONDS)


def buffer_checked() -> None:
    """Warns, loudly, when the Redis holding the buffer may evict keys under memory pressure:
    buffered records, each answered 202, would be lost."""
    policy = buffer.eviction_policy()
    if policy is None:
        logger.warning("Redis cannot be reached to check its maxmemory-policy")
    elif policy != "noeviction":
        logger.error("Redis has maxmemory-policy %s: when it is full it may evict buffered "
                     "records that were answered 202. Set maxmemory-policy noeviction (then a "
                     "full Redis refuses new records with 503 instead).", policy)
