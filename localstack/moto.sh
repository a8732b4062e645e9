#!/usr/bin/env bash
# Starts moto in server mode on 127.0.0.1:4566 (LocalStack's port) from a project-local
# virtualenv, unless something already answers there. Usage:
#   localstack/moto.sh start   # install if needed, start in the background, wait until it answers
#   localstack/moto.sh stop    # stop the moto this script started
#   localstack/moto.sh status
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="${STRATUS_VENV:-$root/.venv}"
state="$root/.ci/state"
host="${MOTO_HOST:-127.0.0.1}"
port="${MOTO_PORT:-4566}"
url="http://$host:$port"
mkdir -p "$state"

answers() { curl -s -o /dev/null --max-time 2 "$url/moto-api/" || curl -s -o /dev/null --max-time 2 "$url/"; }

install() {
  if [ ! -x "$venv/bin/moto_server" ]; then
    echo "moto: creating virtualenv $venv and installing $(grep -v '^#' "$here/requirements-moto.txt" | tr '\n' ' ')"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-moto.txt"
  fi
}

case "${1:-start}" in
  start)
    if answers; then echo "moto: something already answers at $url; using it"; exit 0; fi
    install
    echo "moto: starting on $url (log: $state/moto.log)"
    nohup "$venv/bin/python" "$here/moto_server.py" -H "$host" -p "$port" >"$state/moto.log" 2>&1 &
    echo $! >"$state/moto.pid"
    for _ in $(seq 1 60); do
      if answers; then echo "moto: ready"; exit 0; fi
      sleep 0.5
    done
    echo "moto: did not answer at $url within 30 s; log follows" >&2
    tail -20 "$state/moto.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$state/moto.pid" ]; then
      kill "$(cat "$state/moto.pid")" 2>/dev/null || true
      rm -f "$state/moto.pid"
      echo "moto: stopped"
    fi
    ;;
  status)
    if answers; then echo "moto: answering at $url"; else echo "moto: not answering at $url"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
