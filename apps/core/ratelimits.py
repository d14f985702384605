"""Rate limits: a token bucket per key and one per org, in Redis, both checked and spent by one
script in one round trip. A request takes one token from each; a bucket refills at its rate
(requests per second) up to its burst. When either is empty nothing is spent and the request
is refused with the seconds until a token is back.

The limits are the settings' (RATE_LIMIT_*), or the org's own where it has them. Buckets are
named by the key's id and the org's id, with the org's id as the Redis Cluster hash tag, so that
both of a request's buckets live on one node. Redis's clock is the only one used: web processes
on several hosts agree on it.

When Redis cannot be reached, requests are let through (records are then refused by the queue,
or flow, for reasons of its own, never for want of a limit): each such request is counted, and
checking pauses for a second rather than cost every request a timeout. Without Redis (the
embedded default) there are no limits."""

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import redis
from django.conf import settings

logger = logging.getLogger("sluice.limits")

PAUSE_SECONDS = 1.0  # after Redis failed to answer, requests pass unchecked this long
TIMEOUT_SECONDS = 0.5

# KEYS: buckets. ARGV: rate and burst of each bucket, in order. Each bucket is a hash of its
# tokens and when it was last filled (seconds, Redis's clock). Answers 1 when a token was taken
# from every bucket (0 when some bucket had none and nothing was taken), then each bucket's
# tokens afterwards, in thousandths.
_TAKE_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local levels, allowed = {}, 1
for i, bucket in ipairs(KEYS) do
    local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    local state = redis.call('HMGET', bucket, 'tokens', 'at')
    local tokens = tonumber(state[1]) or burst
    local at = tonumber(state[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
    levels[i] = tokens
    if tokens < 1 then allowed = 0 end
end
local answer = {allowed}
for i, bucket in ipairs(KEYS) do
    local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    local tokens = levels[i] - allowed
    redis.call('HSET', bucket, 'tokens', tostring(tokens), 'at', tostring(now))
    redis.call('PEXPIRE', bucket, math.ceil(burst / rate * 1000) + 1000)
    answer[i + 1] = math.floor(tokens * 1000)
end
return answer
"""


class LimitedOrg(Protocol):
    """What an org says of its own limits: None where the setting holds."""

    id: int
    rate_limit_key: int | None
    rate_limit_key_burst: int | None
    rate_limit_org: int | None
    rate_limit_org_burst: int | None


class LimitedKey(Protocol):
    """A key (or a session of one) as the limits see it."""

    @property
    def key_id(self) -> int: ...
    @property
    def org(self) -> Any: ...


@dataclass(frozen=True)
class Policy:
    """One bucket: its name in the RateLimit headers, its Redis key, requests per second and
    the most it lets through at once."""

    name: str
    bucket: str
    rate: int
    burst: int

    @property
    def window(self) -> int:
        """Seconds in which an empty bucket fills again: the draft's `w` for a quota `burst`."""
        return max(1, math.ceil(self.burst / self.rate))


@dataclass(frozen=True)
class Level:
    """A bucket after a request: the tokens left."""

    policy: Policy
    tokens: float

    def remaining(self) -> int:
        return max(0, math.floor(self.tokens))

    def full_in(self) -> int:
        """Seconds until the bucket is full again."""
        return max(0, math.ceil((self.policy.burst - self.tokens) / self.policy.rate))

    def token_in(self) -> int:
        """Seconds until it holds a token again (at least 1 when it holds none)."""
        return 0 if self.tokens >= 1 else max(1, math.ceil((1 - self.tokens) / self.policy.rate))


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on, and the levels its RateLimit headers tell."""

    allowed: bool
    levels: list[Level]

    def retry_after(self) -> int:
        return max((level.token_in() for level in self.levels), default=0)

    def headers(self) -> dict[str, str]:
        """`RateLimit-Policy` and `RateLimit` as draft-ietf-httpapi-ratelimit-headers-09 has
        them: each bucket's quota (`q`, its burst) per window (`w`, the seconds it takes to
        fill), and what is left of it (`r`) with the seconds until it is whole again (`t`)."""
        return {
            "RateLimit-Policy": ", ".join(f'"{level.policy.name}";q={level.policy.burst};'
                                          f"w={level.policy.window}" for level in self.levels),
            "RateLimit": ", ".join(f'"{level.policy.name}";r={level.remaining()};'
                                   f"t={level.full_in()}" for level in self.levels),
        }


class _Unchecked:
    """Requests let through because Redis did not answer: counted, logged once a minute."""

    def __init__(self) -> None:
        self.count = 0
        self.paused_until = 0.0
        self._logged = 0.0
        self._lock = threading.Lock()

    def paused(self) -> bool:
        if time.monotonic() >= self.paused_until:
            return False
        self.passed()
        return True

    def failed(self, error: Exception) -> None:
        self.paused_until = time.monotonic() + PAUSE_SECONDS
        self.passed()
        if time.monotonic() - self._logged > 60:
            self._logged = time.monotonic()
            logger.warning("rate limits cannot be checked (%s): requests pass unchecked "
                           "(%d so far in this process)", error, self.count)

    def passed(self) -> None:
        with self._lock:
            self.count += 1


unchecked = _Unchecked()


def _setting(own: int | None, name: str) -> int:
    return int(getattr(settings, name)) if own is None else own


def _bucket(org_id: int, *parts: object) -> str:
    prefix = str(settings.REDIS_TRANSPORT_OPTIONS["global_keyprefix"])
    return prefix + ":".join(["sluice", "limit", f"{{{org_id}}}", *map(str, parts)])


def policies(key: LimitedKey) -> list[Policy]:
    """The buckets a request with `key` draws on: the key's and its org's (a rate of 0 is
    no limit)."""
    org: LimitedOrg = key.org
    found = [
        Policy("key", _bucket(org.id, "key", key.key_id),
               _setting(org.rate_limit_key, "RATE_LIMIT_KEY"),
               max(1, _setting(org.rate_limit_key_burst, "RATE_LIMIT_KEY_BURST"))),
        Policy("org", _bucket(org.id, "org"), _setting(org.rate_limit_org, "RATE_LIMIT_ORG"),
               max(1, _setting(org.rate_limit_org_burst, "RATE_LIMIT_ORG_BURST"))),
    ]
    return [policy for policy in found if policy.rate > 0]


@cache
def _script() -> Any:
    pool = redis.ConnectionPool.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS,
                                         socket_connect_timeout=TIMEOUT_SECONDS)
    return redis.Redis(connection_pool=pool).register_script(_TAKE_SCRIPT)


def request_admitted(key: LimitedKey) -> Verdict | None:
    """Takes a token from each of the key's buckets: the verdict, or None when nothing was
    checked (no Redis, no limit, or Redis did not answer: then the request is let through)."""
    if not settings.REDIS_URL:
        return None
    found = policies(key)
    if not found or unchecked.paused():
        return None
    args = [value for policy in found for value in (policy.rate, policy.burst)]
    try:
        allowed, *levels = _script()(keys=[policy.bucket for policy in found], args=args)
    except (redis.RedisError, OSError) as error:
        unchecked.failed(error)
        return None
    return Verdict(bool(allowed), [Level(policy, tokens / 1000)
                                   for policy, tokens in zip(found, levels, strict=True)])
