"""Production settings: they refuse to start without a secret key, send plain HTTP to HTTPS
but let a load balancer's health check through, and mark HTTPS answers with HSTS."""

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.live import ROOT

SECRET_KEY = "a-long-random-value-made-only-for-this-test-4f9c1e7b2d8a6035"

# Answers of the production settings to plain and forwarded-HTTPS requests, as JSON.
REQUESTS = """
import json
import django
from django.test import Client
django.setup()
client = Client()
answers = {}
for path in ("/v1/health", "/v1/docs"):
    plain = client.get(path)
    secure = client.get(path, secure=True)  # https, as gunicorn hears it from the front
    answers[path] = [plain.status_code, plain.headers.get("Location"), secure.status_code,
                     secure.headers.get("Strict-Transport-Security")]
print(json.dumps(answers))
"""


def production(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items()  # only what the test names
               if not key.startswith("DJANGO_") and key not in ("DATABASE_URL", "REDIS_URL")}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    run = production(["manage.py", "check"], DJANGO_ALLOWED_HOSTS="example.org",
                     DATABASE_URL="postgres://sluice@127.0.0.1/sluice",
                     REDIS_URL="redis://127.0.0.1:6379/0")
    assert run.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in run.stderr


def test_plain_http_is_sent_to_https_except_the_health_check(database_url):
    run = production(["-c", REQUESTS], DJANGO_SECRET_KEY=SECRET_KEY,
                     DJANGO_ALLOWED_HOSTS="testserver", DATABASE_URL=database_url,
                     REDIS_URL=str(settings.CELERY_BROKER_URL))
    assert run.returncode == 0, run.stderr
    hsts = "max-age=31536000; includeSubDomains; preload"
    assert json.loads(run.stdout) == {
        "/v1/health": [200, None, 200, hsts],
        "/v1/docs": [301, "https://testserver/v1/docs", 200, hsts],
    }
