"""Deleting rejected records past their retention period. Sluice runs no scheduler: every
worker asks for a prune after it stores (and, with Redis, as it watches the buffer), and the
shared cache lets one ask through every REJECTED_PRUNE_SECONDS."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from apps.records.services import rejected_prune

logger = logging.getLogger("sluice.records")
PRUNE_DUE_KEY = "rejected-prune-due"


@shared_task(name="sluice.records.rejected_prune", acks_late=True, time_limit=3600,
             soft_time_limit=3500)
def rejected_pruned() -> None:
    if deleted := rejected_prune():
        logger.info("deleted %d rejected records past their retention period", deleted)


def rejected_prune_when_due() -> None:
    """Sends a prune when none was sent in the last REJECTED_PRUNE_SECONDS, by any worker."""
    try:
        if cache.add(PRUNE_DUE_KEY, 1, timeout=settings.REJECTED_PRUNE_SECONDS):
            rejected_pruned.delay()
    except (RedisError, OSError) as error:  # the next store or sweep asks again
        logger.warning("a prune of rejected records could not be sent (%s)", error)
