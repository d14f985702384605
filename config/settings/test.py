"""Tests run on real PostgreSQL and Redis; both are named by the environment when set."""

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import database, queue_and_cache

DATABASES = {"default": database(env("DATABASE_URL",
                                     default="postgres://postgres@127.0.0.1:5432/sluice"))}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CACHES = queue_and_cache(REDIS_URL)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
