import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from apps.core.bodies import bodies_framed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = bodies_framed(get_wsgi_application())
if settings.REDIS_URL:
    from apps.ingestion.watch import buffer_checked

    buffer_checked()  # loud in the log when Redis may evict buffered records
# Load every view now, then leave what start-up made out of the garbage collector's full
# sweeps: over Django's start-up objects, each sweep held every request for 35-115 ms.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
