# Sourced by dev/demo.sh and dev/test.sh: make sure .venv exists with Python 3.12 and zz-event installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
find_python312() {
  for candidate in python3.12 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.12*/bin/python3.12; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    pyenv install -s 3.12 >&2
    ls "$(pyenv root)"/versions/3.12*/bin/python3.12 | head -n 1
    return 0
  fi
  echo "zz-event needs Python 3.12 (pyenv install 3.12, or put python3.12 on PATH)" >&2
  return 1
}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  rm -rf "$VENV"
  "$(find_python312)" -m venv "$VENV"
fi
stamp="$VENV/.zz-event-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
