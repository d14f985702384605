# Sourced by start.sh and test.sh: makes `uv` available and the virtualenv match uv.lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv (the Python package manager Sluice pins its dependencies with)"
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv \
    || python3 -m pip install --quiet uv
fi
sync_env() {  # sync_env [extra...]: the virtualenv, exactly as uv.lock pins it
  local extras=()
  for extra in "$@"; do extras+=(--extra "$extra"); done
  uv sync --frozen --inexact --quiet --python 3.11 "${extras[@]}"
}
