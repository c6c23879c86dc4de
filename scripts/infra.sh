#!/usr/bin/env bash
# infra.sh COMMAND ARGS: start and stop the throwaway Redis and PostgreSQL servers. Used by
# test.sh, run.sh and by the tests that stop a server on purpose.
#   redis-start DIR PORT [OPTIONS...] | redis-stop DIR PORT
#   redis-cluster-start DIR PORT×6 | redis-cluster-stop DIR PORT×6 | redis-cli ARGS... (as the suite user)
#   pg-init DIR | pg-start DIR PORT | pg-stop DIR [MODE] | pg-clone TEMPLATE DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cmd=$1; shift
case "$cmd" in
    redis-start) redis_start "$@" ;;
    redis-stop) redis_stop "$@" ;;
    redis-cluster-start) redis_cluster_start "$@" ;;
    redis-cluster-stop) redis_cluster_stop "$@" ;;
    redis-cli) redis_cli "$@" ;;
    pg-init) pg_init "$@" ;;
    pg-start) pg_start "$@" ;;
    pg-stop) pg_stop "$@" ;;
    pg-clone)
        rm -rf "$2"; cp -a "$1" "$2"; rm -f "$2/postmaster.pid" "$2/server.log" ;;
    free-port) free_port ;;
    *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
