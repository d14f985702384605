"""Sluice's metrics in Prometheus's text format, for GET /v1/metrics: what every process
counted (apps/core/metrics.py: requests, records ingested and stored, drains' writes, task
retries) and the ingestion buffer, read from Redis when scraped: what an operator alerts on
(records waiting longer and longer, a Redis that may evict them); and the requests this
process let through without checking their rate limits (Redis did not answer).

Records ingested are counted by org and collection id, which the request has at hand; a
scrape names them by slug and name (a collection deleted since keeps its ids)."""

import time
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from apps.catalog.selectors import collection_labels
from apps.core import metrics
from apps.core.ratelimits import unchecked
from apps.ingestion import buffer
from apps.records.services import Batch, StoreResult

INGESTED = metrics.Counter("sluice_ingest_records", "Records accepted (queued to be stored) "
                           "and rejected (kept with their reasons), by org and collection",
                           ("org", "collection", "outcome"))
STORED = metrics.Counter("sluice_records_stored", "Records written to the database by the "
                         "workers: rate() is records stored per second")
DRAIN_SECONDS = metrics.Histogram("sluice_drain_duration_seconds", "Time a worker takes to "
                                  "store one write of buffered requests' records",
                                  (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DRAIN_RECORDS = metrics.Histogram("sluice_drain_batch_records", "Records (and rejected "
                                  "records) stored in one write",
                                  (1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000))
COUNTED: list[metrics.Counted] = [*metrics.HTTP, metrics.TASK_RETRIES, INGESTED, STORED,
                                  DRAIN_SECONDS, DRAIN_RECORDS]


def batches_queued(batches: list[Batch]) -> None:
    for batch in batches:
        INGESTED.add(batch.org_id, batch.collection_id, "accepted", amount=len(batch.records))
        INGESTED.add(batch.org_id, batch.collection_id, "rejected", amount=len(batch.rejected))


def write_stored(batches: list[Batch], result: StoreResult, started: float) -> None:
    """Counts a worker's write of `batches`, begun at `started` (time.perf_counter())."""
    DRAIN_SECONDS.observe(time.perf_counter() - started)
    DRAIN_RECORDS.observe(sum(len(batch.records) + len(batch.rejected) for batch in batches))
    STORED.add(amount=result.stored)


class CountsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        stored = metrics.read(COUNTED)
        named = _collection_names({values[:2] for values in stored.get(INGESTED.name, {})})
        for metric in COUNTED:
            if metric is INGESTED:
                yield INGESTED.family(stored, lambda values: (
                    *named.get(values[:2], values[:2]), *values[2:]))
            else:
                yield metric.family(stored)


def _collection_names(ids: set[tuple[str, ...]]) -> dict[tuple[str, ...], tuple[str, str]]:
    """(org id, collection id) -> (org slug, collection name), as counted and as reported;
    none while the database is away (the ids are reported)."""
    try:
        named = collection_labels(collections={(int(org), int(coll)) for org, coll in ids})
    except DatabaseError:
        return {}
    return {(str(org), str(coll)): labels for (org, coll), labels in named.items()}


class BufferCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("sluice_buffer_up", "1 when the ingestion buffer (Redis) answers")
        try:
            shards = buffer.waiting(timezone.now())
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _per_shard(shards)
        safe = GaugeMetricFamily("sluice_buffer_safe", "1 when Redis's maxmemory-policy is "
                                 "noeviction: it cannot drop records answered 202")
        safe.add_metric([], int(buffer.eviction_policy() == "noeviction"))
        yield safe


def _per_shard(shards: list[dict[str, object]]) -> Iterator[Metric]:
    families = {
        "waiting": GaugeMetricFamily("sluice_buffer_waiting_batches", "Requests' batches "
                                     "waiting to be stored", labels=["shard"]),
        "oldestSeconds": GaugeMetricFamily("sluice_buffer_oldest_seconds", "Age of the oldest "
                                           "record waiting to be stored", labels=["shard"]),
        "draining": GaugeMetricFamily("sluice_buffer_draining", "1 when a drain holds the "
                                      "shard", labels=["shard"]),
    }
    for shard in shards:
        for name, family in families.items():
            value = shard[name]
            family.add_metric([str(shard["shard"])], float(value or 0))  # type: ignore[arg-type]
    yield from families.values()


class CountingCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        counting = GaugeMetricFamily("sluice_metrics_counted", "1 when requests and records "
                                     "are counted across processes (with Redis); 0 on the "
                                     "embedded default, which counts nothing")
        counting.add_metric([], 1 if settings.REDIS_URL else 0)
        yield counting
class LimitsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        passed = CounterMetricFamily(
            "sluice_rate_limit_unchecked_requests", "Requests this web process let through "
            "without checking their rate limits, because Redis did not answer")
        passed.add_metric([], unchecked.count)
        yield passed


def metrics_text() -> bytes:
    """Every metric, as Prometheus reads them; without Redis (the embedded default), only
    that nothing is counted."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CountingCollector())
    if settings.REDIS_URL:
        registry.register(CountsCollector())
        registry.register(BufferCollector())
        registry.register(LimitsCollector())
    return generate_latest(registry)
