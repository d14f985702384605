#!/usr/bin/env bash
# Serves Sluice's web side as in production: gunicorn on a unix socket, behind nginx on
# SLUICE_BIND (127.0.0.1:8000 by default). nginx reads whole requests and whole answers before
# gunicorn sees them, so slow or stalled clients cannot hold gunicorn's threads. Both stop
# together: when either ends, or on Ctrl-C / SIGTERM.
#   SLUICE_FRONT_DIR    nginx's configuration, temporary files, access log and pid, and the
#                       gunicorn socket (var/front by default; one directory per instance)
#   SLUICE_WEB_WORKERS  gunicorn processes (2), SLUICE_WEB_THREADS threads each (4)
# Extra arguments go to gunicorn. The settings are the caller's (DJANGO_SETTINGS_MODULE, else
# config.settings.production); the Celery worker is started apart (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x .venv/bin/gunicorn ]; then
  source scripts/bootstrap.sh
  sync_env
fi
BIND="${SLUICE_BIND:-127.0.0.1:8000}"
FRONT="${SLUICE_FRONT_DIR:-var/front}"
if ! .venv/bin/python -c 'import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host.strip("[]"), int(port)))' "$BIND" 2>/dev/null; then
  echo "Sluice cannot listen on $BIND: another program (another Sluice?) uses it. Stop that," \
    "or choose another address: SLUICE_BIND=127.0.0.1:8001" >&2
  exit 1
fi
CONFIG=$(.venv/bin/python -m config.nginx "$BIND" "$FRONT")
.venv/bin/gunicorn -c config/gunicorn.py config.wsgi --bind "unix:$FRONT/web.sock" \
  --workers "${SLUICE_WEB_WORKERS:-2}" --threads "${SLUICE_WEB_THREADS:-4}" \
  --keep-alive 75 "$@" &
WEB=$!
"$NGINX" -p "$FRONT" -c "$CONFIG" -e stderr &
PROXY=$!
stop() {
  trap - INT TERM
  kill -TERM "$WEB" "$PROXY" 2>/dev/null || true
  wait "$WEB" "$PROXY" 2>/dev/null || true
}
trap 'stop; exit 143' INT TERM
set +e
wait -n "$WEB" "$PROXY"
status=$?
stop
exit "$status"
