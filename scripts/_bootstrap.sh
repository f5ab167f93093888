# Sourced by scripts/demo and scripts/test: make .venv with the locked
# dependencies when it is missing or older than the lock, using only python3.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is needed (found $("$PYTHON" --version 2>&1))" >&2; exit 2; }
  echo "Creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ constraints.txt -nt "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  # pip's own output is long and, with --quiet, silent for minutes: it goes to
  # a log, and _pip_progress.py shows a line that moves (stdlib python3 only).
  LOG="$VENV/pip-install.log"
  install_failed() {
    echo "pip install failed; the end of its log:" >&2
    tail -n 25 "$LOG" >&2
    echo "full log: $LOG" >&2
    exit 1
  }
  echo "Installing locked dependencies (constraints.txt) into .venv: a few minutes the first time"
  echo "  full pip log: ${LOG#"$ROOT/"}"
  "$VENV/bin/python" -m pip install --progress-bar off --upgrade pip > "$LOG" 2>&1 || install_failed
  "$VENV/bin/python" -m pip install --progress-bar off -c constraints.txt -e ".[dev]" 2>&1 \
    | "$PYTHON" "$ROOT/scripts/_pip_progress.py" "$LOG" "$VENV" || install_failed
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
