"""Caching: Django's Redis cache made cheaper to call, and the catalog kept in each process.

Django builds a Redis client object on every call, and redis-py fills a table of some 170
response callbacks each time it does: on the ingestion hot path that was a third of a
millisecond per request. The RedisCache below keeps one client per connection pool."""

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

T = TypeVar("T")


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # Django's own
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(  # type: ignore[attr-defined]
                connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient


# ---------------------------------------------------------------------------
# The catalog, as every ingestion request looks it up
# ---------------------------------------------------------------------------
GENERATION_KEY = "catalog-generation"
MAX_ENTRIES = 10_000
UNREADABLE = "unreadable"  # the shared cache is away: no copy can be trusted
logger = logging.getLogger("sluice.cache")


class CatalogCache:
    """Catalog objects that every ingestion request looks up (API keys, collections), kept in
    each process: unpickling them from the shared cache cost more than the rest of a request.

    Any change to the catalog puts a new generation token in the shared cache; a lookup reads
    that token (a few bytes) and uses its own copy only while the token has not changed, so a
    revoked key or a new schema version counts in every process from the next request on.
    Within one request the token is read once. While the shared cache cannot be reached,
    lookups go to the database: the catalog works without it."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str | None, float, Any]] = {}
        self._request = threading.local()

    def request_started(self, **_: Any) -> None:
        self._request.__dict__.pop("generation", None)
        self._request.active = True

    def request_finished(self, **_: Any) -> None:
        self._request.__dict__.pop("generation", None)
        self._request.active = False

    def _generation(self) -> str | None:
        seen = self._request.__dict__
        if "generation" in seen:
            return cast(str | None, seen["generation"])
        try:
            generation = cast(str | None, cache.get(GENERATION_KEY))
        except (RedisError, OSError) as error:
            logger.warning("the catalog generation cannot be read (%s): reading the database",
                           error)
            generation = UNREADABLE
        if seen.get("active"):
            seen["generation"] = generation
        return generation

    def get(self, key: str, load: Callable[[], T | None]) -> T | None:
        """The object under `key`, loaded by `load` unless this process holds it current."""
        generation = self._generation()
        if generation == UNREADABLE:
            return load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] == generation and entry[1] > time.monotonic():
            return cast(T, entry[2])
        value = load()
        if value is not None:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            expires = time.monotonic() + settings.CACHE_SECONDS
            self._entries[key] = (generation, expires, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


catalog = CatalogCache()
request_started.connect(catalog.request_started, dispatch_uid="catalog-request-started")
request_finished.connect(catalog.request_finished, dispatch_uid="catalog-request-finished")


def catalog_changed(**_: Any) -> None:
    """Receives every save and delete of the catalog's models: this process forgets its
    copies now, and every other one once the change is committed."""
    catalog.clear()
    # robust: the change is made even when the shared cache is away; copies elsewhere then
    # last at most CACHE_SECONDS, and none are made while the cache cannot be read
    transaction.on_commit(_next_generation, robust=True)


def _next_generation() -> None:
    # A token never used before, not a count: the file cache of the embedded default has no
    # atomic increment (two changes at once could leave one number), and a count that a
    # restarted cache began again could come back to a number some process still holds.
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)


def catalog_models_watched(*models: type[Model]) -> None:
    for model in models:
        post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-save-{model}")
        post_delete.connect(catalog_changed, sender=model,
                            dispatch_uid=f"catalog-delete-{model}")
