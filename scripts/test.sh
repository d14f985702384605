#!/usr/bin/env bash
# Runs the whole test suite on real PostgreSQL, Redis, Celery workers, HTTP servers (nginx
# before gunicorn, as scripts/serve.sh serves) and headless Chromium, setting up whatever is
# missing. Extra arguments go to pytest.
source "$(dirname "$0")/bootstrap.sh"
source scripts/services.sh
sync_env test
ensure_postgres
ensure_redis
ensure_chromium
ensure_node
ensure_nginx
export DJANGO_SETTINGS_MODULE=config.settings.test
PY=.venv/bin/python
mkdir -p var/static
echo "==> lint, types, migrations and the OpenAPI schema"
.venv/bin/ruff check .
.venv/bin/mypy apps config
$PY manage.py makemigrations --check --dry-run >/dev/null
$PY manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
echo "==> production settings pass Django's deployment checks"
# check connects to nothing (database checks run only with --database); the key is thrown away
DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_ALLOWED_HOSTS=example.org \
  DJANGO_SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
  $PY manage.py check --deploy --fail-level WARNING
# Segment's libraries that tests/segment drive, as the lock pins them; again only when it changed
SDKS=tests/segment/js
if ! cmp -s "$SDKS/package-lock.json" "$SDKS/node_modules/.installed-lock.json"; then
  echo "==> Segment's libraries (npm ci in $SDKS)"
  npm ci --prefix "$SDKS" --no-audit --no-fund --loglevel=error
  cp "$SDKS/package-lock.json" "$SDKS/node_modules/.installed-lock.json"
fi
echo "==> pytest"
exec .venv/bin/pytest "$@"
