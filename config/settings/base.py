"""Every setting, read from the environment, with the embedded default (SQLite and a
filesystem broker) when nothing is set."""

from apps.core import logs
from config.env import BASE_DIR, VAR_DIR, env

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="sluice-embedded-default-not-secret")
# Earlier secret keys, still accepted for what they signed or sealed (collector sessions
# among them) while SECRET_KEY is rotated; drop one once what it protects has expired.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
# Each process leases the node id of its ids (apps/core/ids.py): a lock file here keeps the
# processes of one host apart, a Redis key (with REDIS_URL) the hosts. No node id is configured:
# one given to a machine was shared by every process forked there.
NODE_LOCK_DIR = VAR_DIR / "nodes"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.orgs",
    "apps.sources",
    "apps.catalog",
    "apps.records",
    "apps.ingestion",
    "apps.tracker",
    "apps.fuzy",
    "apps.profiles",
    "apps.audit",
]

MIDDLEWARE = [
    "apps.core.middleware.client_address",
    "apps.core.middleware.requests_observed",
    "apps.core.middleware.body_drained",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.nul_refused",
    "apps.core.middleware.json_by_default",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# ---------------------------------------------------------------------------
# Database: PostgreSQL from DATABASE_URL, else embedded SQLite
# ---------------------------------------------------------------------------
def database(url: str) -> dict[str, object]:
    """The database at `url`, its connections kept, and checked before a request reuses one:
    after PostgreSQL restarts, no stale connection answers a 503."""
    config: dict[str, object] = dict(env.db_url_config(url))
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database(env("DATABASE_URL",
                                     default=f"sqlite:///{VAR_DIR / 'sluice.sqlite3'}"))}

# ---------------------------------------------------------------------------
# Static files (Swagger UI, Redoc and the tracker are served locally)
# ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# ---------------------------------------------------------------------------
# Celery: Redis from REDIS_URL, else kombu's filesystem transport
# ---------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
# A message not acknowledged this long after delivery (its worker died) is delivered again.
# A batch is stored in well under a second, so this only bounds how late a re-delivery comes.
VISIBILITY_TIMEOUT = env.int("SLUICE_VISIBILITY_TIMEOUT", default=120)
# Workers look for such messages every few seconds (kombu's default looks every 100 s). A worker
# killed while restoring them holds the restore lock until it expires: keep it short so that
# re-delivery is not held up for kombu's default of five minutes.
REDIS_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": VISIBILITY_TIMEOUT, "unacked_mutex_expire": 30,
    "unacked_restore_interval": max(1, min(10, VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
    # several Sluice installations (or test runs) may share one Redis database
    "global_keyprefix": env("SLUICE_BROKER_PREFIX", default=""),
}
# The hot lookups of ingestion (API keys, collections) are cached for every process of the
# machine: in Redis when there is one, else in files. Writes of the catalog drop the entries.
CACHE_SECONDS = 30


def queue_and_cache(
    redis_url: str,
) -> tuple[str, dict[str, object], dict[str, dict[str, object]]]:
    """CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS and CACHES: all in Redis at
    `redis_url`, or all in files under var/ when it is empty."""
    options: dict[str, object]
    if redis_url:
        broker, options = redis_url, REDIS_TRANSPORT_OPTIONS
        cache = {"BACKEND": "apps.core.cache.RedisCache", "LOCATION": redis_url,
                 "KEY_PREFIX": "sluice"}
    else:
        broker, options = "filesystem://", {
            "data_folder_in": str(BROKER_DIR / "queue"),
            "data_folder_out": str(BROKER_DIR / "queue"),
            "processed_folder": str(BROKER_DIR / "processed"),
            "control_folder": str(BROKER_DIR / "control"),
            "store_processed": False,
        }
        cache = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                 "LOCATION": str(VAR_DIR / "cache")}
    return broker, options, {"default": {**cache, "TIMEOUT": CACHE_SECONDS}}


# test.py and production.py set their own REDIS_URL and derive these three again from it.
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS, CACHES = queue_and_cache(REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Ingestion drains that may run at once (apps/ingestion/buffer.py): as many as worker processes.
INGEST_DRAINS = env.int("SLUICE_INGEST_DRAINS", default=1)
# Drain tasks do the batching (apps/ingestion/buffer.py): a worker holds few messages at once.
CELERY_WORKER_PREFETCH_MULTIPLIER = 2
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"sluice.ingestion.*": {"queue": "ingest"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# ---------------------------------------------------------------------------
# Limits (README, "Limits"); an org may have its own (apps/orgs/models.py)
# ---------------------------------------------------------------------------
# Requests a second (and at once, after a pause) that each key, and all keys of an org
# together, may make: token buckets in Redis (apps/core/ratelimits.py), none without Redis.
# A rate of 0 is no limit.
RATE_LIMIT_KEY = env.int("SLUICE_RATE_LIMIT_KEY", default=100)
RATE_LIMIT_KEY_BURST = env.int("SLUICE_RATE_LIMIT_KEY_BURST", default=500)
RATE_LIMIT_ORG = env.int("SLUICE_RATE_LIMIT_ORG", default=500)
RATE_LIMIT_ORG_BURST = env.int("SLUICE_RATE_LIMIT_ORG_BURST", default=2500)
# Rejected records kept per collection (past it, counted as dropped) and for how long
REJECTED_CAP = env.int("SLUICE_REJECTED_CAP", default=100_000)
REJECTED_RETENTION_DAYS = env.int("SLUICE_REJECTED_RETENTION_DAYS", default=30)
REJECTED_PRUNE_SECONDS = env.int("SLUICE_REJECTED_PRUNE_SECONDS", default=3600)

# ---------------------------------------------------------------------------
# REST framework and OpenAPI
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.orgs.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.KeyRequired"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONBodyParser",
        "apps.core.parsers.FormEncodedJSONParser",
        "apps.core.parsers.PlainTextJSONParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "apps.core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sluice API",
    "DESCRIPTION": (
        "Collect product-usage events, validate them against Avro schemas, keep them in "
        "PostgreSQL. Authenticate with `Authorization: ApiKey <key>` or `x-api-key: <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ReachabilityEnum": ["ok", "unreachable"],  # GET /v1/health
                            "KeyKindEnum": "apps.orgs.models.ApiKey.Kind"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "apps.core.openapi.problem_answers"],
}

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------
# JSON lines (apps/core/logs.py) on stderr, from the web server and the workers alike; a
# request's lines carry its request id. SLUICE_LOG_FORMAT=console writes aligned text instead.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("SLUICE_LOG_FORMAT", default="json")
LOGGING = logs.config(LOG_LEVEL, LOG_FORMAT)

# ---------------------------------------------------------------------------
# Metrics (GET /v1/metrics, apps/core/metrics.py)
# ---------------------------------------------------------------------------
# When set, a scrape must carry `Authorization: Bearer <token>`.
METRICS_TOKEN = env("SLUICE_METRICS_TOKEN", default="")
# /v1/health says workers are `behind` once a record has waited this long to be stored.
DRAIN_BEHIND_SECONDS = env.float("SLUICE_DRAIN_BEHIND_SECONDS", default=60.0)
