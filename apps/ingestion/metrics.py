"""The ingestion buffer in Prometheus's text format, read from Redis when scraped: what an
operator alerts on (records waiting longer and longer, a Redis that may evict them); and the
requests this process let through without checking their rate limits (Redis did not answer)."""

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from apps.core.ratelimits import unchecked
from apps.ingestion import buffer


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


class LimitsCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        passed = CounterMetricFamily(
            "sluice_rate_limit_unchecked_requests", "Requests this web process let through "
            "without checking their rate limits, because Redis did not answer")
        passed.add_metric([], unchecked.count)
        yield passed


def metrics_text() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if settings.REDIS_URL:
        registry.register(BufferCollector())
        registry.register(LimitsCollector())
    return generate_latest(registry)
