"""Tests run on real PostgreSQL and Redis; both are named by the environment when set."""

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import database, queue_and_cache

DATABASES = {"default": database(env("DATABASE_URL",
                                     default="postgres://postgres@127.0.0.1:5432/sluice"))}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CACHES = queue_and_cache(REDIS_URL)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite and the benchmarks send far more than a sender should: limits stay on (so that
# their cost is measured) but high; tests of the limits give their org its own.
RATE_LIMIT_KEY = env.int("SLUICE_RATE_LIMIT_KEY", default=1_000_000)
RATE_LIMIT_KEY_BURST = env.int("SLUICE_RATE_LIMIT_KEY_BURST", default=1_000_000)
RATE_LIMIT_ORG = env.int("SLUICE_RATE_LIMIT_ORG", default=1_000_000)
RATE_LIMIT_ORG_BURST = env.int("SLUICE_RATE_LIMIT_ORG_BURST", default=1_000_000)
