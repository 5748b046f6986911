# Sourced by dev/demo.sh and dev/test.sh: make sure .venv exists with Python 3.12 and zz-event installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
is_python312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }
find_python312() {
  local candidate root=""
  command -v pyenv >/dev/null 2>&1 && root="$(pyenv root)"
  # pyenv's own 3.12 first: its python3.12 shim exists even when the shell's pyenv version is another one
  for candidate in ${root:+"$root"/versions/3.12*/bin/python3.12} "$(command -v python3.12 || true)"; do
    if [ -n "$candidate" ] && is_python312 "$candidate"; then echo "$candidate"; return 0; fi
  done
  if [ -n "$root" ]; then
    pyenv install -s 3.12 >&2
    for candidate in "$root"/versions/3.12*/bin/python3.12; do
      if is_python312 "$candidate"; then echo "$candidate"; return 0; fi
    done
  fi
  echo "zz-event needs Python 3.12: install it with pyenv (pyenv install 3.12) or put python3.12 on PATH" >&2
  return 1
}
if [ ! -x "$VENV/bin/python" ] || ! is_python312 "$VENV/bin/python"; then
  rm -rf "$VENV"
  PY312="$(find_python312)"
  "$PY312" -m venv "$VENV"
fi
stamp="$VENV/.zz-event-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
