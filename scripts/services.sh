# Sourced by the scripts: makes PostgreSQL, Redis and nginx available. DATABASE_URL / REDIS_URL
# win when set; otherwise local servers are used, started when stopped, installed when missing
# (as root).
set -euo pipefail

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: $* is missing and only root can install it; install it or set the URL" >&2
    exit 1
  fi
  echo "==> installing $* from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return; fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/sluice"
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -z "$(ls /etc/postgresql/"$version" 2>/dev/null)" ]; then
    pg_createcluster "$version" main >/dev/null
  fi
  # trust on loopback, as the tests connect as postgres without a password
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "sluice-tests" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust # sluice-tests\nhost all all ::1/128 trust # sluice-tests' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "error: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return; fi
  export REDIS_URL="redis://127.0.0.1:6379/15"
  if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && return; sleep 1; done
  echo "error: Redis did not start on 127.0.0.1:6379" >&2; exit 1
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  apt_install chromium
}

ensure_node() {  # Node and npm, for Segment's own libraries in tests/segment
  if command -v npm >/dev/null 2>&1; then return; fi
  apt_install nodejs npm
}

ensure_nginx() {  # the buffering front that scripts/serve.sh puts before gunicorn
  if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "error: nginx is missing (Sluice serves behind it) and only root can install it:" \
      "sudo apt-get install nginx" >&2
    exit 1
  fi
  apt_install nginx
}

ensure_free_address() {  # ensure_free_address host:port command: fails at once when taken
  if ! python3 -c 'import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host.strip("[]"), int(port)))' "$1" 2>/dev/null; then
    echo "Sluice cannot listen on $1: another program (another Sluice?) uses it. Stop that," \
      "or choose another address: SLUICE_BIND=127.0.0.1:8001 $2" >&2
    exit 1
  fi
}
