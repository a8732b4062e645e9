#!/usr/bin/env bash
# Creates .venv-clients/ with the real Python client libraries the compatibility tests drive
# (pymesos, prometheus-client). pymesos needs http-parser, whose shipped parser.c does not
# compile on CPython >= 3.11: we download its sdist from PyPI, regenerate parser.c with a
# current Cython from the package's own parser.pyx, and install that. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${STRATUS_CLIENTS_VENV:-$root/.venv-clients}"
req="$root/test/compat/requirements.txt"
pin() { grep -E "^$1==" "$req" | head -1; }
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pymesos, prometheus_client, http_parser.parser' 2>/dev/null; then
  echo "python clients: $venv ready"; exit 0
fi
echo "python clients: creating $venv"
python3 -m venv "$venv"
pip() { "$venv/bin/pip" --disable-pip-version-check "$@"; }
pip install --quiet "$(pin cython)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
pip download --quiet --no-deps --no-binary :all: "$(pin http-parser)" -d "$work"
tar -xzf "$work"/http-parser-*.tar.gz -C "$work"
src="$(echo "$work"/http-parser-*/)"
"$venv/bin/cython" -3 "$src/http_parser/parser.pyx" -o "$src/http_parser/parser.c" >"$work/cython.log" 2>&1 || { cat "$work/cython.log" >&2; exit 1; }
pip install --quiet "$src"
grep -vE '^(#|cython|http-parser)' "$req" | grep . > "$work/rest.txt"
pip install --quiet -r "$work/rest.txt"
"$venv/bin/python" -c 'import pymesos, prometheus_client, http_parser.parser'
echo "python clients: ready ($("$venv/bin/python" --version))"
