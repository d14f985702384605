#!/usr/bin/env bash
# Serves Sluice's web side as in production: gunicorn on a unix socket, behind nginx on
# SLUICE_BIND (127.0.0.1:8000 by default). nginx reads whole requests and whole answers before
# gunicorn sees them, so slow or stalled clients cannot hold gunicorn's threads. Both stop
# together: when either ends, or on Ctrl-C / SIGTERM.
#   SLUICE_FRONT_DIR    nginx's configuration, temporary files, access log and pid, and
#                       gunicorn's sockets (var/front by default; one directory per instance)
#   SLUICE_WEB_WORKERS  gunicorn processes (2), SLUICE_WEB_THREADS threads each (4)
#   SLUICE_TLS_CERTIFICATE, SLUICE_TLS_KEY  PEM files: SLUICE_BIND then speaks HTTPS only
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
ensure_free_address "$BIND" "bash scripts/serve.sh"
TLS=()
if [ -n "${SLUICE_TLS_CERTIFICATE:-}${SLUICE_TLS_KEY:-}" ]; then
  TLS=(--certificate "${SLUICE_TLS_CERTIFICATE:-}" --key "${SLUICE_TLS_KEY:-}")
fi
CONFIG=$(.venv/bin/python -m config.nginx "$BIND" "$FRONT" "${TLS[@]}")
.venv/bin/gunicorn -c config/gunicorn.py config.wsgi --bind "unix:$FRONT/web.sock" \
  --workers "${SLUICE_WEB_WORKERS:-2}" --threads "${SLUICE_WEB_THREADS:-4}" \
  --keep-alive 75 --control-socket "$FRONT/gunicorn.ctl" "$@" &
WEB=$!
"$NGINX" -p "$FRONT" -c "$CONFIG" -e "$FRONT/logs/error.log" &
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
if [ "$status" != 0 ] && [ -s "$FRONT/logs/error.log" ]; then
  echo "nginx's last errors ($FRONT/logs/error.log):" >&2
  tail -n 5 "$FRONT/logs/error.log" >&2
fi
exit "$status"
