"""The Celery app: JSON only, tasks discovered from the installed apps. Its workers log as the
web server does (JSON lines, apps/core/logs.py), each line written for a task naming it."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun, task_retry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("sluice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def logs_configured(loglevel: int | str | None = None, **_: Any) -> None:
    """Celery leaves logging to Sluice's settings; its --loglevel still applies."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@task_prerun.connect
def task_logged(task_id: str = "", task: Any = None, **_: Any) -> None:
    from apps.core import logs

    logs.task_begun(getattr(task, "name", ""), task_id)


@task_postrun.connect
def task_done(**_: Any) -> None:
    from apps.core import logs

    logs.ended()


@task_retry.connect
def task_retried(sender: Any = None, **_: Any) -> None:
    from apps.core import metrics

    metrics.TASK_RETRIES.add(getattr(sender, "name", "unknown"))
