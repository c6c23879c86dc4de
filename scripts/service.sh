#!/usr/bin/env bash
# Stops and starts one service of a running scripts/run.sh, for a drill:
#   scripts/service.sh stop ProfileService     # SIGTERM; run.sh leaves it down
#   scripts/service.sh start ProfileService    # run.sh starts it again within a second
#   scripts/service.sh restart ProfileService  # SIGTERM; run.sh starts it again at once
#   scripts/service.sh kill ProfileService     # SIGKILL, a crash: run.sh restarts it with its backoff
#   scripts/service.sh status                  # every supervised process, running or not
# NAME is an executable (or external_source). SUITE_DATA_DIR as for run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${SUITE_DATA_DIR:-$PWD/.data}/run
usage() { echo "usage: $0 stop|start|restart|kill NAME | status" >&2; exit 2; }

pid_of() { [ -f "$run/$1.pid" ] && cat "$run/$1.pid"; }

case "${1:-}" in
    status)
        [ -d "$run" ] || { echo "no run.sh is running here" >&2; exit 1; }
        for file in "$run"/*.pid "$run"/*.stopped; do
            [ -e "$file" ] || continue
            name=$(basename "${file%.*}")
            if [ "${file##*.}" = pid ]; then echo "$name running (pid $(cat "$file"))"; else echo "$name stopped"; fi
        done | sort
        ;;
    stop | start | restart | kill)
        [ $# -eq 2 ] || usage
        name=$2
        [ -f "$run/$name.pid" ] || [ -f "$run/$name.stopped" ] || { echo "$name is not supervised by a running run.sh" >&2; exit 1; }
        case "$1" in
            stop)
                touch "$run/$name.stopped"
                pid=$(pid_of "$name") || exit 0
                kill -TERM "$pid" 2>/dev/null || true
                # Until run.sh has seen it exit (it removes the pid file).
                for _ in $(seq 1 300); do [ -f "$run/$name.pid" ] || break; sleep 0.1; done
                echo "$name stopped"
                ;;
            start)
                rm -f "$run/$name.stopped"
                for _ in $(seq 1 100); do [ -f "$run/$name.pid" ] && break; sleep 0.1; done
                echo "$name started (pid $(pid_of "$name"))"
                ;;
            restart)
                touch "$run/$name.restart"
                kill -TERM "$(pid_of "$name")"
                echo "$name restarting"
                ;;
            kill)
                kill -KILL "$(pid_of "$name")"
                echo "$name killed"
                ;;
        esac
        ;;
    *) usage ;;
esac
