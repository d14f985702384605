import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_application = get_wsgi_application()

from apps.core.bodies import bodies_framed  # noqa: E402  (Django is set up now)

application = bodies_framed(django_application)
# Load every view now, then leave what start-up made out of the garbage collector's full
# sweeps: over Django's start-up objects, each sweep held every request for 35-115 ms.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
