# Shared by scripts/run.sh and scripts/test.sh: find Python 3.10, build the venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 SQLALCHEMY_SILENCE_UBER_WARNING=1

log() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

find_python310() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 \
                   /usr/local/bin/python3.10 /usr/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10). Install python3.10 or set PYTHON=/path/to/python3.10." >&2
  return 1
}

setup_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "Creating the virtual environment (.venv) with $(find_python310)"
    "$(find_python310)" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "Installing pinned dependencies (requirements.lock)"
    "$VENV/bin/python" -m pip install --quiet --upgrade "pip==24.3.1"
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.lock"
    "$VENV/bin/python" -m pip install --quiet --no-deps -e "$ROOT"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
  mkdir -p "$ROOT/var"
}

apt_install() {
  # Debian packages (we run as root on the project's machines and in CI).
  log "Installing $* (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

setup_web() {
  # The chat widget's JavaScript packages, exactly as web/package-lock.json pins them.
  local stamp="$ROOT/web/node_modules/.installed-$(sha256sum "$ROOT/web/package-lock.json" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    command -v npm >/dev/null || apt_install nodejs npm
    log "Installing the chat widget's packages (npm ci in web/)"
    (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

train_model() {
  # `rasa train` compares a fingerprint of config, domain and data with the
  # latest model in models/ and only trains when something changed.
  log "Training the model if the training data changed"
  (cd "$ROOT" && rasa train --quiet --num-threads 2 --out models)
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
