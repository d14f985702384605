"""Production refuses to start without its secrets, and passes `manage.py check --deploy`."""

from config.env import env, required
from config.settings.base import *  # noqa: F403
from config.settings.base import database, queue_and_cache

DEBUG = False
SECRET_KEY = required(
    "DJANGO_SECRET_KEY",
    "the secret that signs sessions and tokens, at least 50 random characters "
    "(python -c 'import secrets; print(secrets.token_urlsafe(50))' makes one)",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": database(required("DATABASE_URL", "the PostgreSQL database"))}
REDIS_URL = required("REDIS_URL", "the Celery broker, ingestion buffer and cache")
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CACHES = queue_and_cache(REDIS_URL)

# ---------------------------------------------------------------------------
# HTTPS: TLS ends at nginx (scripts/serve.sh), whose X-Forwarded-Proto gunicorn takes from its
# unix socket only (config/gunicorn.py): Django's scheme is the one the client used.
# ---------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers check the web processes directly, over plain HTTP: a redirect would fail them.
SECURE_REDIRECT_EXEMPT = [r"^v1/health$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# The header only consents: a domain reaches browsers' preload lists once submitted at
# hstspreload.org, which takes registered domains only (example.org, not sluice.example.org).
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
