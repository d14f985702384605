#!/usr/bin/env bash
# Starts Sluice on the embedded default: SQLite, kombu's filesystem broker and one Celery worker
# beside the web side served as in production (scripts/serve.sh: nginx before gunicorn), on
# http://127.0.0.1:8000 (SLUICE_BIND=host:port for another address). Needs Python 3.11, and
# nginx, installed from Debian's packages when missing (as root). Its data lives in var/
# (SLUICE_VAR_DIR for another place).
source "$(dirname "$0")/bootstrap.sh"
source scripts/services.sh
sync_env
ensure_nginx
# The embedded settings (no secrets needed): the web server and the worker default to production.
export DJANGO_SETTINGS_MODULE=config.settings.base
# Log lines are JSON (for log collectors); a person at this terminal reads aligned text instead.
if [ -t 2 ]; then export SLUICE_LOG_FORMAT="${SLUICE_LOG_FORMAT:-console}"; fi
PY=.venv/bin/python
BIND="${SLUICE_BIND:-127.0.0.1:8000}"
URL="http://${BIND/0.0.0.0/127.0.0.1}"
ensure_free_address "$BIND" "bash scripts/start.sh"
VAR="${SLUICE_VAR_DIR:-var}"
export SLUICE_BIND="$BIND" SLUICE_FRONT_DIR="${SLUICE_FRONT_DIR:-$VAR/front}"
mkdir -p "$VAR/broker/queue" "$VAR/broker/processed" "$VAR/broker/control"
echo "==> migrating the embedded database ($VAR/sluice.sqlite3)"
$PY manage.py migrate --no-input -v 0
$PY manage.py collectstatic --no-input -v 0
echo "==> the demo org (its keys are printed once, when it is made)"
$PY manage.py create_org demo --name "Demo org" --if-missing
echo "==> starting one Celery worker and the web server (nginx before gunicorn) on $URL"
.venv/bin/celery -A config worker --loglevel WARNING --concurrency 1 -Q ingest,default \
  >"$VAR/worker.log" 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo "    next: the README's \"From nothing to a stored event\", with API=$URL/v1/demo"
echo "    API docs: $URL/v1/docs   admin: $URL/admin/   worker log: $VAR/worker.log"
echo "    the front's logs: $SLUICE_FRONT_DIR/logs/access.log, error.log"
bash scripts/serve.sh
