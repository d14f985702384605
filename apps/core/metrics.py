"""Counts that every process adds to and any web process reports, kept in Redis: what several
gunicorn workers and Celery workers count adds up, and a scrape sees it whichever process
answers it. Each series is a field of one Redis hash, added to with HINCRBY (a histogram: its
bucket's count and its sum). Counting costs a request a dict update: each process gathers
its counts in memory and a thread of its own sends them every second, in one pipelined round
trip (at exit too; a process killed outright loses its last second). A scrape reads the hash
once and renders it in Prometheus's text format. Without Redis (the embedded default) nothing
is counted.

Labels are kept as given, so that counting costs no lookup: a scrape may render them in
other words (apps/ingestion/metrics.py names an org and a collection by their ids when
counting and by slug and name when reporting)."""

import atexit
import bisect
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

SEP = "\x1f"  # between a series' name, its label values and a histogram's bucket
SUM = "sum"
Labels = tuple[str, ...]
Relabel = Callable[[Labels], Labels]
SEND_SECONDS = 1.0
# what is counted and not yet sent: (field, HINCRBY or HINCRBYFLOAT) -> amount
Pending = dict[tuple[str, bool], float]
logger = logging.getLogger("sluice.metrics")


@dataclass(frozen=True)
class Counter:
    """A count per combination of label values (rendered as `<name>_total`)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()

    def add(self, *values: object, amount: int = 1) -> None:
        if amount:
            _add(SEP.join((self.name, *map(str, values))), amount)

    def family(self, stored: "Stored", relabel: Relabel | None = None) -> Metric:
        family = CounterMetricFamily(self.name, self.help, labels=self.labels)
        for values, counts in _merged(stored.get(self.name, {}), relabel).items():
            family.add_metric(values, counts.get("", 0.0))
        return family


@dataclass(frozen=True)
class Histogram:
    """How many observations fell at or under each bound, and their sum."""

    name: str
    help: str
    buckets: tuple[float, ...]
    labels: tuple[str, ...] = ()

    def observe(self, value: float, *values: object) -> None:
        index = bisect.bisect_left(self.buckets, value)
        bound = _bound(self.buckets[index] if index < len(self.buckets) else math.inf)
        series = SEP.join((self.name, *map(str, values)))
        _add(f"{series}{SEP}{bound}", 1)
        _add(f"{series}{SEP}{SUM}", value, whole=False)

    def family(self, stored: "Stored", relabel: Relabel | None = None) -> Metric:
        family = HistogramMetricFamily(self.name, self.help, labels=self.labels)
        bounds = [_bound(bound) for bound in (*self.buckets, math.inf)]
        for values, counts in _merged(stored.get(self.name, {}), relabel).items():
            cumulative, buckets = 0.0, []
            for bound in bounds:
                cumulative += counts.get(bound, 0.0)
                buckets.append((bound, cumulative))
            family.add_metric(list(values), buckets, counts.get(SUM, 0.0))
        return family


def _bound(value: float) -> str:
    """A bucket's bound as Prometheus's own clients write it (`0.5`, `1.0`, `+Inf`)."""
    return "+Inf" if value == math.inf else repr(float(value))


Counted = Counter | Histogram


class _Tally:
    """What this process has counted and not sent yet. Its sender thread starts with the first
    count (in a forked process, again: the parent's counts are the parent's to send)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: Pending = {}
        self._sending = False

    def add(self, field: str, amount: float, whole: bool) -> None:
        with self._lock:
            if not self._sending:
                self._sending = True
                threading.Thread(target=self._send_every, daemon=True,
                                 name="metrics-sender").start()
            self._pending[(field, whole)] = self._pending.get((field, whole), 0) + amount

    def _send_every(self) -> None:
        while True:
            time.sleep(SEND_SECONDS)
            self.send()

    def send(self) -> None:
        """Sends what is counted, at once."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            _send(pending)

    def forked(self) -> None:
        self._lock = threading.Lock()
        self._pending, self._sending = {}, False


_tally = _Tally()
os.register_at_fork(after_in_child=_tally.forked)
atexit.register(_tally.send)
sent = _tally.send  # what this process counted, sent now


def _add(field: str, amount: float, whole: bool = True) -> None:
    if settings.REDIS_URL:
        _tally.add(field, amount, whole)


# ---------------------------------------------------------------------------
# Sending, once a second: one round trip
# ---------------------------------------------------------------------------
@cache
def _client() -> redis.Redis:
    # short timeouts: a Redis that hangs holds only the sender thread, and not for long
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def _key() -> str:
    return f"{settings.REDIS_TRANSPORT_OPTIONS['global_keyprefix']}sluice:metrics"


def _send(pending: Pending) -> None:
    key = _key()
    try:
        with _client().pipeline(transaction=False) as pipe:
            for (field, whole), amount in pending.items():
                if whole:
                    pipe.hincrby(key, field, int(amount))
                else:
                    pipe.hincrbyfloat(key, field, amount)
            pipe.execute()
    except redis.RedisError as error:  # counts are lost; what they counted is not
        logger.debug("metrics could not be kept: %s", error)


# ---------------------------------------------------------------------------
# Reading, at a scrape
# ---------------------------------------------------------------------------
Stored = dict[str, dict[Labels, dict[str, float]]]  # name -> label values -> bucket -> count


def read(metrics: list[Counted]) -> Stored:
    """What every process has counted of `metrics` (this one's up to now, the others' up to
    their last second); nothing without Redis, or when it cannot be read."""
    if not settings.REDIS_URL:
        return {}
    sent()
    try:
        fields: dict[bytes, bytes] = _client().hgetall(_key())  # type: ignore[assignment]
    except redis.RedisError as error:
        logger.warning("metrics could not be read: %s", error)
        return {}
    widths = {metric.name: len(metric.labels) for metric in metrics}
    stored: Stored = {}
    for field, value in fields.items():
        name, *rest = field.decode().split(SEP)
        width = widths.get(name)
        if width is None or len(rest) < width:
            continue  # a series this Sluice no longer reports
        values, bucket = tuple(rest[:width]), SEP.join(rest[width:])
        stored.setdefault(name, {}).setdefault(values, {})[bucket] = float(value)
    return stored


def _merged(series: dict[Labels, dict[str, float]],
            relabel: Relabel | None) -> dict[Labels, dict[str, float]]:
    """The series under their reported labels: those that come to share them add up."""
    if relabel is None:
        return series
    merged: dict[Labels, dict[str, float]] = {}
    for values, counts in series.items():
        into = merged.setdefault(relabel(values), {})
        for bucket, count in counts.items():
            into[bucket] = into.get(bucket, 0.0) + count
    return merged


# ---------------------------------------------------------------------------
# What every process counts: the requests a web process answers, the tasks a worker retries
# ---------------------------------------------------------------------------
HTTP_REQUESTS = Counter("sluice_http_requests", "Requests answered, by route (the URL "
                        "pattern's name), method and status", ("route", "method", "status"))
HTTP_SECONDS = Histogram("sluice_http_request_duration_seconds", "Time from a request's "
                         "arrival to its answer sent, by route and method",
                         (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                         ("route", "method"))
HTTP: list[Counted] = [HTTP_REQUESTS, HTTP_SECONDS]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_answered(route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"  # senders name any method they like
    HTTP_REQUESTS.add(route, method, status)
    HTTP_SECONDS.observe(seconds, route, method)


TASK_RETRIES = Counter("sluice_task_retries", "Tasks tried again, by task: a worker's "
                       "storing of records retried while the database fails counts too",
                       ("task",))
